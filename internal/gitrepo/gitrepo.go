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
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is an opened repository.
type Repo struct {
	r   *git.Repository
	dir string
}

// Open opens the repository at dir (a work tree or a bare repository).
func Open(dir string) (*Repo, error) {
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository %s: %w", dir, err)
	}
	return &Repo{r: r, dir: dir}, nil
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

// FS returns a read-only file system of the files at rev. Submodules and
// symbolic links are not followed.
func (g *Repo) FS(rev string) (fs.FS, error) {
	t, err := g.tree(rev)
	if err != nil {
		return nil, err
	}
	return &treeFS{root: t}, nil
}

// treeFS serves a git tree through io/fs. go-git trees cache lookups in
// maps that are not safe for concurrent use, so access is serialised.
type treeFS struct {
	mu   sync.Mutex
	root *object.Tree
}

func (t *treeFS) lookup(name string) (*object.TreeEntry, error) {
	if !fs.ValidPath(name) {
		return nil, fs.ErrInvalid
	}
	if name == "." {
		return &object.TreeEntry{Name: ".", Mode: filemode.Dir, Hash: t.root.Hash}, nil
	}
	e, err := t.root.FindEntry(name)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	return e, nil
}

// Open implements fs.FS. The file's content is read while locked.
func (t *treeFS) Open(name string) (fs.File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, err := t.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := entryInfo{name: path.Base(name), mode: e.Mode}
	if e.Mode == filemode.Dir {
		return &dirFile{info: info}, nil
	}
	blob, err := t.root.File(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info.size = blob.Size
	return &blobFile{info: info, r: bytes.NewReader(data)}, nil
}

// ReadFile implements fs.ReadFileFS.
func (t *treeFS) ReadFile(name string) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	f, err := t.root.File(name)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	r, err := f.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	defer r.Close()
	return io.ReadAll(r)
}

// ReadDir implements fs.ReadDirFS.
func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	dir := t.root
	if name != "." {
		if !fs.ValidPath(name) {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
		}
		sub, err := t.root.Tree(name)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
		}
		dir = sub
	}
	out := make([]fs.DirEntry, 0, len(dir.Entries))
	for _, e := range dir.Entries {
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
