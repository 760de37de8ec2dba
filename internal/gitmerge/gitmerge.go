// Package gitmerge merges one branch into another the way a Salesforce
// team would want git to: git's own merge for everything it settles, and
// where it stops on a file, a second attempt that merges metadata XML by
// element (metadata.MergeXML) before giving up. It needs no worktree: the
// merge is computed from the object database (git merge-tree), resolved
// files are written as blobs into a private index, and the result is a
// merge commit that no branch points to yet — the caller moves the branch
// once the merge has been deployed.
package gitmerge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// Conflict is a file the merge could not settle.
type Conflict struct {
	Path string
	// Elements lists the conflicting elements of a metadata XML file
	// (empty for a text conflict).
	Elements []string
	// Base, Ours and Theirs are the three versions (nil where the file
	// did not exist); Marked is the merge with conflicts between markers.
	Base, Ours, Theirs, Marked []byte
}

// Result is a merge's outcome: a commit when it is clean, else conflicts.
type Result struct {
	Commit    string     // the merge commit, "" when conflicts remain
	Tree      string     // its tree
	Resolved  []string   // files git stopped on that the metadata merge settled
	Conflicts []Conflict // files still in conflict
	UpToDate  bool       // from was already merged into into: nothing to do
}

// Author names who the merge commit is by.
type Author struct{ Name, Email string }

// Merge merges the commit from into the commit into (any revisions) in
// the repository at dir (bare or not), with message as the commit
// message. Nothing is checked out and no ref moves.
func Merge(ctx context.Context, dir, into, from, message string, a Author) (Result, error) {
	return MergeResolved(ctx, dir, into, from, message, a, nil)
}

