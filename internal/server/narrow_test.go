package server_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/browsertest"
)

// TestNarrowScreens opens the main pages on a 390 px wide phone screen:
// none is wider than the screen (tables scroll inside their cards), and
// the navigation folds behind a Menu toggle that opens it.
func TestNarrowScreens(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sd := seedRecords(t, b)
	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "first-admin@example.com")
	tab.Do(chromedp.EmulateViewport(390, 844))
	var wide []string
	rel := fmt.Sprintf("/projects/CRM/releases/%d", sd.release.ID)
	org := fmt.Sprintf("/orgs/%d", sd.promotion.OrgID)
	for _, p := range []string{"/", "/projects/CRM/pipeline", "/projects/CRM/board", "/work-items/" + sd.item.Key, "/requirements/" + sd.req.Key,
		"/build", "/test", "/release", fmt.Sprintf("/promotions/%d", sd.promotion.ID), "/admin/audit", "/maintain", "/develop",
		// and every other page a team opens in a day
		"/plan", "/getting-started", "/account", "/alerts", "/admin", "/admin/users", "/admin/tokens", "/admin/webhooks", "/compare",
		"/projects/CRM", "/projects/CRM/requirements", "/projects/CRM/work-items", "/projects/CRM/releases", rel, rel + "/lineage",
		"/projects/CRM/matrix", "/projects/CRM/members", "/projects/CRM/metrics", "/projects/CRM/feedback", "/projects/CRM/pipeline/edit", "/projects/CRM/tracker",
		"/projects/CRM/requirements/new", "/projects/CRM/work-items/new", "/requirements/" + sd.req.Key + "/lineage",
		"/requirements/" + sd.req.Key + "/versions", "/work-items/" + sd.item.Key + "/lineage", "/work-items/" + sd.item.Key + "/edit",
		fmt.Sprintf("/builds/%d", sd.build.ID), fmt.Sprintf("/deployments/%d", sd.deployment.ID), fmt.Sprintf("/feedback/%d", sd.feedback.ID),
		org, org + "/backups", org + "/health", "/orgs/new", "/projects/new"} {
		tab.Do(chromedp.Navigate(b.srv.URL + p))
		w, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		if w > 392 {
			who, _ := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 392 && !e.closest('.table-wrap')).slice(0,6).map(e => e.tagName+'.'+e.className+'#'+(e.textContent||'').slice(0,30)).join(' | ')`))
			wide = append(wide, fmt.Sprintf("%s is %d px wide (%s)", p, w, who))
		}
	}
	require.Empty(t, wide, "pages wider than a 390 px screen")
	tab.Screenshot("phone-overview")
	visible := func(css string) bool {
		v, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).display !== "none"`, css)))
		require.NoError(t, err)
		return v
	}
	tab.Do(chromedp.Navigate(b.srv.URL + "/"))
	require.False(t, visible(`[data-testid="nav"]`), "the navigation is folded")
	require.True(t, visible(`.nav-toggle-label`))
	tab.Do(chromedp.Click(chromedp.CSS(`.nav-toggle-label`)))
	require.True(t, visible(`[data-testid="nav"]`), "Menu opens it")
	tab.Screenshot("phone-menu")
	require.Empty(t, tab.Problems())
}
