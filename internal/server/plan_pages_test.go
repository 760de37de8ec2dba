package server_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
)

func TestPlanPagesKeepInputOnBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	po := b.signedIn(b.user(alm.RoleProductOwner, "po@example.com"))
	dev := b.signedIn(b.user(alm.RoleDeveloper, "dev@example.com"))
	sd := seedPlan(t, b)

	cases := []struct {
		name   string
		br     *browser
		path   string
		form   url.Values
		status int
		errors []string // text the page must show
		kept   map[string]string
	}{
		{"empty requirement title", po, "/projects/CRM/requirements",
			url.Values{"title": {"  "}, "description": {"Keep **this** text"}, "criteria": {"One\nTwo"}, "priority": {"high"}},
			422, []string{"Give the requirement a title."}, map[string]string{"description": "Keep **this** text"}},
		{"bad priority", po, "/projects/CRM/requirements",
			url.Values{"title": {"T"}, "priority": {"urgent!!"}},
			422, []string{"Choose critical, high, medium or low."}, map[string]string{"title": "T"}},
		{"empty work item title", dev, "/projects/CRM/work-items",
			url.Values{"title": {""}, "description": {"typed"}},
			422, []string{"Give the work item a title."}, map[string]string{"description": "typed"}},
		{"unknown requirement link", dev, "/projects/CRM/work-items",
			url.Values{"title": {"Flow"}, "requirements": {sd.req.Key + ", CRM-REQ-77"}},
			422, []string{"No requirement CRM-REQ-77 in this project."}, map[string]string{"title": "Flow"}},
		{"bad estimate", dev, "/projects/CRM/work-items",
			url.Values{"title": {"Flow"}, "estimate": {"lots"}},
			422, []string{"Estimate in whole points."}, map[string]string{"estimate": "lots"}},
		{"empty comment", dev, "/requirements/" + sd.req.Key + "/comments",
			url.Values{"kind": {"question"}, "body": {""}},
			422, []string{"Write something."}, nil},
		{"change request without a proposal", dev, "/requirements/" + sd.req.Key + "/comments",
			url.Values{"kind": {"change_request"}, "body": {"Please change it"}},
			422, []string{"Say what the spec should become"}, map[string]string{"body": "Please change it"}},
		{"empty release name", b.signedIn(b.user(alm.RoleReleaseManager, "rm@example.com")), "/projects/CRM/releases",
			url.Values{"name": {""}, "version": {"2.0"}, "target_date": {"31/03/2027"}},
			422, []string{"Give the release a name.", "Use a date like 2027-03-31."}, map[string]string{"version": "2.0"}},
		{"bad project key", po, "/projects",
			url.Values{"key": {"x"}, "name": {"Thing"}},
			422, []string{"Use 2–10 capital letters"}, map[string]string{"name": "Thing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.br.post(c.path, c.form)
			require.Equal(t, c.status, res.status, res.body)
			doc := res.doc(t)
			for _, e := range c.errors {
				require.Contains(t, doc.Text(), e)
			}
			for field, want := range c.kept {
				sel := fmt.Sprintf(`[name=%q]`, field)
				got, ok := doc.Find("input" + sel).Attr("value")
				if !ok {
					got = doc.Find("textarea" + sel).Text()
				}
				require.Equal(t, want, got, "%s is kept", field)
			}
		})
	}
}

