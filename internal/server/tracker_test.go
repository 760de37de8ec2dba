package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/trackersim"
)

// TestTrackerFaults runs a GitHub-linked work item through what goes
// wrong: a tracker down while both sides edit (nothing lost; the later
// edit wins and the timeline says so), a 429 with Retry-After, a revoked
// token and the reconnect that resumes, a status with no mapping, a
// deleted issue; plus comments without echo and the issue in the branch
// name.
func TestTrackerFaults(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	sim := trackersim.New(tracker.GitHub)
	gh := httptest.NewServer(sim)
	t.Cleanup(gh.Close)
	issue := sim.Create("Account tiers", "Gold, silver, bronze.")
	admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	form := url.Values{"kind": {"github"}, "base_url": {gh.URL}, "scope": {"acme/crm"}, "token": {sim.Token}, "import_as": {"work_item"}}
	res := admin.post("/projects/CRM/tracker", form)
	require.Equal(t, http.StatusOK, res.status, res.body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(res.body))
	require.NoError(t, err)
	sim.SendWebhooksTo(doc.Find(`[data-testid="webhook-url"]`).Text(), doc.Find(`[data-testid="webhook-secret-value"]`).Text())
	p := must(b.store.ProjectByKey(b.ctx, "CRM"))
	conn := must(b.store.TrackerConnection(b.ctx, p.ID))
	require.NoError(t, b.store.SaveStatusMappings(b.ctx, conn.ID, []alm.StatusMapping{{Entity: "work_item", Remote: "open", Local: "in_progress"}, {Entity: "work_item", Remote: "closed", Local: "done"}}))

	it := must(b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Tiers"}))
	res = admin.post("/work-items/"+it.Key+"/tracker-link", url.Values{"key": {"#" + issue}})
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	link := must(b.store.TrackerLinkByRemote(b.ctx, conn.ID, issue))
	waitLink := func(what string, ok func(alm.TrackerLink) bool) alm.TrackerLink {
		t.Helper()
		var l alm.TrackerLink
		require.Eventually(t, func() bool { l = must(b.store.TrackerLinkByID(b.ctx, link.ID)); return ok(l) }, 30*time.Second, 50*time.Millisecond, what)
		return l
	}
	waitLink("first sync", func(l alm.TrackerLink) bool { return l.State == "ok" && l.Synced["linked"] == "1" })
	got := must(b.store.WorkItemByKey(b.ctx, it.Key))
	require.Equal(t, "Account tiers", got.Title, "the tracker's title wins on linking")
	require.Equal(t, alm.WorkInProgress, got.Status, "open maps to in progress")

	// The branch names the issue for GitHub's own linking.
	res = b.api("POST", "/api/v1/work-items/"+it.Key+"/branch", g.tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, it.Key+"-gh-"+issue+"-")

	// Down while both sides edit: nothing lost, the later edit wins.
	sim.Down(true)
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE work_items SET title = 'Tiers (Trellis)', description = 'Trellis''s words', labels = '{crm}',
		updated_at = now(), version = version + 1 WHERE id = $1`, it.ID)
	require.NoError(t, err)
	admin.post("/projects/CRM/tracker/links/"+strconv.FormatInt(link.ID, 10)+"/sync", nil)
	l := waitLink("down is visible", func(l alm.TrackerLink) bool { return l.State == "error" })
	require.Contains(t, l.Error, "GitHub is failing (HTTP 503)")
	require.Contains(t, l.Error, "nothing is lost")
	time.Sleep(1100 * time.Millisecond) // GitHub stamps updates to the second
	sim.Edit(issue, func(is *trackersim.Issue) { is.Title = "Account tiers (GitHub)" })
	sim.Down(false)
	admin.post("/projects/CRM/tracker/links/"+strconv.FormatInt(link.ID, 10)+"/sync", nil)
	waitLink("resumed", func(l alm.TrackerLink) bool { return l.State == "ok" })
	got = must(b.store.WorkItemByKey(b.ctx, it.Key))
	require.Equal(t, "Account tiers (GitHub)", got.Title, "GitHub's later title wins")
	remote, _ := sim.Get(issue)
	require.Equal(t, "Trellis's words", remote.Description, "Trellis's description, changed only there, went out")
	require.Equal(t, []string{"crm"}, remote.Labels)
	page := admin.get("/work-items/" + it.Key).body
	require.Contains(t, page, "title edited on both sides; GitHub Issues&#39;s later edit wins")

	// A 429: the job waits as long as GitHub asked, then succeeds.
	sim.RateLimit(1, time.Second)
	admin.post("/projects/CRM/tracker/links/"+strconv.FormatInt(link.ID, 10)+"/sync", nil)
	require.Eventually(t, func() bool {
		reqs := sim.Requests()
		for i, r := range reqs {
			if strings.HasSuffix(r, " 429") && i < len(reqs)-1 {
				return must(b.store.TrackerLinkByID(b.ctx, link.ID)).State == "ok"
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond)

	// Comments arrive attributed, and none is echoed back.
	sim.Comment(issue, "Pat Owner", "Gold needs a **badge**")
	require.Eventually(t, func() bool {
		page := admin.get("/work-items/" + it.Key).body
		return strings.Contains(page, "Pat Owner (in GitHub Issues)") && strings.Contains(page, "commented: Gold needs a **badge**")
	}, 30*time.Second, 100*time.Millisecond)
	before := len(must2(sim.Get(issue)).Comments)
	admin.post("/projects/CRM/tracker/links/"+strconv.FormatInt(link.ID, 10)+"/sync", nil)
	waitLink("synced again", func(l alm.TrackerLink) bool { return l.State == "ok" })
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, before, len(must2(sim.Get(issue)).Comments), "no echo")

	// A revoked token: said on the link and the connection; a reconnect
	// resumes.
	sim.Revoke(true)
	admin.post("/projects/CRM/tracker/links/"+strconv.FormatInt(link.ID, 10)+"/sync", nil)
	l = waitLink("revoked is visible", func(l alm.TrackerLink) bool { return l.State == "error" })
	require.Contains(t, l.Error, "revoked")
	require.Contains(t, admin.get("/projects/CRM/tracker").body, "Reconnect with a new token")
	sim.Revoke(false)
	form.Set("token", "")
	res = admin.post("/projects/CRM/tracker", form)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	waitLink("reconnected", func(l alm.TrackerLink) bool { return l.State == "ok" })

	// A status with no mapping.
	require.NoError(t, b.store.SaveStatusMappings(b.ctx, conn.ID, []alm.StatusMapping{{Entity: "work_item", Remote: "open", Local: "in_progress"}}))
	sim.Move(issue, "closed")
	l = waitLink("unmapped status", func(l alm.TrackerLink) bool { return l.State == "warning" })
	require.Contains(t, l.Error, `GitHub Issues status "closed" has no Trellis status`)
	admin.post("/projects/CRM/tracker/links/"+strconv.FormatInt(link.ID, 10)+"/sync", nil)
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, "warning", must(b.store.TrackerLinkByID(b.ctx, link.ID)).State, "the warning stays while the status is unmapped")
	require.NoError(t, b.store.SaveStatusMappings(b.ctx, conn.ID, []alm.StatusMapping{{Entity: "work_item", Remote: "open", Local: "in_progress"}, {Entity: "work_item", Remote: "closed", Local: "done"}}))
	admin.post("/projects/CRM/tracker/links/"+strconv.FormatInt(link.ID, 10)+"/sync", nil)
	waitLink("mapped later", func(l alm.TrackerLink) bool { return l.State == "ok" })
	require.Equal(t, alm.WorkDone, must(b.store.WorkItemByKey(b.ctx, it.Key)).Status, "mapping it later applies the pending move")

	// Deleted on GitHub: the link says so, the work item stays.
	sim.Delete(issue)
	l = waitLink("deleted", func(l alm.TrackerLink) bool { return l.State == "deleted" })
	require.Contains(t, l.Error, "was deleted in GitHub Issues")
	require.Contains(t, admin.get("/work-items/"+it.Key).body, "Deleted in tracker")
}

func must2[T any](v T, _ bool) T { return v }
