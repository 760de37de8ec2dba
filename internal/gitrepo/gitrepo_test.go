package gitrepo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// commitFiles writes files (nil content deletes) and commits them.
func commitFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := r.Worktree()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if content == "\x00delete" {
			if _, err := wt.Remove(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit("change", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestRepo(t *testing.T) {
	dir := t.TempDir()
	if _, err := git.PlainInit(dir, false); err != nil {
		t.Fatal(err)
	}
	first := commitFiles(t, dir, map[string]string{"a.txt": "one", "src/b.txt": "two", "src/c/d.txt": "three"})
	second := commitFiles(t, dir, map[string]string{"a.txt": "one!", "src/b.txt": "\x00delete", "src/e.txt": "new"})

	g, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := g.Diff(first, second)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, string(c.Status)+" "+c.Path)
	}
	if strings.Join(got, ",") != "M a.txt,D src/b.txt,A src/e.txt" {
		t.Errorf("changes %v", got)
	}
	head, err := g.Diff("HEAD~1", "HEAD")
	if err != nil || len(head) != 3 {
		t.Errorf("HEAD~1..HEAD: %v %v", head, err)
	}

	fsys, err := g.FS(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "src/b.txt")
	if err != nil || string(b) != "two" {
		t.Errorf("read at first: %q %v", b, err)
	}
	entries, err := fs.ReadDir(fsys, "src")
	if err != nil || len(entries) != 2 || entries[0].Name() != "b.txt" || !entries[1].IsDir() {
		t.Errorf("readdir: %v %v", entries, err)
	}
	var walked []string
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			walked = append(walked, p)
		}
		return err
	})
	if strings.Join(walked, ",") != "a.txt,src/b.txt,src/c/d.txt" {
		t.Errorf("walk %v", walked)
	}
	if _, err := fs.ReadFile(fsys, "nope.txt"); err == nil {
		t.Error("missing file should fail")
	}
	if _, err := g.Diff("no-such-branch", "HEAD"); err == nil || !strings.Contains(err.Error(), "no-such-branch") {
		t.Errorf("unknown revision error should name it: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("a directory without git should fail")
	}
}

// TestBackendsAgree checks the git-binary backend's breadth-first diff
// against go-git's on added, deleted and changed files and whole folders.
func TestBackendsAgree(t *testing.T) {
	dir := t.TempDir()
	if _, err := git.PlainInit(dir, false); err != nil {
		t.Fatal(err)
	}
	first := commitFiles(t, dir, map[string]string{
		"keep.txt": "same", "a/b/c.txt": "1", "a/b/d.txt": "2", "gone/x.txt": "x", "gone/deep/y.txt": "y", "m.txt": "m",
	})
	second := commitFiles(t, dir, map[string]string{
		"a/b/c.txt": "1!", "gone/x.txt": "\x00delete", "gone/deep/y.txt": "\x00delete", "new/deep/z.txt": "z", "m.txt": "\x00delete",
	})
	g, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.cli == nil {
		t.Fatal("the git binary backend should be in use where git is installed")
	}
	cliChanges, fa, fb, err := g.DiffFS(first, second)
	if err != nil {
		t.Fatal(err)
	}
	goGit := &Repo{r: g.r, storage: g.storage}
	want, err := goGit.Diff(first, second)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cliChanges) != fmt.Sprint(want) {
		t.Errorf("git binary: %v\ngo-git:     %v", cliChanges, want)
	}
	b, err := fs.ReadFile(fb, "new/deep/z.txt")
	if err != nil || string(b) != "z" {
		t.Errorf("read through the diff's file system: %q %v", b, err)
	}
	if _, err := fs.Stat(fa, "gone/deep/y.txt"); err != nil {
		t.Errorf("stat in the older revision: %v", err)
	}
	if _, err := fs.Stat(fb, "gone"); err == nil {
		t.Error("a deleted folder must not exist in the newer revision")
	}
	same, _, _, err := g.DiffFS(second, second)
	if err != nil || len(same) != 0 {
		t.Errorf("no changes between a commit and itself: %v %v", same, err)
	}
}
