package githost_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-alm/trellis/internal/githost"
)

// The hosts' APIs as their references describe them, for the paths,
// fields and status codes the client relies on:
//   GitHub REST: POST /repos/{owner}/{repo}/pulls {title, head, base, body} → 201 {number, html_url, state};
//     an open pull request for the same head → 422 "Validation Failed"; a bad token → 401 "Bad credentials".
//     POST /repos/{owner}/{repo}/statuses/{sha} {state: error|failure|pending|success, context, description, target_url} → 201.
//     GET  /repos/{owner}/{repo}/pulls/{number} → {state: open|closed, merged, merge_commit_sha}; unknown → 404 "Not Found".
//     PUT  /repos/{owner}/{repo}/pulls/{number}/merge → 200 {sha, merged}; not mergeable → 405.
//   GitLab REST v4 (PRIVATE-TOKEN header, project path URL-encoded):
//     POST /projects/:id/merge_requests {source_branch, target_branch, title} → 201 {iid, web_url, state: opened};
//     another open one for the branch → 409 with a list of messages.
//     POST /projects/:id/statuses/:sha {state: pending|running|success|failed|canceled, name} → 201.
//     GET  /projects/:id/merge_requests/:iid → {state: opened|closed|merged, merge_commit_sha}.
//     PUT  /projects/:id/merge_requests/:iid/merge → 200 {state: merged, merge_commit_sha}; cannot merge → 405.

type sim struct {
	mu       sync.Mutex
	kind     string
	pulls    map[int]*pull
	statuses map[string][]map[string]string
	blocked  map[int]bool
}

type pull struct {
	head, base string
	merged     bool
}

