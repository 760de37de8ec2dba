package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/trackersim"
)

type trackerAPI struct {
	Connection    alm.TrackerConnection `json:"connection"`
	Mapping       []alm.StatusMapping   `json:"mapping"`
	WebhookURL    string                `json:"webhook_url"`
	WebhookSecret string                `json:"webhook_secret"`
}

// TestTrackerAPI drives an Azure DevOps Boards connection over the API:
// the connection test names the wrong field, the secret is answered only
// when made, the mapping is checked, user stories are imported as
// requirements; the requirement's discussion and the work item's comments
// cross both ways attributed, the assignee follows by email, and a
// service hook with the wrong secret is refused.
func TestTrackerAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true})
	_, err := b.store.CreateProject(b.ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	require.NoError(t, err)
	admin := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
	tok := b.token(admin)
	dev := b.user(alm.RoleDeveloper, "dana@example.com")
	sim := trackersim.New(tracker.Azure)
	sim.AddUser(trackersim.User{ID: "u-dana", Name: "Dana Dev", Email: "dana@example.com", Login: "dana"})
	ado := httptest.NewServer(sim)
	t.Cleanup(ado.Close)
	story := sim.Create("Quote approvals", "<b>ignored</b>") // HTML-ish text survives as text
	sim.Edit(story, func(is *trackersim.Issue) { is.Description = "Approve quotes over **10%**." })
	other := sim.Create("Price books", "")

	put := func(body string) response {
		return b.api("PUT", "/api/v1/projects/CRM/tracker", tok, strings.NewReader(body))
	}
	res := put(fmt.Sprintf(`{"kind":"azure_devops","base_url":%q,"scope":"contoso/Nope","token":%q,"import_as":"requirement"}`, ado.URL, sim.Token))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	require.Contains(t, res.body, `"scope"`)
	require.Contains(t, res.body, "has no project")
	res = put(fmt.Sprintf(`{"kind":"azure_devops","base_url":%q,"scope":"contoso/Sales","token":"nope","import_as":"requirement"}`, ado.URL))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	require.Contains(t, res.body, `"token"`)
	res = put(fmt.Sprintf(`{"kind":"azure_devops","base_url":%q,"scope":"contoso/Sales","token":%q,"import_as":"requirement"}`, ado.URL, sim.Token))
	require.Equal(t, http.StatusOK, res.status, res.body)
	conn := decode[trackerAPI](t, res)
	require.Len(t, conn.WebhookSecret, 48)
	require.NotContains(t, b.api("GET", "/api/v1/projects/CRM/tracker", tok, nil).body, conn.WebhookSecret, "the secret is answered once")
	require.NotContains(t, b.api("GET", "/api/v1/projects/CRM/tracker", tok, nil).body, sim.Token)
	sim.SendWebhooksTo(conn.WebhookURL, conn.WebhookSecret)

	res = b.api("PUT", "/api/v1/projects/CRM/tracker/mapping", tok, strings.NewReader(`{"mapping":[{"entity":"requirement","remote":"New","local":"nonsense"}]}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	res = b.api("PUT", "/api/v1/projects/CRM/tracker/mapping", tok, strings.NewReader(`{"mapping":[
		{"entity":"requirement","remote":"New","local":"proposed"},{"entity":"requirement","remote":"Active","local":"accepted"},
		{"entity":"requirement","remote":"Closed","local":"delivered"},
		{"entity":"work_item","remote":"New","local":"backlog"},{"entity":"work_item","remote":"Active","local":"in_progress"}]}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Len(t, decode[trackerAPI](t, res).Mapping, 5)

	res = b.api("POST", "/api/v1/projects/CRM/tracker/import", tok, strings.NewReader(`{"keys":["`+story+`"]}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	var imported struct{ Keys []string }
	require.NoError(t, json.Unmarshal([]byte(res.body), &imported))
	require.Len(t, imported.Keys, 1)
	reqKey := imported.Keys[0]
	req := must(b.store.RequirementByKey(b.ctx, reqKey))
	require.Equal(t, "Quote approvals", req.Title)
	require.Equal(t, "Approve quotes over **10%**.", req.Description, "HTML arrives as Markdown")
	require.Eventually(t, func() bool {
		r := must(b.store.RequirementByKey(b.ctx, reqKey))
		is, _ := sim.Get(story)
		return r.Status == alm.ReqProposed && len(is.Links) == 1
	}, 30*time.Second, 50*time.Millisecond, "New maps to proposed; the hyperlink back is added")

	// The discussion crosses both ways, attributed, once.
	res = b.api("POST", "/api/v1/requirements/"+reqKey+"/comments", tok, strings.NewReader(`{"kind":"comment","body":"Does **10%** include tax?"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	sim.Comment(story, "Pat Owner", "No, before tax.")
	require.Eventually(t, func() bool {
		is, _ := sim.Get(story)
		cs := must(b.store.Comments(b.ctx, req.ID))
		fromADO := false
		for _, c := range cs {
			if c.Body == "No, before tax." && strings.HasSuffix(c.AuthorName, "(in Azure DevOps Boards)") {
				fromADO = true
			}
		}
		toADO := false
		for _, c := range is.Comments {
			if strings.Contains(c.Body, "Does **10%** include tax?") {
				toADO = true
			}
		}
		return fromADO && toADO
	}, 30*time.Second, 50*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	is, _ := sim.Get(story)
	require.Len(t, is.Comments, 2, "no echo: %v", is.Comments)
	require.Len(t, must(b.store.Comments(b.ctx, req.ID)), 2)

	// A work item linked by key; the assignee follows by email.
	p := must(b.store.ProjectByKey(b.ctx, "CRM"))
	it := must(b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Price books"}))
	res = b.api("POST", "/api/v1/work-items/"+it.Key+"/tracker-link", tok, strings.NewReader(`{"key":"`+other+`"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	res = b.api("POST", "/api/v1/work-items/"+it.Key+"/tracker-link", tok, strings.NewReader(`{"key":"`+story+`"}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, "one record per issue, one issue per record: %s", res.body)
	sim.Edit(other, func(is *trackersim.Issue) { is.Assignee = "dana@example.com"; is.Status = "Active" })
	require.Eventually(t, func() bool {
		w := must(b.store.WorkItemByKey(b.ctx, it.Key))
		return w.AssigneeID != nil && *w.AssigneeID == dev.ID && w.Status == alm.WorkInProgress
	}, 30*time.Second, 50*time.Millisecond, "assignee by email and status by mapping")

	// The service hook's secret is checked.
	hook := httptest.NewRequest("POST", conn.WebhookURL, bytes.NewReader([]byte(`{"eventType":"workitem.updated","resource":{"workItemId":1}}`)))
	hreq, _ := http.NewRequest("POST", conn.WebhookURL, hook.Body)
	hreq.SetBasicAuth("x", "wrong")
	hres, err := http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	hres.Body.Close()
	require.Equal(t, http.StatusUnauthorized, hres.StatusCode)

	links := b.api("GET", "/api/v1/projects/CRM/tracker/links", tok, nil)
	require.Equal(t, http.StatusOK, links.status, links.body)
	require.Contains(t, links.body, reqKey)
	require.Contains(t, links.body, it.Key)
	require.Equal(t, http.StatusNoContent, b.api("DELETE", "/api/v1/projects/CRM/tracker", tok, nil).status)
	require.Equal(t, http.StatusNotFound, b.api("GET", "/api/v1/projects/CRM/tracker", tok, nil).status)
	require.Equal(t, "Quote approvals", must(b.store.RequirementByKey(b.ctx, reqKey)).Title, "records stay")
}
