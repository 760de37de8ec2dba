// Alerts (drift, failed backups, churn, test failures) and the routes that
// send them on.

package server

import (
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/capture"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerAlertRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/alerts", needs(alm.PermView), s.alertsPage)
	s.handle(r, http.MethodGet, "/alerts/{id}", needs(alm.PermView), s.alertPage)
	s.handle(r, http.MethodPost, "/alerts/{id}/status", needs(alm.PermManageAlerts), s.setAlertStatus)
	s.handle(r, http.MethodPost, "/alerts/{id}/capture", needs(alm.PermEditWorkItems), s.captureDrift)
	s.handle(r, http.MethodPost, "/alerts/routes", needs(alm.PermManageAlerts), s.addAlertRoute)
	s.handle(r, http.MethodPost, "/alerts/routes/{id}/delete", needs(alm.PermManageAlerts), s.deleteAlertRoute)
	s.handle(r, http.MethodGet, "/api/v1/alerts", needs(alm.PermView), s.apiAlerts)
	s.handle(r, http.MethodGet, "/api/v1/alerts/{id}", needs(alm.PermView), s.apiAlert)
	s.handle(r, http.MethodPatch, "/api/v1/alerts/{id}", needs(alm.PermManageAlerts), s.setAlertStatus)
	s.handle(r, http.MethodGet, "/api/v1/alert-routes", needs(alm.PermManageAlerts), s.apiAlertRoutes)
	s.handle(r, http.MethodPost, "/api/v1/alert-routes", needs(alm.PermManageAlerts), s.addAlertRoute)
	s.handle(r, http.MethodDelete, "/api/v1/alert-routes/{id}", needs(alm.PermManageAlerts), s.deleteAlertRoute)
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
		p, err := s.mayInProject(r, f.Value("project"), "", alm.PermEditWorkItems)
		if alm.ErrorCode(err) == alm.CodeNotFound {
			err = alm.Invalid(map[string]string{"project": "Choose a project for the new bug."})
		}
		if err != nil {
			fail(err)
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
	} else if err := s.mayEditItem(r, key); err != nil {
		fail(err)
		return
	}
	req := capture.Request{WorkItem: key, A: *a.PreviousID, B: *a.SnapshotID}
	for _, d := range a.Drift {
		req.Components = append(req.Components, capture.Component{Type: d.Type, Name: d.Name})
	}
	if _, err := s.capture.Capture(ctx, req); err != nil {
		fail(err)
		return
	}
	if err := s.store.LinkAlertWorkItem(ctx, a.ID, key); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, "/work-items/"+key, "ok", fmt.Sprintf("Captured %s from alert #%d onto %s.", alm.Count(len(a.Drift), "component"), a.ID, key))
}

// routeTarget checks a route's address and says what pages may show of it.
func (s *Server) routeTarget(r *http.Request, channel, target string) (hint string, err error) {
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
		if err := s.cfg.Outbound.CheckURL(r.Context(), target); err != nil {
			return "", alm.Invalid(map[string]string{"target": outboundMessage(err)})
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
	hint, err := s.routeTarget(r, channel, target)
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
