// Package gittest builds git repositories for tests with go-git, so tests
// that need a repository run where the git binary is not installed.
package gittest

import (
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Init makes an empty repository in dir whose first branch is branch.
func Init(t testing.TB, dir, branch string) {
	t.Helper()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(branch))); err != nil {
		t.Fatal(err)
	}
}

// CommitAll stages every change in dir's work tree (additions, edits and
// removals) and commits it with msg.
func CommitAll(t testing.TB, dir, msg string) string {
	t.Helper()
	w := worktree(t, dir)
	if err := w.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := w.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// NewBranch creates branch at HEAD and checks it out, keeping the work tree.
func NewBranch(t testing.TB, dir, branch string) {
	t.Helper()
	if err := worktree(t, dir).Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: true, Keep: true}); err != nil {
		t.Fatal(err)
	}
}

func worktree(t testing.TB, dir string) *git.Worktree {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Tip returns the message of branch's last commit and the content of path
// in it.
func Tip(t testing.TB, dir, branch, path string) (message, content string) {
	t.Helper()
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.CommitObject(ref.Hash())
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.File(path)
	if err != nil {
		t.Fatal(err)
	}
	content, err = f.Contents()
	if err != nil {
		t.Fatal(err)
	}
	return c.Message, content
}
