package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/store"
)

// TestGitFlowJourney is the git-first day in a real browser: a developer
// starts a work item's branch, picks the change they made in their
// sandbox and commits it; the item is promoted into Integration and UAT
// (each a merge, deployed, then pushed); a second item that changes the
// same label differently is settled in the conflict view; the first item
// reaches production and the lower branches are brought up to date.
func TestGitFlowJourney(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	p, err := b.store.ProjectByKey(b.ctx, "CRM")
	require.NoError(t, err)
	a, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Account tiers"})
	require.NoError(t, err)
	// The second item branches off now, before the first is merged, and
	// changes the greeting its own way.
	second := g.item("Short greeting", map[string]string{labelsPath: labels("B_Label", "From B", "Greeting", "Hi")})

	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "first-admin@example.com")
	tab.Do(chromedp.Navigate(b.srv.URL + "/work-items/" + a.Key))
	clickAway(t, tab, `[data-testid="start-branch"] button`)
	tab.WaitText("made from integration")
	branch := tab.Text(`[data-testid="branch-name"]`)
	require.Contains(t, branch, "feature/"+a.Key+"-account-tiers")

	// The developer's change, made in Setup in their sandbox; and one
	// pushed to the branch from their own clone.
	require.NoError(t, b.sim.Org("dev").ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.Tier__c", User: "Dana Dev",
		XML: "<fields><fullName>Tier__c</fullName><label>Tier</label><length>10</length><type>Text</type></fields>"}))
	g.git("fetch", "-q", "origin")
	g.git("checkout", "-q", "-B", branch, "origin/"+branch)
	g.write(labelsPath, labels("Greeting", "Hello world"))
	g.git("commit", "-qam", a.Key+": warmer greeting")
	g.git("push", "-q", "origin", branch)

	tab.Do(chromedp.Navigate(b.srv.URL+"/work-items/"+a.Key),
		chromedp.SetValue(chromedp.CSS(`[data-testid="commit-changes"] select`), fmt.Sprint(g.orgs["dev"].ID)))
	clickAway(t, tab, `[data-testid="pick-changes"]`)
	tab.WaitText("Dana Dev") // the snapshot finishes and the page lists what differs
	tab.Screenshot("01-pick-changes")
	checked := func() bool {
		v, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](`document.querySelector('input[name="pick"][value="CustomField/Account.Tier__c"]').checked`))
		require.NoError(t, err)
		return v
	}
	tab.Do(chromedp.Click(chromedp.CSS(`[data-check="type:CustomField"]`)))
	require.True(t, checked(), "all of a type at once")
	tab.Do(chromedp.Click(chromedp.CSS(`[data-check="none"]`)))
	require.False(t, checked(), "and none")
	tab.Do(chromedp.Click(chromedp.CSS(`input[name="pick"][value="CustomField/Account.Tier__c"]`)))
	clickAway(t, tab, `[data-testid="commit-picked"]`)
	tab.WaitText("Committed")
	require.Contains(t, g.remote(branch, "force-app/main/default/objects/Account/fields/Tier__c.field-meta.xml"), "<label>Tier</label>")
	tab.WaitText(a.Key + ": warmer greeting") // the outside commit shows beside Trellis's
	tab.Screenshot("02-branch-committed")

	promoteAndDeploy := func(key, shot string) int64 {
		t.Helper()
		tab.Do(chromedp.Navigate(b.srv.URL + "/work-items/" + key))
		clickAway(t, tab, `[data-testid="promote-merge"]`)
		tab.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="promotion-git"]`)))
		id := promotionIDFrom(t, tab.Location())
		tab.Screenshot(shot + "-merged")
		clickAway(t, tab, `[data-testid="deploy"]`)
		waitPushed(t, tab)
		tab.Screenshot(shot + "-pushed")
		return id
	}
	promoteAndDeploy(a.Key, "03-integration")
	require.Contains(t, g.remote("integration", labelsPath), "Hello world")
	promoteAndDeploy(a.Key, "04-uat")
	require.Contains(t, g.remote("uat", labelsPath), "Hello world")

	// The second item conflicts on the greeting: settled in the browser.
	tab.Do(chromedp.Navigate(b.srv.URL + "/work-items/" + second.Key))
	clickAway(t, tab, `[data-testid="promote-merge"]`)
	tab.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="conflicts-form"]`)))
	require.Contains(t, tab.Text(`[data-testid="conflict-hunk"]`), "Greeting")
	require.Contains(t, tab.Text(`[data-testid="conflict-hunk"]`), "Hello world")
	require.Contains(t, tab.Text(`[data-testid="conflict-hunk"]`), "Hi")
	tab.Screenshot("05-conflict-view")
	clickAway(t, tab, `[data-testid="resolve"]`)
	tab.WaitText("Choose ours, theirs or both for every conflict") // nothing chosen: the form says so and keeps the page
	tab.Do(chromedp.Click(chromedp.CSS(`[data-testid="choose-theirs"]`)))
	clickAway(t, tab, `[data-testid="resolve"]`)
	tab.WaitText("Conflicts settled")
	clickAway(t, tab, `[data-testid="deploy"]`)
	waitPushed(t, tab)
	merged := g.remote("integration", labelsPath)
	require.Contains(t, merged, "<value>Hi</value>")
	require.Contains(t, merged, "B_Label")
	tab.Screenshot("06-conflict-settled-pushed")

	// Production, then back-propagation.
	id := promoteAndDeploy(a.Key, "07-production")
	tab.WaitText("Back-propagation")
	require.Contains(t, tab.Text(`[data-testid="git-note"]`), "brought up to date")
	pr := must(b.store.PromotionByID(b.ctx, id))
	require.Equal(t, "Production", pr.StageName)
	tab.Do(chromedp.Navigate(b.srv.URL + "/projects/CRM/pipeline"))
	tab.WaitText("org in step with branch")
	tab.Screenshot("08-pipeline")
	tab.Do(chromedp.Navigate(fmt.Sprintf("%s/promotions/%d/conflicts", b.srv.URL, promotionWithConflicts(t, b))))
	tab.WaitText("settled: theirs")
	tab.Screenshot("09-resolution-recorded")
	require.Empty(t, tab.Problems(), "no JavaScript errors")
}

