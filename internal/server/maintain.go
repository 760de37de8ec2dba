package server

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/capture"
	"github.com/trellis-alm/trellis/internal/databackup"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerMaintainRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/maintain", needs(alm.PermView), s.maintainPage)
	s.handle(r, http.MethodGet, "/orgs/{id}/backups", needs(alm.PermView), s.backupsPage)
	s.handle(r, http.MethodPost, "/orgs/{id}/backups", needs(alm.PermRestore), s.backupNow)
	s.handle(r, http.MethodPost, "/orgs/{id}/backups/policy", needs(alm.PermRestore), s.saveBackupPolicy)
	s.handle(r, http.MethodGet, "/orgs/{id}/backups/{snapshot}/restore", needs(alm.PermRestore), s.restorePage)
	s.handle(r, http.MethodPost, "/orgs/{id}/backups/{snapshot}/restore", needs(alm.PermRestore), s.restoreFromPage)
	s.handle(r, http.MethodGet, "/alerts", needs(alm.PermView), s.alertsPage)
	s.handle(r, http.MethodGet, "/alerts/{id}", needs(alm.PermView), s.alertPage)
	s.handle(r, http.MethodPost, "/alerts/{id}/status", needs(alm.PermManageAlerts), s.setAlertStatus)
	s.handle(r, http.MethodPost, "/alerts/{id}/capture", needs(alm.PermEditWorkItems), s.captureDrift)
	s.handle(r, http.MethodPost, "/alerts/routes", needs(alm.PermManageAlerts), s.addAlertRoute)
	s.handle(r, http.MethodPost, "/alerts/routes/{id}/delete", needs(alm.PermManageAlerts), s.deleteAlertRoute)

	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/backups", needs(alm.PermView), s.apiBackups)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/backups", needs(alm.PermRestore), s.backupNow)
	s.handle(r, http.MethodPut, "/api/v1/orgs/{id}/backups/policy", needs(alm.PermRestore), s.apiSaveBackupPolicy)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/backups/restore", needs(alm.PermRestore), s.apiRestore)
	s.handle(r, http.MethodGet, "/api/v1/alerts", needs(alm.PermView), s.apiAlerts)
	s.handle(r, http.MethodGet, "/api/v1/alerts/{id}", needs(alm.PermView), s.apiAlert)
	s.handle(r, http.MethodPatch, "/api/v1/alerts/{id}", needs(alm.PermManageAlerts), s.setAlertStatus)
	s.handle(r, http.MethodGet, "/api/v1/alert-routes", needs(alm.PermManageAlerts), s.apiAlertRoutes)
	s.handle(r, http.MethodPost, "/api/v1/alert-routes", needs(alm.PermManageAlerts), s.addAlertRoute)
	s.handle(r, http.MethodDelete, "/api/v1/alert-routes/{id}", needs(alm.PermManageAlerts), s.deleteAlertRoute)
	s.registerDataBackupRoutes(r)
	s.registerHealthRoutes(r)
}

