package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/tracksync"
	"github.com/trellis-alm/trellis/web"
)

// A project's work tracker: connect, map statuses, import, link, and the
// tracker's webhooks in.

func (s *Server) registerTrackerRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/projects/{project}/tracker", inProject(alm.PermView), s.trackerPage)
	s.handle(r, http.MethodPost, "/projects/{project}/tracker", inProject(alm.PermManageProject), s.connectTracker)
	s.handle(r, http.MethodPost, "/projects/{project}/tracker/mapping", inProject(alm.PermManageProject), s.saveTrackerMapping)
	s.handle(r, http.MethodPost, "/projects/{project}/tracker/disconnect", inProject(alm.PermManageProject), s.disconnectTracker)
	s.handle(r, http.MethodPost, "/projects/{project}/tracker/import", inProject(alm.PermEditWorkItems), s.importIssues)
	s.handle(r, http.MethodPost, "/projects/{project}/tracker/links/{id}/sync", inProject(alm.PermEditWorkItems), s.syncTrackerLink)
	s.handle(r, http.MethodPost, "/work-items/{key}/tracker-link", inProject(alm.PermEditWorkItems), s.linkRecord("work_item"))
	s.handle(r, http.MethodPost, "/requirements/{key}/tracker-link", inProject(alm.PermEditRequirements), s.linkRecord("requirement"))
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/tracker", inProject(alm.PermView), s.apiTracker)
	s.handle(r, http.MethodPut, "/api/v1/projects/{project}/tracker", inProject(alm.PermManageProject), s.apiConnectTracker)
	s.handle(r, http.MethodDelete, "/api/v1/projects/{project}/tracker", inProject(alm.PermManageProject), s.apiDisconnectTracker)
	s.handle(r, http.MethodPut, "/api/v1/projects/{project}/tracker/mapping", inProject(alm.PermManageProject), s.apiTrackerMapping)
	s.handle(r, http.MethodPost, "/api/v1/projects/{project}/tracker/import", inProject(alm.PermEditWorkItems), s.apiImportIssues)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/tracker/links", inProject(alm.PermView), s.apiTrackerLinks)
	s.handle(r, http.MethodPost, "/api/v1/work-items/{key}/tracker-link", inProject(alm.PermEditWorkItems), s.apiLinkRecord("work_item"))
	s.handle(r, http.MethodPost, "/api/v1/requirements/{key}/tracker-link", inProject(alm.PermEditRequirements), s.apiLinkRecord("requirement"))
	// Trackers sign their webhooks (Azure DevOps: basic auth); the
	// connection's secret is the check.
	s.handle(r, http.MethodPost, "/api/v1/hooks/trackers/{id}", public, s.trackerHook)
}

func (s *Server) trackerService() *tracksync.Service {
	return &tracksync.Service{Store: s.store, Keyring: s.deps.Keyring, HTTP: s.cfg.Outbound.Client(30 * time.Second), BaseURL: strings.TrimSuffix(s.cfg.BaseURL.String(), "/")}
}

func (s *Server) trackerHookURL(c alm.TrackerConnection) string {
	return fmt.Sprintf("%s/api/v1/hooks/trackers/%d", strings.TrimSuffix(s.cfg.BaseURL.String(), "/"), c.ID)
}

func hookHelp(k tracker.Kind) string {
	switch k {
	case tracker.Azure:
		return "Project settings → Service hooks → Web Hooks: Work item created, updated, deleted and commented on; basic authentication with any user name and this secret as the password."
	case tracker.GitHub:
		return "Repository settings → Webhooks: content type application/json, this secret, events Issues and Issue comments."
	}
	return "Jira settings → System → WebHooks: issue created, updated, deleted and comment created, for this project, with this secret."
}

func trackerForm(c *alm.TrackerConnection) web.Form {
	f := emptyForm()
	f.Values["kind"], f.Values["import_as"] = string(tracker.JiraCloud), "work_item"
	if c != nil {
		f.Values["kind"], f.Values["base_url"], f.Values["scope"], f.Values["username"], f.Values["import_as"] = c.Kind, c.BaseURL, c.Scope, c.Username, c.ImportAs
	}
	return f
}

func (s *Server) trackerPage(w http.ResponseWriter, r *http.Request) {
	s.renderTracker(w, r, http.StatusOK, nil, "")
}