func TestPlanPagesRefuseAndExplain(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	po := b.signedIn(b.user(alm.RoleProductOwner, "po@example.com"))
	dev := b.signedIn(b.user(alm.RoleDeveloper, "dev@example.com"))
	sd := seedPlan(t, b)

	// A move the rules do not allow goes back with the reason.
	res := dev.post("/requirements/"+sd.req.Key+"/status", url.Values{"status": {"proposed"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	page := dev.get(res.location())
	require.Contains(t, page.doc(t).Find(`[data-testid="flash"]`).Text(), "Moving a requirement from Draft to Proposed is for: Product owner")
	res = dev.post("/work-items/"+sd.item.Key+"/move", url.Values{"status": {"in_review"}, "next": {"/projects/CRM/board"}})
	require.Equal(t, "/projects/CRM/board", res.location())
	page = dev.get(res.location())
	require.Contains(t, page.doc(t).Find(`[data-testid="flash"]`).Text(), "cannot jump from Backlog to In review")
	res = dev.post("/work-items/"+sd.item.Key+"/move", url.Values{"status": {"ready"}, "next": {"https://evil.example/"}})
	require.Equal(t, "/", res.location(), "the way back stays on this site")

	// Viewers read but do not write; the page says why.
	viewer := b.signedIn(b.user(alm.RoleViewer, "viewer@example.com"))
	res = viewer.post("/projects/CRM/work-items", url.Values{"title": {"x"}})
	require.Equal(t, http.StatusForbidden, res.status)
	require.Contains(t, res.body, "Your role in CRM (Viewer) does not allow this.")
	res = po.post("/projects/CRM/members", url.Values{"user_id": {"1"}, "role": {"admin"}})
	require.Equal(t, http.StatusForbidden, res.status)

	// Script in Markdown arrives inert.
	res = dev.post("/requirements/"+sd.req.Key+"/comments", url.Values{"body": {`<script>alert(1)</script><a href="javascript:alert(2)">x</a> <b onclick="x()">bold</b>`}})
	require.Equal(t, http.StatusSeeOther, res.status)
	page = dev.get("/requirements/" + sd.req.Key)
	comments, err := page.doc(t).Find(`[data-testid="comments"]`).Html()
	require.NoError(t, err)
	require.NotContains(t, comments, "<script")
	require.NotContains(t, comments, "javascript:")
	require.NotContains(t, comments, "onclick")
	require.Contains(t, comments, "<b>bold</b>")

	// Unknown records and filters are clear 404s and 422s.
	require.Equal(t, http.StatusNotFound, dev.get("/requirements/CRM-REQ-999").status)
	require.Equal(t, http.StatusNotFound, dev.get("/projects/NOPE/board").status)
	require.Equal(t, http.StatusUnprocessableEntity, dev.get("/projects/CRM/board?requirement=CRM-REQ-999").status)
	require.Equal(t, http.StatusUnprocessableEntity, dev.get("/projects/CRM/requirements?sort=sideways").status)
}

func TestConcurrentEditsThroughForms(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	alice := b.signedIn(b.user(alm.RoleProductOwner, "alice@example.com"))
	bob := b.signedIn(b.user(alm.RoleProductOwner, "bob@example.com"))
	sd := seedPlan(t, b)

	// Both open the edit form at the same revision.
	formOf := func(br *browser) url.Values {
		doc := br.get("/requirements/" + sd.req.Key + "/edit").doc(t)
		v := url.Values{}
		doc.Find(`[data-testid="requirement-form"] input, [data-testid="requirement-form"] textarea`).Each(func(_ int, s *goquery.Selection) {
			name, _ := s.Attr("name")
			if val, ok := s.Attr("value"); ok {
				v.Set(name, val)
			} else {
				v.Set(name, s.Text())
			}
		})
		doc.Find(`[data-testid="requirement-form"] select`).Each(func(_ int, s *goquery.Selection) {
			name, _ := s.Attr("name")
			val, _ := s.Find("option[selected]").Attr("value")
			v.Set(name, val)
		})
		return v
	}
	a, bb := formOf(alice), formOf(bob)
	a.Set("title", "Alice's title")
	bb.Set("title", "Bob's title")
	bb.Set("description", "Bob wrote a long description.")
	res := alice.post("/requirements/"+sd.req.Key, a)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)

	res = bob.post("/requirements/"+sd.req.Key, bb)
	require.Equal(t, http.StatusConflict, res.status)
	doc := res.doc(t)
	require.Contains(t, doc.Find(`[data-testid="conflict"]`).Text(), "Alice's title", "Bob is shown what is saved now")
	require.Equal(t, "Bob wrote a long description.", doc.Find(`textarea[name="description"]`).Text(), "and keeps his text")
	got, err := b.store.RequirementByKey(b.ctx, sd.req.Key)
	require.NoError(t, err)
	require.Equal(t, "Alice's title", got.Title, "nothing was silently overwritten")

	// Saving again from the conflict page is a deliberate overwrite.
	ver, _ := doc.Find(`input[name="version"]`).Attr("value")
	bb.Set("version", ver)
	res = bob.post("/requirements/"+sd.req.Key, bb)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	got, err = b.store.RequirementByKey(b.ctx, sd.req.Key)
	require.NoError(t, err)
	require.Equal(t, "Bob's title", got.Title)

	// The spec history shows both edits, and the diff between them.
	diff := alice.get("/requirements/" + sd.req.Key + "/versions?from=2&to=3").doc(t)
	require.Contains(t, diff.Find(".diff-del").Text(), "Alice's title")
	require.Contains(t, diff.Find(".diff-add").Text(), "Bob's title")
}

func TestMatrixExportAndReleaseNotesDownload(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	viewer := b.signedIn(b.user(alm.RoleViewer, "viewer@example.com"))
	sd := seedPlan(t, b)
	_, err := b.store.CreateRequirement(b.ctx, sd.project.ID, alm.RequirementInput{Title: "=HYPERLINK(\"http://evil\")", Labels: []string{"x"}})
	require.NoError(t, err)
	_, err = b.store.SetWorkItemRelease(b.ctx, sd.item.Key, &sd.release.ID)
	require.NoError(t, err)

	res := viewer.get("/projects/CRM/matrix.csv")
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "text/csv; charset=utf-8", res.header.Get("Content-Type"))
	rows, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, []string{"key", "title", "status", "priority", "owner", "criteria_met", "criteria_total", "open_questions",
		"items_backlog", "items_ready", "items_in_progress", "items_in_review", "items_ready_to_promote", "items_in_release", "items_done", "releases"}, rows[0])
	require.Equal(t, sd.req.Key, rows[1][0])
	require.Equal(t, "1", rows[1][8], "one item in the backlog")
	require.Equal(t, "Spring (planning)", rows[1][15])
	require.Equal(t, `'=HYPERLINK("http://evil")`, rows[2][1], "formulas are defused")

	filtered := viewer.get("/projects/CRM/matrix.csv?label=x")
	rows, err = csv.NewReader(strings.NewReader(filtered.body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2, "the export follows the filter")
	page := viewer.get("/projects/CRM/matrix?status=draft").doc(t)
	require.Equal(t, 2, page.Find(`[data-testid="matrix"] tbody tr`).Length())

	md := viewer.get(fmt.Sprintf("/projects/CRM/releases/%d/notes.md", sd.release.ID))
	require.Equal(t, http.StatusOK, md.status)
	require.Equal(t, "text/markdown; charset=utf-8", md.header.Get("Content-Type"))
	require.Contains(t, md.header.Get("Content-Disposition"), `filename="Spring-release-notes.md"`)
	require.Contains(t, md.body, "- **"+sd.item.Key+"** Approval flow — delivers "+sd.req.Key+" Quote approval")
}
