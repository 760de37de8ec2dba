package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// who may use each route. Every route the router has must be listed here;
// a new route without a line fails TestEveryRouteHasARule, and its line
// says who may call it, which TestRoutesByRole then checks for every role.
const (
	anyone = "public"
	signed = "signed-in"
	admins = "admin"
)

var routeRules = map[string]string{
	"GET /healthz":            anyone,
	"GET /readyz":             anyone,
	"GET /metrics":            anyone,
	"GET /static/*":           anyone,
	"GET /login":              anyone,
	"POST /login":             anyone,
	"POST /logout":            anyone,
	"GET /setup":              anyone,
	"POST /setup":             anyone,
	"GET /auth/oidc/start":    anyone,
	"GET /auth/oidc/callback": anyone,

	"GET /":                signed,
	"GET /getting-started": signed,
	"GET /test":            signed,
	"GET /build":           signed,
	"GET /release":         signed,
	"GET /maintain":        signed,

	"GET /account":                     signed,
	"GET /account/password":            signed,
	"POST /account/password":           signed,
	"POST /account/tokens":             signed,
	"POST /account/tokens/{id}/revoke": signed,
	"GET /api/v1/me":                   signed,
	"GET /api/v1/me/inbox":             signed,

	"GET /plan":                                            signed,
	"GET /projects/new":                                    "create_project",
	"POST /projects":                                       "create_project",
	"GET /projects/{project}":                              "project:view",
	"GET /projects/{project}/members":                      "project:view",
	"POST /projects/{project}/members":                     "project:manage_project",
	"POST /projects/{project}/members/{user}/remove":       "project:manage_project",
	"GET /projects/{project}/search":                       "project:view",
	"GET /projects/{project}/requirements":                 "project:view",
	"GET /projects/{project}/requirements/new":             "project:edit_requirements",
	"POST /projects/{project}/requirements":                "project:edit_requirements",
	"GET /requirements/{key}":                              "project:view",
	"GET /requirements/{key}/edit":                         "project:edit_requirements",
	"POST /requirements/{key}":                             "project:edit_requirements",
	"POST /requirements/{key}/status":                      "project:move_requirements",
	"POST /requirements/{key}/criteria/{criterion}":        "project:edit_requirements",
	"POST /requirements/{key}/comments":                    "project:comment",
	"POST /requirements/{key}/comments/{comment}/answered": "project:comment",
	"POST /requirements/{key}/comments/{comment}/accept":   "project:edit_requirements",
	"POST /requirements/{key}/comments/{comment}/decline":  "project:edit_requirements",
	"GET /requirements/{key}/versions":                     "project:view",
	"GET /projects/{project}/board":                        "project:view",
	"GET /projects/{project}/work-items":                   "project:view",
	"GET /projects/{project}/work-items/new":               "project:edit_work_items",
	"POST /projects/{project}/work-items":                  "project:edit_work_items",
	"GET /work-items/{key}":                                "project:view",
	"GET /work-items/{key}/edit":                           "project:edit_work_items",
	"POST /work-items/{key}":                               "project:edit_work_items",
	"POST /work-items/{key}/move":                          "project:edit_work_items",
	"POST /work-items/{key}/branch":                        "project:edit_work_items",
	"POST /work-items/{key}/release":                       "project:manage_releases",
	"GET /projects/{project}/releases":                     "project:view",
	"GET /projects/{project}/releases/new":                 "project:manage_releases",
	"POST /projects/{project}/releases":                    "project:manage_releases",
	"GET /projects/{project}/releases/{id}":                "project:view",
	"GET /projects/{project}/releases/{id}/edit":           "project:manage_releases",
	"POST /projects/{project}/releases/{id}":               "project:manage_releases",
	"POST /projects/{project}/releases/{id}/status":        "project:manage_releases",
	"POST /projects/{project}/releases/{id}/items":         "project:manage_releases",
	"GET /projects/{project}/releases/{id}/notes.md":       "project:view",
	"GET /projects/{project}/matrix":                       "project:view",
	"GET /projects/{project}/matrix.csv":                   "project:view",

	"GET /api/v1/projects":                                signed,
	"POST /api/v1/projects":                               "create_project",
	"GET /api/v1/projects/{project}":                      "project:view",
	"GET /api/v1/projects/{project}/requirements":         "project:view",
	"POST /api/v1/projects/{project}/requirements":        "project:edit_requirements",
	"GET /api/v1/projects/{project}/requirements/{key}":   "project:view",
	"PATCH /api/v1/projects/{project}/requirements/{key}": "project:move_requirements",
	"GET /api/v1/requirements/{key}/comments":             "project:view",
	"POST /api/v1/requirements/{key}/comments":            "project:comment",
	"PATCH /api/v1/requirements/{key}/comments/{comment}": "project:comment",
	"GET /api/v1/requirements/{key}/lineage":              "project:view",
	"GET /api/v1/projects/{project}/work-items":           "project:view",
	"POST /api/v1/projects/{project}/work-items":          "project:edit_work_items",
	"GET /api/v1/projects/{project}/work-items/{key}":     "project:view",
	"PATCH /api/v1/projects/{project}/work-items/{key}":   "project:edit_work_items",
	"GET /api/v1/projects/{project}/board":                "project:view",
	"GET /api/v1/projects/{project}/releases":             "project:view",
	"POST /api/v1/projects/{project}/releases":            "project:manage_releases",
	"GET /api/v1/projects/{project}/releases/{id}":        "project:view",
	"PATCH /api/v1/projects/{project}/releases/{id}":      "project:manage_releases",
	"GET /api/v1/search":                                  signed,
	"GET /api/v1/openapi.json":                            anyone,

	"GET /develop":                                                 signed,
	"GET /orgs/new":                                                "manage_orgs",
	"POST /orgs":                                                   "manage_orgs",
	"GET /orgs/oauth/callback":                                     "manage_orgs",
	"GET /orgs/{id}":                                               signed,
	"GET /orgs/{id}/health":                                        signed,
	"POST /orgs/{id}/reauthorize":                                  "manage_orgs",
	"POST /orgs/{id}/disconnect":                                   "manage_orgs",
	"POST /orgs/{id}/snapshots":                                    "snapshot",
	"GET /snapshots/{id}":                                          signed,
	"GET /snapshots/{id}/progress":                                 signed,
	"POST /snapshots/{id}/cancel":                                  "snapshot",
	"GET /compare":                                                 signed,
	"GET /compare/diff":                                            signed,
	"GET /api/v1/orgs/{id}/snapshots":                              signed,
	"POST /api/v1/orgs/{id}/snapshots":                             "snapshot",
	"GET /api/v1/snapshots/{id}":                                   signed,
	"GET /api/v1/comparisons":                                      signed,
	"GET /api/v1/comparisons/diff":                                 signed,
	"POST /compare/capture":                                        "edit_work_items",
	"GET /api/v1/work-items/{key}/components":                      "project:view",
	"POST /api/v1/work-items/{key}/components":                     "project:edit_work_items",
	"GET /projects/{project}/pipeline":                             "project:view",
	"GET /projects/{project}/pipeline/edit":                        "project:manage_pipeline",
	"POST /projects/{project}/pipeline":                            "project:manage_pipeline",
	"GET /api/v1/projects/{project}/pipeline":                      "project:view",
	"PUT /api/v1/projects/{project}/pipeline":                      "project:manage_pipeline",
	"POST /projects/{project}/git":                                 "project:manage_pipeline",
	"GET /api/v1/projects/{project}/git":                           "project:view",
	"PUT /api/v1/projects/{project}/git":                           "project:manage_pipeline",
	"POST /api/v1/work-items/{key}/branch":                         "project:edit_work_items",
	"GET /api/v1/work-items/{key}/branch":                          "project:view",
	"GET /repositories/new":                                        "manage_orgs",
	"POST /repositories":                                           "manage_orgs",
	"GET /repositories/{id}":                                       signed,
	"POST /repositories/{id}/snapshots":                            "snapshot",
	"GET /api/v1/repositories":                                     signed,
	"POST /api/v1/repositories":                                    "manage_orgs",
	"PUT /api/v1/repositories/{id}/host":                           "manage_orgs",
	"POST /work-items/{key}/validate":                              "project:edit_work_items",
	"POST /api/v1/work-items/{key}/validations":                    "project:edit_work_items",
	"POST /projects/{project}/pipeline/promote":                    "project:promote",
	"GET /requirements/{key}/lineage":                              "project:view",
	"GET /work-items/{key}/lineage":                                "project:view",
	"GET /projects/{project}/releases/{id}/lineage":                "project:view",
	"GET /orgs/{id}/components/{type}/{name}/lineage":              "view",
	"GET /api/v1/requirements/{key}/graph":                         "project:view",
	"GET /api/v1/work-items/{key}/graph":                           "project:view",
	"GET /api/v1/projects/{project}/releases/{id}/graph":           "project:view",
	"GET /api/v1/orgs/{id}/components/{type}/{name}/graph":         "view",
	"POST /work-items/{key}/promote":                               "project:promote",
	"GET /promotions/{id}/conflicts":                               "project:view",
	"POST /promotions/{id}/conflicts":                              "project:promote",
	"POST /promotions/{id}/push":                                   "project:promote",
	"POST /projects/{project}/stages/{stage}/deploy-branch":        "project:promote",
	"POST /api/v1/work-items/{key}/promotions":                     "project:promote",
	"GET /api/v1/promotions/{id}/conflicts":                        "project:view",
	"POST /api/v1/promotions/{id}/conflicts":                       "project:promote",
	"POST /api/v1/promotions/{id}/push":                            "project:promote",
	"GET /api/v1/projects/{project}/stages/git":                    "project:view",
	"POST /api/v1/projects/{project}/stages/{stage}/deploy-branch": "project:promote",
	"POST /work-items/{key}/commit-changes":                        "project:edit_work_items",
	"GET /work-items/{key}/commit-changes":                         "project:view",
	"POST /work-items/{key}/commits":                               "project:edit_work_items",
	"GET /api/v1/work-items/{key}/changes":                         "project:view",
	"POST /api/v1/work-items/{key}/commits":                        "project:edit_work_items",
	"POST /api/v1/repositories/{id}/snapshots":                     "snapshot",
	"GET /comparisons/{id}":                                        signed,
	"GET /api/v1/comparisons/recent":                               signed,
	"POST /api/v1/comparisons":                                     signed,
	"POST /compare/fresh":                                          "snapshot",
	"POST /projects/{project}/releases/{id}/builds":                "project:manage_releases",
	"GET /builds/{id}/artifact.zip":                                "project:view",
	"GET /api/v1/releases/{id}/builds":                             "project:view",
	"POST /api/v1/releases/{id}/builds":                            "project:manage_releases",
	"GET /api/v1/builds/{id}":                                      "project:view",
	"GET /api/v1/builds/{id}/artifact":                             "project:view",
	"GET /builds/{id}":                                             "project:view",
	"GET /builds/{id}/validations":                                 "project:view",
	"POST /builds/{id}/validations":                                "project:snapshot",
	"POST /builds/{id}/dependencies":                               "project:edit_work_items",
	"POST /api/v1/builds/{id}/dependencies":                        "project:edit_work_items",
	"GET /api/v1/builds/{id}/validations":                          "project:view",
	"POST /api/v1/builds/{id}/validations":                         "project:snapshot",
	"POST /builds/{id}/promotions":                                 "project:promote",
	"GET /projects/{project}/metrics":                              "project:view",
	"GET /api/v1/projects/{project}/metrics":                       "project:view",
	"GET /projects/{project}/feedback":                             "project:view",
	"POST /projects/{project}/feedback":                            "project:file_feedback",
	"GET /feedback/{id}":                                           "project:view",
	"GET /feedback/{id}/screenshot":                                "project:view",
	"POST /feedback/{id}/convert":                                  "project:triage_feedback",
	"POST /feedback/{id}/decline":                                  "project:triage_feedback",
	"GET /api/v1/feedback":                                         signed,
	"POST /api/v1/feedback":                                        "file_feedback",
	"GET /api/v1/feedback/{id}":                                    "project:view",
	"POST /api/v1/feedback/{id}/convert":                           "project:triage_feedback",
	"POST /api/v1/feedback/{id}/decline":                           "project:triage_feedback",
	"POST /orgs/{id}/backups/data":                                 "restore",
	"POST /orgs/{id}/backups/data/policy":                          "restore",
	"POST /orgs/{id}/backups/data/restore":                         "restore",
	"GET /data-restores/{id}":                                      signed,
	"GET /api/v1/orgs/{id}/backups/data":                           signed,
	"POST /api/v1/orgs/{id}/backups/data":                          "restore",
	"PUT /api/v1/orgs/{id}/backups/data/policy":                    "restore",
	"POST /api/v1/orgs/{id}/backups/data/restore":                  "restore",
	"GET /api/v1/data-restores/{id}":                               signed,
	"POST /orgs/{id}/regression":                                   "restore",
	"PUT /api/v1/orgs/{id}/regression":                             "restore",
	"POST /orgs/{id}/regression/run":                               "snapshot",
	"POST /api/v1/orgs/{id}/regression/run":                        "snapshot",
	"GET /api/v1/orgs/{id}/health":                                 signed,
	"GET /admin/webhooks":                                          "manage_webhooks",
	"POST /admin/webhooks":                                         "manage_webhooks",
	"POST /admin/webhooks/{id}/delete":                             "manage_webhooks",
	"GET /api/v1/webhooks":                                         "manage_webhooks",
	"POST /api/v1/webhooks":                                        "manage_webhooks",
	"DELETE /api/v1/webhooks/{id}":                                 "manage_webhooks",
	"GET /api/v1/webhooks/{id}/deliveries":                         "manage_webhooks",
	"PUT /api/v1/repositories/{id}/hook":                           "manage_webhooks",
	"POST /repositories/{id}/hook":                                 "manage_webhooks",
	"POST /api/v1/hooks/repositories/{id}":                         "public",
	"POST /api/v1/hooks/trackers/{id}":                             "public",
	"GET /projects/{project}/tracker":                              "project:view",
	"POST /projects/{project}/tracker":                             "project:manage_project",
	"POST /projects/{project}/tracker/mapping":                     "project:manage_project",
	"POST /projects/{project}/tracker/disconnect":                  "project:manage_project",
	"POST /projects/{project}/tracker/import":                      "project:edit_work_items",
	"POST /projects/{project}/tracker/links/{id}/sync":             "project:edit_work_items",
	"POST /work-items/{key}/tracker-link":                          "project:edit_work_items",
	"POST /requirements/{key}/tracker-link":                        "project:edit_requirements",
	"GET /api/v1/projects/{project}/tracker":                       "project:view",
	"PUT /api/v1/projects/{project}/tracker":                       "project:manage_project",
	"DELETE /api/v1/projects/{project}/tracker":                    "project:manage_project",
	"PUT /api/v1/projects/{project}/tracker/mapping":               "project:manage_project",
	"POST /api/v1/projects/{project}/tracker/import":               "project:edit_work_items",
	"GET /api/v1/projects/{project}/tracker/links":                 "project:view",
	"POST /api/v1/work-items/{key}/tracker-link":                   "project:edit_work_items",
	"POST /api/v1/requirements/{key}/tracker-link":                 "project:edit_requirements",
	"GET /orgs/{id}/backups":                                       signed,
	"POST /orgs/{id}/backups":                                      "restore",
	"POST /orgs/{id}/backups/policy":                               "restore",
	"GET /orgs/{id}/backups/{snapshot}/restore":                    "restore",
	"POST /orgs/{id}/backups/{snapshot}/restore":                   "restore",
	"GET /alerts":                                            signed,
	"GET /alerts/{id}":                                       signed,
	"POST /alerts/{id}/status":                               "manage_alerts",
	"POST /alerts/{id}/capture":                              "edit_work_items",
	"POST /alerts/routes":                                    "manage_alerts",
	"POST /alerts/routes/{id}/delete":                        "manage_alerts",
	"GET /api/v1/orgs/{id}/backups":                          signed,
	"POST /api/v1/orgs/{id}/backups":                         "restore",
	"PUT /api/v1/orgs/{id}/backups/policy":                   "restore",
	"POST /api/v1/orgs/{id}/backups/restore":                 "restore",
	"GET /api/v1/alerts":                                     signed,
	"GET /api/v1/alerts/{id}":                                signed,
	"PATCH /api/v1/alerts/{id}":                              "manage_alerts",
	"GET /api/v1/alert-routes":                               "manage_alerts",
	"POST /api/v1/alert-routes":                              "manage_alerts",
	"DELETE /api/v1/alert-routes/{id}":                       "manage_alerts",
	"PUT /api/v1/projects/{project}/announcements":           "project:manage_pipeline",
	"GET /api/v1/projects/{project}/announcements":           "project:view",
	"POST /projects/{project}/announcements":                 "project:manage_pipeline",
	"POST /work-items/{key}/builds":                          "project:promote",
	"GET /promotions/{id}":                                   "project:view",
	"GET /promotions/{id}/live":                              "project:view",
	"POST /promotions/{id}/approve":                          "project:view",
	"POST /promotions/{id}/reject":                           "project:view",
	"POST /promotions/{id}/deploy":                           "project:promote",
	"POST /promotions/{id}/cancel":                           "project:promote",
	"POST /promotions/{id}/abandon":                          "project:promote",
	"POST /promotions/{id}/build":                            "project:promote",
	"POST /promotions/{id}/comments":                         "project:comment",
	"POST /promotions/{id}/signoffs":                         "project:sign_off",
	"GET /deployments/{id}":                                  "project:view",
	"POST /deployments/{id}/cancel":                          "project:promote",
	"POST /deployments/{id}/rollback":                        "project:promote",
	"GET /orgs/{id}/components/{type}/{name}/history":        signed,
	"GET /api/v1/promotions":                                 signed,
	"POST /api/v1/promotions":                                "promote",
	"GET /api/v1/promotions/{id}":                            "project:view",
	"POST /api/v1/promotions/{id}/approve":                   "project:view",
	"POST /api/v1/promotions/{id}/reject":                    "project:view",
	"POST /api/v1/promotions/{id}/comments":                  "project:comment",
	"POST /api/v1/promotions/{id}/signoffs":                  "project:sign_off",
	"POST /api/v1/promotions/{id}/deploy":                    "project:promote",
	"POST /api/v1/promotions/{id}/retry":                     "project:promote",
	"POST /api/v1/promotions/{id}/cancel":                    "project:promote",
	"POST /api/v1/promotions/{id}/abandon":                   "project:promote",
	"POST /api/v1/work-items/{key}/builds":                   "project:promote",
	"GET /api/v1/deployments/{id}":                           "project:view",
	"POST /api/v1/deployments/{id}/rollback":                 "project:promote",
	"POST /api/v1/deployments/{id}/cancel":                   "project:promote",
	"GET /api/v1/orgs/{id}/components/{type}/{name}/history": signed,
	"POST /orgs/{id}/test-runs":                              "snapshot",
	"GET /api/v1/orgs/{id}/test-runs":                        signed,
	"POST /api/v1/orgs/{id}/test-runs":                       "snapshot",
	"GET /api/v1/orgs":                                       signed,
	"POST /api/v1/orgs":                                      "manage_orgs",
	"GET /api/v1/orgs/{id}":                                  signed,
	"POST /api/v1/orgs/{id}/disconnect":                      "manage_orgs",

	"GET /admin":                            admins,
	"GET /admin/users":                      admins,
	"GET /admin/users/new":                  admins,
	"POST /admin/users":                     admins,
	"GET /admin/users/{id}":                 admins,
	"POST /admin/users/{id}":                admins,
	"POST /admin/users/{id}/reset-password": admins,
	"POST /admin/users/{id}/unlock":         admins,
	"GET /admin/tokens":                     admins,
	"POST /admin/tokens/{id}/revoke":        admins,
	"GET /admin/audit":                      admins,
	"GET /admin/jobs":                       admins,
	"* /admin/jobs/*":                       admins,
}