func newSim(t *testing.T, kind, token string) (*sim, *httptest.Server) {
	s := &sim{kind: kind, pulls: map[int]*pull{}, statuses: map[string][]map[string]string{}, blocked: map[int]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		reply := func(code int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(v)
		}
		authed := r.Header.Get("Authorization") == "Bearer "+token
		if kind == "gitlab" {
			authed = r.Header.Get("PRIVATE-TOKEN") == token
		}
		if !authed {
			if kind == "gitlab" {
				reply(401, map[string]string{"message": "401 Unauthorized"})
			} else {
				reply(401, map[string]string{"message": "Bad credentials"})
			}
			return
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		path := r.URL.EscapedPath()
		prefix := "/repos/acme/crm"
		if kind == "gitlab" {
			prefix = "/api/v4/projects/salesforce%2Fcrm"
		}
		if !strings.HasPrefix(path, prefix) {
			reply(404, map[string]string{"message": "Not Found"})
			return
		}
		rest := strings.TrimPrefix(path, prefix)
		pullsPath := map[string]string{"github": "/pulls", "gitlab": "/merge_requests"}[kind]
		switch {
		case r.Method == http.MethodPost && rest == pullsPath:
			head, base := body["head"], body["base"]
			if kind == "gitlab" {
				head, base = body["source_branch"], body["target_branch"]
			}
			for n, p := range s.pulls {
				if p.head == head && !p.merged {
					if kind == "gitlab" {
						reply(409, map[string]any{"message": []string{fmt.Sprintf("Another open merge request already exists for this source branch: !%d", n)}})
					} else {
						reply(422, map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"message": "A pull request already exists for acme:" + head + "."}}})
					}
					return
				}
			}
			n := len(s.pulls) + 1
			s.pulls[n] = &pull{head: head, base: base}
			if kind == "gitlab" {
				reply(201, map[string]any{"iid": n, "web_url": fmt.Sprintf("https://gitlab.example/salesforce/crm/-/merge_requests/%d", n), "state": "opened"})
			} else {
				reply(201, map[string]any{"number": n, "html_url": fmt.Sprintf("https://github.com/acme/crm/pull/%d", n), "state": "open"})
			}
		case r.Method == http.MethodPost && strings.HasPrefix(rest, "/statuses/"):
			valid := map[string]bool{"error": true, "failure": true, "pending": true, "success": true}
			if kind == "gitlab" {
				valid = map[string]bool{"pending": true, "running": true, "success": true, "failed": true, "canceled": true}
			}
			if !valid[body["state"]] {
				reply(422, map[string]string{"message": "Validation Failed"})
				return
			}
			sha := strings.TrimPrefix(rest, "/statuses/")
			s.statuses[sha] = append(s.statuses[sha], body)
			reply(201, body)
		case strings.HasPrefix(rest, pullsPath+"/"):
			parts := strings.Split(strings.TrimPrefix(rest, pullsPath+"/"), "/")
			var n int
			fmt.Sscan(parts[0], &n)
			p := s.pulls[n]
			if p == nil {
				reply(404, map[string]string{"message": "Not Found"})
				return
			}
			if len(parts) == 2 && parts[1] == "merge" && r.Method == http.MethodPut {
				if s.blocked[n] {
					if kind == "gitlab" {
						reply(405, map[string]string{"message": "405 Method Not Allowed"})
					} else {
						reply(405, map[string]string{"message": "Pull Request is not mergeable"})
					}
					return
				}
				p.merged = true
				if kind == "gitlab" {
					reply(200, map[string]any{"state": "merged", "merge_commit_sha": "abc123"})
				} else {
					reply(200, map[string]any{"sha": "abc123", "merged": true, "message": "Pull Request successfully merged"})
				}
				return
			}
			state := map[bool]string{false: "open", true: "closed"}[p.merged]
			if kind == "gitlab" {
				state = map[bool]string{false: "opened", true: "merged"}[p.merged]
				reply(200, map[string]any{"iid": n, "state": state, "merge_commit_sha": map[bool]any{false: nil, true: "abc123"}[p.merged]})
				return
			}
			reply(200, map[string]any{"number": n, "state": state, "merged": p.merged, "merge_commit_sha": "abc123"})
		default:
			reply(404, map[string]string{"message": "Not Found"})
		}
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func TestHosts(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ kind, remote, api string }{
		{"github", "https://github.com/acme/crm.git", ""},
		{"gitlab", "https://gitlab.example/salesforce/crm.git", "/api/v4"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			s, srv := newSim(t, tc.kind, "tok")
			h, err := githost.For(tc.remote, "tok", githost.Options{Kind: tc.kind, APIBase: srv.URL + tc.api})
			if err != nil {
				t.Fatal(err)
			}
			pr, err := h.OpenPullRequest(ctx, githost.PR{Title: "Promote CRM-12 to UAT", Head: "feature/CRM-12-totals", Base: "uat"})
			if err != nil || pr.Number != 1 || !strings.Contains(pr.URL, "/1") {
				t.Fatalf("open: %+v %v", pr, err)
			}
			_, err = h.OpenPullRequest(ctx, githost.PR{Title: "again", Head: "feature/CRM-12-totals", Base: "uat"})
			var he *githost.Error
			if !errors.As(err, &he) || (he.Status != 422 && he.Status != 409) {
				t.Errorf("a second open pull request: %v", err)
			}
			for _, state := range []string{"pending", "failure", "success"} {
				if err := h.SetStatus(ctx, "deadbeef", githost.Status{State: state, Context: "trellis/validation", Description: strings.Repeat("é", 300), TargetURL: "https://trellis.example/validations/1"}); err != nil {
					t.Fatalf("status %s: %v", state, err)
				}
			}
			got := s.statuses["deadbeef"]
			want := []string{"pending", "failure", "success"}
			if tc.kind == "gitlab" {
				want[1] = "failed"
			}
			for i, w := range want {
				if got[i]["state"] != w {
					t.Errorf("status %d: %v, want %s", i, got[i], w)
				}
			}
			if n := len([]rune(got[0]["description"])); n > 255 {
				t.Errorf("description of %d characters", n)
			}
			st, err := h.PullRequest(ctx, 1)
			if err != nil || !st.Open || st.Merged {
				t.Errorf("state: %+v %v", st, err)
			}
			s.blocked[1] = true
			if _, err := h.Merge(ctx, 1, "Merge"); !errors.As(err, &he) || he.Status != 405 {
				t.Errorf("unmergeable: %v", err)
			}
			s.blocked[1] = false
			sha, err := h.Merge(ctx, 1, "Merge CRM-12")
			if err != nil || sha != "abc123" {
				t.Errorf("merge: %q %v", sha, err)
			}
			if st, _ := h.PullRequest(ctx, 1); !st.Merged || st.MergeCommit != "abc123" || st.Open {
				t.Errorf("after merge: %+v", st)
			}
			if _, err := h.PullRequest(ctx, 99); !errors.As(err, &he) || he.Status != 404 {
				t.Errorf("unknown pull request: %v", err)
			}
			bad, _ := githost.For(tc.remote, "expired", githost.Options{Kind: tc.kind, APIBase: srv.URL + tc.api})
			if _, err := bad.PullRequest(ctx, 1); !errors.As(err, &he) || he.Status != 401 {
				t.Errorf("expired token: %v", err)
			}
		})
	}
}

