// Package gitrepo reads git repositories with go-git: revisions as file
// systems and the files changed between two revisions. It knows nothing of
// Salesforce; the metadata engine reads what it serves.
package gitrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Repo is an opened repository.
type Repo struct {
	r       *git.Repository
	dir     string
	storage *filesystem.Storage
	cli     *cli // the git binary, when installed; else go-git serves everything
}

// Open opens the repository at dir: a work tree (or a directory inside
// one) or a bare repository. Pack files stay open while the Repo is used,
// so reading many objects costs no repeated opens; Close releases them.
func Open(dir string) (*Repo, error) {
	gitDir, err := findGitDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open git repository %s: %w", dir, err)
	}
	st := filesystem.NewStorageWithOptions(osfs.New(gitDir), cache.NewObjectLRU(256*cache.MiByte), filesystem.Options{KeepDescriptors: true})
	r, err := git.Open(st, nil)
	if err != nil {
		return nil, fmt.Errorf("open git repository %s: %w", dir, err)
	}
	g := &Repo{r: r, dir: dir, storage: st}
	if os.Getenv("TRELLIS_GIT_BACKEND") != "go-git" {
		g.cli, _ = newCLI(gitDir)
	}
	return g, nil
}

// Close releases the repository's open files and processes.
func (g *Repo) Close() error {
	var err error
	if g.cli != nil {
		err = g.cli.close()
	}
	return errors.Join(err, g.storage.Close())
}

// findGitDir returns the .git directory for dir, following a .git file
// (worktrees, submodules) and accepting a bare repository.
func findGitDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		dot := filepath.Join(d, ".git")
		fi, err := os.Stat(dot)
		if err == nil && fi.IsDir() {
			return dot, nil
		}
		if err == nil {
			b, err := os.ReadFile(dot)
			if err != nil {
				return "", err
			}
			target := strings.TrimSpace(strings.TrimPrefix(string(b), "gitdir:"))
			if !filepath.IsAbs(target) {
				target = filepath.Join(d, target)
			}
			return target, nil
		}
		if _, err := os.Stat(filepath.Join(d, "HEAD")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "objects")); err == nil {
				return d, nil // bare
			}
		}
		if d == filepath.Dir(d) {
			return "", git.ErrRepositoryNotExists
		}
	}
}

// Commit resolves a revision (a branch, tag, commit id, HEAD~3…) to a
// commit. It returns an error naming the revision when it does not exist.
func (g *Repo) Commit(rev string) (*object.Commit, error) {
	h, err := g.r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("revision %q: %w", rev, err)
	}
	c, err := g.r.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("revision %q is not a commit: %w", rev, err)
	}
	return c, nil
}

// Change is one path that differs between two revisions.
type Change struct {
	Status byte // 'A', 'M' or 'D'
	Path   string
}