func TestEveryRouteHasARule(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	declared := map[string]bool{}
	for _, r := range b.server.Routes() {
		declared[r.Method+" "+r.Pattern] = true
	}
	walked := map[string]bool{}
	err := chi.Walk(b.server.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		key := method + " " + route
		if strings.HasSuffix(route, "/*") && method != http.MethodGet {
			// chi lists a catch-all mount once per method.
			key = "* " + route
		}
		walked[key] = true
		return nil
	})
	require.NoError(t, err)
	for key := range walked {
		if strings.HasPrefix(key, "GET /admin/jobs/*") {
			key = "* /admin/jobs/*"
		}
		require.Truef(t, declared[key], "route %s was registered without s.handle and its access rule", key)
		_, ok := routeRules[key]
		require.Truef(t, ok, "route %s has no line in routeRules: say who may call it", key)
	}
	for key := range routeRules {
		require.Truef(t, walked[key] || (key == "* /admin/jobs/*" && walked["GET /admin/jobs/*"]), "routeRules lists %s, which the router does not have", key)
	}
}

// TestRoutesByRole calls every route as every role and as an anonymous
// caller, and checks that exactly the allowed ones get through.
func TestRoutesByRole(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	victim := b.user(alm.RoleViewer, "victim@example.com")
	plan := seedRecords(t, b)
	callers := map[string]alm.User{}
	for _, r := range alm.Roles {
		callers[string(r)] = b.user(r, "role-"+string(r)+"@example.com")
	}
	keys := make([]string, 0, len(routeRules))
	for k := range routeRules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		rule := routeRules[key]
		method, pattern, _ := strings.Cut(key, " ")
		if method == "*" {
			method = http.MethodGet
		}
		for _, who := range append([]string{"anonymous"}, roleNames()...) {
			t.Run(strings.ReplaceAll(key, "/", "_")+"/"+who, func(t *testing.T) {
				var br *browser
				var self alm.User
				if who == "anonymous" {
					br = b.browser()
				} else {
					self = callers[who]
					br = b.signedIn(self)
				}
				path := fillPath(b, pattern, victim, self, plan)
				var res response
				if strings.HasPrefix(pattern, "/api/") && method != http.MethodGet {
					tok := ""
					if who != "anonymous" {
						tok = b.token(self)
					}
					res = b.api(method, path, tok, strings.NewReader("{}"))
				} else if method == http.MethodPost {
					res = br.post(path, url.Values{})
				} else {
					res = br.get(path)
				}
				allowed := rule == anyone || (rule == signed && who != "anonymous") || (rule == admins && who == string(alm.RoleAdmin)) ||
					(who != "anonymous" && alm.Role(who).Can(alm.Permission(strings.TrimPrefix(rule, "project:"))))
				switch {
				case rule == anyone:
					// Public routes answer on their merits (a wrong password is
					// a 401 from /login), but never with an access refusal.
					require.NotEqual(t, http.StatusForbidden, res.status, "%s as %s: %s", key, who, snippet(res.body))
				case allowed:
					require.NotContains(t, []int{401, 403}, res.status, "%s as %s should be allowed: %s", key, who, snippet(res.body))
					require.NotEqual(t, "/login?next=", prefix(res.location(), 12), "%s as %s was sent to sign in", key, who)
				case who == "anonymous" && method == http.MethodGet && !strings.HasPrefix(pattern, "/api/"):
					require.Equal(t, http.StatusSeeOther, res.status, "%s anonymously", key)
					require.True(t, strings.HasPrefix(res.location(), "/login?next="), "anonymous %s should go to sign in, went to %q", key, res.location())
				case who == "anonymous":
					require.Equal(t, http.StatusUnauthorized, res.status, "%s anonymously: %s", key, snippet(res.body))
				default:
					require.Equal(t, http.StatusForbidden, res.status, "%s as %s: %s", key, who, snippet(res.body))
				}
			})
		}
	}
}

