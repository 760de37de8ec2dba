package server_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gittest"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/store"
)

const labelsPath = "force-app/main/default/labels/CustomLabels.labels-meta.xml"

// labels writes a CustomLabels file with the given name → value pairs.
func labels(pairs ...string) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CustomLabels xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n")
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, "    <labels>\n        <fullName>%s</fullName>\n        <language>en_US</language>\n        <protected>false</protected>\n        <shortDescription>%s</shortDescription>\n        <value>%s</value>\n    </labels>\n", pairs[i], pairs[i], pairs[i+1])
	}
	b.WriteString("</CustomLabels>\n")
	return b.String()
}

// gitFlow is a git-backed project over a real git server (smart HTTP with
// a token) and three simulated orgs: Integration, UAT and Production on
// branches integration, uat and main.
type gitFlow struct {
	setToken func(string) // rotates the git server's token
	hub      *hubSim      // the git host's pull-request API, when a test sets one
	t        *testing.T
	b        *testBundle
	tok      string
	bare     string
	work     string // a developer's clone
	repo     alm.Repository
	orgs     map[string]alm.Org
}

func (g *gitFlow) git(args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = g.work
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev One", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev One", "GIT_COMMITTER_EMAIL=dev@example.com")
	out, err := cmd.CombinedOutput()
	require.NoError(g.t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func (g *gitFlow) write(path, content string) {
	g.t.Helper()
	require.NoError(g.t, os.MkdirAll(filepath.Dir(filepath.Join(g.work, path)), 0o755))
	require.NoError(g.t, os.WriteFile(filepath.Join(g.work, path), []byte(content), 0o644))
}

// remote reads a file on a branch of the server's repository.
func (g *gitFlow) remote(branch, path string) string {
	g.t.Helper()
	out, err := exec.Command("git", "--git-dir", g.bare, "show", "refs/heads/"+branch+":"+path).CombinedOutput()
	require.NoError(g.t, err, "%s", out)
	return string(out)
}

func (g *gitFlow) head(branch string) string {
	out, err := exec.Command("git", "--git-dir", g.bare, "rev-parse", "refs/heads/"+branch).Output()
	require.NoError(g.t, err)
	return strings.TrimSpace(string(out))
}

func newGitFlow(t *testing.T, branching string) *gitFlow {
	t.Helper()
	gittest.RequireGit(t)
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"dev", "int", "uat", "prod"}})
	g := &gitFlow{t: t, b: b, work: t.TempDir(), orgs: map[string]alm.Org{}}
	src := t.TempDir()
	g.work = src
	g.git("init", "-q", "-b", "main")
	g.write("sfdx-project.json", `{"packageDirectories":[{"path":"force-app","default":true}],"sourceApiVersion":"62.0"}`)
	g.write(labelsPath, labels("Greeting", "Hello"))
	g.git("add", "-A")
	g.git("commit", "-qm", "base")
	g.git("branch", "integration")
	g.git("branch", "uat")
	root := t.TempDir()
	g.bare = gittest.Bare(t, src, root, "acme/crm")
	base, setToken := gittest.HTTPServer(t, root, "s3cret-token")
	g.setToken = setToken
	g.work = t.TempDir()
	g.git("clone", "-q", g.bare, ".")

	admin := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
	g.tok = b.token(admin)
	res := b.api("POST", "/api/v1/repositories", g.tok, strings.NewReader(fmt.Sprintf(`{"name":"crm","url":"%s/acme/crm.git","auth":"token","secret":"s3cret-token"}`, base)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	g.repo = decode[alm.Repository](t, res)
	_, err := b.store.CreateProject(b.ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	require.NoError(t, err)
	for _, name := range []string{"dev", "int", "uat", "prod"} {
		kind := alm.OrgFullSandbox
		switch name {
		case "prod":
			kind = alm.OrgProduction
		case "dev":
			kind = alm.OrgDeveloperSandbox
		}
		g.orgs[name] = connectSimOrg(t, b, g.tok, b.sim.Org(name), strings.ToUpper(name), kind)
	}
	branches := []any{"integration", "uat", "main"}
	if branching == alm.BranchingTrunk {
		branches = []any{"main", "", ""} // the stages deploy commits of main
	}
	stages := fmt.Sprintf(`{"stages":[
		{"name":"Integration","org_id":%d,"branch":%q,"test_level":"NoTestRun"},
		{"name":"UAT","org_id":%d,"branch":%q,"test_level":"NoTestRun"},
		{"name":"Production","org_id":%d,"branch":%q,"test_level":"RunLocalTests"}]}`,
		g.orgs["int"].ID, branches[0], g.orgs["uat"].ID, branches[1], g.orgs["prod"].ID, branches[2])
	res = b.api("PUT", "/api/v1/projects/CRM/pipeline", g.tok, strings.NewReader(stages))
	require.Equal(t, http.StatusOK, res.status, res.body)
	res = b.api("PUT", "/api/v1/projects/CRM/git", g.tok, strings.NewReader(fmt.Sprintf(`{"repository_id":%d,"branching":%q}`, g.repo.ID, branching)))
	require.Equal(t, http.StatusOK, res.status, res.body)
	return g
}

// item makes a work item with its branch, and commits files to it from
// the developer's clone (a push made outside Trellis).
func (g *gitFlow) item(title string, files map[string]string) alm.WorkItem {
	t := g.t
	p, err := g.b.store.ProjectByKey(g.b.ctx, "CRM")
	require.NoError(t, err)
	it, err := g.b.store.CreateWorkItem(g.b.ctx, p.ID, alm.WorkItemInput{Title: title})
	require.NoError(t, err)
	res := g.b.api("POST", "/api/v1/work-items/"+it.Key+"/branch", g.tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	br := decode[alm.WorkBranch](t, res)
	g.git("fetch", "-q", "origin")
	g.git("checkout", "-q", "-B", br.Name, "origin/"+br.Name)
	for p, c := range files {
		g.write(p, c)
	}
	g.git("add", "-A")
	g.git("commit", "-qm", it.Key+": "+title)
	g.git("push", "-q", "origin", br.Name)
	return it
}

// promote opens a promotion of a work item into stage over the API.
func (g *gitFlow) promote(key, stage string) (alm.Promotion, response) {
	res := g.b.api("POST", "/api/v1/work-items/"+key+"/promotions", g.tok, strings.NewReader(fmt.Sprintf(`{"stage":%q}`, stage)))
	if res.status != http.StatusCreated {
		return alm.Promotion{}, res
	}
	return decode[alm.Promotion](g.t, res), res
}

// deploy deploys a promotion and waits for the deploy and its push.
func (g *gitFlow) deploy(id int64) (alm.Deployment, alm.Promotion) {
	t := g.t
	res := g.b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", id), g.tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	d := waitDeployment(t, g.b, g.tok, decode[alm.Deployment](t, res).ID)
	var p alm.Promotion
	require.Eventually(t, func() bool {
		p = must(g.b.store.PromotionByID(g.b.ctx, id))
		return p.Git != nil && p.Git.State != alm.GitPushing
	}, 30*time.Second, 50*time.Millisecond, "the push finishes")
	return d, p
}

// TestPromotionIsAMerge takes two work items through an environment-branch
// pipeline over the API: each promotion merges the item's branch into the
// stage's branch, deploys what the merge changes and only then pushes; two
// items adding labels to one file merge by element; a conflicting value is
// settled through the conflicts API; a failed deploy pushes nothing; a
// protected branch refusing the push is a clear, retryable message; after
// production the lower branches are brought up to date; a hotfix pushed to
// a stage branch outside Trellis shows as "branch ahead of org" and is
// deployed as its own promotion.
func TestPromotionIsAMerge(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b

	// Both branches start from integration as it was.
	a := g.item("Greet warmly", map[string]string{labelsPath: labels("A_Label", "From A", "Greeting", "Hello world")})
	bi := g.item("Greet briefly", map[string]string{labelsPath: labels("B_Label", "From B", "Greeting", "Hi")})
	intBefore := g.head("integration")
	p, res := g.promote(a.Key, "Integration")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, alm.GitMerged, p.Git.State)
	require.Equal(t, "integration", p.Git.Into)
	require.Equal(t, intBefore, g.head("integration"), "nothing is pushed before the deploy")
	_, comps, err := b.store.BuildByID(b.ctx, p.BuildID)
	require.NoError(t, err)
	var names []string
	for _, c := range comps {
		names = append(names, c.Type+":"+c.Name+":"+c.Change)
	}
	require.ElementsMatch(t, []string{"CustomLabel:A_Label:new", "CustomLabel:Greeting:changed"}, names, "the build is the merge's delta")

	d, p := g.deploy(p.ID)
	require.Equal(t, "succeeded", d.Status, "%s %+v", d.Error, d.Result)
	require.Equal(t, alm.GitPushed, p.Git.State, p.Git.Message)
	require.Equal(t, p.Git.Commit, g.head("integration"), "the deployed merge is what the branch holds")
	require.Contains(t, g.remote("integration", labelsPath), "A_Label")

	// B adds its own label (merges by element with A's) and changes the
	// greeting differently (a real conflict).
	pb, res := g.promote(bi.Key, "Integration")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, alm.GitConflicts, pb.Git.State)
	require.Zero(t, pb.BuildID, "nothing is built while conflicts wait")
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", pb.ID), g.tok, nil)
	require.Equal(t, http.StatusConflict, res.status, res.body)
	require.Contains(t, res.body, "conflicts to settle")
	res = b.api("GET", fmt.Sprintf("/api/v1/promotions/%d/conflicts", pb.ID), g.tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, labelsPath)
	require.Contains(t, res.body, "CustomLabels/labels[fullName=Greeting]", "the conflict names the element")
	require.Contains(t, res.body, "Hello world")
	require.NotContains(t, strings.SplitN(res.body, `"hunks"`, 2)[1][:400], "A_Label", "labels each side added are not in conflict")
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/conflicts", pb.ID), g.tok, strings.NewReader(`{"choices":{}}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/conflicts", pb.ID), g.tok,
		strings.NewReader(fmt.Sprintf(`{"choices":{%q:{"hunks":["theirs"]}}}`, labelsPath)))
	require.Equal(t, http.StatusOK, res.status, res.body)
	pb = decode[alm.Promotion](t, res)
	require.Equal(t, alm.GitMerged, pb.Git.State)
	require.NotZero(t, pb.BuildID)
	d, pb = g.deploy(pb.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushed, pb.Git.State, pb.Git.Message)
	merged := g.remote("integration", labelsPath)
	require.Contains(t, merged, "A_Label")
	require.Contains(t, merged, "B_Label")
	require.Contains(t, merged, "<value>Hi</value>")
	require.NotContains(t, merged, "<<<<<<<")
	res = b.api("GET", fmt.Sprintf("/api/v1/promotions/%d/conflicts", pb.ID), g.tok, nil)
	require.Contains(t, res.body, `"resolution": "theirs"`, "the resolution is recorded on the promotion")

	// A deploy that fails pushes nothing.
	c := g.item("Broken class", map[string]string{
		"force-app/main/default/classes/Broken.cls":          "public class Broken {\n    public static void run() {\n        Integer a = 1\n        Integer b = 2;\n    }\n}\n",
		"force-app/main/default/classes/Broken.cls-meta.xml": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ApexClass xmlns=\"http://soap.sforce.com/2006/04/metadata\"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>\n"})
	before := g.head("integration")
	pc, res := g.promote(c.Key, "")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, "Integration", pc.StageName, "the next stage the item has not reached")
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", pc.ID), g.tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	d = waitDeployment(t, b, g.tok, decode[alm.Deployment](t, res).ID)
	_, ccomps, _ := b.store.BuildByID(b.ctx, pc.BuildID)
	require.Equal(t, "failed", d.Status, "%+v %+v", ccomps, d.Result)
	pc = must(b.store.PromotionByID(b.ctx, pc.ID))
	require.Equal(t, alm.GitMerged, pc.Git.State, "a failed deploy leaves the merge unpushed")
	require.Equal(t, before, g.head("integration"), "and the branch as it was")
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/abandon", pc.ID), g.tok, strings.NewReader(`{"reason":"broken"}`))
	require.Equal(t, http.StatusOK, res.status, res.body)

	// A protected branch refuses the push: the deploy stands, the message
	// says why, and pushing again works once the branch allows it.
	gittest.Protect(t, g.bare, "uat")
	pu, res := g.promote(a.Key, "UAT")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	d, pu = g.deploy(pu.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushFailed, pu.Git.State)
	require.Contains(t, pu.Git.Message, "refused the push to uat")
	require.NoError(t, os.Remove(filepath.Join(g.bare, "hooks", "pre-receive")))

	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/push", pu.ID), g.tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	require.Eventually(t, func() bool {
		pu = must(b.store.PromotionByID(b.ctx, pu.ID))
		return pu.Git.State == alm.GitPushed
	}, 30*time.Second, 50*time.Millisecond, pu.Git.Message)
	require.Contains(t, g.remote("uat", labelsPath), "A_Label")

	// Production, then back-propagation into the lower branches.
	pp, res := g.promote(a.Key, "Production")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	d, pp = g.deploy(pp.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushed, pp.Git.State, pp.Git.Message)
	require.Contains(t, pp.Git.Message, "Back-propagation")
	for _, br := range []string{"integration", "uat"} {
		out, err := exec.Command("git", "--git-dir", g.bare, "merge-base", "--is-ancestor", g.head("main"), g.head(br)).CombinedOutput()
		require.NoError(t, err, "%s holds main after back-propagation: %s", br, out)
	}

	// A hotfix merged on the host into uat: the branch is ahead of the org.
	g.git("fetch", "-q", "origin")
	g.git("checkout", "-q", "-B", "uat", "origin/uat")
	g.write(labelsPath, strings.Replace(g.remote("uat", labelsPath), "From A", "From A, fixed", 1))
	g.git("commit", "-qam", "Hotfix: label text")
	g.git("push", "-q", "origin", "uat")
	_ = b.api("POST", fmt.Sprintf("/api/v1/repositories/%d/snapshots", g.repo.ID), g.tok, strings.NewReader(`{"ref":"uat"}`)) // as the push webhook does
	var stages struct {
		Stages []struct {
			Stage        string
			AheadOfOrg   bool `json:"ahead_of_org"`
			CommitsAhead int  `json:"commits_ahead"`
			Components   []alm.BuildComponent
		}
	}
	require.Eventually(t, func() bool {
		res = b.api("GET", "/api/v1/projects/CRM/stages/git", g.tok, nil)
		stages = decode[struct {
			Stages []struct {
				Stage        string
				AheadOfOrg   bool `json:"ahead_of_org"`
				CommitsAhead int  `json:"commits_ahead"`
				Components   []alm.BuildComponent
			}
		}](t, res)
		return len(stages.Stages) == 3 && stages.Stages[1].AheadOfOrg
	}, 20*time.Second, 100*time.Millisecond, res.body)
	require.Equal(t, "CustomLabel", stages.Stages[1].Components[0].Type)
	require.Equal(t, "A_Label", stages.Stages[1].Components[0].Name)
	page := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get("/projects/CRM/pipeline").doc(t)
	require.Contains(t, page.Find(`[data-testid="stage-git-UAT"]`).Text(), "branch ahead of org")
	res = b.api("POST", "/api/v1/projects/CRM/stages/UAT/deploy-branch", g.tok, nil)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	ph := decode[alm.Promotion](t, res)
	d, ph = g.deploy(ph.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushed, ph.Git.State, ph.Git.Message)
	res = b.api("GET", "/api/v1/projects/CRM/stages/git", g.tok, nil)
	require.NotContains(t, res.body, `"ahead_of_org": true`, "after the deploy the org is in step with uat")
}

