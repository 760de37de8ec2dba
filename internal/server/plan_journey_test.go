package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
	"github.com/trellis-alm/trellis/internal/store"
)

// TestPlanJourney is the Plan stage in a real browser, as three people
// use it: a product owner writes a requirement with acceptance criteria,
// a developer asks a question, the owner answers, the developer plans a
// linked work item and moves it across the board (by drag and drop and by
// the keyboard's Move form), a release manager puts it in a release, and
// the release notes show it.
func TestPlanJourney(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.user(alm.RoleProductOwner, "po@example.com")
	b.user(alm.RoleDeveloper, "dev@example.com")
	b.user(alm.RoleReleaseManager, "rm@example.com")
	br := browsertest.Shared(t)

	// The product owner starts a project and writes a requirement.
	po := br.NewTab(t)
	signIn(po, b.srv.URL, "po@example.com")
	po.Do(
		chromedp.Click(chromedp.CSS(`[data-testid="nav-plan"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="empty-state"]`)),
	)
	po.Screenshot("plan-01-no-projects")
	po.Do(
		chromedp.Click(chromedp.CSS(`[data-testid="new-project"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="project-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-key`), "crm"),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Sales Cloud"),
		chromedp.SendKeys(chromedp.CSS(`#f-description`), "Opportunities, quotes and approvals."),
		chromedp.Submit(chromedp.CSS(`[data-testid="project-form"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.tabs`)),
	)
	require.Contains(t, po.Text(`[data-testid="flash"]`), "Project CRM created")
	po.Do(
		chromedp.Navigate(b.srv.URL+"/projects/CRM/requirements/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="requirement-form"]`)),
		// An empty title first: the form keeps everything else typed.
		chromedp.SendKeys(chromedp.CSS(`#f-business_goal`), "Protect margin on big deals."),
		chromedp.SendKeys(chromedp.CSS(`#f-description`), "Managers approve **big** quotes.\n\n<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"),
		chromedp.SendKeys(chromedp.CSS(`#f-criteria`), "Quotes over 10k need a manager's approval\nThe approver gets an email"),
		chromedp.Submit(chromedp.CSS(`[data-testid="requirement-form"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-title"]`)),
	)
	goal := po.Value(`#f-business_goal`)
	require.Equal(t, "Protect margin on big deals.", goal)
	po.Screenshot("plan-02-requirement-error")
	po.Do(
		chromedp.SendKeys(chromedp.CSS(`#f-title`), "Quote approval"),
		chromedp.Submit(chromedp.CSS(`[data-testid="requirement-form"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="req-title"]`)),
	)
	require.Equal(t, "Quote approval", po.Text(`[data-testid="req-title"]`))
	require.Contains(t, po.Text(`[data-testid="req-description"]`), "big")
	html, err := chromedp.Run(po.Ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="req-description"]').innerHTML`))
	require.NoError(t, err)
	require.Contains(t, html, "<strong>big</strong>", "Markdown renders")
	require.NotContains(t, html, "onerror", "event handlers are dropped")
	require.Equal(t, 0, po.Count(`[data-testid="req-description"] script`), "script in Markdown is dropped")
	title, err := chromedp.Run(po.Ctx, chromedp.Evaluate[string]("document.title"))
	require.NoError(t, err)
	require.NotEqual(t, "pwned", title)
	require.Equal(t, 2, po.Count(`[data-testid="criteria"] li`))
	po.Do(
		chromedp.Click(chromedp.CSS(`[data-testid="move-proposed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="move-accepted"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="move-accepted"]`)),
	)
	po.WaitText("is now accepted")
	require.Contains(t, po.Text(`[data-testid="req-status"]`), "Accepted")

	// The developer asks a question.
	dev := br.NewTab(t)
	signIn(dev, b.srv.URL, "dev@example.com")
	dev.Do(
		chromedp.Navigate(b.srv.URL+"/projects/CRM/search?q=quote+approval"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="search-results"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="search-results"] a.mono`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="comment-form"]`)),
	)
	require.Equal(t, 0, dev.Count(`[data-testid="edit-requirement"]`), "developers do not edit the spec")
	dev.Do(
		chromedp.Click(chromedp.CSS(`[data-testid="comment-form"] input[value="question"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-body`), "Is the 10k limit per quote or per line?"),
		chromedp.Click(chromedp.CSS(`[data-testid="post-comment"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="open-asks"]`)),
	)
	require.Contains(t, dev.Text(`[data-testid="open-asks"]`), "per quote or per line")
	dev.Screenshot("plan-03-question")

	// The owner answers it.
	po.Do(
		chromedp.Navigate(b.srv.URL+"/requirements/CRM-REQ-1"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="open-asks"]`)),
		chromedp.Click(chromedp.CSS(`.thread details.reply summary`)),
		chromedp.SendKeys(chromedp.CSS(`.thread details.reply textarea`), "Per quote, after discounts."),
		chromedp.Click(chromedp.CSS(`.thread details.reply button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="flash"]`)),
	)
	require.Equal(t, 0, po.Count(`[data-testid="open-asks"]`), "the answered question is no longer open")
	require.Contains(t, po.Text(`[data-testid="comments"]`), "Answered")
	po.Screenshot("plan-04-answered")

	// The developer plans a linked work item.
	dev.Do(
		chromedp.Navigate(b.srv.URL+"/requirements/CRM-REQ-1"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="plan-item"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="plan-item"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="item-form"]`)),
	)
	reqs := dev.Value(`#f-requirements`)
	require.Equal(t, "CRM-REQ-1", reqs, "planned from the requirement, the link is filled in")
	dev.Do(
		chromedp.SendKeys(chromedp.CSS(`#f-title`), "Approval process for big quotes"),
		chromedp.SetValue(chromedp.CSS(`#f-approach`), "declarative"),
		chromedp.SendKeys(chromedp.CSS(`#f-maintenance_note`), "Sales ops own the approval process."),
		chromedp.SendKeys(chromedp.CSS(`#f-estimate`), "5"),
		chromedp.Click(chromedp.CSS(`[data-testid="save-item"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="item-title"]`)),
	)
	require.Contains(t, dev.Text(`[data-testid="item-status"]`), "Backlog")

	// On the board: drag from Backlog to Ready.
	dev.Do(
		chromedp.Navigate(b.srv.URL+"/projects/CRM/board"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="card-CRM-1"]`)),
	)
	require.Equal(t, "1", dev.Text(`[data-testid="wip-backlog"]`))
	dev.Screenshot("plan-05-board")
	_, err = chromedp.Run(dev.Ctx, chromedp.Evaluate[bool](`(function () {
		var card = document.querySelector('[data-testid="card-CRM-1"]');
		var col = document.querySelector('.column[data-status="ready"] .cards');
		var dt = new DataTransfer();
		card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
		var box = col.getBoundingClientRect();
		var at = {bubbles: true, cancelable: true, dataTransfer: dt, clientX: box.left + 10, clientY: box.top + 10};
		col.dispatchEvent(new DragEvent('dragover', at));
		col.dispatchEvent(new DragEvent('drop', at));
		return true;
	})()`))
	require.NoError(t, err)
	dev.Do(chromedp.WaitVisible(chromedp.CSS(`.column[data-status="ready"] [data-testid="card-CRM-1"]`)))
	require.Equal(t, "1", dev.Text(`[data-testid="wip-ready"]`))
	require.Equal(t, "0", dev.Text(`[data-testid="wip-backlog"]`))

	// A drag that skips columns is refused with the reason, and nothing moves.
	_, err = chromedp.Run(dev.Ctx, chromedp.Evaluate[bool](`(function () {
		var card = document.querySelector('[data-testid="card-CRM-1"]');
		var col = document.querySelector('.column[data-status="done"] .cards');
		var dt = new DataTransfer();
		card.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
		var at = {bubbles: true, cancelable: true, dataTransfer: dt, clientX: 0, clientY: 0};
		col.dispatchEvent(new DragEvent('dragover', at));
		col.dispatchEvent(new DragEvent('drop', at));
		card.dispatchEvent(new DragEvent('dragend', {bubbles: true}));
		return true;
	})()`))
	require.NoError(t, err)
	dev.Do(chromedp.WaitVisible(chromedp.CSS(`#board-error`)))
	require.Contains(t, dev.Text(`#board-error`), "cannot jump")
	dev.Screenshot("plan-06-refused-move")

	// The rest with the keyboard: focus the card's forward button (hidden
	// until focused), press Enter.
	for _, st := range []string{"in_progress", "in_review", "ready_to_promote"} {
		dev.Do(
			chromedp.Focus(chromedp.CSS(`[data-testid="forward-CRM-1"]`)),
			chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.column[data-status="%s"] [data-testid="card-CRM-1"]`, st))),
		)
	}
	require.Contains(t, dev.Text(`[data-testid="flash"]`), "moved to Ready to promote")
	dev.Screenshot("plan-07-board-moved")

	// The release manager makes a release and adds the work item.
	rm := br.NewTab(t)
	signIn(rm, b.srv.URL, "rm@example.com")
	rm.Do(
		chromedp.Navigate(b.srv.URL+"/projects/CRM/releases"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-release"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="new-release"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="release-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Spring '27"),
		chromedp.SendKeys(chromedp.CSS(`#f-version`), "1.4.0"),
		chromedp.Submit(chromedp.CSS(`[data-testid="release-form"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="add-item-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-item`), "CRM-404"),
		chromedp.Click(chromedp.CSS(`[data-testid="add-item"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="form-error"]`)),
	)
	require.Contains(t, rm.Text(`[data-testid="form-error"]`), "no work item CRM-404")
	rm.Do(
		chromedp.SetValue(chromedp.CSS(`#f-item`), "crm-1"),
		chromedp.Click(chromedp.CSS(`[data-testid="add-item"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="release-items"]`)),
	)
	notes := rm.Text(`[data-testid="release-notes"]`)
	require.Contains(t, notes, "CRM-1 Approval process for big quotes — delivers CRM-REQ-1 Quote approval")
	require.Contains(t, notes, "Protect margin on big deals.")
	rm.Do(
		chromedp.Click(chromedp.CSS(`[data-testid="release-move-building"]`)),
	)
	rm.WaitText("is now building")
	require.Contains(t, rm.Text(`[data-testid="release-status"]`), "Building")
	rm.Screenshot("plan-08-release")

	// The requirement shows where its work is; the matrix shows the same.
	po.Do(chromedp.Navigate(b.srv.URL+"/requirements/CRM-REQ-1"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="delivery"]`)))
	delivery := po.Text(`[data-testid="delivery"]`)
	require.Contains(t, delivery, "CRM-1")
	require.Contains(t, delivery, "Spring '27")
	require.Contains(t, delivery, "Building")
	po.Screenshot("plan-09-requirement")
	po.Do(chromedp.Navigate(b.srv.URL+"/projects/CRM/matrix"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="matrix"]`)))
	require.Contains(t, po.Text(`[data-testid="matrix"]`), "CRM-REQ-1")
	po.Screenshot("plan-10-matrix")
	po.Do(chromedp.Navigate(b.srv.URL+"/projects/CRM"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="timeline"]`)))
	require.True(t, strings.Contains(po.Text(`[data-testid="timeline"]`), "added to release") || strings.Contains(po.Text(`[data-testid="timeline"]`), "CRM-1 added"))
	po.Screenshot("plan-11-project")
}

// TestPlanPagesInTheBrowser opens every Plan page of a busy project in a
// real browser: each renders without console errors (CSP included), and
// the screenshots are what a reviewer looks at.
func TestPlanPagesInTheBrowser(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	p, err := b.store.SeedLarge(b.ctx, store.LargeSeed{Key: "PERF", Requirements: 60, WorkItems: 300, Releases: 4})
	require.NoError(t, err)
	_, err = b.store.UpdateRequirement(b.ctx, "PERF-REQ-3", 1, alm.RequirementInput{Title: "Quote approval, revised", Description: "Now with **tables**:\n\n| a | b |\n|---|---|\n| 1 | 2 |",
		Criteria: []string{"Criterion 0", "A new criterion"}})
	require.NoError(t, err)
	uat, prod := alm.Stage{Name: "UAT", TestLevel: "RunLocalTests", CoverageThreshold: 75, ApprovalsRequired: 1, ApproverRoles: []alm.Role{alm.RoleReleaseManager}, NoSelfApproval: true},
		alm.Stage{Name: "Production", TestLevel: "RunLocalTests", CoverageThreshold: 85, ApprovalsRequired: 2, ApproverRoles: []alm.Role{alm.RoleReleaseManager, alm.RoleProductOwner},
			NoSelfApproval: true, ValidationRequired: true, ChangeWindows: "Mon-Fri 18:00-22:00", Frozen: true, FreezeReason: "Quarter-end freeze"}
	require.NoError(t, b.store.SavePipeline(b.ctx, p.ID, []alm.Stage{{Name: "Integration", TestLevel: "NoTestRun", ApproverRoles: []alm.Role{}}, uat, prod}))
	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "first-admin@example.com")
	pages := []struct{ path, wait, shot string }{
		{"/plan", `[data-testid="projects"]`, "projects"},
		{"/projects/PERF", `[data-testid="timeline"]`, "project-home"},
		{"/projects/PERF/requirements", `[data-testid="requirements"]`, "requirements"},
		{"/projects/PERF/requirements?status=in_delivery&sort=priority", `[data-testid="requirements"]`, "requirements-filtered"},
		{"/requirements/PERF-REQ-3", `[data-testid="reach"]`, "requirement"},
		{"/requirements/PERF-REQ-3/versions", `[data-testid="spec-diff"]`, "spec-diff"},
		{"/projects/PERF/board", `[data-testid="board"]`, "board-busy"},
		{"/projects/PERF/work-items?sort=estimate", `[data-testid="work-items"]`, "work-items"},
		{"/work-items/PERF-4", `[data-testid="item-title"]`, "work-item"},
		{"/projects/PERF/releases", `[data-testid="releases"]`, "releases"},
		{fmt.Sprintf("/projects/PERF/releases/%d", firstRelease(t, b, p.ID)), `[data-testid="release-notes"]`, "release-busy"},
		{"/projects/PERF/matrix", `[data-testid="matrix"]`, "matrix-busy"},
		{"/projects/PERF/search?q=quote+approval", `[data-testid="search-results"]`, "search"},
		{"/projects/PERF/members", `[data-testid="members"]`, "members"},
		{"/projects/PERF/work-items/new?requirement=PERF-REQ-3", `[data-testid="item-form"]`, "work-item-form"},
		{"/projects/PERF/pipeline/edit", `[data-testid="pipeline-form"]`, "pipeline-form"},
		{"/projects/PERF/pipeline", `[data-testid="pipeline"]`, "pipeline"},
	}
	for _, pg := range pages {
		tab.Do(chromedp.Navigate(b.srv.URL+pg.path), chromedp.WaitVisible(chromedp.CSS(pg.wait)))
		tab.Screenshot("plan-page-" + pg.shot)
	}
}

func firstRelease(t *testing.T, b *testBundle, projectID int64) int64 {
	t.Helper()
	rels, err := b.store.ListReleases(b.ctx, projectID)
	require.NoError(t, err)
	return rels[0].ID
}
