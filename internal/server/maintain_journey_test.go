package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
	"github.com/trellis-alm/trellis/internal/orgsim"
)

// TestMaintainJourney walks a release manager through Maintain in a real
// browser: the overview, a backup taken with live progress, a change made
// in Setup turning up as an alert naming who made it, a restore previewed
// and run from the alert's "undo", with no console errors on the way.
func TestMaintainJourney(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"prod"}})
	admin := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
	tok := b.token(admin)
	org := connectSimOrg(t, b, tok, b.sim.Org("prod"), "PROD", alm.OrgProduction)
	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "first-admin@example.com")

	backup := func() {
		t.Helper()
		tab.Do(chromedp.Navigate(fmt.Sprintf("%s/orgs/%d/backups", b.srv.URL, org.ID)),
			chromedp.Click(chromedp.CSS(`.page-head form button`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="snap-progress"]`)))
		tab.DoWithin(90*time.Second, chromedp.WaitVisible(chromedp.CSS(`[data-testid="snap-progress"][data-status="done"]`)))
	}
	tab.Do(chromedp.Navigate(b.srv.URL+"/maintain"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="backup-orgs"]`)))
	tab.Screenshot("maintain")
	tab.Do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="backups-%d"]`, org.ID))), chromedp.WaitVisible(chromedp.CSS(`[data-testid="backup-policy"]`)))
	backup()
	tab.Screenshot("backup-done")

	require.NoError(t, b.sim.Org("prod").ChangeInSetup(orgsim.SetupChange{Type: "Layout", FullName: "Case-Case Layout", User: "Dana Admin"}))
	backup()
	tab.Do(chromedp.Navigate(b.srv.URL + "/alerts"))
	tab.WaitText("1 change made directly in PROD")
	tab.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="open-alerts-count"]`)))
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="alerts"] tbody a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="drift"]`)))
	require.Contains(t, tab.Text(`[data-testid="drift"]`), "Dana Admin")
	tab.Screenshot("alert")

	// Undo it: the restore page arrives with the component filled in.
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="capture-drift"] a.btn`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="restore-form"]`)))
	require.Contains(t, tab.Value(`#f-components`), "Layout/Case-Case Layout")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="preview"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="restore-preview"]`)))
	require.Contains(t, tab.Text(`[data-testid="restore-preview"]`), "Case-Case Layout")
	tab.Screenshot("restore-preview")
	_, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`))
	require.NoError(t, err)
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="start-restore"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="deployment-components"]`)))
	tab.DoWithin(90*time.Second, chromedp.WaitVisible(chromedp.CSS(`#deployment-live .badge-ok`)))
	require.True(t, strings.Contains(tab.Text("h1"), "restore"), tab.Text("h1"))
	tab.Screenshot("restored")
	require.Empty(t, tab.Problems())
}
