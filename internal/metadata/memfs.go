package metadata

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// MemFS serves a path → content map (an unzipped archive, a package being
// built) as a read-only file system, with its directories implied.
func MemFS(files map[string][]byte) fs.FS {
	m := &memFS{files: map[string][]byte{}, dirs: map[string][]string{".": nil}}
	for p, b := range files {
		p = path.Clean(strings.TrimPrefix(p, "/"))
		if !fs.ValidPath(p) || p == "." {
			continue
		}
		m.files[p] = b
		for child := p; child != "."; {
			parent := path.Dir(child)
			kids, seen := m.dirs[parent]
			if !contains(kids, path.Base(child)) {
				m.dirs[parent] = append(kids, path.Base(child))
			}
			if seen && parent != "." {
				break
			}
			child = parent
		}
	}
	for d := range m.dirs {
		sort.Strings(m.dirs[d])
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type memFS struct {
	files map[string][]byte
	dirs  map[string][]string
}

func (m *memFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if b, ok := m.files[name]; ok {
		return &memFile{info: memInfo{name: path.Base(name), size: int64(len(b))}, r: bytes.NewReader(b)}, nil
	}
	if _, ok := m.dirs[name]; ok {
		return &memFile{info: memInfo{name: path.Base(name), dir: true}}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (m *memFS) ReadFile(name string) ([]byte, error) {
	if b, ok := m.files[name]; ok {
		return b, nil
	}
	return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
}

func (m *memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	kids, ok := m.dirs[name]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, 0, len(kids))
	for _, k := range kids {
		full := path.Join(name, k)
		_, isDir := m.dirs[full]
		out = append(out, memInfo{name: k, dir: isDir, size: int64(len(m.files[full]))})
	}
	return out, nil
}

type memInfo struct {
	name string
	dir  bool
	size int64
}

func (i memInfo) Name() string               { return i.name }
func (i memInfo) Size() int64                { return i.size }
func (i memInfo) ModTime() time.Time         { return time.Time{} }
func (i memInfo) IsDir() bool                { return i.dir }
func (i memInfo) Sys() any                   { return nil }
func (i memInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i memInfo) Info() (fs.FileInfo, error) { return i, nil }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

type memFile struct {
	info memInfo
	r    *bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Read(p []byte) (int, error) {
	if f.r == nil {
		return 0, io.EOF
	}
	return f.r.Read(p)
}
func (f *memFile) Close() error { return nil }

// PackageRoot returns the part of a retrieved or packaged tree that holds
// package.xml: the root itself, or its one top folder ("unpackaged/" in a
// retrieve zip).
func PackageRoot(fsys fs.FS) fs.FS {
	if _, err := fs.Stat(fsys, "package.xml"); err == nil {
		return fsys
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil || len(entries) != 1 || !entries[0].IsDir() {
		return fsys
	}
	if sub, err := fs.Sub(fsys, entries[0].Name()); err == nil {
		if _, err := fs.Stat(sub, "package.xml"); err == nil {
			return sub
		}
	}
	return fsys
}