func (s *Server) maintainPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgList, err := s.store.ListOrgs(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.MaintainView{CanRestore: callerFrom(ctx).User.Role.Can(alm.PermRestore)}
	for _, o := range orgList {
		p, err := s.store.BackupPolicy(ctx, o.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sum := web.OrgBackupSummary{Org: o, Policy: p}
		if bs, err := s.store.Backups(ctx, o.ID, 1); err != nil {
			s.fail(w, r, err)
			return
		} else if len(bs) > 0 {
			sum.Last = &bs[0]
		}
		v.Orgs = append(v.Orgs, sum)
	}
	if v.Alerts, err = s.store.ListAlerts(ctx, store.AlertFilter{Status: "open", Limit: 8}); err != nil {
		s.fail(w, r, err)
		return
	}
	projects, err := s.store.ListProjects(ctx, callerFrom(ctx).User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, p := range projects {
		v.Projects = append(v.Projects, p.Project)
	}
	v.Page = s.page(w, r, "Maintain", "maintain")
	s.render(w, r, http.StatusOK, web.Maintain(v))
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
	v := web.BackupsView{Org: o, CanRestore: callerFrom(ctx).User.Role.Can(alm.PermRestore)}
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
	sn, err := s.store.CreateBackupSnapshot(r.Context(), o.ID)
	if err != nil {
		return sn, err
	}
	if _, err := s.deps.Jobs.Insert(r.Context(), jobs.SnapshotArgs{SnapshotID: sn.ID}, nil); err != nil {
		_ = s.store.EndSnapshot(r.Context(), sn.ID, alm.SnapFailed, "Could not queue the job.")
		return sn, fmt.Errorf("queue backup: %w", err)
	}
	return sn, nil
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

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
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
	svc := promote.New(s.store)
	if r.PostFormValue("dry_run") != "" {
		plan, err := svc.PlanRestore(r.Context(), req)
		if err == nil {
			v.Preview = &plan
			s.render(w, r, http.StatusOK, web.Restore(v))
			return
		}
		s.renderRestoreError(w, r, v, err)
		return
	}
	d, err := svc.Restore(r.Context(), req)
	if err != nil {
		s.renderRestoreError(w, r, v, err)
		return
	}
	if err := s.queueDeployment(r, d); err != nil {
		s.fail(w, r, err)
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
	svc := promote.New(s.store)
	if body.DryRun {
		plan, err := svc.PlanRestore(r.Context(), body.RestoreRequest)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, plan)
		return
	}
	d, err := svc.Restore(r.Context(), body.RestoreRequest)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.queueDeployment(r, d); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/deployments/%d", d.ID))
	s.writeJSON(w, http.StatusAccepted, d)
}

func (s *Server) alertFilter(r *http.Request) store.AlertFilter {
	q := r.URL.Query()
	f := store.AlertFilter{Status: q.Get("status"), Kind: q.Get("kind")}
	f.OrgID, _ = strconv.ParseInt(q.Get("org"), 10, 64)
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	return f
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	s.renderAlerts(w, r, http.StatusOK, emptyForm())
}

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, status int, form web.Form) {
	ctx := r.Context()
	f := s.alertFilter(r)
	if f.Status == "" {
		f.Status = "unresolved"
	}
	list, err := s.store.ListAlerts(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.AlertsView{Alerts: list, Status: f.Status, RouteForm: form, CanManage: callerFrom(ctx).User.Role.Can(alm.PermManageAlerts)}
	routes, err := s.store.ListAlertRoutes(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, rt := range routes {
		v.Routes = append(v.Routes, rt.AlertRoute)
	}
	v.Page = s.page(w, r, "Alerts", "maintain", web.Crumb{Label: "Maintain", Href: "/maintain"}, web.Crumb{Label: "Alerts"})
	s.render(w, r, status, web.Alerts(v))
}

func (s *Server) alertFromPath(w http.ResponseWriter, r *http.Request) (alm.Alert, bool) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That alert was not found."))
		return alm.Alert{}, false
	}
	a, err := s.store.AlertByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return a, false
	}
	return a, true
}

func (s *Server) alertPage(w http.ResponseWriter, r *http.Request) {
	a, ok := s.alertFromPath(w, r)
	if ok {
		s.renderAlert(w, r, http.StatusOK, a, emptyForm())
	}
}

