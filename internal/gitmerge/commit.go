package gitmerge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNoChange reports a commit that would change nothing.
var ErrNoChange = errors.New("nothing to commit: the branch already holds these files")

// CommitFiles makes a commit on top of parent (a revision) that writes
// files (path → content) and removes others, in the repository at dir
// (bare or not), without a worktree. No ref moves: the caller pushes it.
func CommitFiles(ctx context.Context, dir, parent, message string, a Author, write map[string][]byte, remove []string) (string, error) {
	g := &git{ctx: ctx, dir: dir, env: []string{"GIT_AUTHOR_NAME=" + a.Name, "GIT_AUTHOR_EMAIL=" + a.Email,
		"GIT_COMMITTER_NAME=" + a.Name, "GIT_COMMITTER_EMAIL=" + a.Email}}
	parentID, err := g.out("rev-parse", "--verify", parent+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("%s: not a commit in the repository", parent)
	}
	oldTree, err := g.out("rev-parse", parentID+"^{tree}")
	if err != nil {
		return "", err
	}
	var index []string
	paths := make([]string, 0, len(write))
	for p := range write {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := safePath(p); err != nil {
			return "", err
		}
		oid, _, err := g.run(write[p], "hash-object", "-w", "--stdin")
		if err != nil {
			return "", fmt.Errorf("store %s: %w", p, err)
		}
		index = append(index, "100644 "+strings.TrimSpace(string(oid))+"\t"+p)
	}
	for _, p := range remove {
		if err := safePath(p); err != nil {
			return "", err
		}
		index = append(index, "0 "+strings.Repeat("0", len(parentID))+"\t"+p)
	}
	tmp, err := os.MkdirTemp("", "trellis-commit-index")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ig := *g
	ig.env = append(append([]string(nil), g.env...), "GIT_INDEX_FILE="+filepath.Join(tmp, "index"))
	if _, _, err := ig.run(nil, "read-tree", oldTree); err != nil {
		return "", fmt.Errorf("git read-tree: %w", err)
	}
	if len(index) > 0 {
		if _, _, err := ig.run([]byte(strings.Join(index, "\n")+"\n"), "update-index", "--index-info"); err != nil {
			return "", fmt.Errorf("git update-index: %w", err)
		}
	}
	tree, _, err := ig.run(nil, "write-tree")
	if err != nil {
		return "", fmt.Errorf("git write-tree: %w", err)
	}
	if strings.TrimSpace(string(tree)) == oldTree {
		return "", ErrNoChange
	}
	commit, _, err := g.run([]byte(message), "commit-tree", strings.TrimSpace(string(tree)), "-p", parentID, "-F", "-")
	if err != nil {
		return "", fmt.Errorf("git commit-tree: %w", err)
	}
	return strings.TrimSpace(string(commit)), nil
}

// safePath refuses paths that would leave the tree or confuse the index.
func safePath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsAny(p, "\x00\n\t") {
		return fmt.Errorf("unsafe path %q", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.EqualFold(seg, ".git") {
			return fmt.Errorf("unsafe path %q", p)
		}
	}
	return nil
}
