// Metadata backups of an org: history, schedule, backup now, and restore
// from any backup (with a dry run).

package server

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerBackupRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/orgs/{id}/backups", needs(alm.PermView), s.backupsPage)
	s.handle(r, http.MethodPost, "/orgs/{id}/backups", needs(alm.PermRestore), s.backupNow)
	s.handle(r, http.MethodPost, "/orgs/{id}/backups/policy", needs(alm.PermRestore), s.saveBackupPolicy)
	s.handle(r, http.MethodGet, "/orgs/{id}/backups/{snapshot}/restore", needs(alm.PermRestore), s.restorePage)
	s.handle(r, http.MethodPost, "/orgs/{id}/backups/{snapshot}/restore", needs(alm.PermRestore), s.restoreFromPage)
	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/backups", needs(alm.PermView), s.apiBackups)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/backups", needs(alm.PermRestore), s.backupNow)
	s.handle(r, http.MethodPut, "/api/v1/orgs/{id}/backups/policy", needs(alm.PermRestore), s.apiSaveBackupPolicy)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/backups/restore", needs(alm.PermRestore), s.apiRestore)
}

func policyForm(p alm.BackupPolicy) web.Form {
	f := emptyForm()
	if p.Enabled {
		f.Values["enabled"] = "on"
	}
	f.Values["every_hours"] = strconv.Itoa(p.EveryHours)
	f.Values["keep_daily"] = strconv.Itoa(p.KeepDaily)
	f.Values["keep_weekly"] = strconv.Itoa(p.KeepWeekly)
	return f
}

func (s *Server) backupsView(w http.ResponseWriter, r *http.Request, o alm.Org, form *web.Form) (web.BackupsView, bool) {
	ctx := r.Context()
	v := web.BackupsView{Org: o, CanRestore: callerFrom(ctx).User.Role.Can(alm.PermRestore), CanRunTests: callerFrom(ctx).User.Role.Can(alm.PermSnapshot)}
	var err error
	if v.Policy, err = s.store.BackupPolicy(ctx, o.ID); err != nil {
		s.fail(w, r, err)
		return v, false
	}
	v.Form = policyForm(v.Policy)
	if form != nil {
		v.Form = *form
	}
	if v.Backups, err = s.store.Backups(ctx, o.ID, 200); err != nil {
		s.fail(w, r, err)
		return v, false
	}
	if v.Restores, err = s.store.OrgRestores(ctx, o.ID, 20); err != nil {
		s.fail(w, r, err)
		return v, false
	}
	who := s.namesByEmail(r)
	for i := range v.Restores {
		v.Restores[i].StartedBy = who(v.Restores[i].StartedBy)
	}
	if v.DataPolicy, err = s.store.DataBackupPolicy(ctx, o.ID); err != nil {
		s.fail(w, r, err)
		return v, false
	}
	if v.DataRuns, err = s.store.DataBackupRuns(ctx, o.ID, 30); err != nil {
		s.fail(w, r, err)
		return v, false
	}
	v.DataForm = dataPolicyForm(v.DataPolicy)
	v.RestoreForm = emptyForm()
	if v.Health, err = s.orgTrends(r, o.ID); err != nil {
		s.fail(w, r, err)
		return v, false
	}
	v.Page = s.page(w, r, "Backups of "+o.Name, "maintain", web.Crumb{Label: "Maintain", Href: "/maintain"},
		web.Crumb{Label: o.Name, Href: fmt.Sprintf("/orgs/%d", o.ID)}, web.Crumb{Label: "Backups"})
	return v, true
}

func (s *Server) backupsPage(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	v, ok := s.backupsView(w, r, o, nil)
	if ok {
		s.render(w, r, http.StatusOK, web.Backups(v))
	}
}

// backupNow takes a backup at once: a snapshot marked as a backup, so the
// schedule's retention applies to it.
func (s *Server) backupNow(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	back := fmt.Sprintf("/orgs/%d/backups", o.ID)
	sn, err := s.startBackup(r, o)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusAccepted, sn)
		return
	}
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/snapshots/%d", sn.ID), "ok", "Backup started: it shows in the history when it finishes.")
}

func (s *Server) startBackup(r *http.Request, o alm.Org) (alm.Snapshot, error) {
	if o.Status == alm.OrgDisconnected {
		return alm.Snapshot{}, alm.Errorf(alm.CodeConflict, "%s is disconnected; connect it again first.", o.Name)
	}
	if s.deps.Jobs == nil {
		return alm.Snapshot{}, alm.Errorf(alm.CodeUnavailable, "Background jobs are not running on this server.")
	}
	return s.store.CreateBackupSnapshot(r.Context(), o.ID, jobs.SnapshotJob(s.deps.Jobs))
}

func (s *Server) saveBackupPolicy(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	f := formOf(r, "enabled", "every_hours", "keep_daily", "keep_weekly")
	p := alm.BackupPolicy{OrgID: o.ID, Enabled: f.Checked("enabled")}
	var err error
	for k, dst := range map[string]*int{"every_hours": &p.EveryHours, "keep_daily": &p.KeepDaily, "keep_weekly": &p.KeepWeekly} {
		if *dst, err = strconv.Atoi(strings.TrimSpace(f.Value(k))); err != nil {
			f.Errors[k] = "Enter a whole number."
		}
	}
	if len(f.Errors) == 0 {
		if _, err = s.store.SaveBackupPolicy(r.Context(), p); err == nil {
			s.redirect(w, r, fmt.Sprintf("/orgs/%d/backups", o.ID), "ok", "Backup schedule saved.")
			return
		}
		if alm.ErrorCode(err) != alm.CodeInvalid {
			s.fail(w, r, err)
			return
		}
		f = withError(f, err)
	}
	v, ok := s.backupsView(w, r, o, &f)
	if ok {
		s.render(w, r, http.StatusUnprocessableEntity, web.Backups(v))
	}
}

