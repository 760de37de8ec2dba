package server

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerDevelopRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/develop", needs(alm.PermView), s.developPage)
	s.handle(r, http.MethodGet, "/orgs/new", needs(alm.PermManageOrgs), s.newOrgPage)
	s.handle(r, http.MethodPost, "/orgs", needs(alm.PermManageOrgs), s.connectOrg)
	s.handle(r, http.MethodGet, "/orgs/oauth/callback", needs(alm.PermManageOrgs), s.orgOAuthCallback)
	s.handle(r, http.MethodGet, "/orgs/{id}", needs(alm.PermView), s.orgPage)
	s.handle(r, http.MethodGet, "/orgs/{id}/health", needs(alm.PermView), s.orgHealth)
	s.handle(r, http.MethodPost, "/orgs/{id}/reauthorize", needs(alm.PermManageOrgs), s.reauthorizeOrg)
	s.handle(r, http.MethodPost, "/orgs/{id}/disconnect", needs(alm.PermManageOrgs), s.disconnectOrg)

	s.registerSnapshotRoutes(r)
	s.handle(r, http.MethodPost, "/orgs/{id}/test-runs", needs(alm.PermSnapshot), s.runTests)
	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/test-runs", needs(alm.PermView), s.apiTestRuns)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/test-runs", needs(alm.PermSnapshot), s.apiRunTests)
	s.registerRepoRoutes(r)
	s.handle(r, http.MethodGet, "/api/v1/orgs", needs(alm.PermView), s.apiOrgs)
	s.handle(r, http.MethodPost, "/api/v1/orgs", needs(alm.PermManageOrgs), s.apiConnectOrg)
	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}", needs(alm.PermView), s.apiOrg)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/disconnect", needs(alm.PermManageOrgs), s.apiDisconnectOrg)
}

var developCrumb = web.Crumb{Label: "Develop", Href: "/develop"}

func (s *Server) orgService() (*orgs.Service, error) {
	if s.deps.Orgs == nil {
		return nil, alm.Errorf(alm.CodeUnavailable, "Connecting orgs is not configured on this server.")
	}
	return s.deps.Orgs, nil
}

func (s *Server) developPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := s.store.ListOrgs(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cards := make([]web.OrgCard, len(list))
	for i, o := range list {
		cards[i].Org = o
		snaps, err := s.store.ListSnapshots(ctx, o.ID, 1)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(snaps) > 0 {
			cards[i].Last = &snaps[0]
		}
	}
	repoList, err := s.store.ListRepositories(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recent, err := s.store.RecentComparisons(ctx, 8)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(w, r, "Develop", "develop")
	s.render(w, r, http.StatusOK, web.Develop(web.DevelopView{Page: p, Orgs: cards, Repos: repoList, Comparisons: recent, CanConnect: callerFrom(ctx).User.Role.Can(alm.PermManageOrgs)}))
}

func (s *Server) renderOrgForm(w http.ResponseWriter, r *http.Request, status int, f web.Form) {
	p := s.page(w, r, "Connect an org", "develop", developCrumb, web.Crumb{Label: "Connect an org"})
	// The secret fields never come back filled in.
	delete(f.Values, "client_secret")
	delete(f.Values, "private_key")
	s.render(w, r, status, web.OrgForm(web.OrgFormView{Page: p, Form: f}))
}

func (s *Server) newOrgPage(w http.ResponseWriter, r *http.Request) {
	f := emptyForm()
	f.Values["kind"] = string(alm.OrgDeveloperSandbox)
	f.Values["login_url"] = "https://test.salesforce.com"
	f.Values["auth"] = "oauth"
	s.renderOrgForm(w, r, http.StatusOK, f)
}

var orgFields = []string{"name", "kind", "login_url", "auth", "client_id", "client_secret", "username", "private_key", "api_version"}

func newOrgOf(f web.Form) alm.NewOrg {
	return alm.NewOrg{Name: f.Value("name"), Kind: alm.OrgKind(f.Value("kind")), LoginURL: f.Value("login_url"),
		APIVersion: strings.TrimSpace(f.Value("api_version")), Username: f.Value("username"), ClientID: f.Value("client_id")}
}

func (s *Server) oauthCookie() string { return s.cookieName("trellis_org_oauth") }

func (s *Server) connectOrg(w http.ResponseWriter, r *http.Request) {
	svc, err := s.orgService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := formOf(r, orgFields...)
	n := newOrgOf(f)
	if f.Value("auth") == "jwt" {
		key := f.Value("private_key")
		if strings.TrimSpace(key) == "" {
			if file, _, ferr := r.FormFile("private_key_file"); ferr == nil {
				b, _ := io.ReadAll(io.LimitReader(file, 64<<10))
				file.Close()
				key = string(b)
			}
		}
		org, err := svc.ConnectJWT(r.Context(), n, key)
		if err != nil {
			if alm.ErrorCode(err) == alm.CodeInternal {
				s.fail(w, r, err)
				return
			}
			s.renderOrgForm(w, r, statusOf(alm.ErrorCode(err)), withError(f, err))
			return
		}
		s.redirect(w, r, fmt.Sprintf("/orgs/%d", org.ID), "ok", org.Name+" is connected.")
		return
	}
	authURL, pending, err := svc.StartOAuth(n, f.Value("client_secret"), 0)
	if err != nil {
		s.renderOrgForm(w, r, statusOf(alm.ErrorCode(err)), withError(f, err))
		return
	}
	s.setCookie(w, s.oauthCookie(), pending, 900)
	s.render(w, r, http.StatusOK, web.ToOrgLogin(n.Name, authURL))
}

func (s *Server) orgOAuthCallback(w http.ResponseWriter, r *http.Request) {
	svc, err := s.orgService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	ck, cerr := r.Cookie(s.oauthCookie())
	s.clearCookie(w, s.oauthCookie())
	if cerr != nil {
		s.redirect(w, r, "/orgs/new", "bad", "This connection attempt expired or came from another browser. Start again.")
		return
	}
	p, err := svc.OpenPending(ck.Value)
	if err == nil {
		var org alm.Org
		org, err = svc.FinishOAuth(r.Context(), p, q.Get("state"), q.Get("code"), q.Get("error"), q.Get("error_description"))
		if err == nil {
			msg := org.Name + " is connected as " + org.Username + "."
			if p.ReauthID != 0 {
				msg = org.Name + " is re-authorised."
			}
			s.redirect(w, r, fmt.Sprintf("/orgs/%d", org.ID), "ok", msg)
			return
		}
	}
	if alm.ErrorCode(err) == alm.CodeInternal {
		s.fail(w, r, err)
		return
	}
	back := "/orgs/new"
	if p.ReauthID != 0 {
		back = fmt.Sprintf("/orgs/%d", p.ReauthID)
	}
	s.redirect(w, r, back, "bad", alm.ErrorMessage(err))
}

func (s *Server) orgFromPath(w http.ResponseWriter, r *http.Request) (alm.Org, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That org was not found."))
		return alm.Org{}, false
	}
	o, err := s.store.OrgByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return alm.Org{}, false
	}
	return o, true
}