func (s *Server) renderTracker(w http.ResponseWriter, r *http.Request, status int, form *web.Form, secret string) {
	ctx := r.Context()
	sc := scopeFrom(ctx)
	v := web.TrackerView{Scope: s.scope(r, "tracker"), CanManage: sc.Role.Can(alm.PermManageProject), CanImport: sc.Role.Can(alm.PermEditWorkItems), Secret: secret}
	for _, k := range tracker.Kinds {
		v.Kinds = append(v.Kinds, web.Option{Value: string(k), Label: k.Label()})
	}
	c, err := s.store.TrackerConnection(ctx, sc.Project.ID)
	if err != nil && alm.ErrorCode(err) != alm.CodeNotFound {
		s.fail(w, r, err)
		return
	}
	kind := tracker.JiraCloud
	if err == nil {
		v.Conn = &c
		kind = tracker.Kind(c.Kind)
	}
	v.Product, v.ScopeHint, v.QueryHint = kind.Label(), kind.ScopeHint(), kind.QueryHint()
	v.Form = trackerForm(v.Conn)
	if form != nil {
		v.Form = *form
	}
	for _, st := range alm.WorkStatuses {
		v.WorkOpts = append(v.WorkOpts, web.Option{Value: string(st), Label: st.Label()})
	}
	for _, st := range alm.ReqStatuses {
		v.ReqOpts = append(v.ReqOpts, web.Option{Value: string(st), Label: st.Label()})
	}
	if v.Conn != nil {
		v.HookURL, v.HookHelp = s.trackerHookURL(c), hookHelp(kind)
		if s.deps.DemoProject != "" && strings.HasPrefix(c.BaseURL, "http://127.0.0.1:") {
			v.BoardURL = strings.TrimSuffix(c.BaseURL, "/") + "/board"
		}
		if v.Links, err = s.store.TrackerLinks(ctx, c.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		maps, err := s.store.StatusMappings(ctx, c.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Mapping = map[string]string{}
		for _, m := range maps {
			v.Mapping[m.Entity+"|"+m.Remote] = m.Local
		}
		cl, clErr := s.trackerService().Client(c)
		// Only the mapping (for those who may edit it) asks the tracker for
		// its statuses: everyone else's visit costs the tracker nothing.
		if v.CanManage {
			err := clErr
			if err == nil {
				tctx, cancel := context.WithTimeout(ctx, 4*time.Second)
				v.Statuses, err = cl.Statuses(tctx)
				cancel()
			}
			if err != nil {
				v.StatusErr = "The tracker's statuses could not be read: " + alm.ErrorMessage(err)
			}
			for _, m := range maps {
				if !slices.Contains(v.Statuses, m.Remote) {
					v.Statuses = append(v.Statuses, m.Remote) // mapped before, keep it editable
				}
			}
		}
		q := r.URL.Query()
		if q.Get("search") != "" && clErr == nil {
			v.Searched, v.Query = true, q.Get("q")
			tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			found, err := cl.Search(tctx, v.Query, 50)
			cancel()
			if err != nil {
				v.SearchErr = alm.ErrorMessage(err)
			}
			linked := map[string]string{}
			for _, l := range v.Links {
				linked[l.RemoteKey] = l.EntityKey
			}
			for _, is := range found {
				v.Results = append(v.Results, web.TrackerIssue{Key: is.Key, Display: alm.TrackerDisplayKey(string(kind), is.Key), URL: is.URL, Title: is.Title, Status: is.Status,
					Labels: is.Labels, Linked: linked[is.Key]})
			}
		}
	}
	v.Page = s.projectPage(w, r, "Tracker", web.Crumb{Label: "Tracker"})
	s.render(w, r, status, web.TrackerPage(v))
}

func (s *Server) connectTracker(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "tracker")
	form := formOf(r, "kind", "base_url", "scope", "username", "import_as")
	c := alm.TrackerConnection{ProjectID: sc.Project.ID, Kind: form.Value("kind"), BaseURL: strings.TrimSpace(form.Value("base_url")), Scope: strings.TrimSpace(form.Value("scope")),
		Username: strings.TrimSpace(form.Value("username")), ImportAs: form.Value("import_as")}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	saved, secret, err := s.trackerService().Connect(tctx, c, r.PostFormValue("token"), r.PostFormValue("new_secret") != "")
	cancel()
	if err != nil {
		f := withError(form, err)
		s.renderTracker(w, r, http.StatusUnprocessableEntity, &f, "")
		return
	}
	// A reconnect resumes every link at once.
	if s.deps.Jobs != nil {
		if err := jobs.QueueTrackerSyncs(ctx, s.store, s.deps.Jobs, saved.ID); err != nil {
			s.log.Warn("queue tracker syncs", "err", err)
		}
	}
	if secret == "" {
		s.redirect(w, r, sc.Base()+"/tracker", "ok", tracker.Kind(saved.Kind).Label()+" connected and tested.")
		return
	}
	s.renderTracker(w, r, http.StatusOK, nil, secret)
}

func (s *Server) saveTrackerMapping(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "tracker")
	back := sc.Base() + "/tracker"
	c, err := s.store.TrackerConnection(ctx, sc.Project.ID)
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.failBack(w, r, back, alm.Invalid(map[string]string{"mapping": "The form could not be read."}))
		return
	}
	var ms []alm.StatusMapping
	for k, vals := range r.PostForm {
		rest, ok := strings.CutPrefix(k, "map:")
		if !ok || len(vals) == 0 || vals[0] == "" {
			continue
		}
		entity, remote, _ := strings.Cut(rest, "|")
		m := alm.StatusMapping{Entity: entity, Remote: remote, Local: vals[0]}
		if msg := badMapping(m); msg != "" {
			s.failBack(w, r, back, alm.Invalid(map[string]string{"mapping": msg}))
			return
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Entity+ms[i].Remote < ms[j].Entity+ms[j].Remote })
	if err := s.store.SaveStatusMappings(ctx, c.ID, ms); err != nil {
		s.failBack(w, r, back, err)
		return
	}
	if s.deps.Jobs != nil {
		_ = jobs.QueueTrackerSyncs(ctx, s.store, s.deps.Jobs, c.ID)
	}
	s.redirect(w, r, back, "ok", "Status mapping saved: "+alm.Count(len(ms), "status")+" mapped.")
}