func (s *Server) renderAlert(w http.ResponseWriter, r *http.Request, status int, a alm.Alert, form web.Form) {
	ctx := r.Context()
	role := callerFrom(ctx).User.Role
	v := web.AlertView{Alert: a, Form: form, CanManage: role.Can(alm.PermManageAlerts), CanCapture: role.Can(alm.PermEditWorkItems), CanRestore: role.Can(alm.PermRestore)}
	projects, err := s.store.ListProjects(ctx, callerFrom(ctx).User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, p := range projects {
		v.Projects = append(v.Projects, p.Project)
	}
	v.Page = s.page(w, r, a.Title, "maintain", web.Crumb{Label: "Maintain", Href: "/maintain"}, web.Crumb{Label: "Alerts", Href: "/alerts"},
		web.Crumb{Label: fmt.Sprintf("Alert #%d", a.ID)})
	s.render(w, r, status, web.AlertPage(v))
}

func (s *Server) apiAlerts(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.ListAlerts(r.Context(), s.alertFilter(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiAlert(w http.ResponseWriter, r *http.Request) {
	if a, ok := s.alertFromPath(w, r); ok {
		s.writeJSON(w, http.StatusOK, a)
	}
}

func (s *Server) setAlertStatus(w http.ResponseWriter, r *http.Request) {
	a, ok := s.alertFromPath(w, r)
	if !ok {
		return
	}
	status := r.PostFormValue("status")
	if isAPI(r) {
		var body struct {
			Status string `json:"status"`
		}
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
		status = body.Status
	}
	a, err := s.store.SetAlertStatus(r.Context(), a.ID, status)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, a)
		return
	}
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/alerts/%d", a.ID), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/alerts/%d", a.ID), "ok", "Alert "+status+".")
}

// captureDrift keeps a drift: its components are captured from the
// comparison of the two snapshots onto a work item (an existing one, or a
// new bug), which then goes through the pipeline, and the alert resolves.
func (s *Server) captureDrift(w http.ResponseWriter, r *http.Request) {
	a, ok := s.alertFromPath(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	f := formOf(r, "work_item", "project", "title")
	fail := func(err error) {
		if c := alm.ErrorCode(err); c != alm.CodeInvalid && c != alm.CodeConflict && c != alm.CodeNotFound {
			s.fail(w, r, err)
			return
		}
		s.renderAlert(w, r, http.StatusUnprocessableEntity, a, withError(f, err))
	}
	if a.PreviousID == nil || a.SnapshotID == nil || len(a.Drift) == 0 {
		fail(alm.Errorf(alm.CodeConflict, "This alert has no drift to capture (its snapshots may have been pruned)."))
		return
	}
	key := strings.ToUpper(strings.TrimSpace(f.Value("work_item")))
	if key == "" {
		p, err := s.store.ProjectByKey(ctx, f.Value("project"))
		if err != nil {
			fail(alm.Invalid(map[string]string{"project": "Choose a project for the new bug."}))
			return
		}
		title := strings.TrimSpace(f.Value("title"))
		if title == "" {
			title = a.Title
		}
		it, err := s.store.CreateWorkItem(ctx, p.ID, alm.WorkItemInput{Kind: alm.KindBug, Title: title,
			Description: a.Body + fmt.Sprintf("\n\nFrom alert #%d.", a.ID)})
		if err != nil {
			fail(err)
			return
		}
		key = it.Key
	} else if _, err := s.store.WorkItemByKey(ctx, key); err != nil {
		fail(alm.Invalid(map[string]string{"work_item": "There is no work item " + key + "."}))
		return
	}
	req := capture.Request{WorkItem: key, A: *a.PreviousID, B: *a.SnapshotID}
	for _, d := range a.Drift {
		req.Components = append(req.Components, capture.Component{Type: d.Type, Name: d.Name})
	}
	if _, err := capture.New(s.store).Capture(ctx, req); err != nil {
		fail(err)
		return
	}
	if err := s.store.LinkAlertWorkItem(ctx, a.ID, key); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, "/work-items/"+key, "ok", fmt.Sprintf("Captured %d component(s) from alert #%d onto %s.", len(a.Drift), a.ID, key))
}

// routeTarget checks a route's address and says what pages may show of it.
func routeTarget(channel, target string) (hint string, err error) {
	target = strings.TrimSpace(target)
	switch channel {
	case "email":
		addr, err := mail.ParseAddress(target)
		if err != nil {
			return "", alm.Invalid(map[string]string{"target": "That is not an email address."})
		}
		return addr.Address, nil
	case "webhook":
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", alm.Invalid(map[string]string{"target": "Enter the webhook's https:// address."})
		}
		return jobs.RedactHook(target), nil
	}
	return "", alm.Invalid(map[string]string{"channel": "Choose email or webhook."})
}

