package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerPageRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/", needs(alm.PermView), s.overview)
	s.handle(r, http.MethodGet, "/getting-started", needs(alm.PermView), s.tourPage)
	s.handle(r, http.MethodGet, "/api/v1/me/inbox", needs(alm.PermView), s.apiInbox)
	s.handle(r, http.MethodGet, "/build", needs(alm.PermView), s.buildHub)
	s.handle(r, http.MethodGet, "/test", needs(alm.PermView), s.testHub)
	for _, st := range web.Lifecycle {
		if st.Key == "plan" || st.Key == "develop" || st.Key == "release" || st.Key == "maintain" || st.Key == "build" || st.Key == "test" {
			continue // these stages have their own pages
		}
		s.handle(r, http.MethodGet, st.Href, needs(alm.PermView), s.stagePage(st))
	}
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	users, err := s.store.CountUsers(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tokens, err := s.store.ListTokens(ctx, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(w, r, "Overview", "overview")
	p.Crumbs = []web.Crumb{{Label: "Overview"}}
	admin := callerFrom(ctx).User.Role == alm.RoleAdmin
	list := []web.ChecklistItem{
		{Done: true, Title: "Create the first admin", Text: "Done: Trellis is running on its own database."},
		{Done: users > 1, Title: "Invite your team", Text: "Give release managers, developers and product owners their own accounts and roles.", Href: linkIf(admin, "/admin/users/new"), Link: "Add a user"},
		{Done: s.deps.OIDC != nil, Title: "Connect single sign-on (optional)", Text: "Set TRELLIS_OIDC_ISSUER and friends to let people sign in with Keycloak, Okta or Entra ID; groups map to roles."},
		{Done: len(tokens) > 0, Title: "Create an API token for CI", Text: "Pipelines call the Trellis API with a personal token.", Href: "/account#tokens", Link: "Create a token"},
	}
	inbox, err := s.store.Inbox(ctx, callerFrom(ctx).User, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.Overview(web.OverviewView{Page: p, Checklist: list, Inbox: inbox}))
}

func linkIf(ok bool, href string) string {
	if ok {
		return href
	}
	return ""
}

// stageTexts say, for each lifecycle stage, what its page will hold.
var stageTexts = map[string]struct {
	heading, text string
	bullets       []string
}{
	"plan": {"Nothing planned yet", "Requirements, their discussions and acceptance criteria, the work items that deliver them and the releases that carry them will appear here.", []string{
		"Requirements move draft → proposed → accepted → in delivery → delivered", "Questions and change requests stay open until answered", "Work items on a board, linked to requirements", "Releases with generated release notes"}},
	"develop": {"No orgs or repositories connected", "Connected Salesforce orgs and git repositories, their metadata snapshots, comparisons between any two of them, and the components captured onto work items will appear here.", []string{
		"Connect production, sandboxes and scratch orgs", "Snapshot an org's metadata with live progress", "Compare orgs, branches and commits, component by component", "Capture changes onto a work item"}},
	"test": {"No validations or test runs yet", "Check-only deploys, Apex test runs and static checks of captured metadata, kept per work item and per build, will appear here.", []string{
		"Validate a work item's changes against a stage's org", "Run Apex tests with history and coverage", "Static checks the stage policy can block on"}},
	"build": {"No release builds yet", "Immutable release builds — the union of a release's work items, with conflicts and missing dependencies found before anything deploys — will appear here.", []string{
		"A deterministic package with a checksum, promoted unchanged", "Deletions planned before or after the deploy", "Dependency check against the target org"}},
	"release": {"No promotions yet", "Promotions of builds through your pipeline's stages — approvals, deployments, UAT sign-off and rollbacks — will appear here.", []string{
		"Approval gates from each stage's policy, no self-approval", "Deploy or quick deploy with live progress", "One-click rollback from the pre-deploy snapshot"}},
	"maintain": {"Nothing to maintain yet", "Scheduled metadata and data backups, drift alerts for changes made outside Trellis, regression runs, end-user feedback and delivery metrics will appear here.", []string{
		"Daily backups with point-in-time restore", "Alerts when someone changes production directly", "DORA metrics: frequency, lead time, failure rate, time to restore"}},
}

func (s *Server) stagePage(st web.NavItem) http.HandlerFunc {
	t := stageTexts[st.Key]
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.page(w, r, st.Label, st.Key)
		s.render(w, r, http.StatusOK, web.Stage(web.StageView{Page: p, Stage: st, Heading: t.heading, Text: t.text, Bullets: t.bullets}))
	}
}

// apiInbox is the overview's "Waiting for you" as JSON.
func (s *Server) apiInbox(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	items, err := s.store.Inbox(ctx, callerFrom(ctx).User, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if items == nil {
		items = []alm.InboxItem{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