// TestTrunkBasedPromotion: one main branch; promoting a work item into
// the first stage merges its branch into main, and the later stages
// deploy the commit that merged it — what changed since the stage's org
// last received main, nothing merged or pushed.
func TestTrunkBasedPromotion(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingTrunk)
	b := g.b
	a := g.item("Greet warmly", map[string]string{labelsPath: labels("A_Label", "From A", "Greeting", "Hello")})
	bi := g.item("Say bye", map[string]string{labelsPath: labels("B_Label", "From B", "Greeting", "Hello")})

	_, res := g.promote(a.Key, "UAT")
	require.Equal(t, http.StatusConflict, res.status, res.body)
	require.Contains(t, res.body, "first stage first")

	pa, res := g.promote(a.Key, "")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, "Integration", pa.StageName)
	require.Equal(t, "main", pa.Git.Into)
	d, pa := g.deploy(pa.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushed, pa.Git.State, pa.Git.Message)
	require.Equal(t, pa.Git.Commit, g.head("main"))

	pb, res := g.promote(bi.Key, "Integration")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, alm.GitMerged, pb.Git.State, "two labels added to one file merge by element")
	d, pb = g.deploy(pb.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushed, pb.Git.State, pb.Git.Message)
	main := g.remote("main", labelsPath)
	require.Contains(t, main, "A_Label")
	require.Contains(t, main, "B_Label")

	// UAT gets A's merge commit: A's label only, though main holds B's too.
	mainBefore := g.head("main")
	pu, res := g.promote(a.Key, "")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, "UAT", pu.StageName)
	require.Equal(t, pa.Git.Commit, pu.Git.Commit, "UAT deploys the commit that merged A")
	_, comps, err := b.store.BuildByID(b.ctx, pu.BuildID)
	require.NoError(t, err)
	require.Len(t, comps, 1)
	require.Equal(t, "A_Label", comps[0].Name)
	d, pu = g.deploy(pu.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushed, pu.Git.State, pu.Git.Message)
	require.Equal(t, mainBefore, g.head("main"), "nothing is merged or pushed for a later stage")

	// Then B into UAT: only what B's merge adds since A's.
	pu2, res := g.promote(bi.Key, "UAT")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	_, comps, err = b.store.BuildByID(b.ctx, pu2.BuildID)
	require.NoError(t, err)
	require.Len(t, comps, 1)
	require.Equal(t, "B_Label", comps[0].Name)

	res = b.api("GET", "/api/v1/projects/CRM/stages/git", g.tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `"branch": "main"`)
}

