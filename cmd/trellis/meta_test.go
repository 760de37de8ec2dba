package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/trellis-alm/trellis/internal/gittest"
	"github.com/trellis-alm/trellis/internal/metadata"
)

// gitProject makes a repository from the metadata engine's fixture project
// and returns its directory and first commit.
func gitProject(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	src := "../../internal/metadata/testdata/basic"
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, _ := os.ReadFile(p)
		dst := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := git.PlainInit(dir, false); err != nil {
		t.Fatal(err)
	}
	return dir, commitAll(t, dir)
}

func commitAll(t *testing.T, dir string) string {
	t.Helper()
	r, _ := git.PlainOpen(dir)
	wt, _ := r.Worktree()
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit("c", &git.CommitOptions{All: true, Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestMetaDelta(t *testing.T) {
	t.Parallel()
	dir, first := gitProject(t)
	cls := filepath.Join(dir, "force-app/main/default/classes/AccountService.cls")
	os.WriteFile(cls, []byte("public class AccountService {}\n"), 0o644)
	os.Remove(filepath.Join(dir, "force-app/main/default/objects/Invoice__c/fields/Total__c.field-meta.xml"))
	commitAll(t, dir)

	out := t.TempDir()
	r := runCLI(t, nil, "", "meta", "delta", "--repo", dir, "--from", first, "--to", "HEAD", "--out", out, "--source")
	if r.e != nil {
		t.Fatalf("%v\n%s", r.e, r.err)
	}
	pkg, err := os.ReadFile(filepath.Join(out, "package", "package.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := metadata.ParseManifest(pkg)
	if !m.Has("ApexClass", "AccountService") || m.Count() != 1 {
		t.Errorf("package.xml:\n%s", pkg)
	}
	d, _ := os.ReadFile(filepath.Join(out, "destructiveChanges", "destructiveChanges.xml"))
	dm, _ := metadata.ParseManifest(d)
	if !dm.Has("CustomField", "Invoice__c.Total__c") {
		t.Errorf("destructiveChanges.xml:\n%s", d)
	}
	if _, err := os.Stat(filepath.Join(out, "destructiveChanges", "package.xml")); err != nil {
		t.Error("destructiveChanges/package.xml is expected beside it, as sfdx-git-delta writes")
	}
	if b, err := os.ReadFile(filepath.Join(out, "force-app/main/default/classes/AccountService.cls")); err != nil || !strings.Contains(string(b), "AccountService {}") {
		t.Errorf("--source should copy the changed class: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "force-app/main/default/classes/AccountService.cls-meta.xml")); err != nil {
		t.Error("--source should copy the class's -meta.xml too")
	}
	if !strings.Contains(r.out, "1 component(s) to deploy, 1 to delete, 0 unchanged") {
		t.Errorf("summary: %s", r.out)
	}

	r = runCLI(t, nil, "", "meta", "delta", "--repo", dir, "--from", first, "--out", t.TempDir(), "--json")
	var js map[string]any
	if err := json.Unmarshal([]byte(r.out), &js); err != nil || js["apiVersion"] != "62.0" {
		t.Errorf("--json: %v %s", err, r.out)
	}
	if r := runCLI(t, nil, "", "meta", "delta", "--repo", dir, "--from", "nonexistent", "--out", t.TempDir()); r.e == nil || exitCode(r.e) != 1 || !strings.Contains(r.e.Error(), "nonexistent") {
		t.Errorf("unknown revision: %v", r.e)
	}
	if r := runCLI(t, nil, "", "meta", "delta", "--repo", dir); r.e == nil || exitCode(r.e) != 2 {
		t.Errorf("missing flags should be a usage error: %v", r.e)
	}
}

func TestMetaManifestConvertDiffDeps(t *testing.T) {
	t.Parallel()
	src := "../../internal/metadata/testdata/basic"
	r := runCLI(t, nil, "", "meta", "manifest", src)
	if r.e != nil || !strings.Contains(r.out, "<members>Invoice__c.Total__c</members>") || !strings.Contains(r.out, "<version>62.0</version>") {
		t.Fatalf("manifest: %v\n%s", r.e, r.out)
	}
	// A package directory on its own names the same members.
	if pkg := runCLI(t, nil, "", "meta", "manifest", src+"/force-app"); pkg.e != nil || !strings.Contains(pkg.out, "<members>Invoice__c.Total__c</members>") {
		t.Fatalf("manifest of force-app alone: %v\n%s", pkg.e, pkg.out)
	}
	md := t.TempDir()
	if r := runCLI(t, nil, "", "meta", "convert", "--to", "metadata", src, md); r.e != nil {
		t.Fatal(r.e)
	}
	if _, err := os.Stat(filepath.Join(md, "objects", "Invoice__c.object")); err != nil {
		t.Error("convert --to metadata should recompose objects")
	}
	// A zip output is a deploy package, byte-identical from run to run,
	// and itself readable as a project.
	zips := t.TempDir()
	var zipped [2][]byte
	for i := range zipped {
		z := filepath.Join(zips, fmt.Sprintf("deploy%d.zip", i))
		if r := runCLI(t, nil, "", "meta", "convert", "--to", "metadata", src, z); r.e != nil || !strings.Contains(r.out, "sha256 ") {
			t.Fatalf("convert to zip: %v %s", r.e, r.out)
		}
		zipped[i], _ = os.ReadFile(z)
	}
	if len(zipped[0]) == 0 || !bytes.Equal(zipped[0], zipped[1]) {
		t.Error("convert to .zip should give the same bytes each time")
	}
	r = runCLI(t, nil, "", "meta", "diff", src, filepath.Join(zips, "deploy0.zip"), "--json")
	if !strings.Contains(r.out, `"unchanged": 33`) {
		t.Errorf("the zip should hold the whole project unchanged: %v %s", r.e, r.out)
	}
	if r := runCLI(t, nil, "", "meta", "convert", "--to", "source", src, filepath.Join(zips, "x.zip")); exitCode(r.e) != 2 {
		t.Errorf("a .zip of source format is a usage error: %v", r.e)
	}
	back := t.TempDir()
	if r := runCLI(t, nil, "", "meta", "convert", "--to", "source", md, back); r.e != nil {
		t.Fatal(r.e)
	}
	r = runCLI(t, nil, "", "meta", "diff", src, back, "--json")
	var res struct {
		Components []any          `json:"components"`
		Counts     map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || len(res.Components) != 0 || res.Counts["unchanged"] != 33 {
		t.Errorf("round trip diff: %v %s", err, r.out)
	}
	os.WriteFile(filepath.Join(back, "force-app/main/default/classes/AccountService.cls"), []byte("public class AccountService {}"), 0o644)
	r = runCLI(t, nil, "", "meta", "diff", src, back)
	if !strings.Contains(r.out, "changed  ApexClass  AccountService") || !strings.Contains(r.out, "0 added, 1 changed, 0 deleted, 32 unchanged") {
		t.Errorf("diff table:\n%s", r.out)
	}
	r = runCLI(t, nil, "", "meta", "deps", src)
	if r.e != nil || !strings.Contains(r.out, "CustomField Invoice__c.Missing__c") {
		t.Errorf("deps:\n%s", r.out)
	}
	if r := runCLI(t, nil, "", "meta", "manifest", "/no/such/dir"); r.e == nil || exitCode(r.e) != 1 {
		t.Errorf("missing dir: %v", r.e)
	}
	if r := runCLI(t, nil, "", "meta", "convert", "--to", "sideways", src, md); exitCode(r.e) != 2 {
		t.Errorf("bad --to: %v", r.e)
	}
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "sfdx-project.json"), []byte(`{"packageDirectories":[{"path":"force-app"}]}`), 0o644)
	os.MkdirAll(filepath.Join(broken, "force-app/classes"), 0o755)
	os.WriteFile(filepath.Join(broken, "force-app/classes/X.cls-meta.xml"), []byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ApexClass>&e;</ApexClass>`), 0o644)
	// A manifest needs only names: the class's file is not read unless
	// --check asks for every file to be parsed.
	if r := runCLI(t, nil, "", "meta", "manifest", broken); r.e != nil || !strings.Contains(r.out, "<members>X</members>") {
		t.Errorf("manifest reads names, not the class's XML: %v %s", r.e, r.out)
	}
	r = runCLI(t, nil, "", "meta", "manifest", "--check", broken)
	if r.e == nil || !strings.Contains(r.e.Error(), "force-app/classes/X.cls-meta.xml") || !strings.Contains(r.e.Error(), "DTD") {
		t.Errorf("hostile XML must fail naming the file: %v", r.e)
	}
	// A file that holds several components is read even for names.
	os.MkdirAll(filepath.Join(broken, "force-app/labels"), 0o755)
	os.WriteFile(filepath.Join(broken, "force-app/labels/CustomLabels.labels-meta.xml"), []byte(`<!DOCTYPE x [<!ENTITY e "x">]><CustomLabels/>`), 0o644)
	r = runCLI(t, nil, "", "meta", "manifest", broken)
	if r.e == nil || exitCode(r.e) != 1 || !strings.Contains(r.e.Error(), "force-app/labels/CustomLabels.labels-meta.xml") {
		t.Errorf("hostile labels file must fail naming it: %v", r.e)
	}
	// So is a metadata-format folder's package.xml.
	mdDir := t.TempDir()
	os.MkdirAll(filepath.Join(mdDir, "classes"), 0o755)
	os.WriteFile(filepath.Join(mdDir, "classes/A.cls"), []byte("public class A {}"), 0o644)
	os.WriteFile(filepath.Join(mdDir, "classes/A.cls-meta.xml"), []byte(`<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion></ApexClass>`), 0o644)
	for _, bad := range []string{`<!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]><Package>&e;</Package>`, `<Package><types>`} {
		os.WriteFile(filepath.Join(mdDir, "package.xml"), []byte(bad), 0o644)
		for _, cmd := range [][]string{{"meta", "manifest", mdDir}, {"meta", "convert", "--to", "source", mdDir, t.TempDir()}} {
			if r := runCLI(t, nil, "", cmd...); r.e == nil || exitCode(r.e) != 1 || !strings.Contains(r.e.Error(), "package.xml") {
				t.Errorf("%v with package.xml %q: %v (want exit 1 naming package.xml)", cmd[:2], bad, r.e)
			}
		}
	}
}

// TestMetaManifestRefusesHugeFilesEarly: a file over the engine's limit is
// refused by its size, before it is read.
func TestMetaManifestRefusesHugeFilesEarly(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "sfdx-project.json"), []byte(`{"packageDirectories":[{"path":"force-app"}]}`), 0o644)
	os.MkdirAll(filepath.Join(dir, "force-app/labels"), 0o755)
	f, err := os.Create(filepath.Join(dir, "force-app/labels/CustomLabels.labels-meta.xml"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(metadata.MaxFileSize + 1) // sparse: no disk used
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := runCLI(t, nil, "", "meta", "manifest", dir)
	runtime.ReadMemStats(&after)
	if r.e == nil || exitCode(r.e) != 1 || !strings.Contains(r.e.Error(), "CustomLabels.labels-meta.xml") || !strings.Contains(r.e.Error(), "MiB") {
		t.Fatalf("oversized file: %v", r.e)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
		t.Errorf("refusing it allocated %d MiB: it must be refused before it is read", grew>>20)
	}
}

// TestMetaWritesNothingThroughLinks plants symbolic links in output
// folders, as a hostile archive or repository could, and checks that
// convert and delta --source refuse to write through them.
func TestMetaWritesNothingThroughLinks(t *testing.T) {
	t.Parallel()
	src := "../../internal/metadata/testdata/basic"
	outside := t.TempDir()
	md := t.TempDir()
	os.Symlink(outside, filepath.Join(md, "classes"))
	r := runCLI(t, nil, "", "meta", "convert", "--to", "metadata", src, md)
	if r.e == nil || exitCode(r.e) != 1 || !strings.Contains(r.e.Error(), "symbolic link") {
		t.Errorf("convert through a linked folder: %v", r.e)
	}
	dir, first := gitProject(t)
	os.WriteFile(filepath.Join(dir, "force-app/main/default/classes/AccountService.cls"), []byte("public class AccountService {}\n"), 0o644)
	commitAll(t, dir)
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "package"), 0o755)
	os.Symlink(filepath.Join(outside, "package.xml"), filepath.Join(out, "package", "package.xml"))
	r = runCLI(t, nil, "", "meta", "delta", "--repo", dir, "--from", first, "--out", out, "--source")
	if r.e == nil || !strings.Contains(r.e.Error(), "symbolic link") {
		t.Errorf("delta through a linked file: %v", r.e)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 0 {
		t.Errorf("written outside the output folder: %v", entries)
	}
}

// TestMetaMergeAsGitDriver merges two branches that each add a field
// permission to one permission set with `trellis meta merge` as git's
// merge driver: clean, sorted; then two branches that change the same
// permission differently: a conflict, marked, and git stops.
func TestMetaMergeAsGitDriver(t *testing.T) {
	t.Parallel()
	gittest.RequireGit(t)
	dir := t.TempDir()
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) {
		t.Helper()
		if out, err := git(args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	perm := func(field, edit string) string {
		return "    <fieldPermissions>\n        <editable>" + edit + "</editable>\n        <field>" + field + "</field>\n        <readable>true</readable>\n    </fieldPermissions>\n"
	}
	file := filepath.Join(dir, "force-app/main/default/permissionsets/Sales.permissionset-meta.xml")
	write := func(perms ...string) {
		t.Helper()
		body := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PermissionSet xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n" + strings.Join(perms, "") + "    <label>Sales</label>\n</PermissionSet>\n"
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must("init", "-q", "-b", "main")
	must("config", "merge.salesforce.driver", "TRELLIS_RUN_MAIN=1 "+os.Args[0]+" meta merge %O %A %B -o %A")
	if err := os.WriteFile(filepath.Join(dir, ".gitattributes"), []byte("*.xml merge=salesforce\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write(perm("Account.A__c", "true"))
	must("add", "-A")
	must("commit", "-qm", "base")
	must("checkout", "-qb", "feature/one")
	write(perm("Account.A__c", "true"), perm("Account.B__c", "true"))
	must("commit", "-qam", "one adds B")
	must("checkout", "-q", "main")
	must("checkout", "-qb", "feature/two")
	write(perm("Account.A__c", "true"), perm("Account.C__c", "false"))
	must("commit", "-qam", "two adds C")
	must("checkout", "-q", "main")
	must("merge", "-q", "--no-edit", "feature/one")
	// Git's own line merge would conflict here; the driver does not.
	must("merge", "-q", "--no-edit", "feature/two")
	got, _ := os.ReadFile(file)
	want := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PermissionSet xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n" +
		perm("Account.A__c", "true") + perm("Account.B__c", "true") + perm("Account.C__c", "false") + "    <label>Sales</label>\n</PermissionSet>\n"
	if string(got) != want {
		t.Fatalf("merged:\n%s\nwant:\n%s", got, want)
	}

	must("checkout", "-qb", "feature/three")
	write(perm("Account.A__c", "false"), perm("Account.B__c", "true"), perm("Account.C__c", "false"))
	must("commit", "-qam", "three makes A read-only")
	must("checkout", "-q", "main")
	must("checkout", "-qb", "feature/four")
	write(strings.Replace(perm("Account.A__c", "true"), "<readable>true", "<readable>false", 1), perm("Account.B__c", "true"), perm("Account.C__c", "false"),
		perm("Account.D__c", "true"))
	must("commit", "-qam", "four hides A and adds D")
	must("checkout", "-q", "main")
	must("merge", "-q", "--no-edit", "feature/three")
	out, err := git("merge", "--no-edit", "feature/four")
	if err == nil || !strings.Contains(out, "CONFLICT") {
		t.Fatalf("both sides changed A's permission: want a conflict, got %v\n%s", err, out)
	}
	got, _ = os.ReadFile(file)
	for _, w := range []string{"<<<<<<< ours\n", "=======\n", ">>>>>>> theirs\n", "<field>Account.D__c</field>"} {
		if !strings.Contains(string(got), w) {
			t.Errorf("conflicted file lacks %q:\n%s", w, got)
		}
	}
	if strings.Count(string(got), "<<<<<<<") != 1 {
		t.Errorf("only A conflicts (D merged in):\n%s", got)
	}
}

// TestMetaMergeText: files that are not metadata XML merge as git does.
func TestMetaMergeText(t *testing.T) {
	t.Parallel()
	gittest.RequireGit(t)
	dir := t.TempDir()
	side := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := side("base", "public class A {\n  Integer x = 1;\n}\n")
	clean := runCLI(t, nil, "", "meta", "merge", base, side("ours", "public class A {\n  Integer x = 2;\n}\n"), side("tail", "public class A {\n  Integer x = 1;\n}\n// end\n"))
	if clean.e != nil || clean.out != "public class A {\n  Integer x = 2;\n}\n// end\n" {
		t.Fatalf("clean text merge: %v %q", clean.e, clean.out)
	}
	conflict := runCLI(t, nil, "", "meta", "merge", base, filepath.Join(dir, "ours"), side("theirs", "public class A {\n  Integer x = 3;\n}\n"))
	if exitCode(conflict.e) != 1 || !strings.Contains(conflict.out, "<<<<<<< ours\n  Integer x = 2;\n=======\n  Integer x = 3;\n>>>>>>> theirs") {
		t.Fatalf("conflict: %v %q", conflict.e, conflict.out)
	}
}
