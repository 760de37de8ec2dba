package metadata

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// ReadOptions tune how a project is read.
type ReadOptions struct {
	// KeepContent keeps each component's XML and parts after hashing
	// (needed to convert or package); without it only hashes remain.
	KeepContent bool
	// NamesOnly reads only what names the components (a manifest): files
	// are not read or hashed, except those that hold several components
	// (custom labels, workflows, sharing rules, a metadata-format object)
	// whose children must be listed. Components have no Hash.
	NamesOnly bool
	// Registry defaults to DefaultRegistry.
	Registry *Registry
}

func (o ReadOptions) registry() *Registry {
	if o.Registry != nil {
		return o.Registry
	}
	return DefaultRegistry
}

// ReadResult is a project read into a component set.
type ReadResult struct {
	Set *Set
	// Skipped lists files under package directories that are not metadata.
	Skipped []string
	// Ignored counts files left out by .forceignore.
	Ignored int
}

// FileError is a failure to read one file; it names the file.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// builder gathers the files of one component while a project is walked.
type builder struct {
	typ     *Type
	name    string
	xmlPath string
	body    string
	ext     string
	parts   map[string]string // part name → file path
	merges  []string          // files merged into the XML
}

// ReadSource reads every package directory of an SFDX project into a
// component set. It returns a *FileError for the first file that cannot be
// read or parsed.
func ReadSource(proj *Project, opts ReadOptions) (*ReadResult, error) {
	reg := opts.registry()
	res := &ReadResult{Set: NewSet()}
	builders := map[Key]*builder{}
	for _, dir := range proj.PackageDirs {
		err := fs.WalkDir(proj.FS, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == dir && errors.Is(err, fs.ErrNotExist) {
					return fs.SkipDir // a listed package directory that does not exist yet
				}
				return &FileError{Path: p, Err: err}
			}
			if d.IsDir() {
				if p != dir && proj.Ignore.IgnoredDir(p) {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil // symlinks and devices are never metadata
			}
			if proj.Ignore.Ignored(p) {
				res.Ignored++
				return nil
			}
			rel := strings.TrimPrefix(p, dir+"/")
			if dir == "." {
				rel = p
			}
			r, ok := reg.resolveSource(rel, proj)
			if !ok {
				res.Skipped = append(res.Skipped, p)
				return nil
			}
			addRef(builders, r, p)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	comps, err := loadAll(proj.FS, reg, builders, opts)
	if err != nil {
		return nil, err
	}
	for _, c := range comps {
		res.Set.Add(c)
	}
	return res, nil
}

func addRef(builders map[Key]*builder, r ref, p string) {
	k := Key{Type: r.typ.Name, Name: r.name}
	b := builders[k]
	if b == nil {
		b = &builder{typ: r.typ, name: r.name, parts: map[string]string{}}
		builders[k] = b
	}
	switch r.role {
	case roleXML:
		b.xmlPath = p
	case roleBody:
		b.body, b.ext = p, r.ext
	case rolePart:
		b.parts[r.part] = p
	case roleMerge:
		b.merges = append(b.merges, p)
	}
}

// loadAll reads and hashes every builder's component, in parallel.
func loadAll(fsys fs.FS, reg *Registry, builders map[Key]*builder, opts ReadOptions) ([]*Component, error) {
	list := make([]*builder, 0, len(builders))
	for _, b := range builders {
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	var (
		mu    sync.Mutex
		out   []*Component
		first error
		wg    sync.WaitGroup
	)
	work := make(chan *builder)
	// Reading files blocks in system calls: more readers than CPUs keep
	// the CPUs busy parsing.
	for w := 0; w < max(8, 4*runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				comps, err := b.load(fsys, reg, opts)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				out = append(out, comps...)
				mu.Unlock()
			}
		}()
	}
	for _, b := range list {
		work <- b
	}
	close(work)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return out, nil
}

// MaxFileSize is the largest file the engine reads. Salesforce caps a
// deploy or retrieve at 39 MB compressed (600 MB inflated, all files
// together); the largest single files real orgs hold (profiles and
// permission sets of big orgs, object translations) stay well under
// this. A larger file is refused before it is read, so reading a project
// costs at most a small multiple of this per file being read.
const MaxFileSize = 100 << 20

// ErrFileTooLarge is returned for a file over MaxFileSize.
var ErrFileTooLarge = fmt.Errorf("larger than the %d MiB a metadata file may be", MaxFileSize>>20)

func readFile(fsys fs.FS, p string) ([]byte, error) {
	// The disk refuses a file over the limit from its size before reading
	// it (see readDiskFile); other file systems hold theirs already.
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, &FileError{Path: p, Err: err}
	}
	if len(b) > MaxFileSize {
		return nil, &FileError{Path: p, Err: ErrFileTooLarge}
	}
	return b, nil
}