// TestCommitChangesFromSandbox: a developer's changes made in Setup in
// their sandbox are picked from a fresh snapshot compared with the work
// item's branch — listed with who changed them — and committed in source
// format; a component the sandbox lacks is offered as a deletion that
// removes its file.
func TestCommitChangesFromSandbox(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	p, err := b.store.ProjectByKey(b.ctx, "CRM")
	require.NoError(t, err)
	it, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Account tiers"})
	require.NoError(t, err)
	res := b.api("POST", "/api/v1/work-items/"+it.Key+"/branch", g.tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	branch := decode[alm.WorkBranch](t, res).Name

	require.NoError(t, b.sim.Org("dev").ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.Tier__c", User: "Dana Dev",
		XML: "<fields><fullName>Tier__c</fullName><label>Tier</label><length>10</length><type>Text</type></fields>"}))
	res = b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/snapshots", g.orgs["dev"].ID), g.tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	sn := decode[alm.Snapshot](t, res)
	require.Eventually(t, func() bool {
		s, err := b.store.SnapshotByID(b.ctx, sn.ID)
		return err == nil && s.Status == alm.SnapDone
	}, 30*time.Second, 50*time.Millisecond)

	res = b.api("GET", fmt.Sprintf("/api/v1/work-items/%s/changes?snapshot=%d", it.Key, sn.ID), g.tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	changes := decode[struct{ Changes []alm.SandboxChange }](t, res).Changes
	byRef := map[string]alm.SandboxChange{}
	for _, c := range changes {
		byRef[c.Ref()] = c
	}
	field, ok := byRef["CustomField/Account.Tier__c"]
	require.True(t, ok, "the new field is listed: %v", changes)
	require.Equal(t, "new", field.Change)
	require.Equal(t, "Dana Dev", field.By, "with who changed it")
	require.NotNil(t, field.At)
	require.Equal(t, "deleted", byRef["CustomLabel/Greeting"].Change, "what the sandbox lacks is offered as a deletion")
	require.Equal(t, "CustomField/Account.Tier__c", changes[0].Ref(), "the most recent change first")

	page := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get(fmt.Sprintf("/work-items/%s/commit-changes?snapshot=%d", it.Key, sn.ID))
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.doc(t).Find(`[data-testid="sandbox-changes"]`).Text(), "Dana Dev")

	res = b.api("POST", "/api/v1/work-items/"+it.Key+"/commits", g.tok, strings.NewReader(fmt.Sprintf(`{"snapshot_id":%d}`, sn.ID)))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	res = b.api("POST", "/api/v1/work-items/"+it.Key+"/commits", g.tok,
		strings.NewReader(fmt.Sprintf(`{"snapshot_id":%d,"components":["CustomField/Account.Tier__c"],"deletions":["CustomLabel/Greeting"]}`, sn.ID)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Contains(t, g.remote(branch, "force-app/main/default/objects/Account/fields/Tier__c.field-meta.xml"), "<length>10</length>")
	out, err := exec.Command("git", "--git-dir", g.bare, "log", "-1", "--format=%s", "refs/heads/"+branch).Output()
	require.NoError(t, err)
	require.Contains(t, string(out), it.Key+": Account tiers", "the key is in the message")
	_, err = exec.Command("git", "--git-dir", g.bare, "show", "refs/heads/"+branch+":"+labelsPath).Output()
	require.Error(t, err, "the deleted label's file is gone (it was the only one)")
	res = b.api("POST", "/api/v1/work-items/"+it.Key+"/commits", g.tok,
		strings.NewReader(fmt.Sprintf(`{"snapshot_id":%d,"components":["CustomField/Account.Tier__c"]}`, sn.ID)))
	require.Equal(t, http.StatusConflict, res.status, "committing the same again changes nothing: %s", res.body)

	// The branch's change set now holds the field: the work item page shows
	// it, and the work item's build is made from it.
	res = b.api("GET", "/api/v1/work-items/"+it.Key+"/branch", g.tok, nil)
	require.Contains(t, res.body, `"name": "Account.Tier__c"`)
	res = b.api("POST", "/api/v1/work-items/"+it.Key+"/builds", g.tok, nil)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	_, comps, err := b.store.BuildByID(b.ctx, decode[alm.Build](t, res).ID)
	require.NoError(t, err)
	var got []string
	for _, c := range comps {
		got = append(got, c.Type+"/"+c.Name+":"+c.Change)
	}
	require.ElementsMatch(t, []string{"CustomField/Account.Tier__c:new", "CustomLabel/Greeting:deleted"}, got, "the build is the branch's delta")
}

// hubSim is GitHub's pull-request API for acme/crm, as its REST reference
// describes the calls Trellis makes: POST /repos/{owner}/{repo}/pulls
// {title, head, base, body} → 201 {number, html_url}; an open one for the
// same head → 422 "Validation Failed"; POST /repos/{owner}/{repo}/statuses/{sha}
// {state, context, description, target_url} → 201; a wrong token → 401.
type hubSim struct {
	mu       sync.Mutex
	pulls    []map[string]string
	statuses map[string][]map[string]string
}

func newHubSim(t *testing.T, token string) (*hubSim, string) {
	h := &hubSim{statuses: map[string][]map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		reply := func(code int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(v)
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			reply(401, map[string]string{"message": "Bad credentials"})
			return
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/repos/acme/crm/pulls":
			for _, p := range h.pulls {
				if p["head"] == body["head"] && p["base"] == body["base"] {
					reply(422, map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"message": "A pull request already exists for acme:" + body["head"] + "."}}})
					return
				}
			}
			h.pulls = append(h.pulls, body)
			n := len(h.pulls)
			reply(201, map[string]any{"number": n, "html_url": fmt.Sprintf("https://github.com/acme/crm/pull/%d", n), "state": "open"})
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/repos/acme/crm/statuses/"):
			sha := strings.TrimPrefix(r.URL.Path, "/repos/acme/crm/statuses/")
			h.statuses[sha] = append(h.statuses[sha], body)
			reply(201, body)
		default:
			reply(404, map[string]string{"message": "Not Found"})
		}
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL
}