func (s *Server) disconnectTracker(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "tracker")
	if err := s.store.DeleteTrackerConnection(r.Context(), sc.Project.ID); err != nil {
		s.failBack(w, r, sc.Base()+"/tracker", err)
		return
	}
	s.redirect(w, r, sc.Base()+"/tracker", "ok", "Tracker disconnected; requirements and work items are kept.")
}

func (s *Server) importIssues(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "tracker")
	back := sc.Base() + "/tracker"
	_ = r.ParseForm()
	keys := r.PostForm["key"]
	if len(keys) == 0 {
		s.failBack(w, r, back, alm.Invalid(map[string]string{"key": "Tick the issues to import."}))
		return
	}
	made, err := s.importKeys(r.Context(), keys)
	if err != nil {
		msg := alm.ErrorMessage(err)
		if len(made) > 0 {
			msg = fmt.Sprintf("Imported %s, then: %s", strings.Join(made, ", "), msg)
		}
		s.redirect(w, r, back, "error", msg)
		return
	}
	s.redirect(w, r, back, "ok", fmt.Sprintf("Imported %s: %s", alm.Count(len(made), "issue"), strings.Join(made, ", ")))
}

// importKeys imports the project's issues by key (for the page and the
// API alike) and queues their first syncs; it returns the records made,
// also when it stopped part way.
func (s *Server) importKeys(ctx context.Context, keys []string) ([]string, error) {
	sc := scopeFrom(ctx)
	c, err := s.store.TrackerConnection(ctx, sc.Project.ID)
	if err != nil {
		return nil, err
	}
	if c.ImportAs == "requirement" && !sc.Role.Can(alm.PermEditRequirements) {
		return nil, alm.Errorf(alm.CodeForbidden, "Your role may not create requirements.")
	}
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	made, err := s.trackerService().Import(tctx, c, keys)
	cancel()
	if err == nil && s.deps.Jobs != nil {
		err = jobs.QueueTrackerSyncs(ctx, s.store, s.deps.Jobs, c.ID)
	}
	return made, err
}

func (s *Server) syncTrackerLink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "tracker")
	back := sc.Base() + "/tracker"
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	l, err := s.store.TrackerLinkByID(ctx, id)
	if err != nil || l.ProjectID != sc.Project.ID {
		s.failBack(w, r, back, alm.Errorf(alm.CodeNotFound, "That link was not found in %s.", sc.Project.Key))
		return
	}
	if s.deps.Jobs != nil {
		if _, err := s.deps.Jobs.Insert(ctx, jobs.TrackerSyncArgs{LinkID: l.ID}, nil); err != nil {
			s.failBack(w, r, back, err)
			return
		}
	}
	s.redirect(w, r, back, "ok", l.EntityKey+" is syncing with "+l.RemoteKey+".")
}

