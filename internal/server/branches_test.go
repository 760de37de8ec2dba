package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gittest"
)

// TestWorkItemBranch backs a project with a repository, starts a work
// item's branch from the first stage's branch, sees a commit pushed to it
// from outside and the base moving on, as the work item page shows them.
func TestWorkItemBranch(t *testing.T) {
	t.Parallel()
	gittest.RequireGit(t)
	b := setup(t, setupOpts{Develop: true})
	src := t.TempDir()
	put := func(p, c string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, p), []byte(c), 0o644))
	}
	gittest.Init(t, src, "main")
	put("sfdx-project.json", `{"packageDirectories":[{"path":"force-app","default":true}]}`)
	put("force-app/main/default/classes/A.cls", "public class A {}\n")
	put("force-app/main/default/classes/A.cls-meta.xml", `<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>`)
	gittest.CommitAll(t, src, "one")
	out, err := exec.Command("git", "-C", src, "branch", "integration").CombinedOutput()
	require.NoError(t, err, "%s", out)

	var p alm.Project
	admin := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
	res := b.api("POST", "/api/v1/repositories", b.token(admin), strings.NewReader(fmt.Sprintf(`{"name":"crm","url":"file://%s"}`, src)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	repo := decode[alm.Repository](t, res)

	p, err = b.store.CreateProject(b.ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	require.NoError(t, err)
	err = b.store.SavePipeline(b.ctx, p.ID, []alm.Stage{{Name: "Integration", Branch: "integration", TestLevel: "RunLocalTests", ApproverRoles: []alm.Role{}}})
	require.NoError(t, err)
	item, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Quote approvals & totals!"})
	require.NoError(t, err)

	br := b.signedIn(admin)
	page := br.get("/work-items/" + item.Key)
	require.Equal(t, 0, page.doc(t).Find(`[data-testid="item-branch"]`).Length(), "no branch card without a repository")

	res = br.post("/projects/CRM/git", url.Values{"repository_id": {"999999"}, "branching": {"environment"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, br.get(res.location()).body, "That repository is not connected")
	res = br.post("/projects/CRM/git", url.Values{"repository_id": {fmt.Sprint(repo.ID)}, "branching": {"environment"}})
	require.Equal(t, http.StatusSeeOther, res.status)
	pipe := br.get("/projects/CRM/pipeline").doc(t)
	require.Contains(t, pipe.Find(`[data-testid="version-control"]`).Text(), "environment branches")
	api := b.api("GET", "/api/v1/projects/CRM/git", b.token(admin), nil)
	require.Contains(t, api.body, `"branching": "environment"`)

	card := br.get("/work-items/" + item.Key).doc(t).Find(`[data-testid="item-branch"]`)
	require.Contains(t, card.Text(), "feature/"+item.Key+"-quote-approvals-totals")
	res = br.post("/work-items/"+item.Key+"/branch", nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Contains(t, br.get(res.location()).body, "Branch feature/"+item.Key+"-quote-approvals-totals made from integration")

	// A developer pushes to the branch from outside Trellis; integration
	// moves on too.
	work := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev One", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev One", "GIT_COMMITTER_EMAIL=dev@example.com")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	branch := "feature/" + item.Key + "-quote-approvals-totals"
	git("clone", "-q", "-b", branch, src, ".")
	require.NoError(t, os.WriteFile(filepath.Join(work, "force-app/main/default/classes/A.cls"), []byte("public class A { Integer total; }\n"), 0o644))
	git("commit", "-qam", item.Key+": totals")
	git("push", "-q", "origin", branch)
	git("checkout", "-q", "-b", "integration", "origin/integration")
	require.NoError(t, os.WriteFile(filepath.Join(work, "README.md"), []byte("hello\n"), 0o644))
	git("add", "README.md")
	git("commit", "-qm", "integration moves on")
	git("push", "-q", "origin", "integration")

	_ = b.api("POST", fmt.Sprintf("/api/v1/repositories/%d/snapshots", repo.ID), b.token(admin), nil) // fetches
	require.Eventually(t, func() bool {
		card = br.get("/work-items/" + item.Key).doc(t).Find(`[data-testid="item-branch"]`)
		// Refs arrive one by one as the mirror fetches: wait for both.
		return strings.Contains(card.Text(), "1 behind integration") && strings.Contains(card.Text(), item.Key+": totals")
	}, 20e9, 100e6, "the page shows the branch's commit and how far behind its base it is")
	require.Contains(t, card.Find(`[data-testid="branch-commits"]`).Text(), item.Key+": totals", card.Text())
	require.Contains(t, card.Find(`[data-testid="branch-commits"]`).Text(), "Dev One")
	changes := card.Find(`[data-testid="branch-changes"] li`)
	require.Equal(t, 1, changes.Length(), "the branch changes one component: %s", card.Text())
	require.Contains(t, changes.Text(), "ApexClass")
	require.Contains(t, changes.Text(), "changed")
	res = br.post("/work-items/"+item.Key+"/branch", nil)
	require.Contains(t, br.get(res.location()).body, "already works on "+branch)
	res = b.api("GET", "/api/v1/work-items/"+item.Key+"/branch", b.token(admin), nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	for _, w := range []string{`"behind": 1`, `"subject": "` + item.Key + `: totals"`, `"change": "changed"`, `"base": "integration"`} {
		require.Contains(t, res.body, w)
	}
	res = b.api("POST", "/api/v1/work-items/"+item.Key+"/branch", b.token(admin), nil)
	require.Equal(t, http.StatusConflict, res.status, res.body)
	require.Contains(t, res.body, branch)
	res = b.api("PUT", "/api/v1/projects/CRM/git", b.token(admin), strings.NewReader(`{"repository_id":null,"branching":"trunk"}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `"repository_id": null`)
	res = b.api("PUT", "/api/v1/projects/CRM/git", b.token(admin), strings.NewReader(`{"branching":"sideways"}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
}