// TestPullRequestPerPromotion: with the repository on GitHub, a promotion
// opens a pull request from the work item's branch into the stage's
// branch, linked from the promotion and the work item; the validation is
// the branch head's trellis/validation status; a pull request merged on
// the host (its push webhook) advances the waiting promotion, which then
// deploys the branch as the host merged it and has nothing to push.
func TestPullRequestPerPromotion(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	hub, api := newHubSim(t, "s3cret-token")
	res := b.api("PUT", fmt.Sprintf("/api/v1/repositories/%d/host", g.repo.ID), g.tok, strings.NewReader(`{"host":"gitlab-ish"}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	res = b.api("PUT", fmt.Sprintf("/api/v1/repositories/%d/host", g.repo.ID), g.tok, strings.NewReader(fmt.Sprintf(`{"host":"github","host_api":%q}`, api)))
	require.Equal(t, http.StatusOK, res.status, res.body)

	a := g.item("Greet warmly", map[string]string{labelsPath: labels("A_Label", "From A", "Greeting", "Hello")})
	bi := g.item("Say bye", map[string]string{labelsPath: labels("B_Label", "From B", "Greeting", "Hello")})
	pa, res := g.promote(a.Key, "Integration")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, "https://github.com/acme/crm/pull/1", pa.Git.PRURL)
	require.Equal(t, 1, pa.Git.PRNum)
	require.Equal(t, "integration", hub.pulls[0]["base"])
	require.Contains(t, hub.pulls[0]["head"], "feature/"+a.Key)
	require.Contains(t, hub.pulls[0]["body"], fmt.Sprintf("/promotions/%d", pa.ID))
	admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	require.Contains(t, admin.get(fmt.Sprintf("/promotions/%d", pa.ID)).body, "https://github.com/acme/crm/pull/1")
	require.Contains(t, admin.get("/work-items/"+a.Key).doc(t).Find(`[data-testid="branch-merges"]`).Text(), "PR #1")

	// The validation becomes the branch head's status.
	res = b.api("POST", fmt.Sprintf("/api/v1/builds/%d/validations", pa.BuildID), g.tok, strings.NewReader(fmt.Sprintf(`{"org_id":%d}`, g.orgs["int"].ID)))
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	head := g.head(hub.pulls[0]["head"])
	require.Eventually(t, func() bool {
		hub.mu.Lock()
		defer hub.mu.Unlock()
		for _, st := range hub.statuses[head] {
			if st["context"] == "trellis/validation" && st["state"] == "success" {
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the validation is reported on the pull request")

	// B's pull request is merged on the host.
	pb, res := g.promote(bi.Key, "Integration")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.Equal(t, 2, pb.Git.PRNum)
	g.git("fetch", "-q", "origin")
	g.git("checkout", "-q", "-B", "integration", "origin/integration")
	g.git("merge", "-q", "--no-ff", "-m", "Merge pull request #2", "origin/"+pb.Git.From)
	g.git("push", "-q", "origin", "integration")
	res = b.api("PUT", fmt.Sprintf("/api/v1/repositories/%d/hook", g.repo.ID), g.tok, strings.NewReader(`{"secret":"0123456789abcdef-hook"}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	push := []byte(fmt.Sprintf(`{"ref":"refs/heads/integration","after":%q}`, g.head("integration")))
	m := hmac.New(sha256.New, []byte("0123456789abcdef-hook"))
	m.Write(push)
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/hooks/repositories/%d", b.srv.URL, g.repo.ID), bytes.NewReader(push))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	hr, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	hb, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	require.Equal(t, http.StatusAccepted, hr.StatusCode, string(hb))
	require.Contains(t, string(hb), fmt.Sprintf(`"promotions_advanced": [
    %d
  ]`, pb.ID))
	pb = must(b.store.PromotionByID(b.ctx, pb.ID))
	require.Equal(t, g.head("integration"), pb.Git.Commit, "the promotion now carries the branch as the host merged it")
	require.Contains(t, pb.Git.Message, "Merged on the git host")
	d, pb := g.deploy(pb.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushed, pb.Git.State, pb.Git.Message)
	require.Equal(t, pb.Git.Commit, g.head("integration"), "nothing more was pushed")
}

// TestMergeFaultsAreClear: the ways a repository gets in the way of a
// promotion — a branch that moved since the merge, a refused (expired)
// token, a stage branch deleted on the host — each end in a clear
// message on the promotion or the request, nothing half-pushed, and can
// be retried.
func TestMergeFaultsAreClear(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	a := g.item("Greet warmly", map[string]string{labelsPath: labels("A_Label", "From A", "Greeting", "Hello")})
	c := g.item("Say bye", map[string]string{labelsPath: labels("C_Label", "From C", "Greeting", "Hello")})

	// Someone pushes to integration between the merge and the deploy: the
	// deployed merge is merged with their change and pushed; their change,
	// not deployed, leaves the branch ahead of the org.
	pa, res := g.promote(a.Key, "Integration")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	g.git("fetch", "-q", "origin")
	g.git("checkout", "-q", "-B", "integration", "origin/integration")
	g.write("force-app/main/default/classes/Hotfix.cls", "public class Hotfix {}\n")
	g.write("force-app/main/default/classes/Hotfix.cls-meta.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ApexClass xmlns=\"http://soap.sforce.com/2006/04/metadata\"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>\n")
	g.git("add", "-A")
	g.git("commit", "-qm", "Hotfix on integration")
	g.git("push", "-q", "origin", "integration")
	d, pa := g.deploy(pa.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushed, pa.Git.State, pa.Git.Message)
	require.Contains(t, pa.Git.Message, "had moved")
	require.Contains(t, g.remote("integration", labelsPath), "A_Label", "the deployed merge is on the branch")
	require.Contains(t, g.remote("integration", "force-app/main/default/classes/Hotfix.cls"), "Hotfix", "beside their change")
	res = b.api("GET", "/api/v1/projects/CRM/stages/git", g.tok, nil)
	require.Contains(t, res.body, `"ahead_of_org": true`, "the hotfix is not in the org yet")
	require.Contains(t, res.body, `"name": "Hotfix"`)

	// A refused token: nothing happens, the message says why, and with
	// the token renewed the same request works.
	g.setToken("rotated-token")
	res = b.api("POST", "/api/v1/work-items/"+c.Key+"/promotions", g.tok, strings.NewReader(`{"stage":"Integration"}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	require.Contains(t, res.body, "Could not fetch")
	require.NotContains(t, res.body, "s3cret-token", "the credential never appears in errors")
	g.setToken("s3cret-token")

	// The stage branch deleted on the host after the merge: the deploy
	// stands, the push says what is missing, and goes once it is back.
	pc, res := g.promote(c.Key, "Integration")
	require.Equal(t, http.StatusCreated, res.status, res.body)
	head := g.head("integration")
	out, err := exec.Command("git", "--git-dir", g.bare, "branch", "-D", "integration").CombinedOutput()
	require.NoError(t, err, "%s", out)
	d, pc = g.deploy(pc.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	require.Equal(t, alm.GitPushFailed, pc.Git.State)
	require.Contains(t, pc.Git.Message, "no longer exists")
	out, err = exec.Command("git", "--git-dir", g.bare, "branch", "integration", head).CombinedOutput()
	require.NoError(t, err, "%s", out)
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/push", pc.ID), g.tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	require.Eventually(t, func() bool {
		pc = must(b.store.PromotionByID(b.ctx, pc.ID))
		return pc.Git.State == alm.GitPushed
	}, 30*time.Second, 50*time.Millisecond, "%+v", pc.Git)
	require.Contains(t, g.remote("integration", labelsPath), "C_Label")
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/push", pc.ID), g.tok, nil)
	require.Equal(t, http.StatusConflict, res.status, "a pushed merge is not pushed again: %s", res.body)
}

// TestPipelineBoard: the pipeline as a board — the work items ready for
// the first stage promoted several at once with one click, waiting in
// the stage with their gates, then deployed there and offered for the
// next stage; the policy folded into each column.
func TestPipelineBoard(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	a := g.item("Greet warmly", map[string]string{labelsPath: labels("A_Label", "From A", "Greeting", "Hello")})
	c := g.item("Say bye", map[string]string{labelsPath: labels("C_Label", "From C", "Greeting", "Hello")})
	_, err := b.store.Pool().Exec(b.ctx, `UPDATE work_items SET status = 'ready_to_promote' WHERE key IN ($1, $2)`, a.Key, c.Key)
	require.NoError(t, err)
	admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	board := admin.get("/projects/CRM/pipeline").doc(t)
	ready := board.Find(`[data-testid="promote-from-ready"]`).Text()
	require.Contains(t, ready, a.Key)
	require.Contains(t, ready, c.Key)
	require.Contains(t, board.Find(`[data-testid="stage-sandboxes"]`).Text(), "DEV", "the developers' sandboxes at the left")

	res := admin.post("/projects/CRM/pipeline/promote", url.Values{"stage": {"Integration"}, "key": {a.Key, c.Key}})
	require.Equal(t, http.StatusSeeOther, res.status)
	flash := admin.get(res.location()).body
	require.Contains(t, flash, "Promoted into Integration: "+a.Key)
	board = admin.get("/projects/CRM/pipeline").doc(t)
	waiting := board.Find(`[data-testid="waiting-Integration"]`).Text()
	require.Contains(t, waiting, a.Key)
	require.Contains(t, waiting, c.Key)
	require.Equal(t, 0, board.Find(`[data-testid="promote-from-ready"]`).Length(), "nothing else is ready")

	pa := must(b.store.ListPromotions(b.ctx, store.PromotionFilter{WorkItemID: a.ID}))[0]
	d, _ := g.deploy(pa.ID)
	require.Equal(t, "succeeded", d.Status, d.Error)
	board = admin.get("/projects/CRM/pipeline").doc(t)
	require.Contains(t, board.Find(`[data-testid="deployed-Integration"]`).Text(), a.Key)
	require.Contains(t, board.Find(`[data-testid="promote-from-Integration"]`).Text(), a.Key, "offered for UAT")
	require.Contains(t, board.Find(`[data-testid="stage-UAT"] details`).Text(), "no approval needed", "the policy folds into the column")
	res = admin.post("/projects/CRM/pipeline/promote", url.Values{"stage": {"UAT"}})
	require.Contains(t, admin.get(res.location()).body, "Tick the work items")
}

// TestDeveloperValidatesOwnWorkItem: from the work item page a developer
// validates the item's change set (its branch) check-only against a stage
// that allows it; production does not unless the pipeline says so.
func TestDeveloperValidatesOwnWorkItem(t *testing.T) {
	t.Parallel()
	g := newGitFlow(t, alm.BranchingEnvironment)
	b := g.b
	a := g.item("Greet warmly", map[string]string{labelsPath: labels("A_Label", "From A", "Greeting", "Hello")})
	dev := b.user(alm.RoleDeveloper, "dev@example.com")
	page := b.signedIn(dev).get("/work-items/" + a.Key).doc(t)
	opts := page.Find(`[data-testid="validate-item"] option`)
	require.Equal(t, 2, opts.Length(), "Integration and UAT, not production: %s", opts.Text())
	res := b.api("POST", "/api/v1/work-items/"+a.Key+"/validations", b.token(dev), strings.NewReader(`{"stage":"Production"}`))
	require.Equal(t, http.StatusForbidden, res.status, res.body)
	res = b.api("POST", "/api/v1/work-items/"+a.Key+"/validations", b.token(dev), strings.NewReader(`{"stage":"UAT"}`))
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	v := decode[alm.Validation](t, res)
	require.Equal(t, g.orgs["uat"].ID, v.OrgID)
	require.Eventually(t, func() bool {
		got, err := b.store.ValidationByID(b.ctx, v.ID)
		return err == nil && got.Status == "succeeded"
	}, 30*time.Second, 50*time.Millisecond)
	_, comps, err := b.store.BuildByID(b.ctx, v.BuildID)
	require.NoError(t, err)
	require.Len(t, comps, 1, "the branch's change set: %v", comps)
	require.Equal(t, "A_Label", comps[0].Name)
	require.Contains(t, b.signedIn(dev).get("/work-items/"+a.Key).doc(t).Find(`[data-testid="item-validations"]`).Text(), "succeeded")
}
