package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

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
	r = runCLI(t, nil, "", "meta", "manifest", broken)
	if r.e == nil || !strings.Contains(r.e.Error(), "force-app/classes/X.cls-meta.xml") || !strings.Contains(r.e.Error(), "DTD") {
		t.Errorf("hostile XML must fail naming the file: %v", r.e)
	}
}
