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
	for _, p := range []string{"/", "/projects/CRM/pipeline", "/projects/CRM/board", "/work-items/" + sd.item.Key, "/requirements/" + sd.req.Key,
		"/build", "/test", "/release", fmt.Sprintf("/promotions/%d", sd.promotion.ID), "/admin/audit", "/maintain", "/develop"} {
		tab.Do(chromedp.Navigate(b.srv.URL + p))
		w, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		require.LessOrEqual(t, w, 392, "%s is %d px wide on a 390 px screen", p, w)
	}
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
