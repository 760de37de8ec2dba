// Data backups of an org's records and record restores from them.

package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/databackup"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerDataBackupRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/orgs/{id}/backups/data", needs(alm.PermRestore), s.dataBackupNow)
	s.handle(r, http.MethodPost, "/orgs/{id}/backups/data/policy", needs(alm.PermRestore), s.saveDataPolicy)
	s.handle(r, http.MethodPost, "/orgs/{id}/backups/data/restore", needs(alm.PermRestore), s.dataRestoreFromPage)
	s.handle(r, http.MethodGet, "/data-restores/{id}", needs(alm.PermView), s.dataRestorePage)
	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/backups/data", needs(alm.PermView), s.apiDataBackups)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/backups/data", needs(alm.PermRestore), s.dataBackupNow)
	s.handle(r, http.MethodPut, "/api/v1/orgs/{id}/backups/data/policy", needs(alm.PermRestore), s.apiSaveDataPolicy)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/backups/data/restore", needs(alm.PermRestore), s.apiDataRestore)
	s.handle(r, http.MethodGet, "/api/v1/data-restores/{id}", needs(alm.PermView), s.apiDataRestoreGet)
}

func (s *Server) dataBackupNow(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	run, err := s.startDataBackup(r, o)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusAccepted, run)
		return
	}
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/orgs/%d/backups#data", o.ID), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/backups#data", o.ID), "ok", fmt.Sprintf("Data backup run #%d started (%s).", run.ID, run.Kind))
}

func (s *Server) startDataBackup(r *http.Request, o alm.Org) (alm.DataBackupRun, error) {
	if o.Status == alm.OrgDisconnected {
		return alm.DataBackupRun{}, alm.Errorf(alm.CodeConflict, "%s is disconnected; connect it again first.", o.Name)
	}
	if s.deps.Jobs == nil {
		return alm.DataBackupRun{}, alm.Errorf(alm.CodeUnavailable, "Background jobs are not running on this server.")
	}
	return s.store.CreateDataBackupRun(r.Context(), o.ID, jobs.DataBackupJob(s.deps.Jobs))
}

// dataPolicyOf reads the data backup form: percentages as people write them.
func dataPolicyOf(f web.Form, orgID int64) (alm.DataBackupPolicy, error) {
	p := alm.DataBackupPolicy{OrgID: orgID, Enabled: f.Checked("data_enabled")}
	for _, o := range strings.FieldsFunc(f.Value("objects"), func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == '\r' }) {
		p.Objects = append(p.Objects, strings.TrimSpace(o))
	}
	bad := map[string]string{}
	share, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(f.Value("api_share")), "%"), 64)
	if err != nil {
		bad["api_share"] = "Enter a percentage."
	}
	churn, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(f.Value("churn_alert")), "%"), 64)
	if err != nil {
		bad["churn_alert"] = "Enter a percentage."
	}
	if p.EveryHours, err = strconv.Atoi(strings.TrimSpace(f.Value("data_every_hours"))); err != nil {
		bad["data_every_hours"] = "Enter a whole number."
	}
	if len(bad) > 0 {
		return p, alm.Invalid(bad)
	}
	p.APIShare, p.ChurnAlert = share/100, churn/100
	return p, nil
}

func (s *Server) saveDataPolicy(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	f := formOf(r, "data_enabled", "objects", "api_share", "churn_alert", "data_every_hours")
	p, err := dataPolicyOf(f, o.ID)
	if err == nil {
		if _, err = s.store.SaveDataBackupPolicy(r.Context(), p); err == nil {
			s.redirect(w, r, fmt.Sprintf("/orgs/%d/backups#data", o.ID), "ok", "Data backup settings saved.")
			return
		}
	}
	if alm.ErrorCode(err) != alm.CodeInvalid {
		s.fail(w, r, err)
		return
	}
	v, ok := s.backupsView(w, r, o, nil)
	if ok {
		v.DataForm = withError(f, err)
		s.render(w, r, http.StatusUnprocessableEntity, web.Backups(v))
	}
}

func (s *Server) apiSaveDataPolicy(w http.ResponseWriter, r *http.Request) {
	patchOrgSetting(s, w, r, s.store.DataBackupPolicy, s.store.SaveDataBackupPolicy, func(p *alm.DataBackupPolicy, id int64) { p.OrgID = id })
}

func (s *Server) apiDataBackups(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	p, err := s.store.DataBackupPolicy(r.Context(), o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs, err := s.store.DataBackupRuns(r.Context(), o.ID, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"policy": p, "runs": runs})
}

// dataRestoreRequest reads a restore form: objects, ids (one per line) or
// a time since which changes are undone, and the run to restore as of.
func dataRestoreRequest(f web.Form) (databackup.RestoreRequest, error) {
	var req databackup.RestoreRequest
	for _, o := range strings.FieldsFunc(f.Value("restore_objects"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		req.Objects = append(req.Objects, o)
	}
	req.IDs = splitLines(f.Value("ids"))
	if v := strings.TrimSpace(f.Value("since")); v != "" {
		t, err := time.Parse("2006-01-02T15:04", v)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				return req, alm.Invalid(map[string]string{"since": "Enter a date and time, e.g. 2026-11-25T09:00 (UTC)."})
			}
		}
		req.Since = &t
	}
	req.AsOfRun, _ = strconv.ParseInt(f.Value("as_of_run"), 10, 64)
	req.DryRun = f.Value("dry_run") != ""
	return req, nil
}

