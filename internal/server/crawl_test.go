package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
	"github.com/trellis-alm/trellis/internal/demo"
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

// TestCrawlEveryPage starts the demo (simulated orgs, the Subscriptions
// project, a release waiting in UAT, backups, a drift alert), signs in as
// each role and follows every link on every page reachable from the
// navigation, failing on a broken link or a server error; then opens the
// main pages in a real browser as each role, failing on a console error,
// and keeps a screenshot of each.
func TestCrawlEveryPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"uat"}})
	d, err := demo.Start(b.ctx, demo.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Store: b.store, Orgs: b.orgs, Repos: b.jobDeps.Repos, Jobs: b.jobs})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	select {
	case <-d.Ready():
	case <-time.After(3 * time.Minute):
		t.Fatal("the demo did not finish seeding")
	}
	res := b.api("POST", "/api/v1/feedback", b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))),
		strings.NewReader(`{"project":"`+demo.ProjectKey+`","kind":"problem","title":"Broken button"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)

	for _, u := range d.Users {
		user := must(b.store.UserByEmail(b.ctx, u.Email))
		t.Run(string(u.Role), func(t *testing.T) {
			br := b.signedIn(user)
			seen := map[string]string{"/": "start"}
			queue := []string{"/"}
			for len(queue) > 0 && len(seen) < 800 {
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
			t.Logf("%s: %d pages", u.Role, len(seen))
			require.Greater(t, len(seen), 40)
			require.Contains(t, seen, "/getting-started", "the tour is linked from the overview")
		})
	}

	// The main pages in a real browser, as each role: no console errors.
	main := []string{"/", "/getting-started", "/projects/" + demo.ProjectKey + "/board", "/requirements/" + demo.ProjectKey + "-REQ-1",
		"/work-items/" + demo.ProjectKey + "-1", "/develop", "/release", "/promotions/1", "/maintain", "/alerts", "/projects/" + demo.ProjectKey + "/metrics"}
	for _, u := range d.Users {
		tab := browsertest.Shared(t).NewTab(t)
		signInWith(tab, b.srv.URL, u.Email, u.Password)
		for _, path := range main {
			tab.Do(chromedp.Navigate(b.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(`main`)))
			if u.Role == alm.RoleReleaseManager {
				tab.Screenshot("demo" + strings.NewReplacer("/", "-", "?", "-").Replace(path))
			}
		}
		require.Empty(t, tab.Problems(), "%s saw console errors", u.Role)
	}
}