func (s *Server) apiSaveBackupPolicy(w http.ResponseWriter, r *http.Request) {
	patchOrgSetting(s, w, r, s.store.BackupPolicy, s.store.SaveBackupPolicy, func(p *alm.BackupPolicy, id int64) { p.OrgID = id })
}

func (s *Server) apiBackups(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	p, err := s.store.BackupPolicy(r.Context(), o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.store.Backups(r.Context(), o.ID, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	restores, err := s.store.OrgRestores(r.Context(), o.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"policy": p, "items": list, "restores": restores})
}

func (s *Server) restoreView(w http.ResponseWriter, r *http.Request) (web.RestoreView, bool) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return web.RestoreView{}, false
	}
	sn, ok := s.snapshotFromPath(w, r, chi.URLParam(r, "snapshot"))
	if !ok {
		return web.RestoreView{}, false
	}
	if sn.OrgID == nil || *sn.OrgID != o.ID {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That snapshot is not one of %s's.", o.Name))
		return web.RestoreView{}, false
	}
	m, err := s.store.SnapshotManifest(r.Context(), sn.ID)
	if err != nil {
		s.fail(w, r, err)
		return web.RestoreView{}, false
	}
	counts := map[string]int{}
	for _, e := range m {
		counts[e.Type]++
	}
	v := web.RestoreView{Org: o, Snapshot: sn, Form: emptyForm(), Chosen: map[string]bool{}}
	for t, n := range counts {
		v.Types = append(v.Types, web.TypeCount{Type: t, Count: n})
	}
	sort.Slice(v.Types, func(i, j int) bool { return v.Types[i].Type < v.Types[j].Type })
	v.Page = s.page(w, r, "Restore "+o.Name, "maintain", web.Crumb{Label: "Maintain", Href: "/maintain"},
		web.Crumb{Label: o.Name + " backups", Href: fmt.Sprintf("/orgs/%d/backups", o.ID)}, web.Crumb{Label: fmt.Sprintf("Restore from #%d", sn.ID)})
	return v, true
}

func (s *Server) restorePage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.restoreView(w, r)
	if !ok {
		return
	}
	// Links from a drift alert arrive with the components filled in.
	v.Form.Values["components"] = r.URL.Query().Get("components")
	s.render(w, r, http.StatusOK, web.Restore(v))
}

func (s *Server) restoreFromPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.restoreView(w, r)
	if !ok {
		return
	}
	_ = r.ParseForm()
	v.Form = formOf(r, "components", "delete_added")
	req := promote.RestoreRequest{OrgID: v.Org.ID, SnapshotID: v.Snapshot.ID, Components: splitLines(v.Form.Value("components")),
		Types: r.PostForm["type"], DeleteAdded: v.Form.Checked("delete_added")}
	for _, t := range req.Types {
		v.Chosen[t] = true
	}
	svc := s.promote
	if r.PostFormValue("dry_run") != "" {
		plan, err := svc.PlanRestore(r.Context(), req)
		if err == nil {
			v.Preview = &web.RestorePreview{Components: plan.Components, Unchanged: plan.Unchanged, TestLevel: plan.TestLevel}
			s.render(w, r, http.StatusOK, web.Restore(v))
			return
		}
		s.renderRestoreError(w, r, v, err)
		return
	}
	err := s.needJobs()
	var d alm.Deployment
	if err == nil {
		d, err = svc.Restore(r.Context(), req)
	}
	if err != nil {
		s.renderRestoreError(w, r, v, err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/deployments/%d", d.ID), "ok", fmt.Sprintf("Restore #%d started: %d components from snapshot #%d.", d.ID, d.Total, v.Snapshot.ID))
}

func (s *Server) renderRestoreError(w http.ResponseWriter, r *http.Request, v web.RestoreView, err error) {
	if c := alm.ErrorCode(err); c != alm.CodeInvalid && c != alm.CodeConflict {
		s.fail(w, r, err)
		return
	}
	msg := alm.ErrorMessage(err)
	for _, m := range alm.FieldErrors(err) {
		msg = m
	}
	v.Form.Errors["components"] = msg
	s.render(w, r, http.StatusUnprocessableEntity, web.Restore(v))
}

func (s *Server) apiRestore(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	var body struct {
		promote.RestoreRequest
		DryRun bool `json:"dry_run"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	body.OrgID = o.ID
	svc := s.promote
	if body.DryRun {
		plan, err := svc.PlanRestore(r.Context(), body.RestoreRequest)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, plan)
		return
	}
	err := s.needJobs()
	var d alm.Deployment
	if err == nil {
		d, err = svc.Restore(r.Context(), body.RestoreRequest)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/deployments/%d", d.ID))
	s.writeJSON(w, http.StatusAccepted, d)
}