func (s *Server) dataRestoreFromPage(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	f := formOf(r, "restore_objects", "ids", "since", "as_of_run", "dry_run")
	req, err := dataRestoreRequest(f)
	var preview []alm.RecordResult
	var x alm.DataRestore
	if err == nil {
		if req.DryRun {
			preview, err = s.dataDryRun(r, o, req)
		} else {
			x, err = s.startDataRestore(r, o, req)
		}
	}
	if err != nil {
		if c := alm.ErrorCode(err); c != alm.CodeInvalid && c != alm.CodeConflict {
			s.fail(w, r, err)
			return
		}
		v, ok := s.backupsView(w, r, o, nil)
		if ok {
			v.RestoreForm = withError(f, err)
			if len(alm.FieldErrors(err)) == 0 {
				v.RestoreForm.Errors["restore_objects"] = alm.ErrorMessage(err)
			}
			s.render(w, r, http.StatusUnprocessableEntity, web.Backups(v))
		}
		return
	}
	if req.DryRun {
		v, ok := s.backupsView(w, r, o, nil)
		if ok {
			v.RestoreForm, v.Preview = f, preview
			if v.Preview == nil {
				v.Preview = []alm.RecordResult{}
			}
			s.render(w, r, http.StatusOK, web.Backups(v))
		}
		return
	}
	s.redirect(w, r, fmt.Sprintf("/data-restores/%d", x.ID), "ok", fmt.Sprintf("Data restore #%d started.", x.ID))
}

func (s *Server) dataDryRun(r *http.Request, o alm.Org, req databackup.RestoreRequest) ([]alm.RecordResult, error) {
	if s.deps.Orgs == nil {
		return nil, alm.Errorf(alm.CodeUnavailable, "Orgs are not configured on this server.")
	}
	client, err := s.deps.Orgs.Client(r.Context(), o)
	if err != nil {
		return nil, err
	}
	req.DryRun = true
	return databackup.Restore(r.Context(), s.store, client, o.ID, 0, req)
}

func (s *Server) startDataRestore(r *http.Request, o alm.Org, req databackup.RestoreRequest) (alm.DataRestore, error) {
	if len(req.Objects) == 0 {
		return alm.DataRestore{}, alm.Invalid(map[string]string{"restore_objects": "Name the objects to restore records of."})
	}
	if len(req.IDs) == 0 && req.Since == nil {
		return alm.DataRestore{}, alm.Invalid(map[string]string{"ids": "Choose records by id, or everything changed since a time."})
	}
	if s.deps.Jobs == nil {
		return alm.DataRestore{}, alm.Errorf(alm.CodeUnavailable, "Background jobs are not running on this server.")
	}
	return s.store.CreateDataRestore(r.Context(), o.ID, req.AsOfRun, req, jobs.DataRestoreJob(s.deps.Jobs, req))
}

func (s *Server) apiDataRestore(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	var req databackup.RestoreRequest
	if err := decodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.DryRun {
		res, err := s.dataDryRun(r, o, req)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if res == nil {
			res = []alm.RecordResult{}
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"results": res})
		return
	}
	x, err := s.startDataRestore(r, o, req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/data-restores/%d", x.ID))
	s.writeJSON(w, http.StatusAccepted, x)
}

func (s *Server) dataRestoreFromID(w http.ResponseWriter, r *http.Request) (alm.DataRestore, bool) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That data restore was not found."))
		return alm.DataRestore{}, false
	}
	x, err := s.store.DataRestore(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return x, false
	}
	return x, true
}

func (s *Server) apiDataRestoreGet(w http.ResponseWriter, r *http.Request) {
	if x, ok := s.dataRestoreFromID(w, r); ok {
		s.writeJSON(w, http.StatusOK, x)
	}
}

func (s *Server) dataRestorePage(w http.ResponseWriter, r *http.Request) {
	x, ok := s.dataRestoreFromID(w, r)
	if !ok {
		return
	}
	o, err := s.store.OrgByID(r.Context(), x.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(w, r, fmt.Sprintf("Data restore #%d", x.ID), "maintain", web.Crumb{Label: "Maintain", Href: "/maintain"},
		web.Crumb{Label: o.Name + " backups", Href: fmt.Sprintf("/orgs/%d/backups#data", o.ID)}, web.Crumb{Label: fmt.Sprintf("Data restore #%d", x.ID)})
	s.render(w, r, http.StatusOK, web.DataRestorePage(web.DataRestoreView{Page: p, Org: o, Restore: x}))
}

func dataPolicyForm(p alm.DataBackupPolicy) web.Form {
	f := emptyForm()
	if p.Enabled {
		f.Values["data_enabled"] = "on"
	}
	f.Values["objects"] = strings.Join(p.Objects, ", ")
	f.Values["api_share"] = strconv.FormatFloat(p.APIShare*100, 'f', -1, 64)
	f.Values["churn_alert"] = strconv.FormatFloat(p.ChurnAlert*100, 'f', -1, 64)
	f.Values["data_every_hours"] = strconv.Itoa(p.EveryHours)
	return f
}