func TestFor(t *testing.T) {
	for _, c := range []struct{ remote, kind string }{
		{"https://github.com/acme/crm.git", "GitHub"},
		{"https://gitlab.com/group/sub/crm", "GitLab"},
		{"https://gitlab.acme.example/team/crm.git", "GitLab"},
		{"https://bitbucket.org/acme/crm.git", "Bitbucket"},
		{"https://dev.azure.com/acme/crm/_git/crm", "Azure Repos"},
	} {
		h, err := githost.For(c.remote, "t", githost.Options{})
		if err != nil || h.Name() != c.kind {
			t.Errorf("%s: %v %v", c.remote, h, err)
		}
	}
	if _, err := githost.For("https://git.internal.example/crm.git", "t", githost.Options{}); !errors.Is(err, githost.ErrUnknownHost) {
		t.Errorf("unknown host: %v", err)
	}
	if _, err := githost.For("https://github.com/just-an-owner", "t", githost.Options{}); err == nil {
		t.Error("a GitHub URL without a repository")
	}
}

// Bitbucket Cloud REST 2.0 (Bearer token): POST /2.0/repositories/{ws}/{repo}/pullrequests
// {title, source: {branch: {name}}, destination: {branch: {name}}} → 201 {id, links.html.href, state: OPEN};
// an open one for the same source → 400 {"type":"error","error":{"message":…}};
// POST …/commit/{sha}/statuses/build {key, state: INPROGRESS|SUCCESSFUL|FAILED|STOPPED} → 201;
// GET …/pullrequests/{id} → {state: OPEN|MERGED|DECLINED, merge_commit: {hash}|null}; unknown → 404;
// POST …/pullrequests/{id}/merge → 200 {state: MERGED, merge_commit: {hash}}; cannot merge → 400.
// Azure Repos REST 7.1 (basic auth, empty user, PAT): POST /{org}/{project}/_apis/git/repositories/{repo}/pullrequests?api-version=7.1
// {sourceRefName, targetRefName, title} → 201 {pullRequestId, status: active, lastMergeSourceCommit.commitId};
// an active one for the same branches → 409 (TF401179); POST …/commits/{sha}/statuses {state: pending|succeeded|failed|error, context{name, genre}} → 201;
// GET …/pullrequests/{id} → {status: active|completed|abandoned, lastMergeCommit}; unknown → 404 (TF401180);
// PATCH …/pullrequests/{id} {status: completed, lastMergeSourceCommit.commitId} → 200 {status: completed, lastMergeCommit};
// a stale source commit or blocking policies → 409.
func newCloudSim(t *testing.T, kind, token string) (*sim, *httptest.Server) {
	s := &sim{kind: kind, pulls: map[int]*pull{}, statuses: map[string][]map[string]string{}, blocked: map[int]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		reply := func(code int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(v)
		}
		bbErr := func(code int, msg string) {
			reply(code, map[string]any{"type": "error", "error": map[string]string{"message": msg}})
		}
		azErr := func(code int, msg string) {
			reply(code, map[string]any{"message": msg, "typeKey": "GitPullRequestException"})
		}
		fail := bbErr
		prefix, pulls := "/2.0/repositories/acme/crm", "/pullrequests"
		authed := r.Header.Get("Authorization") == "Bearer "+token
		if kind == "azure" {
			fail, prefix = azErr, "/acme/crm/_apis/git/repositories/crm"
			u, p, ok := r.BasicAuth()
			authed = ok && u == "" && p == token
			if r.URL.Query().Get("api-version") != "7.1" {
				azErr(400, "VS403403: api-version is required")
				return
			}
		}
		if !authed {
			fail(401, "Access token expired.")
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			fail(404, "Not found")
			return
		}
		str := func(path ...string) string {
			var cur any = body
			for _, k := range path {
				m, _ := cur.(map[string]any)
				cur = m[k]
			}
			v, _ := cur.(string)
			return v
		}
		switch {
		case r.Method == http.MethodPost && rest == pulls:
			head := str("source", "branch", "name")
			if kind == "azure" {
				head = strings.TrimPrefix(str("sourceRefName"), "refs/heads/")
			}
			for _, p := range s.pulls {
				if p.head == head && !p.merged {
					if kind == "azure" {
						azErr(409, "TF401179: An active pull request for the source and target branch already exists.")
					} else {
						bbErr(400, "There are already open pull requests for this source branch.")
					}
					return
				}
			}
			n := len(s.pulls) + 1
			s.pulls[n] = &pull{head: head}
			if kind == "azure" {
				reply(201, map[string]any{"pullRequestId": n, "status": "active", "lastMergeSourceCommit": map[string]string{"commitId": "src1"}})
			} else {
				reply(201, map[string]any{"id": n, "state": "OPEN", "links": map[string]any{"html": map[string]string{"href": fmt.Sprintf("https://bitbucket.org/acme/crm/pull-requests/%d", n)}}})
			}
		case r.Method == http.MethodPost && strings.HasPrefix(rest, "/commit"):
			valid := map[string]bool{"INPROGRESS": true, "SUCCESSFUL": true, "FAILED": true, "STOPPED": true}
			if kind == "azure" {
				valid = map[string]bool{"pending": true, "succeeded": true, "failed": true, "error": true}
			}
			if !valid[str("state")] {
				fail(400, "invalid state")
				return
			}
			sha := strings.Split(strings.TrimPrefix(strings.TrimPrefix(rest, "/commits/"), "/commit/"), "/")[0]
			s.statuses[sha] = append(s.statuses[sha], map[string]string{"state": str("state"), "description": str("description")})
			reply(201, body)
		case strings.HasPrefix(rest, pulls+"/"):
			parts := strings.Split(strings.TrimPrefix(rest, pulls+"/"), "/")
			var n int
			fmt.Sscan(parts[0], &n)
			p := s.pulls[n]
			if p == nil {
				fail(404, "TF401180: The requested pull request was not found.")
				return
			}
			merge := (kind == "bitbucket" && len(parts) == 2 && parts[1] == "merge" && r.Method == http.MethodPost) ||
				(kind == "azure" && r.Method == http.MethodPatch && str("status") == "completed")
			if merge {
				if kind == "azure" && str("lastMergeSourceCommit", "commitId") != "src1" {
					azErr(409, "TF401181: The pull request's source has changed.")
					return
				}
				if s.blocked[n] {
					fail(map[string]int{"bitbucket": 400, "azure": 409}[kind], "The pull request cannot be merged.")
					return
				}
				p.merged = true
			}
			if kind == "azure" {
				out := map[string]any{"pullRequestId": n, "status": map[bool]string{false: "active", true: "completed"}[p.merged],
					"lastMergeSourceCommit": map[string]string{"commitId": "src1"}}
				if p.merged {
					out["lastMergeCommit"] = map[string]string{"commitId": "abc123"}
				}
				reply(200, out)
				return
			}
			out := map[string]any{"id": n, "state": map[bool]string{false: "OPEN", true: "MERGED"}[p.merged], "merge_commit": nil}
			if p.merged {
				out["merge_commit"] = map[string]string{"hash": "abc123"}
			}
			reply(200, out)
		default:
			fail(404, "Not found")
		}
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func TestCloudHosts(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		kind, remote, api string
		dup, blocked      int
		states            []string
	}{
		{"bitbucket", "https://bitbucket.org/acme/crm.git", "/2.0", 400, 400, []string{"INPROGRESS", "FAILED", "SUCCESSFUL"}},
		{"azure", "https://dev.azure.com/acme/crm/_git/crm", "", 409, 409, []string{"pending", "failed", "succeeded"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			s, srv := newCloudSim(t, tc.kind, "tok")
			h, err := githost.For(tc.remote, "tok", githost.Options{APIBase: srv.URL + tc.api})
			if err != nil {
				t.Fatal(err)
			}
			pr, err := h.OpenPullRequest(ctx, githost.PR{Title: "Promote CRM-12 to UAT", Head: "feature/CRM-12-totals", Base: "uat"})
			if err != nil || pr.Number != 1 || !strings.HasSuffix(pr.URL, "/1") {
				t.Fatalf("open: %+v %v", pr, err)
			}
			var he *githost.Error
			if _, err := h.OpenPullRequest(ctx, githost.PR{Title: "again", Head: "feature/CRM-12-totals", Base: "uat"}); !errors.As(err, &he) || he.Status != tc.dup || he.Message == "" {
				t.Errorf("a second open pull request: %v", err)
			}
			for _, state := range []string{"pending", "failure", "success"} {
				if err := h.SetStatus(ctx, "deadbeef", githost.Status{State: state, Context: "trellis/validation", Description: "validated"}); err != nil {
					t.Fatalf("status %s: %v", state, err)
				}
			}
			for i, w := range tc.states {
				if got := s.statuses["deadbeef"][i]["state"]; got != w {
					t.Errorf("status %d: %s, want %s", i, got, w)
				}
			}
			if st, err := h.PullRequest(ctx, 1); err != nil || !st.Open || st.Merged {
				t.Errorf("state: %+v %v", st, err)
			}
			s.blocked[1] = true
			if _, err := h.Merge(ctx, 1, "Merge"); !errors.As(err, &he) || he.Status != tc.blocked {
				t.Errorf("blocked merge: %v", err)
			}
			s.blocked[1] = false
			if sha, err := h.Merge(ctx, 1, "Merge CRM-12"); err != nil || sha != "abc123" {
				t.Errorf("merge: %q %v", sha, err)
			}
			if st, _ := h.PullRequest(ctx, 1); !st.Merged || st.MergeCommit != "abc123" {
				t.Errorf("after merge: %+v", st)
			}
			if _, err := h.PullRequest(ctx, 99); !errors.As(err, &he) || he.Status != 404 {
				t.Errorf("unknown: %v", err)
			}
			bad, _ := githost.For(tc.remote, "expired", githost.Options{APIBase: srv.URL + tc.api})
			if _, err := bad.PullRequest(ctx, 1); !errors.As(err, &he) || he.Status != 401 || !strings.Contains(he.Message, "expired") {
				t.Errorf("expired token: %v", err)
			}
		})
	}
}