// MergeResolved is Merge with people's resolutions of the files it could
// not settle: resolved maps a path to its content (nil: the file goes).
// A conflicted path without a resolution stays a conflict.
func MergeResolved(ctx context.Context, dir, into, from, message string, a Author, resolved map[string][]byte) (Result, error) {
	var res Result
	g := &git{ctx: ctx, dir: dir, env: []string{"GIT_AUTHOR_NAME=" + a.Name, "GIT_AUTHOR_EMAIL=" + a.Email,
		"GIT_COMMITTER_NAME=" + a.Name, "GIT_COMMITTER_EMAIL=" + a.Email}}
	intoID, err := g.out("rev-parse", "--verify", into+"^{commit}")
	if err != nil {
		return res, fmt.Errorf("%s: not a commit in the repository", into)
	}
	fromID, err := g.out("rev-parse", "--verify", from+"^{commit}")
	if err != nil {
		return res, fmt.Errorf("%s: not a commit in the repository", from)
	}
	if _, err := g.out("merge-base", "--is-ancestor", fromID, intoID); err == nil {
		res.UpToDate = true
		res.Commit = intoID
		return res, nil
	}
	raw, code, err := g.run(nil, "merge-tree", "--write-tree", "-z", "--no-messages", intoID, fromID)
	if err != nil && code != 1 {
		return res, fmt.Errorf("git merge-tree: %w", err)
	}
	parts := bytes.Split(raw, []byte{0})
	if len(parts) == 0 || len(parts[0]) == 0 {
		return res, errors.New("git merge-tree gave no tree")
	}
	res.Tree = string(parts[0])
	type stage struct{ mode, oid string }
	conflicted := map[string]*[4]stage{}
	var paths []string
	for _, p := range parts[1:] {
		if len(p) == 0 {
			break // the end of the conflicted file list
		}
		meta, path, ok := strings.Cut(string(p), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			return res, fmt.Errorf("git merge-tree: unexpected entry %q", p)
		}
		n, _ := strconv.Atoi(f[2])
		if n < 1 || n > 3 {
			continue
		}
		if conflicted[path] == nil {
			conflicted[path] = &[4]stage{}
			paths = append(paths, path)
		}
		conflicted[path][n] = stage{f[0], f[1]}
	}
	// Metadata XML that both sides changed is merged by element even
	// where git's line merge succeeded: lines interleaved from two edits
	// of one permission can be a setting neither side wrote.
	baseID, err := g.out("merge-base", intoID, fromID)
	if err != nil {
		return res, fmt.Errorf("git merge-base: %w", err)
	}
	changed := func(to string) (map[string]bool, error) {
		b, _, err := g.run(nil, "diff", "--name-only", "-z", "--no-renames", baseID, to)
		if err != nil {
			return nil, fmt.Errorf("git diff: %w", err)
		}
		m := map[string]bool{}
		for _, p := range bytes.Split(b, []byte{0}) {
			if len(p) > 0 {
				m[string(p)] = true
			}
		}
		return m, nil
	}
	ours, err := changed(intoID)
	if err != nil {
		return res, err
	}
	theirs, err := changed(fromID)
	if err != nil {
		return res, err
	}
	for p := range ours {
		if theirs[p] && isXML(p) && conflicted[p] == nil {
			conflicted[p] = &[4]stage{}
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var specs []string
	for _, p := range paths {
		specs = append(specs, baseID+":"+p, intoID+":"+p, fromID+":"+p)
	}
	blobs, err := g.readBlobs(specs)
	if err != nil {
		return res, err
	}

	var index []string // update-index --index-info lines
	for _, path := range paths {
		st := conflicted[path]
		sides := [4][]byte{nil, blobs[baseID+":"+path], blobs[intoID+":"+path], blobs[fromID+":"+path]}
		c := Conflict{Path: path, Base: sides[1], Ours: sides[2], Theirs: sides[3]}
		var merged []byte
		clean, tried := false, false
		if r, ok := resolved[path]; ok {
			merged, clean, tried = r, true, true
		} else if isXML(path) {
			r, err := metadata.MergeXML(sides[1], sides[2], sides[3])
			if err == nil {
				tried = true
				merged, clean = r.Data, len(r.Conflicts) == 0
				for _, x := range r.Conflicts {
					c.Elements = append(c.Elements, x.Path)
				}
			} else if st[2].oid == "" && st[3].oid == "" && st[1].oid == "" {
				continue // not metadata XML and git merged it: keep git's result
			}
		}
		if !tried && sides[2] != nil && sides[3] != nil {
			if merged, clean, err = TextMerge(ctx, sides[1], sides[2], sides[3]); err != nil {
				return res, err
			}
		}
		if !clean {
			c.Marked = merged
			res.Conflicts = append(res.Conflicts, c)
			continue
		}
		if st[1].oid != "" || st[2].oid != "" || st[3].oid != "" {
			res.Resolved = append(res.Resolved, path)
		}
		if merged == nil { // deleted on both sides, or deleted and untouched
			index = append(index, "0 "+strings.Repeat("0", len(intoID))+"\t"+path)
			continue
		}
		oid, _, err := g.run(merged, "hash-object", "-w", "--stdin")
		if err != nil {
			return res, fmt.Errorf("store %s: %w", path, err)
		}
		mode := st[2].mode
		if mode == "" {
			mode = st[3].mode
		}
		if mode == "" {
			mode = "100644"
		}
		index = append(index, mode+" "+strings.TrimSpace(string(oid))+"\t"+path)
	}
	if len(res.Conflicts) > 0 {
		return res, nil
	}
	if len(index) > 0 {
		tmp, err := os.MkdirTemp("", "trellis-merge-index")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(tmp)
		ig := *g
		ig.env = append(append([]string(nil), g.env...), "GIT_INDEX_FILE="+filepath.Join(tmp, "index"))
		if _, _, err := ig.run(nil, "read-tree", res.Tree); err != nil {
			return res, fmt.Errorf("git read-tree: %w", err)
		}
		if _, _, err := ig.run([]byte(strings.Join(index, "\n")+"\n"), "update-index", "--index-info"); err != nil {
			return res, fmt.Errorf("git update-index: %w", err)
		}
		tree, _, err := ig.run(nil, "write-tree")
		if err != nil {
			return res, fmt.Errorf("git write-tree: %w", err)
		}
		res.Tree = strings.TrimSpace(string(tree))
	}
	commit, _, err := g.run([]byte(message), "commit-tree", res.Tree, "-p", intoID, "-p", fromID, "-F", "-")
	if err != nil {
		return res, fmt.Errorf("git commit-tree: %w", err)
	}
	res.Commit = strings.TrimSpace(string(commit))
	return res, nil
}

func isXML(path string) bool { return strings.HasSuffix(strings.ToLower(path), ".xml") }

// readBlobs reads rev:path specs through one git cat-file --batch; a spec
// naming nothing reads as nil.
func (g *git) readBlobs(specs []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(specs))
	if len(specs) == 0 {
		return out, nil
	}
	raw, _, err := g.run([]byte(strings.Join(specs, "\n")+"\n"), "cat-file", "--batch")
	if err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	for _, spec := range specs {
		nl := bytes.IndexByte(raw, '\n')
		if nl < 0 {
			return nil, errors.New("git cat-file: short answer")
		}
		head := string(raw[:nl])
		raw = raw[nl+1:]
		if strings.HasSuffix(head, " missing") || strings.HasSuffix(head, " ambiguous") {
			continue
		}
		f := strings.Fields(head)
		if len(f) != 3 {
			return nil, fmt.Errorf("git cat-file: unexpected %q", head)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil || n > len(raw) {
			return nil, fmt.Errorf("git cat-file: unexpected %q", head)
		}
		if f[1] == "blob" {
			out[spec] = append([]byte(nil), raw[:n]...)
		}
		raw = raw[n:]
		if len(raw) > 0 && raw[0] == '\n' {
			raw = raw[1:]
		}
	}
	return out, nil
}

// TextMerge is git's three-way text merge (git merge-file) of versions
// held in memory: the merged text, with conflicts between markers when
// clean is false.
func TextMerge(ctx context.Context, base, ours, theirs []byte) (merged []byte, clean bool, err error) {
	tmp, err := os.MkdirTemp("", "trellis-merge-file")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(tmp)
	names := [3]string{"ours", "base", "theirs"}
	for i, b := range [][]byte{ours, base, theirs} {
		if err := os.WriteFile(filepath.Join(tmp, names[i]), b, 0o600); err != nil {
			return nil, false, err
		}
	}
	g := &git{ctx: ctx, dir: tmp}
	out, code, err := g.run(nil, "merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs", "ours", "base", "theirs")
	switch {
	case err == nil:
		return out, true, nil
	case code > 0 && code < 128:
		return out, false, nil
	}
	return nil, false, fmt.Errorf("git merge-file: %w", err)
}

type git struct {
	ctx context.Context
	dir string
	env []string
}

func (g *git) out(args ...string) (string, error) {
	b, _, err := g.run(nil, args...)
	return strings.TrimSpace(string(b)), err
}

// run runs git with stdin, returning stdout and the exit code.
func (g *git) run(stdin []byte, args ...string) ([]byte, int, error) {
	cmd := exec.CommandContext(g.ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), g.env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return stdout.Bytes(), ee.ExitCode(), fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), 0, err
}