func (s *Server) orgPage(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	snaps, err := s.store.ListSnapshots(r.Context(), o.ID, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs, err := s.store.ListTestRuns(r.Context(), o.ID, 10)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	who := s.namesByEmail(r)
	for i := range runs {
		runs[i].StartedBy = who(runs[i].StartedBy)
	}
	role := callerFrom(r.Context()).User.Role
	p := s.page(w, r, o.Name, "develop", developCrumb, web.Crumb{Label: o.Name})
	v := web.OrgView{Page: p, Org: o, Snapshots: snaps, TestRuns: runs, CanManage: role.Can(alm.PermManageOrgs), CanSnapshot: role.Can(alm.PermSnapshot)}
	if s.deps.DemoProject != "" && strings.HasPrefix(o.LoginURL, "http://127.0.0.1:") {
		// The demo's simulated orgs have a Setup page of their own.
		v.SetupURL = strings.TrimSuffix(o.LoginURL, "/") + "/setup"
	}
	s.render(w, r, http.StatusOK, web.OrgPage(v))
}

func (s *Server) health(r *http.Request, o alm.Org) (orgs.Health, *alm.Snapshot, error) {
	svc, err := s.orgService()
	if err != nil {
		return orgs.Health{}, nil, err
	}
	h := svc.Check(r.Context(), o)
	snaps, err := s.store.ListSnapshots(r.Context(), o.ID, 1)
	if err != nil {
		return h, nil, err
	}
	if len(snaps) > 0 {
		return h, &snaps[0], nil
	}
	return h, nil, nil
}

func (s *Server) orgHealth(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	h, last, err := s.health(r, o)
	if err != nil && r.Header.Get("HX-Request") == "true" {
		// The panel says why it cannot check rather than staying blank.
		s.render(w, r, http.StatusOK, web.OrgHealth(web.OrgHealthView{Problem: "Health cannot be checked: " + alm.ErrorMessage(err), Page: s.page(w, r, o.Name, "develop")}))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.OrgHealthView{OK: h.OK, Problem: h.Problem, Username: h.Username, OrgID: h.OrgID, APIVersion: h.APIVersion, APIUsed: h.APIUsed, APIMax: h.APIMax, LastSnapshot: last, Page: s.page(w, r, o.Name, "develop")}
	if r.Header.Get("HX-Request") == "true" {
		s.render(w, r, http.StatusOK, web.OrgHealth(v))
		return
	}
	// Without script, "Check now" is a link: go back to the page, which
	// shows the fresh state.
	http.Redirect(w, r, fmt.Sprintf("/orgs/%d", o.ID), http.StatusSeeOther)
}

func (s *Server) reauthorizeOrg(w http.ResponseWriter, r *http.Request) {
	svc, err := s.orgService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	if o.AuthKind == "jwt" {
		key := r.PostFormValue("private_key")
		if strings.TrimSpace(key) == "" {
			if file, _, ferr := r.FormFile("private_key_file"); ferr == nil {
				b, _ := io.ReadAll(io.LimitReader(file, 64<<10))
				file.Close()
				key = string(b)
			}
		}
		if _, err := svc.ReauthorizeJWT(r.Context(), o, key); err != nil {
			s.failBack(w, r, fmt.Sprintf("/orgs/%d", o.ID), err)
			return
		}
		s.redirect(w, r, fmt.Sprintf("/orgs/%d", o.ID), "ok", o.Name+" signs in with the new key.")
		return
	}
	n := alm.NewOrg{Name: o.Name, Kind: o.Kind, LoginURL: o.LoginURL, APIVersion: o.APIVersion, ClientID: o.ClientID}
	authURL, pending, err := svc.StartOAuth(n, "", o.ID)
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/orgs/%d", o.ID), err)
		return
	}
	s.setCookie(w, s.oauthCookie(), pending, 900)
	s.render(w, r, http.StatusOK, web.ToOrgLogin(o.Name, authURL))
}

// disconnect disconnects the org in the path; the page and the API answer
// differently with the result.
func (s *Server) disconnect(w http.ResponseWriter, r *http.Request, done func(alm.Org)) {
	svc, err := s.orgService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	if err := svc.Disconnect(r.Context(), o); err != nil {
		s.fail(w, r, err)
		return
	}
	if after, err := s.store.OrgByID(r.Context(), o.ID); err == nil {
		o = after
	}
	done(o)
}

func (s *Server) disconnectOrg(w http.ResponseWriter, r *http.Request) {
	s.disconnect(w, r, func(o alm.Org) {
		s.redirect(w, r, fmt.Sprintf("/orgs/%d", o.ID), "ok", o.Name+" is disconnected; its credentials are wiped and its snapshots kept.")
	})
}

func (s *Server) apiOrgs(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.ListOrgs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiConnectOrg(w http.ResponseWriter, r *http.Request) {
	svc, err := s.orgService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b struct {
		Name       string      `json:"name"`
		Kind       alm.OrgKind `json:"kind"`
		LoginURL   string      `json:"login_url"`
		APIVersion string      `json:"api_version"`
		Username   string      `json:"username"`
		ClientID   string      `json:"client_id"`
		PrivateKey string      `json:"private_key"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	org, err := svc.ConnectJWT(r.Context(), alm.NewOrg{Name: b.Name, Kind: b.Kind, LoginURL: b.LoginURL, APIVersion: b.APIVersion, Username: b.Username, ClientID: b.ClientID}, b.PrivateKey)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/orgs/%d", org.ID), org)
}

func (s *Server) apiOrg(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	h, last, err := s.health(r, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if o2, err := s.store.OrgByID(r.Context(), o.ID); err == nil {
		o = o2
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"org": o, "health": h, "last_snapshot": last})
}

func (s *Server) apiDisconnectOrg(w http.ResponseWriter, r *http.Request) {
	s.disconnect(w, r, func(o alm.Org) { s.writeJSON(w, http.StatusOK, o) })
}

// startTestRun queues an Apex test run on an org.
func (s *Server) startTestRun(r *http.Request, o alm.Org, classes, suites []string, local bool) (alm.TestRun, error) {
	if s.deps.Jobs == nil {
		return alm.TestRun{}, alm.Errorf(alm.CodeUnavailable, "Background jobs are not running on this server.")
	}
	level := "RunSpecifiedTests"
	if local {
		level, classes, suites = "RunLocalTests", nil, nil
	} else if len(classes) == 0 && len(suites) == 0 {
		return alm.TestRun{}, alm.Invalid(map[string]string{"classes": "Name the test classes or suites to run, or choose all local tests."})
	}
	return s.store.CreateTestRun(r.Context(), o.ID, classes, suites, level, jobs.TestRunJob(s.deps.Jobs))
}

func (s *Server) runTests(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	_, err := s.startTestRun(r, o, splitNames(r.PostFormValue("classes")), splitNames(r.PostFormValue("suites")), r.PostFormValue("local") != "")
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/orgs/%d#test-runs", o.ID), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d#test-runs", o.ID), "ok", "Tests started.")
}

func (s *Server) apiTestRuns(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	runs, err := s.store.ListTestRuns(r.Context(), o.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": runs})
}

func (s *Server) apiRunTests(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	var b struct {
		Classes []string `json:"classes"`
		Suites  []string `json:"suites"`
		Local   bool     `json:"local_tests"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.startTestRun(r, o, b.Classes, b.Suites, b.Local)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, t)
}
