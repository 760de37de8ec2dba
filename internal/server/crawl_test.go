package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// crawlSkip are links a crawl does not follow: signing out, the JSON API,
// files, River's own UI and downloads.
func crawlSkip(path string) bool {
	for _, p := range []string{"/logout", "/api/", "/static/", "/admin/jobs", "/auth/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	for _, s := range []string{".zip", ".md", ".csv", "/artifact", "/screenshot"} {
		if strings.HasSuffix(path, s) {
			return true
		}
	}
	return false
}

// TestCrawlEveryPage signs in as each role and follows every link on every
// page reachable from the navigation (a release through its pipeline,
// backups, an alert, feedback), and fails on a broken link or a server
// error: nothing a page offers should lead nowhere.
func TestCrawlEveryPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"uat", "prod"}})
	f := newReleaseFixture(t, b, twoStages)
	// Something in every area: a promotion, a backup, an alert, feedback.
	res := b.api("POST", "/api/v1/promotions", f.tok, strings.NewReader(fmt.Sprintf(`{"build_id":%d,"stage":"UAT"}`, f.build.ID)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	_, err := b.store.CreateAlert(b.ctx, store.NewAlert{Kind: alm.AlertDrift, Severity: alm.SevWarning, OrgID: f.orgs["prod"].ID, Title: "Changed in Setup",
		Drift: []alm.DriftEntry{{Type: "Layout", Name: "Case-Case Layout", Change: "changed", By: "Dana"}}})
	require.NoError(t, err)
	res = b.api("POST", "/api/v1/feedback", f.tok, strings.NewReader(`{"project":"CRM","kind":"problem","title":"Broken button"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)

	roles := map[string]alm.User{"admin": must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))}
	for _, r := range []alm.Role{alm.RoleReleaseManager, alm.RoleDeveloper, alm.RoleProductOwner, alm.RoleViewer} {
		roles[string(r)] = b.user(r, string(r)+"-crawler@example.com")
	}
	for name, u := range roles {
		t.Run(name, func(t *testing.T) {
			br := b.signedIn(u)
			seen := map[string]string{"/": "start"}
			queue := []string{"/"}
			for len(queue) > 0 && len(seen) < 600 {
				path := queue[0]
				queue = queue[1:]
				page := br.get(path)
				if page.status == http.StatusSeeOther || page.status == http.StatusFound {
					continue
				}
				require.Less(t, page.status, 400, "%s (linked from %s) answered %d", path, seen[path], page.status)
				if !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
					continue
				}
				page.doc(t).Find("a[href]").Each(func(_ int, a *goquery.Selection) {
					href, _ := a.Attr("href")
					u, err := url.Parse(href)
					if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, "/") || crawlSkip(u.Path) {
						return
					}
					next := u.Path
					if u.RawQuery != "" {
						next += "?" + u.RawQuery
					}
					if _, ok := seen[next]; !ok {
						seen[next] = path
						queue = append(queue, next)
					}
				})
			}
			t.Logf("%s: %d pages", name, len(seen))
			require.Greater(t, len(seen), 20)
			require.Contains(t, seen, "/getting-started", "the tour is linked from the overview")
		})
	}
}