// Diff lists the files that differ between two revisions, sorted by path.
// A rename is a deletion and an addition.
func (g *Repo) Diff(from, to string) ([]Change, error) {
	if g.cli != nil {
		return g.cli.diff(from, to)
	}
	a, err := g.tree(from)
	if err != nil {
		return nil, err
	}
	b, err := g.tree(to)
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(a, b)
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", from, to, err)
	}
	out := make([]Change, 0, len(changes))
	for _, c := range changes {
		switch {
		case c.From.Name == "":
			out = append(out, Change{'A', c.To.Name})
		case c.To.Name == "":
			out = append(out, Change{'D', c.From.Name})
		case c.From.Name != c.To.Name:
			out = append(out, Change{'D', c.From.Name}, Change{'A', c.To.Name})
		default:
			out = append(out, Change{'M', c.To.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (g *Repo) tree(rev string) (*object.Tree, error) {
	c, err := g.Commit(rev)
	if err != nil {
		return nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %q: %w", rev, err)
	}
	return t, nil
}

// DiffFS lists the files that differ between two revisions and returns
// both revisions as file systems, sharing what the comparison read: on the
// git-binary backend the directories walked for the diff are not read
// again when the caller looks into them.
func (g *Repo) DiffFS(from, to string) ([]Change, fs.FS, fs.FS, error) {
	if g.cli != nil {
		return g.cli.diffFS(from, to)
	}
	changes, err := g.Diff(from, to)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := g.FS(from)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := g.FS(to)
	if err != nil {
		return nil, nil, nil, err
	}
	return changes, a, b, nil
}

// FS returns a read-only file system of the files at rev. Submodules and
// symbolic links are not followed.
func (g *Repo) FS(rev string) (fs.FS, error) {
	if g.cli != nil {
		id, err := g.cli.commit(rev)
		if err != nil {
			return nil, err
		}
		return &cliFS{c: g.cli, proc: g.cli.proc(), commit: id, dirs: map[string][]cliEntry{}, cache: map[string][]byte{}}, nil
	}
	t, err := g.tree(rev)
	if err != nil {
		return nil, err
	}
	return newTreeFS(g.r, t), nil
}

// treeFS serves a git tree through io/fs. Decoded directories are cached
// by path (a folder of 3,000 fields is decoded once, not per file), and
// access is serialised because go-git objects are not safe for concurrent
// use.
type treeFS struct {
	mu   sync.Mutex
	repo *git.Repository
	root *object.Tree
	dirs map[string]*dirIndex
}

type dirIndex struct {
	tree    *object.Tree
	entries map[string]object.TreeEntry
}

func newTreeFS(repo *git.Repository, root *object.Tree) *treeFS {
	return &treeFS{repo: repo, root: root, dirs: map[string]*dirIndex{}}
}

// dir returns the decoded directory at p ("." for the root), or nil.
func (t *treeFS) dir(p string) *dirIndex {
	if d, ok := t.dirs[p]; ok {
		return d
	}
	var tree *object.Tree
	if p == "." {
		tree = t.root
	} else {
		parent := t.dir(path.Dir(p))
		if parent == nil {
			t.dirs[p] = nil
			return nil
		}
		e, ok := parent.entries[path.Base(p)]
		if !ok || e.Mode != filemode.Dir {
			t.dirs[p] = nil
			return nil
		}
		sub, err := t.repo.TreeObject(e.Hash)
		if err != nil {
			t.dirs[p] = nil
			return nil
		}
		tree = sub
	}
	d := &dirIndex{tree: tree, entries: make(map[string]object.TreeEntry, len(tree.Entries))}
	for _, e := range tree.Entries {
		d.entries[e.Name] = e
	}
	t.dirs[p] = d
	return d
}

// entry returns the tree entry at name.
func (t *treeFS) entry(name string) (object.TreeEntry, bool) {
	if name == "." {
		return object.TreeEntry{Name: ".", Mode: filemode.Dir, Hash: t.root.Hash}, true
	}
	d := t.dir(path.Dir(name))
	if d == nil {
		return object.TreeEntry{}, false
	}
	e, ok := d.entries[path.Base(name)]
	return e, ok
}

func (t *treeFS) readBlob(e object.TreeEntry) ([]byte, error) {
	blob, err := t.repo.BlobObject(e.Hash)
	if err != nil {
		return nil, err
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Open implements fs.FS.
func (t *treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entry(name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	info := entryInfo{name: path.Base(name), mode: e.Mode}
	if e.Mode == filemode.Dir {
		return &dirFile{info: info}, nil
	}
	data, err := t.readBlob(e)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info.size = int64(len(data))
	return &blobFile{info: info, r: bytes.NewReader(data)}, nil
}

// ReadFile implements fs.ReadFileFS.
func (t *treeFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entry(name)
	if !ok || e.Mode == filemode.Dir {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	data, err := t.readBlob(e)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// Stat implements fs.StatFS without reading the file.
func (t *treeFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entry(name)
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return entryInfo{name: path.Base(name), mode: e.Mode}, nil
}

// ReadDir implements fs.ReadDirFS.
func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.dir(name)
	if d == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(d.tree.Entries))
	for _, e := range d.tree.Entries {
		out = append(out, entryInfo{name: e.Name, mode: e.Mode})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

type entryInfo struct {
	name string
	mode filemode.FileMode
	size int64
}

func (e entryInfo) Name() string               { return e.name }
func (e entryInfo) Size() int64                { return e.size }
func (e entryInfo) ModTime() time.Time         { return time.Time{} }
func (e entryInfo) IsDir() bool                { return e.mode == filemode.Dir }
func (e entryInfo) Sys() any                   { return nil }
func (e entryInfo) Info() (fs.FileInfo, error) { return e, nil }
func (e entryInfo) Type() fs.FileMode          { return e.Mode().Type() }

func (e entryInfo) Mode() fs.FileMode {
	switch e.mode {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Submodule:
		return fs.ModeIrregular
	case filemode.Executable:
		return 0o755
	}
	return 0o644
}

type dirFile struct{ info entryInfo }

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error)   { return 0, errors.New("is a directory") }
func (d *dirFile) Close() error               { return nil }

type blobFile struct {
	info entryInfo
	r    *bytes.Reader
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return b.info, nil }
func (b *blobFile) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *blobFile) Close() error               { return nil }

// IsNotFound reports whether err says a revision or path does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, plumbing.ErrReferenceNotFound) ||
		strings.Contains(fmt.Sprint(err), "reference not found")
}
