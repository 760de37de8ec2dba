package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
)

// TestDayByRole walks the daily pages in a real browser as each role: the
// product owner from the inbox's question to the requirement and its
// lineage; the release manager from the inbox's approval to the promotion
// and the pipeline board; the developer through the Build and Test hubs.
func TestDayByRole(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sd := seedRecords(t, b)
	po := b.user(alm.RoleProductOwner, "po@example.com")
	rm := b.user(alm.RoleReleaseManager, "rm@example.com")
	dev := b.user(alm.RoleDeveloper, "dev@example.com")
	require.NoError(t, b.store.SavePipeline(b.ctx, sd.project.ID, []alm.Stage{{Name: "UAT", OrgID: &sd.promotion.OrgID, ApprovalsRequired: 1,
		ApproverRoles: []alm.Role{alm.RoleReleaseManager}, TestLevel: "NoTestRun"}}))
	_, err := b.store.Pool().Exec(b.ctx, `UPDATE promotions SET stage_position = 0, status = 'open' WHERE id = $1`, sd.promotion.ID)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE requirements SET owner_id = $2 WHERE id = $1`, sd.req.ID, po.ID)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(b.ctx, `INSERT INTO build_components (build_id, type, name, change, work_item) VALUES ($1, 'ApexClass', 'Greeter', 'new', $2)`, sd.build.ID, sd.item.Key)
	require.NoError(t, err)
	_, err = b.store.SetWorkItemRelease(alm.WithActor(context.Background(), alm.Actor{UserID: &rm.ID, Label: rm.Email}), sd.item.Key, &sd.release.ID)
	require.NoError(t, err)

	// The product owner.
	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, po.Email)
	tab.WaitText("Waiting for you")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-kind="question"] a`)))
	tab.WaitText(sd.req.Title)
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="lineage-link"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lineage-graph"]`)))
	graph, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="lineage-graph"]').textContent`))
	require.NoError(t, err)
	require.Contains(t, graph, sd.item.Key)
	require.Contains(t, graph, "Greeter")
	tab.Screenshot("po-lineage")
	require.Empty(t, tab.Problems())

	// The release manager.
	tab = browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, rm.Email)
	tab.WaitText("Approve Spring #1 into UAT")
	tab.Screenshot("rm-inbox")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-kind="approval"] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="approve"]`)))
	require.Contains(t, tab.Location(), fmt.Sprintf("/promotions/%d", sd.promotion.ID))
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="approve"]`)))
	tab.WaitText("approved")
	tab.Do(chromedp.Navigate(b.srv.URL+"/projects/CRM/pipeline"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="waiting-UAT"]`)))
	require.Contains(t, tab.Text(`[data-testid="waiting-UAT"]`), "Spring build #1")
	tab.Screenshot("rm-board")
	require.Empty(t, tab.Problems())

	// The developer.
	tab = browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, dev.Email)
	tab.Do(chromedp.Navigate(b.srv.URL+"/build"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hub-builds"]`)))
	require.Contains(t, tab.Text(`[data-testid="hub-builds"]`), "Spring")
	tab.Do(chromedp.Navigate(b.srv.URL+"/test"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="hub-filters"]`)))
	tab.Screenshot("dev-test-hub")
	require.Empty(t, tab.Problems())
}