// sizedFS is a file system that can tell a file's size cheaply before it
// is read (the disk; in-memory ones already hold their files).
type sizedFS interface {
	size(name string) (int64, error)
}

func parseFile(fsys fs.FS, p string) (*Node, error) {
	b, err := readFile(fsys, p)
	if err != nil {
		return nil, err
	}
	n, err := ParseXML(b)
	if err != nil {
		return nil, &FileError{Path: p, Err: err}
	}
	return n, nil
}

// load builds the component (and, for monolithic parents, its child
// components) from the gathered files.
func (b *builder) load(fsys fs.FS, reg *Registry, opts ReadOptions) ([]*Component, error) {
	keep := opts.KeepContent
	c := &Component{Type: b.typ, Name: b.name}
	if b.typ.Name == "Document" && b.ext != "" {
		c.Name = b.name + "." + b.ext
	}
	if b.typ.IsChild() {
		c.Parent, _ = splitChildName(b.typ, b.name)
	}
	if opts.NamesOnly && !b.typ.HasAddressableChildren() {
		c.Files = b.files()
		return []*Component{c}, nil
	}
	if b.xmlPath != "" {
		n, err := parseFile(fsys, b.xmlPath)
		if err != nil {
			return nil, err
		}
		c.XML = n
		c.Files = append(c.Files, b.xmlPath)
	}
	for _, m := range b.merges {
		n, err := parseFile(fsys, m)
		if err != nil {
			return nil, err
		}
		if c.XML == nil {
			c.XML = &Node{Name: b.typ.Name}
		}
		mergeInto(c.XML, n, b.typ)
		c.Files = append(c.Files, m)
	}
	if b.body != "" {
		data, err := readFile(fsys, b.body)
		if err != nil {
			return nil, err
		}
		c.Parts = append(c.Parts, Part{Data: data})
		c.Files = append(c.Files, b.body)
	}
	names := make([]string, 0, len(b.parts))
	for n := range b.parts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := b.parts[n]
		data, err := readFile(fsys, p)
		if err != nil {
			return nil, err
		}
		c.Parts = append(c.Parts, Part{Name: n, Data: data})
		c.Files = append(c.Files, p)
	}
	if c.Type.Name == "StaticResource" {
		if err := expandZipResource(c); err != nil {
			return nil, &FileError{Path: b.body, Err: err}
		}
	}
	comps := splitChildren(c)
	for _, x := range comps {
		if !opts.NamesOnly {
			x.computeHash()
		}
		if !keep {
			x.XML, x.Parts = nil, nil
		}
	}
	return comps, nil
}

// files lists the builder's files in the order load reads them.
func (b *builder) files() []string {
	var out []string
	if b.xmlPath != "" {
		out = append(out, b.xmlPath)
	}
	out = append(out, b.merges...)
	if b.body != "" {
		out = append(out, b.body)
	}
	names := make([]string, 0, len(b.parts))
	for n := range b.parts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, b.parts[n])
	}
	return out
}

// mergeInto adds a decomposed piece's XML to its parent document: a piece
// whose root is the parent type contributes its children as they are
// (permission set pieces); any other piece is one element named by its
// child type's tag (a field translation).
func mergeInto(parent, piece *Node, t *Type) {
	if piece.Name == t.Name {
		parent.Children = append(parent.Children, piece.Children...)
		return
	}
	tag := piece.Name
	for _, c := range t.Children() {
		if c.Name == piece.Name {
			tag = c.Tag
		}
	}
	el := *piece
	el.Name, el.NS = tag, ""
	parent.Children = append(parent.Children, &el)
}

// splitChildren takes the addressable children out of a parent's XML and
// returns them as components after the parent. A parent whose file held
// nothing but children (a workflow of rules, the labels file) is dropped:
// it has no content of its own to deploy or compare.
func splitChildren(c *Component) []*Component {
	if c.XML == nil || !c.Type.HasAddressableChildren() {
		return []*Component{c}
	}
	var kids []*Component
	kept := c.XML.Children[:0:0]
	for _, el := range c.XML.Children {
		ct := c.Type.ChildByTag(el.Name)
		if ct == nil || ct.Hidden {
			kept = append(kept, el)
			continue
		}
		key := el.ChildText(ct.Key)
		if key == "" {
			kept = append(kept, el)
			continue
		}
		child := *el
		child.Name = ct.Name
		kids = append(kids, &Component{Type: ct, Name: childName(c.Type, c.Name, key), Parent: c.Name, Files: c.Files, XML: &child})
	}
	c.XML.Children = kept
	if len(kept) == 0 && len(kids) > 0 && strings.TrimSpace(c.XML.Text) == "" {
		return kids
	}
	return append([]*Component{c}, kids...)
}
