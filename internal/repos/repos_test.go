package repos_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gittest"
	"github.com/trellis-alm/trellis/internal/outbound"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

func write(t *testing.T, dir, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644))
}

const classMeta = `<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>
`

func TestConnectAndSnapshotBranches(t *testing.T) {
	t.Parallel()
	ctx := alm.WithActor(context.Background(), alm.Actor{Label: "tester"})
	src := t.TempDir()
	gittest.Init(t, src, "main")
	write(t, src, "sfdx-project.json", `{"packageDirectories":[{"path":"force-app","default":true}],"sourceApiVersion":"62.0"}`)
	write(t, src, "force-app/main/default/classes/Quotes.cls", "public class Quotes { }\n")
	write(t, src, "force-app/main/default/classes/Quotes.cls-meta.xml", classMeta)
	gittest.CommitAll(t, src, "first")

	st := store.New(testdb.New(t), nil)
	key, _ := secret.ParseKey(secret.GenerateKey())
	keys, _ := secret.New(key)
	svc := repos.New(st, keys, t.TempDir(), outbound.Demo)

	_, err := svc.Connect(ctx, repos.NewRepo{Name: "crm", URL: "file://" + filepath.Join(src, "nope")})
	require.Contains(t, alm.ErrorMessage(err), "Could not clone")
	_, err = svc.Connect(ctx, repos.NewRepo{Name: "crm", URL: "file://" + src, Branch: "develop"})
	require.Contains(t, alm.FieldErrors(err)["branch"], "no branch develop")
	_, err = svc.Connect(ctx, repos.NewRepo{Name: "crm", URL: "file://" + src, AuthKind: "ssh", Secret: "not a key"})
	require.Contains(t, alm.FieldErrors(err)["secret"], "SSH private key")
	list, err := st.ListRepositories(ctx)
	require.NoError(t, err)
	require.Empty(t, list, "nothing half-saved")

	r, err := svc.Connect(ctx, repos.NewRepo{Name: "crm", URL: "file://" + src})
	require.NoError(t, err)
	require.Equal(t, "main", r.DefaultBranch)

	take := func(ref string) snapshot.Manifest {
		sn, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", RepoID: &r.ID, Ref: ref})
		require.NoError(t, err)
		require.NoError(t, svc.Snapshot(ctx, sn.ID, r.ID, ref))
		m, err := st.SnapshotManifest(ctx, sn.ID)
		require.NoError(t, err)
		return m
	}
	m1 := take("main")
	require.Len(t, m1, 1)
	require.Equal(t, "ApexClass", m1[0].Type)

	// A feature branch changes the class and adds one; the mirror fetches it.
	gittest.NewBranch(t, src, "feature/CRM-12")
	write(t, src, "force-app/main/default/classes/Quotes.cls", "public class Quotes { public Integer total; }\n")
	write(t, src, "force-app/main/default/classes/Approvals.cls", "public class Approvals { }\n")
	write(t, src, "force-app/main/default/classes/Approvals.cls-meta.xml", classMeta)
	gittest.CommitAll(t, src, "CRM-12 approvals")
	branches, err := svc.Branches(ctx, r.ID)
	require.NoError(t, err)
	require.NotContains(t, branches, "feature/CRM-12", "not fetched yet")
	m2 := take("feature/CRM-12")
	res := snapshot.Compare(m1, m2)
	require.Equal(t, snapshot.Counts{New: 1, Changed: 1}, res.Totals)
	branches, err = svc.Branches(ctx, r.ID)
	require.NoError(t, err)
	require.Contains(t, branches, "feature/CRM-12")

	// Captured components go to a feature branch named after the work item.
	var quotes string
	for _, e := range m2 {
		if e.Name == "Quotes" {
			quotes = e.Hash
		}
	}
	content, err := st.BlobData(ctx, quotes)
	require.NoError(t, err)
	branch, commit, err := svc.CommitCapture(ctx, r.ID, repos.Commit{Key: "CRM-7", Title: "Quote totals", Contents: [][]byte{content}})
	require.NoError(t, err)
	require.Equal(t, "feature/CRM-7", branch)
	require.Len(t, commit, 40)
	msg, file := gittest.Tip(t, src, "feature/CRM-7", "force-app/main/default/classes/Quotes.cls")
	require.Equal(t, "CRM-7: Quote totals", strings.SplitN(msg, "\n", 2)[0])
	require.Contains(t, file, "public Integer total")
	_, _, err = svc.CommitCapture(ctx, r.ID, repos.Commit{Key: "CRM-7", Title: "Quote totals", Contents: [][]byte{content}})
	require.Contains(t, alm.ErrorMessage(err), "Nothing to commit")
	// A work item with a branch of its own commits there.
	branch, _, err = svc.CommitCapture(ctx, r.ID, repos.Commit{Key: "CRM-8", Title: "Totals again", Contents: [][]byte{content}, Branch: "feature/CRM-8-totals-again", Base: "main"})
	require.NoError(t, err)
	require.Equal(t, "feature/CRM-8-totals-again", branch)
	msg, _ = gittest.Tip(t, src, "feature/CRM-8-totals-again", "force-app/main/default/classes/Quotes.cls")
	require.True(t, strings.HasPrefix(msg, "CRM-8: Totals again"), msg)

	sn, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", RepoID: &r.ID, Ref: "no-such-branch"})
	require.NoError(t, err)
	err = svc.Snapshot(ctx, sn.ID, r.ID, "no-such-branch")
	require.Contains(t, alm.ErrorMessage(err), "no branch or commit")
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func permSet(fields ...string) string {
	s := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PermissionSet xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n"
	for _, f := range fields {
		s += "    <fieldPermissions>\n        <editable>true</editable>\n        <field>" + f + "</field>\n        <readable>true</readable>\n    </fieldPermissions>\n"
	}
	return s + "    <label>Sales</label>\n</PermissionSet>\n"
}

// TestMergeAndPushOverHTTP merges feature branches into an environment
// branch of a repository served over smart HTTP with a token, pushes
// the merges, and checks each way a push goes wrong: someone pushed
// meanwhile, a protected branch, an expired token — each a clear error
// and the remote branch as it was.
func TestMergeAndPushOverHTTP(t *testing.T) {
	t.Parallel()
	gittest.RequireGit(t)
	ctx := alm.WithActor(context.Background(), alm.Actor{Label: "release manager"})
	const ps = "force-app/main/default/permissionsets/Sales.permissionset-meta.xml"
	src := t.TempDir()
	gitIn(t, src, "init", "-q", "-b", "main")
	write(t, src, "sfdx-project.json", `{"packageDirectories":[{"path":"force-app","default":true}],"sourceApiVersion":"62.0"}`)
	write(t, src, ps, permSet("Account.A__c"))
	gitIn(t, src, "add", "-A")
	gitIn(t, src, "commit", "-qm", "base")
	gitIn(t, src, "branch", "integration")
	for _, f := range []string{"B", "C"} {
		gitIn(t, src, "checkout", "-q", "-b", "feature/CRM-"+f, "main")
		write(t, src, ps, permSet("Account.A__c", "Account."+f+"__c"))
		gitIn(t, src, "commit", "-qam", "CRM-"+f)
	}
	root := t.TempDir()
	bare := gittest.Bare(t, src, root, "crm")
	base, setToken := gittest.HTTPServer(t, root, "s3cret-token")

	st := store.New(testdb.New(t), nil)
	key, _ := secret.ParseKey(secret.GenerateKey())
	keys, _ := secret.New(key)
	svc := repos.New(st, keys, t.TempDir(), outbound.Demo)
	_, err := svc.Connect(ctx, repos.NewRepo{Name: "crm", URL: base + "/crm.git", AuthKind: "token", Secret: "wrong"})
	require.Error(t, err, "a wrong token is refused at connect time")
	r, err := svc.Connect(ctx, repos.NewRepo{Name: "crm", URL: base + "/crm.git", AuthKind: "token", Secret: "s3cret-token"})
	require.NoError(t, err)

	remote := func(branch string) string { return gitIn(t, bare, "rev-parse", "refs/heads/"+branch) }
	mergeAndPush := func(into, from string) string {
		t.Helper()
		old := remote(into)
		res, err := svc.Merge(ctx, r.ID, into, from, "Merge "+from+" into "+into)
		require.NoError(t, err)
		require.Empty(t, res.Conflicts)
		require.NoError(t, svc.PushMerge(ctx, r.ID, into, old, res.Commit))
		require.Equal(t, res.Commit, remote(into))
		return res.Commit
	}
	mergeAndPush("integration", "feature/CRM-B")
	// CRM-C changed the same permission set: git alone stops here.
	mergeAndPush("integration", "feature/CRM-C")
	require.Equal(t, permSet("Account.A__c", "Account.B__c", "Account.C__c"), gitIn(t, bare, "show", "integration:"+ps)+"\n")

	// Someone pushes to main on the host after Trellis merged: nothing moves.
	old := remote("main")
	res, err := svc.Merge(ctx, r.ID, "main", "integration", "Merge integration into main")
	require.NoError(t, err)
	hotfix := t.TempDir()
	gitIn(t, hotfix, "clone", "-q", "-b", "main", bare, ".")
	write(t, hotfix, "README.md", "hotfix\n")
	gitIn(t, hotfix, "add", "-A")
	gitIn(t, hotfix, "commit", "-qm", "hotfix on the host")
	gitIn(t, hotfix, "push", "-q", "origin", "main")
	moved := remote("main")
	err = svc.PushMerge(ctx, r.ID, "main", old, res.Commit)
	require.Equal(t, alm.CodeConflict, alm.ErrorCode(err), "%v", err)
	require.Contains(t, alm.ErrorMessage(err), "moved on the repository")
	require.Equal(t, moved, remote("main"))

	// A protected branch refuses; the host's reason is passed on.
	res, err = svc.Merge(ctx, r.ID, "main", "integration", "Merge integration into main")
	require.NoError(t, err)
	gittest.Protect(t, bare, "main")
	err = svc.PushMerge(ctx, r.ID, "main", moved, res.Commit)
	require.Error(t, err)
	require.Contains(t, alm.ErrorMessage(err), "refused the push to main")
	require.Equal(t, moved, remote("main"))

	// The token expires: a clear message, nothing pushed.
	setToken("rotated")
	err = svc.PushMerge(ctx, r.ID, "integration", remote("integration"), res.Commit)
	require.Error(t, err)
	require.Contains(t, alm.ErrorMessage(err), "credential")
}
