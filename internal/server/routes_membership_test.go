package server_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
)

// TestProjectRoutesByMembership calls every route that touches a
// project's records — named by project key, by record key or by record
// id — as people whose role in the project differs from their global one,
// and checks that the project role decides: a release manager who is only
// a viewer in the project is refused what a viewer is refused, a viewer
// who is the project's release manager is let through.
func TestProjectRoutesByMembership(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	victim := b.user(alm.RoleViewer, "victim@example.com")
	plan := seedRecords(t, b)
	type member struct {
		name          string
		global, inPrj alm.Role
	}
	members := []member{
		{"release_manager-as-viewer", alm.RoleReleaseManager, alm.RoleViewer},
		{"developer-as-viewer", alm.RoleDeveloper, alm.RoleViewer},
		{"viewer-as-release_manager", alm.RoleViewer, alm.RoleReleaseManager},
		{"viewer-as-product_owner", alm.RoleViewer, alm.RoleProductOwner},
		{"product_owner-as-developer", alm.RoleProductOwner, alm.RoleDeveloper},
	}
	users := map[string]alm.User{}
	for _, m := range members {
		u := b.user(m.global, m.name+"@example.com")
		require.NoError(t, b.store.SetMember(b.ctx, plan.project.ID, u.ID, m.inPrj))
		users[m.name] = u
	}
	var keys []string
	for k, rule := range routeRules {
		if strings.HasPrefix(rule, "project:") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	require.Greater(t, len(keys), 60, "every project route is in the table")
	checked := 0
	for _, key := range keys {
		perm := alm.Permission(strings.TrimPrefix(routeRules[key], "project:"))
		method, pattern, _ := strings.Cut(key, " ")
		for _, m := range members {
			t.Run(strings.ReplaceAll(key, "/", "_")+"/"+m.name, func(t *testing.T) {
				self := users[m.name]
				path := fillPath(b, pattern, victim, self, plan)
				var res response
				switch {
				case strings.HasPrefix(pattern, "/api/") && method != http.MethodGet:
					res = b.api(method, path, b.token(self), strings.NewReader("{}"))
				case method == http.MethodPost:
					res = b.signedIn(self).post(path, url.Values{})
				default:
					res = b.signedIn(self).get(path)
				}
				if m.inPrj.Can(perm) {
					require.NotContains(t, []int{401, 403}, res.status, "%s as %s should be allowed by the project role: %s", key, m.name, snippet(res.body))
				} else {
					require.Equal(t, http.StatusForbidden, res.status, "%s as %s should be refused by the project role: %s", key, m.name, snippet(res.body))
				}
			})
			checked++
		}
	}
	t.Logf("route × membership matrix: %d project routes × %d memberships = %d calls", len(keys), len(members), checked)
}