// linkRecord links a requirement or work item to an issue by key.
func (s *Server) linkRecord(entityType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := strings.ToUpper(chi.URLParam(r, "key"))
		back := "/work-items/" + key
		if entityType == "requirement" {
			back = "/requirements/" + key
		}
		c, l, err := s.linkByKey(r.Context(), entityType, key, r.PostFormValue("key"))
		if err != nil {
			s.failBack(w, r, back, err)
			return
		}
		s.redirect(w, r, back, "ok", key+" is linked to "+tracker.Kind(c.Kind).Label()+" "+alm.TrackerDisplayKey(c.Kind, l.RemoteKey)+".")
	}
}

// linkByKey links a requirement or work item to its project tracker's
// issue (for the page and the API alike) and queues the first sync.
func (s *Server) linkByKey(ctx context.Context, entityType, recordKey, issueKey string) (alm.TrackerConnection, alm.TrackerLink, error) {
	id, pid, err := s.store.EntityIDByKey(ctx, entityType, recordKey)
	if err != nil {
		return alm.TrackerConnection{}, alm.TrackerLink{}, err
	}
	c, err := s.store.TrackerConnection(ctx, pid)
	if err != nil {
		return c, alm.TrackerLink{}, alm.Invalid(map[string]string{"key": "The project has no tracker connected."})
	}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	l, err := s.trackerService().LinkExisting(tctx, c, entityType, id, issueKey)
	cancel()
	if err == nil && s.deps.Jobs != nil {
		_, err = s.deps.Jobs.Insert(ctx, jobs.TrackerSyncArgs{LinkID: l.ID}, nil)
	}
	return c, l, err
}

// trackerCard is the record page's tracker card (nil when the project
// has no tracker).
func (s *Server) trackerCard(r *http.Request, projectID int64, entityType string, id int64, key string, canEdit bool) *web.TrackerCard {
	ctx := r.Context()
	c, err := s.store.TrackerConnection(ctx, projectID)
	if err != nil {
		return nil
	}
	kind := tracker.Kind(c.Kind)
	card := &web.TrackerCard{Connected: true, Product: kind.Label(), CanEdit: canEdit, Form: emptyForm(), CSRF: s.csrfToken(r),
		Settings: "/projects/" + scopeFrom(ctx).Project.Key + "/tracker"}
	card.Action = "/work-items/" + key + "/tracker-link"
	if entityType == "requirement" {
		card.Action = "/requirements/" + key + "/tracker-link"
	}
	if l, err := s.store.TrackerLinkFor(ctx, entityType, id); err == nil {
		card.Link, card.Display = &l, alm.TrackerDisplayKey(string(kind), l.RemoteKey)
	}
	return card
}