func roleNames() []string {
	var out []string
	for _, r := range alm.Roles {
		out = append(out, string(r))
	}
	return out
}

func prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

// fillPath turns a route pattern into a concrete path with real ids: a
// user to act on, and a token of the caller's own.
func fillPath(b *testBundle, pattern string, victim, self alm.User, plan planSeed) string {
	p := strings.ReplaceAll(pattern, "/static/*", "/static/app.css")
	p = strings.NewReplacer("{project}", plan.project.Key, "{criterion}", fmt.Sprint(plan.req.Criteria[0].ID),
		"{comment}", fmt.Sprint(plan.question.ID), "{user}", fmt.Sprint(victim.ID)).Replace(p)
	if strings.Contains(p, "requirements/{key}") {
		p = strings.Replace(p, "{key}", plan.req.Key, 1)
	}
	p = strings.Replace(p, "{key}", plan.item.Key, 1)
	if strings.Contains(p, "/releases/{id}") {
		p = strings.Replace(p, "{id}", fmt.Sprint(plan.release.ID), 1)
	}
	for prefix, id := range map[string]int64{"/builds/{id}": plan.build.ID, "/promotions/{id}": plan.promotion.ID,
		"/deployments/{id}": plan.deployment.ID, "/feedback/{id}": plan.feedback.ID} {
		p = strings.Replace(p, prefix, strings.Replace(prefix, "{id}", fmt.Sprint(id), 1), 1)
	}
	p = strings.ReplaceAll(p, "/admin/jobs/*", "/admin/jobs/")
	if strings.Contains(p, "tokens/{id}") {
		owner := self
		if owner.ID == 0 {
			owner = victim
		}
		_, tok, err := b.auth.CreateToken(b.ctx, owner, "for route test", 0)
		require.NoError(b.t, err)
		return strings.ReplaceAll(p, "{id}", fmt.Sprint(tok.ID))
	}
	return strings.ReplaceAll(p, "{id}", fmt.Sprint(victim.ID))
}

