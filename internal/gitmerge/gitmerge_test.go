package gitmerge_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellis-alm/trellis/internal/gitmerge"
	"github.com/trellis-alm/trellis/internal/gittest"
)

type repo struct {
	tb  testing.TB
	dir string
}

func newRepo(tb testing.TB) *repo {
	tb.Helper()
	gittest.RequireGit(tb)
	r := &repo{tb: tb, dir: tb.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.tb.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) write(files map[string]string) {
	r.tb.Helper()
	for p, c := range files {
		full := filepath.Join(r.dir, p)
		if c == "" {
			os.Remove(full)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			r.tb.Fatal(err)
		}
	}
}

func (r *repo) commit(msg string, files map[string]string) {
	r.tb.Helper()
	r.write(files)
	r.git("add", "-A")
	r.git("commit", "-qm", msg)
}

func perms(fields ...string) string {
	s := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PermissionSet xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n"
	for _, f := range fields {
		edit := "true"
		if name, e, ok := strings.Cut(f, "="); ok {
			f, edit = name, e
		}
		s += "    <fieldPermissions>\n        <editable>" + edit + "</editable>\n        <field>" + f + "</field>\n        <readable>true</readable>\n    </fieldPermissions>\n"
	}
	return s + "    <label>Sales</label>\n</PermissionSet>\n"
}

const ps = "force-app/main/default/permissionsets/Sales.permissionset-meta.xml"
const cls = "force-app/main/default/classes/Greeter.cls"

func TestMerge(t *testing.T) {
	ctx := context.Background()
	who := gitmerge.Author{Name: "Trellis", Email: "trellis@example.com"}
	setup := func(t *testing.T, one, two map[string]string) *repo {
		r := newRepo(t)
		r.commit("base", map[string]string{ps: perms("Account.A__c"), cls: "public class Greeter {\n    public static String hi() {\n        return 'hi';\n    }\n}\n"})
		r.git("checkout", "-qb", "one")
		r.commit("one", one)
		r.git("checkout", "-q", "main")
		r.git("checkout", "-qb", "two")
		r.commit("two", two)
		return r
	}
	t.Run("MetadataMergesWhereGitStops", func(t *testing.T) {
		r := setup(t, map[string]string{ps: perms("Account.A__c", "Account.B__c")}, map[string]string{ps: perms("Account.A__c", "Account.C__c")})
		res, err := gitmerge.Merge(ctx, r.dir, "one", "two", "Merge two into one", who)
		if err != nil {
			t.Fatal(err)
		}
		if res.Commit == "" || len(res.Conflicts) != 0 || len(res.Resolved) != 1 || res.Resolved[0] != ps {
			t.Fatalf("%+v", res)
		}
		if got := r.git("show", res.Commit+":"+ps) + "\n"; got != perms("Account.A__c", "Account.B__c", "Account.C__c") {
			t.Errorf("merged:\n%s", got)
		}
		if parents := r.git("log", "-1", "--format=%P", res.Commit); len(strings.Fields(parents)) != 2 {
			t.Errorf("parents %q", parents)
		}
		if r.git("rev-parse", "one") == res.Commit {
			t.Error("no ref should move")
		}
	})
	t.Run("ElementConflict", func(t *testing.T) {
		r := setup(t, map[string]string{ps: perms("Account.A__c=false")}, map[string]string{ps: perms("Account.A__c=true", "Account.D__c")})
		// two leaves A as it was: no conflict there; make it a real one.
		r.commit("two edits A", map[string]string{ps: strings.Replace(perms("Account.A__c", "Account.D__c"), "<readable>true", "<readable>false", 1)})
		res, err := gitmerge.Merge(ctx, r.dir, "one", "two", "m", who)
		if err != nil {
			t.Fatal(err)
		}
		if res.Commit != "" || len(res.Conflicts) != 1 || len(res.Conflicts[0].Elements) != 1 || !strings.Contains(string(res.Conflicts[0].Marked), "<<<<<<< ours") {
			t.Fatalf("%+v", res)
		}
		if !strings.Contains(res.Conflicts[0].Elements[0], "Account.A__c") {
			t.Errorf("conflicting element: %v", res.Conflicts[0].Elements)
		}
	})
	t.Run("ApexConflictIsATextConflict", func(t *testing.T) {
		r := setup(t, map[string]string{cls: strings.Replace("public class Greeter {\n    public static String hi() {\n        return 'hi';\n    }\n}\n", "'hi'", "'hello'", 1)},
			map[string]string{cls: strings.Replace("public class Greeter {\n    public static String hi() {\n        return 'hi';\n    }\n}\n", "'hi'", "'howdy'", 1)})
		res, err := gitmerge.Merge(ctx, r.dir, "one", "two", "m", who)
		if err != nil {
			t.Fatal(err)
		}
		if res.Commit != "" || len(res.Conflicts) != 1 || res.Conflicts[0].Path != cls || !strings.Contains(string(res.Conflicts[0].Marked), "<<<<<<< ours\n        return 'hello';\n=======\n        return 'howdy';\n>>>>>>> theirs") {
			t.Fatalf("%+v\n%s", res, res.Conflicts[0].Marked)
		}
	})
	t.Run("DifferentFilesNeedNoHelp", func(t *testing.T) {
		r := setup(t, map[string]string{"README.md": "one\n"}, map[string]string{ps: perms("Account.A__c", "Account.Z__c")})
		res, err := gitmerge.Merge(ctx, r.dir, "one", "two", "m", who)
		if err != nil || res.Commit == "" || len(res.Resolved) != 0 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("AlreadyMerged", func(t *testing.T) {
		r := setup(t, map[string]string{"README.md": "one\n"}, map[string]string{"README.md": "two\n"})
		res, err := gitmerge.Merge(ctx, r.dir, "two", "main", "m", who)
		if err != nil || !res.UpToDate || res.Commit != r.git("rev-parse", "two") {
			t.Fatalf("%+v %v", res, err)
		}
		if _, err := gitmerge.Merge(ctx, r.dir, "two", "nope", "m", who); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("unknown revision: %v", err)
		}
	})
}

// BenchmarkMergeBranches1000 merges two branches that each change 1,000
// components (Apex classes and, on both sides, 100 permission sets that
// each side extends with its own field permissions, which git alone
// would leave in conflict).
func BenchmarkMergeBranches1000(b *testing.B) {
	r := newRepo(b)
	base := map[string]string{}
	for i := range 2000 {
		base[fmt.Sprintf("force-app/main/default/classes/C%04d.cls", i)] = fmt.Sprintf("public class C%04d {\n    public static Integer v() {\n        return %d;\n    }\n}\n", i, i)
	}
	for i := range 100 {
		base[fmt.Sprintf("force-app/main/default/permissionsets/P%03d.permissionset-meta.xml", i)] = perms("Account.A__c")
	}
	r.commit("base", base)
	branch := func(name string, from, add string) {
		r.git("checkout", "-q", "main")
		r.git("checkout", "-qb", name)
		files := map[string]string{}
		for i := range 900 {
			n := i
			if from == "b" {
				n += 1000
			}
			files[fmt.Sprintf("force-app/main/default/classes/C%04d.cls", n)] = fmt.Sprintf("public class C%04d {\n    public static Integer v() {\n        return %d + 1;\n    }\n}\n", n, n)
		}
		for i := range 100 {
			files[fmt.Sprintf("force-app/main/default/permissionsets/P%03d.permissionset-meta.xml", i)] = perms("Account.A__c", add)
		}
		r.commit(name, files)
	}
	branch("one", "a", "Account.B__c")
	branch("two", "b", "Account.C__c")
	ctx := context.Background()
	for b.Loop() {
		res, err := gitmerge.Merge(ctx, r.dir, "one", "two", "m", gitmerge.Author{Name: "t", Email: "t@example.com"})
		if err != nil || res.Commit == "" || len(res.Resolved) != 100 {
			b.Fatalf("%v %d resolved, %d conflicts", err, len(res.Resolved), len(res.Conflicts))
		}
	}
}
