package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/trackersim"
)

// TestTrackerJourney is a team that plans in Jira, in a real browser: the
// admin connects Jira Cloud (a wrong token is named, the form keeps what
// was typed), maps its statuses, finds three stories by JQL and imports
// them as work items; a story moved on Jira's board arrives by webhook and
// moves the work item; a developer links their work item to a fourth
// story, it is promoted and deployed, and the deployment is posted as a
// comment on the story.
func TestTrackerJourney(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	sim := trackersim.New(tracker.JiraCloud)
	jira := httptest.NewServer(sim)
	t.Cleanup(jira.Close)
	s1 := sim.Create("Discount approvals", "Managers **approve** discounts over 10%.", "pricing")
	s2 := sim.Create("Lead routing", "Route leads by _region_.")
	s3 := sim.Create("Renewal reminders", "Email owners 30 days before renewal.")
	s4 := sim.Create("Warmer greeting", "Say hello warmly.")
	sim.Move(s4, "In Progress") // not in the import below

	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "first-admin@example.com")
	tab.Do(chromedp.Navigate(b.srv.URL+"/projects/CRM/tracker"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="connect-form"]`)))
	tab.Screenshot("tracker-01-empty")
	fill := func(token string) {
		tab.Do(
			chromedp.SetValue(chromedp.CSS(`#f-kind`), string(tracker.JiraCloud)),
			chromedp.SetValue(chromedp.CSS(`#f-base_url`), jira.URL),
			chromedp.SetValue(chromedp.CSS(`#f-scope`), "PROJ"),
			chromedp.SetValue(chromedp.CSS(`#f-username`), sim.User),
			chromedp.SetValue(chromedp.CSS(`#f-token`), token),
		)
		clickAway(t, tab, `[data-testid="connect"]`)
	}
	fill("wrong-token")
	tab.WaitText("refused the credentials")
	v, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[string](`document.querySelector('#f-scope').value`))
	require.NoError(t, err)
	require.Equal(t, "PROJ", v, "the form keeps what was typed")
	fill(sim.Token)
	tab.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="webhook-secret"]`)))
	secret := tab.Text(`[data-testid="webhook-secret-value"]`)
	hook := tab.Text(`[data-testid="webhook-url"]`)
	require.Len(t, secret, 48)
	require.True(t, strings.HasPrefix(hook, b.srv.URL+"/api/v1/hooks/trackers/"), hook)
	tab.Screenshot("tracker-02-connected")
	sim.SendWebhooksTo(hook, secret)
	tab.Do(chromedp.Navigate(b.srv.URL + "/projects/CRM/tracker"))
	require.NotContains(t, tab.Text(`body`), secret, "the secret is shown once")

	for remote, local := range map[string]alm.WorkStatus{"To Do": alm.WorkReady, "In Progress": alm.WorkInProgress, "In Review": alm.WorkInReview, "Done": alm.WorkDone} {
		tab.Do(chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`[data-testid="map-work_item|%s"]`, remote)), string(local)))
	}
	clickAway(t, tab, `[data-testid="save-mapping"]`)
	tab.WaitText("Status mapping saved: 4 statuses mapped")

	tab.Do(chromedp.SetValue(chromedp.CSS(`[data-testid="tracker-query"]`), `status = "To Do" ORDER BY created DESC`))
	clickAway(t, tab, `[data-testid="tracker-search"]`)
	tab.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="import-form"]`)))
	results := tab.Text(`[data-testid="import-form"]`)
	require.Contains(t, results, "Discount approvals")
	require.NotContains(t, results, "Warmer greeting", "JQL filtered it out")
	tab.Screenshot("tracker-03-search")
	_, err = chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](`(document.querySelectorAll('[data-testid="import-form"] input[name="key"]').forEach(b => b.checked = true), true)`))
	require.NoError(t, err)
	clickAway(t, tab, `[data-testid="import-selected"]`)
	tab.WaitText("Imported 3 issues")

	p := must(b.store.ProjectByKey(b.ctx, "CRM"))
	conn := must(b.store.TrackerConnection(b.ctx, p.ID))
	link1 := must(b.store.TrackerLinkByRemote(b.ctx, conn.ID, s1))
	it1 := must(b.store.WorkItemByKey(b.ctx, link1.EntityKey))
	require.Equal(t, "Managers **approve** discounts over 10%.", it1.Description, "ADF arrives as Markdown")
	require.Equal(t, []string{"pricing"}, it1.Labels)
	require.Eventually(t, func() bool {
		it := must(b.store.WorkItemByKey(b.ctx, link1.EntityKey))
		got, _ := sim.Get(s1)
		return it.Status == alm.WorkReady && len(got.Links) == 1
	}, 30*time.Second, 100*time.Millisecond, "the first sync maps To Do to Ready and links back")
	for _, k := range []string{s2, s3} {
		must(b.store.TrackerLinkByRemote(b.ctx, conn.ID, k))
	}

	// A story moved on Jira's board: the webhook moves the work item.
	sim.Move(s1, "In Progress")
	require.Eventually(t, func() bool {
		return must(b.store.WorkItemByKey(b.ctx, link1.EntityKey)).Status == alm.WorkInProgress
	}, 30*time.Second, 100*time.Millisecond)
	tab.Do(chromedp.Navigate(b.srv.URL+"/work-items/"+link1.EntityKey), chromedp.WaitVisible(chromedp.CSS(`[data-testid="tracker-card"]`)))
	require.Contains(t, tab.Text(`[data-testid="tracker-card"]`), s1)
	require.Contains(t, tab.Text(`[data-testid="tracker-card"]`), "In sync")
	require.Contains(t, tab.Text(`[data-testid="timeline"]`), "Jira Cloud changed status to In progress")
	tab.Screenshot("tracker-04-moved")

	// A developer's work item, linked by key, promoted and deployed.
	a := g.item("Greet warmly", map[string]string{labelsPath: labels("A_Label", "From A", "Greeting", "Hello")})
	tab.Do(chromedp.Navigate(b.srv.URL+"/work-items/"+a.Key), chromedp.WaitVisible(chromedp.CSS(`[data-testid="tracker-link-form"]`)))
	tab.Do(chromedp.SetValue(chromedp.CSS(`[data-testid="tracker-link-form"] input[name="key"]`), s4))
	clickAway(t, tab, `[data-testid="tracker-link-form"] button`)
	require.Eventually(t, func() bool {
		_, err := b.store.TrackerLinkByRemote(b.ctx, conn.ID, s4)
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "the work item is linked to %s", s4)
	tab.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="tracker-key"]`)))
	require.Contains(t, tab.Text(`[data-testid="tracker-card"]`), s4)
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE work_items SET status = 'ready_to_promote' WHERE key = $1`, a.Key)
	require.NoError(t, err)
	admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	res := admin.post("/projects/CRM/pipeline/promote", url.Values{"stage": {"Integration"}, "key": {a.Key}})
	require.Equal(t, http.StatusSeeOther, res.status)
	pa := must(b.store.ListPromotions(b.ctx, store.PromotionFilter{WorkItemID: a.ID}))[0]
	d, _ := g.deploy(pa.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Eventually(t, func() bool {
		got, _ := sim.Get(s4)
		for _, c := range got.Comments {
			if strings.Contains(c.Body, "deployed") && strings.Contains(c.Body, a.Key) {
				return strings.Contains(got.Comments[0].Body, "promoted")
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond, "the promotion and then the deployment are posted on the story")
	got, _ := sim.Get(s4)
	promoted := 0
	for _, c := range got.Comments {
		if strings.Contains(c.Body, "promoted") {
			promoted++
		}
	}
	require.Equal(t, 1, promoted, "the promotion is posted once: %v", got.Comments)

	// The release manager sees the story and its status beside the item.
	tab.Do(chromedp.Navigate(fmt.Sprintf("%s/promotions/%d", b.srv.URL, pa.ID)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="issue-`+a.Key+`"]`)))
	require.Contains(t, tab.Text(`[data-testid="issue-`+a.Key+`"]`), s4+" · In Progress")
	tab.Screenshot("tracker-05-promotion")
	tab.Do(chromedp.Navigate(b.srv.URL+"/projects/CRM/tracker"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="tracker-links"]`)))
	require.Contains(t, tab.Text(`[data-testid="tracker-links"]`), "4 links")
	tab.Screenshot("tracker-06-links")
	require.Empty(t, tab.Problems())
	_ = context.Background
}
