package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
)

const threeStages = `{"stages":[
	{"name":"Integration","org_id":$INT,"approvals_required":0,"approver_roles":[],"no_self_approval":true,"validation_required":true,"test_level":"NoTestRun"},
	{"name":"UAT","org_id":$UAT,"approvals_required":2,"approver_roles":["release_manager"],"no_self_approval":true,"test_level":"NoTestRun"},
	{"name":"Production","org_id":$PROD,"approvals_required":1,"approver_roles":["release_manager"],"no_self_approval":true,"validation_required":true,"test_level":"RunLocalTests","coverage_threshold":75}]}`

// finished matches a deployment line once it has an outcome.
const finished = `[data-testid="deployments"] li:is([data-status="succeeded"], [data-status="failed"], [data-status="canceled"])`

// TestReleaseJourney walks one release through three simulated orgs in a
// real browser: build → validate in Integration → deploy there → two
// release managers approve UAT (the author's own approval refused) →
// deploy → UAT sign-off → validate in Production → quick deploy → roll
// back.
func TestReleaseJourney(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"int", "uat", "prod"}})
	f := newReleaseFixture(t, b, threeStages)
	author := b.user(alm.RoleReleaseManager, "author@example.com")
	_, err := b.store.Pool().Exec(b.ctx, `UPDATE work_items SET assignee_id = $2 WHERE key = $1`, f.sd.item.Key, author.ID)
	require.NoError(t, err)
	b.user(alm.RoleReleaseManager, "rm2@example.com")
	b.user(alm.RoleReleaseManager, "rm3@example.com")
	b.user(alm.RoleProductOwner, "po@example.com")
	build := fmt.Sprintf("%s/builds/%d", b.srv.URL, f.build.ID)
	browser := browsertest.Shared(t)

	// The author validates the build in Integration and promotes it there.
	tab := browser.NewTab(t)
	signIn(tab, b.srv.URL, "author@example.com")
	tab.Do(chromedp.Navigate(build), chromedp.WaitVisible(chromedp.CSS(`[data-testid="validate-form"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="validate-form"] select[name="org"]`), fmt.Sprint(f.orgs["int"].ID)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="validate-form"] select[name="test_level"]`), "NoTestRun"),
		chromedp.Click(chromedp.CSS(`[data-testid="validate"]`)))
	// Wait for this validation by its org: the page the click leaves may
	// still be showing, and must not satisfy the wait.
	tab.DoWithin(90*time.Second, chromedp.WaitVisible(chromedp.CSS(`[data-testid="validations"] li[data-org="INT"][data-status="succeeded"]`)))
	tab.Screenshot("release-validated")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="promote"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="promotion-rail"]`)))
	require.Contains(t, tab.Text("h1"), "Integration")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="deploy"]`)))
	tab.DoWithin(90*time.Second, chromedp.WaitVisible(chromedp.CSS(finished)))
	require.Contains(t, tab.Text(`[data-testid="deployments"]`), "succeeded", tab.Text(`[data-testid="deployments"]`))
	tab.Screenshot("release-integration-deployed")

	// UAT: the author's approval is refused.
	tab.Do(chromedp.Navigate(build), chromedp.Click(chromedp.CSS(`[data-testid="promote"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="promotion-rail"]`)))
	require.Contains(t, tab.Text("h1"), "UAT")
	uat := tab.Location()
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="approve"]`)))
	tab.WaitText("self-approval")
	tab.Screenshot("release-self-approval-refused")

	// Two other release managers approve; the second deploys.
	for _, who := range []string{"rm2@example.com", "rm3@example.com"} {
		rm := browser.NewTab(t)
		signIn(rm, b.srv.URL, who)
		rm.Do(chromedp.Navigate(uat), chromedp.WaitVisible(chromedp.CSS(`[data-testid="approve"]`)),
			chromedp.SendKeys(chromedp.CSS(`#approve-note`), "checked by "+who), chromedp.Click(chromedp.CSS(`[data-testid="approve"]`)))
		rm.WaitText("Approved.")
		if who == "rm3@example.com" {
			require.Contains(t, rm.Text(`[data-testid="gates"]`), "2 of 2 approvals")
			rm.Do(chromedp.Click(chromedp.CSS(`[data-testid="deploy"]`)))
			rm.DoWithin(90*time.Second, chromedp.WaitVisible(chromedp.CSS(finished)))
			require.Contains(t, rm.Text(`[data-testid="deployments"]`), "succeeded", rm.Text(`[data-testid="deployments"]`))
			rm.Screenshot("release-uat-deployed")
		}
	}

	// UAT sign-off by the product owner.
	po := browser.NewTab(t)
	signIn(po, b.srv.URL, "po@example.com")
	po.Do(chromedp.Navigate(uat), chromedp.Click(chromedp.CSS(`[data-testid="signoff-`+f.sd.item.Key+`"]`)))
	po.WaitText("signed off")
	po.Screenshot("release-uat-signed-off")

	// Production: validate with local tests, promote, approve, quick deploy.
	rm := browser.NewTab(t)
	signIn(rm, b.srv.URL, "rm2@example.com")
	rm.Do(chromedp.Navigate(build), chromedp.WaitVisible(chromedp.CSS(`[data-testid="validate-form"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="validate-form"] select[name="org"]`), fmt.Sprint(f.orgs["prod"].ID)),
		chromedp.Click(chromedp.CSS(`[data-testid="validate"]`)))
	// By org: the build page still shows Integration's passed validation
	// until the click's page arrives.
	rm.DoWithin(90*time.Second, chromedp.WaitVisible(chromedp.CSS(`[data-testid="validations"] li[data-org="PROD"][data-status="succeeded"]`)))
	rm.Do(chromedp.Click(chromedp.CSS(`[data-testid="promote"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="promotion-rail"]`)))
	require.Contains(t, rm.Text("h1"), "Production")
	rm.Do(chromedp.Click(chromedp.CSS(`[data-testid="approve"]`)))
	rm.WaitText("Approved.")
	rm.Do(chromedp.Click(chromedp.CSS(`[data-testid="deploy"]`)))
	rm.DoWithin(90*time.Second, chromedp.WaitVisible(chromedp.CSS(finished)))
	require.Contains(t, rm.Text(`[data-testid="deployments"]`), "succeeded", rm.Text(`[data-testid="deployments"]`))
	require.Contains(t, rm.Text(`[data-testid="deployments"]`), "quick deploy")
	rm.Screenshot("release-production-quick-deploy")

	// Roll production back from the promotion page.
	_, err = chromedp.Run(rm.Ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`))
	require.NoError(t, err)
	// The live panel shows Roll back once the promotion itself is deployed
	// (a refresh after the deployment's own row turns green).
	rm.DoWithin(60*time.Second, chromedp.WaitVisible(chromedp.CSS(`[data-testid="promotion-live"] .btn-danger`)))
	rm.Do(chromedp.Click(chromedp.CSS(`[data-testid="promotion-live"] .btn-danger`)))
	rm.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="deployment-components"]`)))
	rm.WaitText("rollback into PROD")
	rm.DoWithin(90*time.Second, chromedp.WaitVisible(chromedp.CSS(`#deployment-live .badge-ok`)))
	rm.Screenshot("release-rolled-back")
	require.False(t, classesIn(t, b, f.orgs["prod"])["Greeter"])
	rm.Do(chromedp.Navigate(b.srv.URL + "/release"))
	rm.WaitText("Rolled back")
	rm.Screenshot("release-home")
	for _, tb := range []*browsertest.Tab{tab, po, rm} {
		require.Empty(t, tb.Problems())
	}
}