func (s *Server) addAlertRoute(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Kind        string `json:"kind"`
		MinSeverity string `json:"min_severity"`
		Channel     string `json:"channel"`
		Target      string `json:"target"`
	}
	f := formOf(r, "kind", "min_severity", "channel", "target")
	if isAPI(r) {
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		body.Kind, body.MinSeverity, body.Channel, body.Target = f.Value("kind"), f.Value("min_severity"), f.Value("channel"), f.Value("target")
	}
	route, err := s.newAlertRoute(r, body.Kind, body.MinSeverity, body.Channel, body.Target)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.created(w, "/api/v1/alert-routes", route)
		return
	}
	if err != nil {
		if alm.ErrorCode(err) != alm.CodeInvalid {
			s.fail(w, r, err)
			return
		}
		s.renderAlerts(w, r, http.StatusUnprocessableEntity, withError(f, err))
		return
	}
	s.redirect(w, r, "/alerts#routes", "ok", "Alerts will go to "+route.TargetHint+".")
}

func (s *Server) newAlertRoute(r *http.Request, kind, sev, channel, target string) (alm.AlertRoute, error) {
	if _, known := alm.AlertKinds[kind]; !known && kind != "*" {
		return alm.AlertRoute{}, alm.Invalid(map[string]string{"kind": "Choose which alerts."})
	}
	if !alm.Severity(sev).AtLeast(alm.SevInfo) || sev == "" {
		return alm.AlertRoute{}, alm.Invalid(map[string]string{"min_severity": "Choose info, warning or critical."})
	}
	hint, err := routeTarget(channel, target)
	if err != nil {
		return alm.AlertRoute{}, err
	}
	if s.deps.Keyring == nil {
		return alm.AlertRoute{}, alm.Errorf(alm.CodeUnavailable, "No keyring is configured to seal the address.")
	}
	sealed, err := s.deps.Keyring.Seal([]byte(strings.TrimSpace(target)), jobs.AlertSealContext)
	if err != nil {
		return alm.AlertRoute{}, err
	}
	return s.store.AddAlertRoute(r.Context(), alm.AlertRoute{Kind: kind, MinSeverity: alm.Severity(sev), Channel: channel, TargetHint: hint}, sealed)
}

func (s *Server) deleteAlertRoute(w http.ResponseWriter, r *http.Request) {
	s.deleteByID(w, r, "alert route", s.store.DeleteAlertRoute, "/alerts#routes", "Route removed.")
}

// deleteByID removes the record named by the path's id: 204 to the API, a
// redirect back with msg to a page.
func (s *Server) deleteByID(w http.ResponseWriter, r *http.Request, what string, del func(context.Context, int64) error, back, msg string) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That %s was not found.", what))
		return
	}
	err := del(r.Context(), id)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	s.redirect(w, r, back, "ok", msg)
}

func (s *Server) apiAlertRoutes(w http.ResponseWriter, r *http.Request) {
	routes, err := s.store.ListAlertRoutes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]alm.AlertRoute, 0, len(routes))
	for _, rt := range routes {
		out = append(out, rt.AlertRoute)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

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
	run, err := s.store.CreateDataBackupRun(r.Context(), o.ID)
	if err != nil {
		return run, err
	}
	if _, err := s.deps.Jobs.Insert(r.Context(), jobs.DataBackupArgs{RunID: run.ID}, nil); err != nil {
		_ = s.store.FinishDataRun(r.Context(), run.ID, "failed", "Could not queue the job.")
		return run, fmt.Errorf("queue data backup: %w", err)
	}
	return run, nil
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
	return databackup.Restore(r.Context(), s.store, client, o.ID, req)
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
	x, err := s.store.CreateDataRestore(r.Context(), o.ID, req.AsOfRun, req)
	if err != nil {
		return x, err
	}
	if _, err := s.deps.Jobs.Insert(r.Context(), jobs.DataRestoreArgs{RestoreID: x.ID, Request: req}, nil); err != nil {
		_ = s.store.FinishDataRestore(r.Context(), x.ID, "failed", nil, "Could not queue the job.")
		return x, fmt.Errorf("queue data restore: %w", err)
	}
	return x, nil
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

func (s *Server) registerHealthRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/orgs/{id}/regression", needs(alm.PermRestore), s.saveRegression)
	s.handle(r, http.MethodPut, "/api/v1/orgs/{id}/regression", needs(alm.PermRestore), s.apiSaveRegression)
	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/health", needs(alm.PermView), s.apiHealth)
}