func (s *Server) apiTrackerLinks(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.store.TrackerConnection(ctx, scopeFrom(ctx).Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	links, err := s.store.TrackerLinks(ctx, c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if links == nil {
		links = []alm.TrackerLink{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": links})
}

// trackerHook receives a tracker's webhook: verified with the
// connection's secret, it queues a sync of each linked issue it names
// (the sync reads the issue itself, so a forged or stale payload changes
// nothing).
func (s *Server) trackerHook(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "No such tracker connection."))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		s.fail(w, r, alm.Invalid(map[string]string{"body": "The body could not be read."}))
		return
	}
	ids, err := s.trackerService().Webhook(r.Context(), id, r, body)
	if err != nil {
		if tracker.CodeOf(err) == tracker.CodeSignature {
			s.writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "unauthorized", "message": err.Error()}})
			return
		}
		if c := tracker.CodeOf(err); c != "" {
			s.fail(w, r, alm.Invalid(map[string]string{"body": err.Error()}))
			return
		}
		s.fail(w, r, err)
		return
	}
	for _, lid := range ids {
		if s.deps.Jobs != nil {
			if _, err := s.deps.Jobs.Insert(r.Context(), jobs.TrackerSyncArgs{LinkID: lid}, nil); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	s.writeJSON(w, http.StatusAccepted, map[string]any{"queued": len(ids)})
}

// The tracker over the API.

type trackerInput struct {
	Kind      string `json:"kind"`
	BaseURL   string `json:"base_url"`
	Scope     string `json:"scope"`
	Username  string `json:"username"`
	Token     string `json:"token"`
	ImportAs  string `json:"import_as"`
	NewSecret bool   `json:"new_secret"`
}

type trackerOut struct {
	Connection    alm.TrackerConnection `json:"connection"`
	Mapping       []alm.StatusMapping   `json:"mapping"`
	WebhookURL    string                `json:"webhook_url"`
	WebhookSecret string                `json:"webhook_secret,omitempty"`
}

func (s *Server) trackerOut(ctx context.Context, c alm.TrackerConnection, secret string) (trackerOut, error) {
	ms, err := s.store.StatusMappings(ctx, c.ID)
	if ms == nil {
		ms = []alm.StatusMapping{}
	}
	return trackerOut{Connection: c, Mapping: ms, WebhookURL: s.trackerHookURL(c), WebhookSecret: secret}, err
}

func (s *Server) apiTracker(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.store.TrackerConnection(ctx, scopeFrom(ctx).Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.trackerOut(ctx, c, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiConnectTracker(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var in trackerInput
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	c := alm.TrackerConnection{ProjectID: scopeFrom(ctx).Project.ID, Kind: in.Kind, BaseURL: strings.TrimSpace(in.BaseURL), Scope: strings.TrimSpace(in.Scope),
		Username: strings.TrimSpace(in.Username), ImportAs: in.ImportAs}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	saved, secret, err := s.trackerService().Connect(tctx, c, in.Token, in.NewSecret)
	cancel()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.deps.Jobs != nil {
		if err := jobs.QueueTrackerSyncs(ctx, s.store, s.deps.Jobs, saved.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	out, err := s.trackerOut(ctx, saved, secret)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiDisconnectTracker(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pid := scopeFrom(ctx).Project.ID
	if _, err := s.store.TrackerConnection(ctx, pid); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.DeleteTrackerConnection(ctx, pid); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiTrackerMapping(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.store.TrackerConnection(ctx, scopeFrom(ctx).Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Mapping []alm.StatusMapping `json:"mapping"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	for i, m := range in.Mapping {
		if msg := badMapping(m); msg != "" {
			s.fail(w, r, alm.Invalid(map[string]string{fmt.Sprintf("mapping.%d", i): msg}))
			return
		}
	}
	if err := s.store.SaveStatusMappings(ctx, c.ID, in.Mapping); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.deps.Jobs != nil {
		_ = jobs.QueueTrackerSyncs(ctx, s.store, s.deps.Jobs, c.ID)
	}
	out, err := s.trackerOut(ctx, c, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

// badMapping says what is wrong with a mapping row ("" when nothing).
func badMapping(m alm.StatusMapping) string {
	switch {
	case strings.TrimSpace(m.Remote) == "":
		return "Name the tracker's status."
	case m.Entity == "work_item" && !slices.Contains(alm.WorkStatuses, alm.WorkStatus(m.Local)):
		return fmt.Sprintf("%q is not a work item status.", m.Local)
	case m.Entity == "requirement" && !slices.Contains(alm.ReqStatuses, alm.ReqStatus(m.Local)):
		return fmt.Sprintf("%q is not a requirement status.", m.Local)
	case m.Entity != "work_item" && m.Entity != "requirement":
		return "The entity is work_item or requirement."
	}
	return ""
}

func (s *Server) apiImportIssues(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Keys []string `json:"keys"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(in.Keys) == 0 || len(in.Keys) > 200 {
		s.fail(w, r, alm.Invalid(map[string]string{"keys": "Name 1 to 200 issue keys."}))
		return
	}
	made, err := s.importKeys(r.Context(), in.Keys)
	if err != nil {
		if tracker.CodeOf(err) != "" {
			err = alm.Invalid(map[string]string{"keys": fmt.Sprintf("%s (imported before it: %d)", err.Error(), len(made))})
		}
		s.fail(w, r, err)
		return
	}
	if made == nil {
		made = []string{}
	}
	s.writeJSON(w, http.StatusCreated, map[string]any{"keys": made})
}

func (s *Server) apiLinkRecord(entityType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Key string `json:"key"`
		}
		if err := decodeJSON(r, &in); err != nil {
			s.fail(w, r, err)
			return
		}
		_, l, err := s.linkByKey(r.Context(), entityType, chi.URLParam(r, "key"), in.Key)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusCreated, l)
	}
}
