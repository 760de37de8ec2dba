package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/server"
)

func decode[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(res.body), &v), res.body)
	return v
}

type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func TestPlanAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	po := b.token(b.user(alm.RoleProductOwner, "po@example.com"))
	devUser := b.user(alm.RoleDeveloper, "dev@example.com")
	dev := b.token(devUser)
	rm := b.token(b.user(alm.RoleReleaseManager, "rm@example.com"))
	viewer := b.token(b.user(alm.RoleViewer, "viewer@example.com"))
	body := strings.NewReader

	res := b.api("POST", "/api/v1/projects", po, body(`{"key":"crm","name":"Sales Cloud"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, "/api/v1/projects/CRM", res.location())
	res = b.api("POST", "/api/v1/projects", dev, body(`{"key":"DEV","name":"x"}`))
	require.Equal(t, http.StatusForbidden, res.status)
	res = b.api("POST", "/api/v1/projects", po, body(`{"key":"CRM","name":"again"}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, decode[apiError](t, res).Error.Fields["key"], "Another project")

	// Bad bodies are told what is wrong, as JSON.
	for _, c := range []struct{ body, want string }{
		{``, "empty"}, {`{"title":`, "not valid JSON"}, {`{"title": 5}`, "Expected string"}, {`{"titel":"x"}`, "not known"}, {`{"title":""}`, "Give the requirement a title."},
	} {
		res = b.api("POST", "/api/v1/projects/CRM/requirements", po, body(c.body))
		require.Equal(t, http.StatusUnprocessableEntity, res.status, c.body)
		require.Contains(t, res.body, c.want, c.body)
	}

	res = b.api("POST", "/api/v1/projects/CRM/requirements", po, body(`{"title":"Quote approval","description":"<script>alert(1)</script> **big** quotes",
		"acceptance_criteria":["Over 10k needs approval"],"labels":["CPQ"],"priority":"high"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	req := decode[alm.Requirement](t, res)
	require.Equal(t, "CRM-REQ-1", req.Key)
	require.Equal(t, []string{"cpq"}, req.Labels)
	res = b.api("POST", "/api/v1/projects/CRM/requirements", dev, body(`{"title":"nope"}`))
	require.Equal(t, http.StatusForbidden, res.status, "developers do not write requirements")

	// PATCH needs the revision; a stale one is a 409 and changes nothing.
	res = b.api("PATCH", "/api/v1/projects/CRM/requirements/CRM-REQ-1", po, body(`{"title":"New"}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, decode[apiError](t, res).Error.Fields, "version")
	res = b.api("PATCH", "/api/v1/projects/CRM/requirements/CRM-REQ-1", po, body(`{"title":"Quote approvals","status":"proposed","version":1}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	req = decode[alm.Requirement](t, res)
	require.Equal(t, alm.ReqProposed, req.Status)
	require.Equal(t, `"3"`, res.header.Get("ETag"))
	res = b.api("PATCH", "/api/v1/projects/CRM/requirements/CRM-REQ-1", po, body(`{"title":"Lost edit","version":1}`))
	require.Equal(t, http.StatusConflict, res.status)
	res = b.api("PATCH", "/api/v1/projects/CRM/requirements/CRM-REQ-1", dev, body(`{"status":"accepted","version":3}`))
	require.Equal(t, http.StatusForbidden, res.status, "only product owners accept")
	require.Contains(t, res.body, "Product owner")
	res = b.api("PATCH", "/api/v1/projects/CRM/requirements/CRM-REQ-1", dev, body(`{"title":"Dev edit","version":3}`))
	require.Equal(t, http.StatusForbidden, res.status, "developers may move but not edit")
	res = b.api("PATCH", "/api/v1/projects/CRM/requirements/CRM-REQ-1", po, body(`{"status":"delivered","version":3}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, "a move the rules do not allow")
	require.Contains(t, res.body, "can move to")
	res = b.api("PATCH", "/api/v1/projects/CRM/requirements/CRM-REQ-1", po, body(`{"status":"accepted","version":3}`))
	require.Equal(t, http.StatusOK, res.status, res.body)

	// The discussion.
	res = b.api("POST", "/api/v1/requirements/CRM-REQ-1/comments", viewer, body(`{"kind":"question","body":"Which currency?"}`))
	require.Equal(t, http.StatusCreated, res.status, "viewers file feedback")
	q := decode[alm.Comment](t, res)
	res = b.api("POST", "/api/v1/requirements/CRM-REQ-1/comments", dev, body(fmt.Sprintf(`{"body":"EUR?","parent_id":%d,"answers":true}`, q.ID)))
	require.Equal(t, http.StatusForbidden, res.status, "a developer cannot close a product owner's question")
	res = b.api("POST", "/api/v1/requirements/CRM-REQ-1/comments", po, body(fmt.Sprintf(`{"body":"EUR only.","parent_id":%d,"answers":true}`, q.ID)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	res = b.api("POST", "/api/v1/requirements/CRM-REQ-1/comments", dev, body(`{"kind":"change_request","body":"Lower the bar","proposed_title":"Quote approvals over 5k"}`))
	require.Equal(t, http.StatusCreated, res.status)
	cr := decode[alm.Comment](t, res)
	res = b.api("PATCH", fmt.Sprintf("/api/v1/requirements/CRM-REQ-1/comments/%d", cr.ID), dev, body(`{"state":"accepted"}`))
	require.Equal(t, http.StatusForbidden, res.status)
	res = b.api("PATCH", fmt.Sprintf("/api/v1/requirements/CRM-REQ-1/comments/%d", cr.ID), po, body(`{"state":"accepted"}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	res = b.api("GET", "/api/v1/requirements/CRM-REQ-1/comments", viewer, nil)
	threads := decode[struct{ Items []alm.Comment }](t, res).Items
	require.Len(t, threads, 2)
	require.Equal(t, alm.StateAnswered, threads[0].State)
	require.Len(t, threads[0].Replies, 1)
	res = b.api("GET", "/api/v1/projects/CRM/requirements/CRM-REQ-1", viewer, nil)
	require.Equal(t, "Quote approvals over 5k", decode[alm.Requirement](t, res).Title)

	// Work items: unknown links are refused; moves follow the board rules.
	res = b.api("POST", "/api/v1/projects/CRM/work-items", dev, body(`{"title":"Flow","requirements":["CRM-REQ-1","CRM-REQ-9"]}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, decode[apiError](t, res).Error.Fields["requirements"], "CRM-REQ-9")
	res = b.api("POST", "/api/v1/projects/CRM/work-items", dev, body(fmt.Sprintf(`{"title":"Approval flow","requirements":["crm-req-1"],"assignee_id":%d,"estimate":3}`, devUser.ID)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	it := decode[alm.WorkItem](t, res)
	require.Equal(t, "CRM-1", it.Key)
	res = b.api("PATCH", "/api/v1/projects/CRM/work-items/CRM-1", dev, body(`{"status":"ready","version":1}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	res = b.api("PATCH", "/api/v1/projects/CRM/work-items/CRM-1", dev, body(`{"status":"in_progress","version":2}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, decode[apiError](t, res).Error.Fields["status"], "Plan CRM-1")
	res = b.api("PATCH", "/api/v1/projects/CRM/work-items/CRM-1", dev, body(`{"approach":"both","maintenance_note":"Sales ops","status":"in_progress","version":2}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	res = b.api("PATCH", "/api/v1/projects/CRM/work-items/CRM-1", dev, body(`{"status":"done","version":4}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)

	// Releases.
	res = b.api("POST", "/api/v1/projects/CRM/releases", dev, body(`{"name":"Spring"}`))
	require.Equal(t, http.StatusForbidden, res.status)
	res = b.api("POST", "/api/v1/projects/CRM/releases", rm, body(`{"name":"Spring '27","version":"1.4","target_date":"2027-03-31"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	rel := decode[struct {
		alm.Release
		Notes string `json:"notes"`
	}](t, res)
	res = b.api("PATCH", "/api/v1/projects/CRM/work-items/CRM-1", dev, body(fmt.Sprintf(`{"release_id":%d,"version":4}`, rel.ID)))
	require.Equal(t, http.StatusForbidden, res.status, "developers do not fill releases")
	res = b.api("PATCH", "/api/v1/projects/CRM/work-items/CRM-1", rm, body(fmt.Sprintf(`{"release_id":%d,"version":4}`, rel.ID)))
	require.Equal(t, http.StatusOK, res.status, res.body)
	res = b.api("GET", fmt.Sprintf("/api/v1/projects/CRM/releases/%d", rel.ID), viewer, nil)
	require.Contains(t, res.body, "CRM-1** Approval flow — delivers CRM-REQ-1 Quote approvals over 5k")
	res = b.api("PATCH", fmt.Sprintf("/api/v1/projects/CRM/releases/%d", rel.ID), rm, body(`{"status":"released","revision":1}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	res = b.api("PATCH", fmt.Sprintf("/api/v1/projects/CRM/releases/%d", rel.ID), rm, body(`{"notes":"# Hand written","status":"building","revision":1}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `"notes_edited": true`)

	// Lists page with cursors and filter.
	for i := range 5 {
		res = b.api("POST", "/api/v1/projects/CRM/requirements", po, body(fmt.Sprintf(`{"title":"Bulk %d","labels":["bulk"]}`, i)))
		require.Equal(t, http.StatusCreated, res.status)
	}
	seen := 0
	next := ""
	for {
		res = b.api("GET", "/api/v1/projects/CRM/requirements?label=bulk&limit=2&after="+next, viewer, nil)
		require.Equal(t, http.StatusOK, res.status, res.body)
		pg := decode[struct {
			Items []alm.ReqRow
			Next  string `json:"next_cursor"`
		}](t, res)
		seen += len(pg.Items)
		if next = pg.Next; next == "" {
			break
		}
	}
	require.Equal(t, 5, seen)
	res = b.api("GET", "/api/v1/projects/CRM/requirements?status=shipped", viewer, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	res = b.api("GET", "/api/v1/projects/NOPE/requirements", viewer, nil)
	require.Equal(t, http.StatusNotFound, res.status)
	require.Contains(t, res.body, `"code": "not_found"`)

	res = b.api("GET", "/api/v1/requirements/CRM-REQ-1/lineage", viewer, nil)
	require.Equal(t, http.StatusOK, res.status)
	lin := decode[alm.Lineage](t, res)
	require.Equal(t, "CRM-1", lin.WorkItems[0].Key)
	require.Equal(t, []string{"CRM-1"}, lin.Releases[0].WorkItems)

	res = b.api("GET", "/api/v1/search?q=approval", viewer, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Len(t, decode[struct{ Items []alm.SearchHit }](t, res).Items, 2)

	// A key from another project is not reachable through this one.
	b.api("POST", "/api/v1/projects", po, body(`{"key":"ERP","name":"ERP"}`))
	res = b.api("GET", "/api/v1/projects/ERP/requirements/CRM-REQ-1", viewer, nil)
	require.Equal(t, http.StatusNotFound, res.status)
}

func TestProjectRolesOverrideGlobalRoles(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	admin := b.token(b.user(alm.RoleAdmin, "admin2@example.com"))
	devUser := b.user(alm.RoleDeveloper, "dev@example.com")
	dev := b.token(devUser)
	res := b.api("POST", "/api/v1/projects", admin, strings.NewReader(`{"key":"CRM","name":"Sales"}`))
	require.Equal(t, http.StatusCreated, res.status)
	res = b.api("POST", "/api/v1/projects/CRM/requirements", dev, strings.NewReader(`{"title":"x"}`))
	require.Equal(t, http.StatusForbidden, res.status)
	require.Contains(t, res.body, "Your role in CRM (Developer)")
	p, err := b.store.ProjectByKey(b.ctx, "CRM")
	require.NoError(t, err)
	require.NoError(t, b.store.SetMember(b.ctx, p.ID, devUser.ID, alm.RoleProductOwner))
	res = b.api("POST", "/api/v1/projects/CRM/requirements", dev, strings.NewReader(`{"title":"x"}`))
	require.Equal(t, http.StatusCreated, res.status, "a product owner in this project")
	res = b.api("GET", "/api/v1/projects/CRM", dev, nil)
	require.Contains(t, res.body, `"your_role": "product_owner"`)
}

// TestOpenAPIMatchesRoutes holds /api/v1/openapi.json to the router: every
// API route is described with its method and access rule, nothing else
// is, every $ref resolves and every path parameter is declared.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	res := b.browser().get("/api/v1/openapi.json")
	require.Equal(t, http.StatusOK, res.status)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.body), &doc))
	require.Equal(t, "3.1.0", doc["openapi"])
	paths := doc["paths"].(map[string]any)

	routes := map[string]string{}
	for _, r := range b.server.Routes() {
		if strings.HasPrefix(r.Pattern, "/api/") {
			routes[strings.ToLower(r.Method)+" "+r.Pattern] = r.Access
		}
	}
	described := map[string]bool{}
	opIDs := map[string]bool{}
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			key := method + " " + path
			described[key] = true
			access, ok := routes[key]
			require.Truef(t, ok, "openapi.json describes %s, which the router does not have", key)
			require.Equal(t, access, op["x-trellis-permission"], "%s: the documented permission is the route's", key)
			id := op["operationId"].(string)
			require.False(t, opIDs[id], "operationId %s twice", id)
			opIDs[id] = true
			declared := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				require.Truef(t, declared[m[1]], "%s: path parameter %s is not declared", key, m[1])
			}
		}
	}
	for key := range routes {
		require.Truef(t, described[key], "route %s is missing from openapi.json", key)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range regexp.MustCompile(`"\$ref": "#/components/schemas/(\w+)"`).FindAllStringSubmatch(res.body, -1) {
		require.Containsf(t, schemas, m[1], "$ref to a missing schema %s", m[1])
	}
	require.Equal(t, server.OpenAPI()["openapi"], doc["openapi"])
}

// TestAPIResponsesMatchTheirSchemas checks that what the API answers has
// no property its schema leaves out, so the description cannot drift.
func TestAPIResponsesMatchTheirSchemas(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	tok := b.token(b.user(alm.RoleAdmin, "admin2@example.com"))
	sd := seedPlan(t, b)
	schemas := server.OpenAPI()["components"].(map[string]any)["schemas"].(map[string]any)
	calls := []struct{ path, schema string }{
		{"/api/v1/projects", "ProjectList"},
		{"/api/v1/projects/CRM/requirements", "RequirementPage"},
		{"/api/v1/projects/CRM/requirements/" + sd.req.Key, "Requirement"},
		{"/api/v1/requirements/" + sd.req.Key + "/comments", "CommentList"},
		{"/api/v1/requirements/" + sd.req.Key + "/lineage", "Lineage"},
		{"/api/v1/projects/CRM/work-items", "WorkItemPage"},
		{"/api/v1/projects/CRM/work-items/" + sd.item.Key, "WorkItem"},
		{"/api/v1/projects/CRM/board", "Board"},
		{"/api/v1/projects/CRM/releases", "ReleaseList"},
		{fmt.Sprintf("/api/v1/projects/CRM/releases/%d", sd.release.ID), "Release"},
		{"/api/v1/search?q=quote", "SearchResults"},
	}
	for _, c := range calls {
		res := b.api("GET", c.path, tok, nil)
		require.Equal(t, http.StatusOK, res.status, c.path)
		var v any
		require.NoError(t, json.Unmarshal([]byte(res.body), &v))
		checkAgainst(t, c.path, v, schemas[c.schema].(map[string]any), schemas)
	}
}

func checkAgainst(t *testing.T, at string, v any, schema map[string]any, all map[string]any) {
	t.Helper()
	if ref, ok := schema["$ref"].(string); ok {
		schema = all[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
	switch x := v.(type) {
	case map[string]any:
		props, ok := schema["properties"].(map[string]any)
		if !ok {
			return
		}
		for k, val := range x {
			sub, ok := props[k].(map[string]any)
			require.Truef(t, ok, "%s: property %q is not in the schema", at, k)
			checkAgainst(t, at+"."+k, val, sub, all)
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, el := range x {
				checkAgainst(t, fmt.Sprintf("%s[%d]", at, i), el, items, all)
			}
		}
	}
}

func TestOpenAPIIsReadableBeforeSetup(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{NoUser: true})
	res := b.browser().get("/api/v1/openapi.json")
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `"openapi": "3.1.0"`)
}