// snippet keeps failure messages readable: the page's error text if any.
func snippet(body string) string {
	if i := strings.Index(body, `data-testid="error-page"`); i >= 0 {
		body = body[i:]
	}
	if len(body) > 400 {
		body = body[:400] + "…"
	}
	return body
}

// planSeed is a project with one of each of its records, for route
// tests: the Plan records, and a build of the release promoted into a
// stage and deploying, and a piece of feedback.
type planSeed struct {
	project    alm.Project
	req        alm.Requirement
	question   alm.Comment
	item       alm.WorkItem
	release    alm.Release
	build      alm.Build
	promotion  alm.Promotion
	deployment alm.Deployment
	feedback   alm.Feedback
}

func seedPlan(t *testing.T, b *testBundle) planSeed {
	t.Helper()
	var sd planSeed
	var err error
	sd.project, err = b.store.CreateProject(b.ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	require.NoError(t, err)
	sd.req, err = b.store.CreateRequirement(b.ctx, sd.project.ID, alm.RequirementInput{Title: "Quote approval", Criteria: []string{"Big quotes need approval"}})
	require.NoError(t, err)
	sd.question, err = b.store.AddComment(b.ctx, sd.req.Key, alm.NewComment{Kind: alm.CommentQuestion, Body: "Which quotes?"}, false)
	require.NoError(t, err)
	sd.item, err = b.store.CreateWorkItem(b.ctx, sd.project.ID, alm.WorkItemInput{Title: "Approval flow", Requirements: []string{sd.req.Key}})
	require.NoError(t, err)
	sd.release, err = b.store.CreateRelease(b.ctx, sd.project.ID, alm.ReleaseInput{Name: "Spring"})
	require.NoError(t, err)
	return sd
}

// seedRecords is seedPlan with the records later stages add: a build of
// the release promoted into a stage and deploying, and feedback, so that
// routes naming them by id reach real ones.
func seedRecords(t *testing.T, b *testBundle) planSeed {
	t.Helper()
	sd := seedPlan(t, b)
	var err error
	sd.build, err = b.store.CreateBuild(b.ctx, store.NewBuild{ReleaseID: sd.release.ID, APIVersion: "64.0", Checksum: strings.Repeat("c0ffee", 11), Artifact: []byte("PK")})
	require.NoError(t, err)
	org, err := b.store.CreateOrg(b.ctx, alm.NewOrg{Name: "Route test UAT", Kind: alm.OrgFullSandbox, LoginURL: "https://test.salesforce.com"},
		store.OrgAuth{AuthKind: "jwt"}, func(int64) (string, error) { return "", nil })
	require.NoError(t, err)
	sd.promotion, err = b.store.CreatePromotion(b.ctx, store.NewPromotion{ProjectID: sd.project.ID, BuildID: sd.build.ID, StagePosition: 1, StageName: "UAT", OrgID: org.ID})
	require.NoError(t, err)
	sd.deployment, err = b.store.CreateDeployment(b.ctx, store.NewDeployment{PromotionID: sd.promotion.ID, OrgID: org.ID, BuildID: sd.build.ID,
		Kind: "deploy", TestLevel: "RunLocalTests", Checksum: strings.Repeat("c0ffee", 11), Action: alm.ActDeploy})
	require.NoError(t, err)
	sd.feedback, err = b.store.CreateFeedback(b.ctx, sd.project.ID, alm.NewFeedback{Kind: "problem", Title: "Quotes page is slow", Body: "It takes a minute."}, nil)
	require.NoError(t, err)
	return sd
}