// clickAway clicks a button that submits a form: the page it leaves may
// go before the click's own round trip ends, which is no failure.
func clickAway(t *testing.T, tab *browsertest.Tab, css string) {
	t.Helper()
	tab.Do(chromedp.WaitVisible(chromedp.CSS(css)))
	_, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](fmt.Sprintf("(document.querySelector(%q).click(), true)", css)))
	if err != nil && !strings.Contains(err.Error(), "Not attached") && !strings.Contains(err.Error(), "context") {
		t.Fatalf("click %s: %v", css, err)
	}
}

func promotionIDFrom(t *testing.T, loc string) int64 {
	t.Helper()
	var id int64
	_, err := fmt.Sscanf(loc[strings.Index(loc, "/promotions/"):], "/promotions/%d", &id)
	require.NoError(t, err, loc)
	return id
}

// waitPushed waits on a promotion page until its merge is pushed.
func waitPushed(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		txt := tab.Text(`[data-testid="promotion-git"]`)
		if strings.Contains(txt, "Pushed") {
			return
		}
		require.NotContains(t, txt, "Push failed")
		time.Sleep(300 * time.Millisecond)
		tab.Do(chromedp.Reload())
	}
	t.Fatalf("the merge was never pushed: %s", tab.Text("body"))
}

func promotionWithConflicts(t *testing.T, b *testBundle) int64 {
	var id int64
	require.NoError(t, b.store.Pool().QueryRow(b.ctx, `SELECT promotion_id FROM merge_conflicts LIMIT 1`).Scan(&id))
	return id
}

var _ = http.StatusOK

// TestPipelineBoardDragToPromote: on the board a release manager drags a
// ready work item onto the stage it may enter; a drop on a later stage is
// refused and promotes nothing.
func TestPipelineBoardDragToPromote(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	a := g.item("Greet warmly", map[string]string{labelsPath: labels("A_Label", "From A", "Greeting", "Hello")})
	c := g.item("Say bye", map[string]string{labelsPath: labels("C_Label", "From C", "Greeting", "Hello")})
	_, err := b.store.Pool().Exec(b.ctx, `UPDATE work_items SET status = 'ready_to_promote' WHERE key IN ($1, $2)`, a.Key, c.Key)
	require.NoError(t, err)

	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "first-admin@example.com")
	tab.Do(chromedp.Navigate(b.srv.URL+"/projects/CRM/pipeline"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="promote-from-ready"]`)))
	drag := func(key, stage string) {
		_, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(function () {
			var item = document.querySelector('[data-promote-key=%q]');
			var col = document.querySelector('[data-stage=%q]');
			var dt = new DataTransfer();
			item.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
			var at = {bubbles: true, cancelable: true, dataTransfer: dt};
			col.dispatchEvent(new DragEvent('dragover', at));
			col.dispatchEvent(new DragEvent('drop', at));
			item.dispatchEvent(new DragEvent('dragend', {bubbles: true}));
			return true;
		})()`, key, stage)))
		require.NoError(t, err)
	}
	drag(a.Key, "UAT") // skips Integration: refused
	require.Empty(t, must(b.store.ListPromotions(b.ctx, store.PromotionFilter{WorkItemID: a.ID})))
	drag(a.Key, "Integration")
	tab.WaitText("Promoted into Integration: " + a.Key)
	require.Contains(t, tab.Text(`[data-testid="waiting-Integration"]`), a.Key)
	require.NotContains(t, tab.Text(`[data-testid="waiting-Integration"]`), c.Key, "only the dragged item")
	require.Contains(t, tab.Text(`[data-testid="promote-from-ready"]`), c.Key)
	tab.Screenshot("board-after-drag")
	require.Empty(t, tab.Problems())
}