// orgTrends gathers an org's health over the last weeks: API use and
// coverage from the daily readings, deploy failures per week, and flaky
// tests from the last twenty runs.
func (s *Server) orgTrends(r *http.Request, orgID int64) (web.OrgTrendView, error) {
	ctx := r.Context()
	var v web.OrgTrendView
	since := s.store.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -7*12)
	samples, err := s.store.HealthSamples(ctx, orgID, since)
	if err != nil {
		return v, err
	}
	for _, h := range samples {
		if h.APIMax > 0 {
			pct := float64(h.APIUsed) / float64(h.APIMax)
			v.APIUse = append(v.APIUse, alm.Point{Start: h.At, Value: &pct, Count: h.APIUsed})
		}
		if h.Coverage != nil {
			c := float64(*h.Coverage) / 100
			v.Coverage = append(v.Coverage, alm.Point{Start: h.At, Value: &c, Count: 1})
		}
		v.APIVersion = h.APIVersion
	}
	at, failed, err := s.store.DeployOutcomes(ctx, orgID, since)
	if err != nil {
		return v, err
	}
	for w := range 12 {
		start := since.AddDate(0, 0, 7*w)
		var n, f int
		for i, t := range at {
			if !t.Before(start) && t.Before(start.AddDate(0, 0, 7)) {
				n++
				if failed[i] {
					f++
				}
			}
		}
		fv := float64(f)
		v.DeployFailures = append(v.DeployFailures, alm.Point{Start: start, Value: &fv, Count: n})
	}
	history, err := s.store.TestHistory(ctx, orgID, 20)
	if err != nil {
		return v, err
	}
	v.Flaky = alm.Flaky(history)
	v.Runs = len(history)
	v.Policy, err = s.store.RegressionPolicy(ctx, orgID)
	return v, err
}

func (s *Server) apiHealth(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	v, err := s.orgTrends(r, o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	samples, err := s.store.HealthSamples(r.Context(), o.ID, time.Time{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flaky := v.Flaky
	if flaky == nil {
		flaky = []alm.FlakyTest{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"samples": samples, "deploy_failures": v.DeployFailures, "flaky": flaky, "runs_considered": v.Runs, "regression": v.Policy})
}

func (s *Server) saveRegression(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("every_days")))
	if err != nil {
		days = 0
	}
	p := alm.RegressionPolicy{OrgID: o.ID, Enabled: r.PostFormValue("regression_enabled") != "", EveryDays: days, OnUpgrade: r.PostFormValue("on_upgrade") != ""}
	if _, err := s.store.SaveRegressionPolicy(r.Context(), p); err != nil {
		s.failBack(w, r, fmt.Sprintf("/orgs/%d/backups#health", o.ID), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/backups#health", o.ID), "ok", "Regression test schedule saved.")
}

func (s *Server) apiSaveRegression(w http.ResponseWriter, r *http.Request) {
	patchOrgSetting(s, w, r, s.store.RegressionPolicy, s.store.SaveRegressionPolicy, func(p *alm.RegressionPolicy, id int64) { p.OrgID = id })
}

// patchOrgSetting reads one of an org's settings, lays the JSON body over
// it (fields left out keep their values), and saves it.
func patchOrgSetting[T any](s *Server, w http.ResponseWriter, r *http.Request, get func(context.Context, int64) (T, error),
	save func(context.Context, T) (T, error), setOrg func(*T, int64)) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	p, err := get(r.Context(), o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := decodeJSON(r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	setOrg(&p, o.ID)
	if p, err = save(r.Context(), p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, p)
}
