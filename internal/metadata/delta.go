package metadata

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// FileChange is one path that differs between two revisions.
type FileChange struct {
	Status byte   // 'A' added, 'M' modified, 'D' deleted
	Path   string // slash-separated, relative to the repository root
}

// DeltaResult is what changed between two revisions, by component.
type DeltaResult struct {
	Package     *Manifest   // added and changed components (package.xml)
	Destructive *Manifest   // deleted components (destructiveChanges.xml)
	Entries     []DiffEntry // every affected component, unchanged ones included
	// CopyFiles are the files (in the "to" revision) of added and changed
	// components, for writing the changed source alongside the manifests.
	CopyFiles   []string
	NotMetadata []string // changed files that are not metadata
	Ignored     []string // changed files left out by .forceignore
	// Unchanged are components whose files changed but whose content did
	// not: moved between folders, or only reformatted.
	Unchanged []Key
}

// DeltaOptions tune Delta.
type DeltaOptions struct {
	Registry   *Registry
	APIVersion string // package.xml version; default: sourceApiVersion, else 62.0
	// KeepContent keeps the loaded components' content in Entries (to
	// package them); without it only their hashes remain.
	KeepContent bool
}

// containerTypes are parents listed in package.xml beside changed children
// kept in their file (sfdx-git-delta does the same, and deploying a
// workflow rule with its Workflow is what Salesforce expects).
var containerTypes = map[string]bool{"Workflow": true, "SharingRules": true, "AssignmentRules": true,
	"AutoResponseRules": true, "EscalationRules": true, "MatchingRules": true, "Bot": true}

// Delta works out which components changed between two revisions of an
// SFDX project from the list of changed files: it loads only the affected
// components, in both revisions, and compares their canonical content, so
// a file rename, a deleted bundle file, a meta-file-only change or a
// changed label inside CustomLabels all come out right. Memory and time
// grow with the changed components, not with the repository.
func Delta(from, to fs.FS, changes []FileChange, opts DeltaOptions) (*DeltaResult, error) {
	reg := opts.Registry
	if reg == nil {
		reg = DefaultRegistry
	}
	toProj, err := LoadProject(to)
	if err != nil {
		return nil, fmt.Errorf("the \"to\" revision: %w", err)
	}
	fromProj, err := LoadProject(from)
	if errors.Is(err, ErrNotProject) {
		fromProj = &Project{FS: from, PackageDirs: toProj.PackageDirs, Options: toProj.Options, Ignore: toProj.Ignore}
	} else if err != nil {
		return nil, fmt.Errorf("the \"from\" revision: %w", err)
	}
	// The current ignore rules apply to both sides, as they do for the CLI.
	fromProj.Ignore = toProj.Ignore
	version := opts.APIVersion
	if version == "" {
		version = toProj.SourceAPIVersion
	}
	if version == "" {
		version = "62.0"
	}
	if v, err := ParseAPIVersion(version); err == nil {
		version = v
	}
	d := &deltaRun{reg: reg, keep: opts.KeepContent, sides: [2]*deltaSide{newSide(fromProj), newSide(toProj)}, units: map[unitKey]unit{}}
	res := &DeltaResult{Package: NewManifest(version), Destructive: NewManifest(version)}
	for _, ch := range changes {
		d.addChange(ch, res)
	}
	if err := d.load(); err != nil {
		return nil, err
	}
	d.classify(res)
	return res, nil
}

type deltaSide struct {
	proj *Project
	mu   sync.Mutex
	dirs map[string][]dirFile
}

// dirFile is a file of a listed directory with its decoded name.
type dirFile struct {
	name    string // on disk
	decoded string // percent-decoding undone, for matching fullNames
}

func newSide(p *Project) *deltaSide { return &deltaSide{proj: p, dirs: map[string][]dirFile{}} }

// readDir lists a directory's files once per run, sorted by decoded name;
// missing directories are empty.
func (s *deltaSide) readDir(dir string) []dirFile {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.dirs[dir]; ok {
		return e
	}
	entries, _ := fs.ReadDir(s.proj.FS, dir)
	files := make([]dirFile, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			files = append(files, dirFile{name: e.Name(), decoded: decodeName(e.Name())})
		}
	}
	// Listings come sorted by file name, which is the decoded order unless
	// some name is percent-encoded.
	less := func(i, j int) bool { return files[i].decoded < files[j].decoded }
	if !sort.SliceIsSorted(files, less) {
		sort.Slice(files, less)
	}
	s.dirs[dir] = files
	return files
}

// unit is a component whose files to load from both revisions: its key,
// the directory its files are in, and whether to look below it.
type unit struct {
	key    Key
	pkgDir string
	dir    string // directory to scan, relative to the root
	subdir string // for bundles and folder resources: the component's own folder under dir
}

type unitKey struct {
	key Key
	dir string
}

type deltaRun struct {
	reg    *Registry
	keep   bool
	sides  [2]*deltaSide // from, to
	units  map[unitKey]unit
	loaded [2]map[Key]*Component
}

func (d *deltaRun) addChange(ch FileChange, res *DeltaResult) {
	sides := []int{0, 1}
	switch ch.Status {
	case 'A':
		sides = []int{1}
	case 'D':
		sides = []int{0}
	}
	for _, i := range sides {
		s := d.sides[i]
		pkgDir := packageDirOf(s.proj, ch.Path)
		if pkgDir == "" {
			appendOnce(&res.NotMetadata, ch.Path)
			continue
		}
		if s.proj.Ignore.Ignored(ch.Path) {
			appendOnce(&res.Ignored, ch.Path)
			continue
		}
		rel := strings.TrimPrefix(ch.Path, pkgDir+"/")
		if pkgDir == "." {
			rel = ch.Path
		}
		r, ok := d.reg.resolveSource(rel, s.proj)
		if !ok {
			appendOnce(&res.NotMetadata, ch.Path)
			continue
		}
		u := unitFor(r, ch.Path, pkgDir)
		d.units[unitKey{u.key, u.dir + "\x00" + u.subdir}] = u
	}
}

func appendOnce(list *[]string, p string) {
	for _, x := range *list {
		if x == p {
			return
		}
	}
	*list = append(*list, p)
}

func packageDirOf(p *Project, file string) string {
	best := ""
	for _, d := range p.PackageDirs {
		if isUnder(file, d) && len(d) > len(best) {
			best = d
		}
	}
	return best
}

// unitFor decides which files make up the component a changed file
// belongs to: its siblings (a class and its -meta.xml, a document and its
// meta, a bot's folder), or for bundles and folder resources the
// component's folder plus the files beside it.
func unitFor(r ref, file, pkgDir string) unit {
	k := Key{Type: r.typ.Name, Name: r.name}
	dir := path.Dir(file)
	if r.role == rolePart {
		compDir := strings.TrimSuffix(file, "/"+r.part)
		return unit{key: k, pkgDir: pkgDir, dir: path.Dir(compDir), subdir: path.Base(compDir)}
	}
	if r.typ.Name == "StaticResource" || r.typ.Name == "ExperienceBundle" || r.typ.Shape == ShapeBundle {
		return unit{key: k, pkgDir: pkgDir, dir: dir, subdir: r.name}
	}
	return unit{key: k, pkgDir: pkgDir, dir: dir}
}

// prefix is what the file names of u's component start with, or "" when
// they do not share one (a bot's folder of versions, a decomposed
// permission set).
func (u unit) prefix() string {
	t := DefaultRegistry.Type(u.key.Type)
	if t == nil || t.Decomp == "topLevel" || t.Name == "PermissionSet" {
		return ""
	}
	name := u.key.Name
	if t.IsChild() {
		_, name = splitChildName(t, name)
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// load reads every unit from both revisions, the two concurrently so one
// side's reading overlaps the other's parsing.
func (d *deltaRun) load() error {
	list := make([]unit, 0, len(d.units))
	for _, u := range d.units {
		list = append(list, u)
	}
	sort.Slice(list, func(i, j int) bool { return keyLess(list[i].key, list[j].key) })
	var wg sync.WaitGroup
	var errs [2]error
	for i := range d.sides {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loaded[i], errs[i] = d.loadSide(d.sides[i], list)
		}()
	}
	wg.Wait()
	return errors.Join(errs[0], errs[1])
}

func (d *deltaRun) loadSide(s *deltaSide, list []unit) (map[Key]*Component, error) {
	if p, ok := s.proj.FS.(Prefetcher); ok {
		var dirs []string
		for _, u := range list {
			dirs = append(dirs, u.dir)
			if u.subdir != "" {
				dirs = append(dirs, path.Join(u.dir, u.subdir))
			}
		}
		if err := p.PrefetchDirs(dirs); err != nil {
			return nil, err
		}
	}
	builders := map[Key]*builder{}
	for _, u := range list {
		d.collect(s, u, builders)
	}
	if p, ok := s.proj.FS.(Prefetcher); ok {
		if err := p.Prefetch(builderPaths(builders)); err != nil {
			return nil, err
		}
	}
	comps, err := loadAll(s.proj.FS, d.reg, builders, ReadOptions{KeepContent: d.keep})
	if err != nil {
		return nil, err
	}
	out := make(map[Key]*Component, len(comps))
	for _, c := range comps {
		out[c.Key()] = c
	}
	return out, nil
}

// Prefetcher is a file system that can read many files, or list many
// directories, in one go (a git revision read through one pipelined git
// process). Delta announces what it is about to read.
type Prefetcher interface {
	Prefetch(paths []string) error
	PrefetchDirs(dirs []string) error
}

func builderPaths(builders map[Key]*builder) []string {
	var out []string
	for _, b := range builders {
		if b.xmlPath != "" {
			out = append(out, b.xmlPath)
		}
		if b.body != "" {
			out = append(out, b.body)
		}
		for _, p := range b.parts {
			out = append(out, p)
		}
		out = append(out, b.merges...)
	}
	sort.Strings(out)
	return out
}

// collect adds the files of unit u in one revision to builders.
func (d *deltaRun) collect(s *deltaSide, u unit, builders map[Key]*builder) {
	add := func(p string) {
		if s.proj.Ignore.Ignored(p) {
			return
		}
		rel := strings.TrimPrefix(p, u.pkgDir+"/")
		if u.pkgDir == "." {
			rel = p
		}
		r, ok := d.reg.resolveSource(rel, s.proj)
		if !ok || r.typ.Name != u.key.Type || r.name != u.key.Name {
			return
		}
		addRef(builders, r, p)
	}
	files := s.readDir(u.dir)
	prefix := u.prefix()
	start := 0
	if prefix != "" {
		// A folder of 3,000 fields holds one field's file: find it by name.
		start = sort.Search(len(files), func(i int) bool { return files[i].decoded >= prefix })
	}
	for _, f := range files[start:] {
		if prefix != "" && f.decoded != prefix && !strings.HasPrefix(f.decoded, prefix+".") {
			if f.decoded > prefix+"/" {
				break
			}
			continue
		}
		add(path.Join(u.dir, f.name))
	}
	if u.subdir != "" {
		root := path.Join(u.dir, u.subdir)
		_ = fs.WalkDir(s.proj.FS, root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil // absent in this revision
			}
			if e.IsDir() {
				if p != root && s.proj.Ignore.IgnoredDir(p) {
					return fs.SkipDir
				}
				return nil
			}
			if e.Type().IsRegular() {
				add(p)
			}
			return nil
		})
	}
}

// classify compares what was loaded from both revisions.
func (d *deltaRun) classify(res *DeltaResult) {
	foldCaseRenames(d.loaded[0], d.loaded[1])
	keys := map[Key]bool{}
	for i := range d.loaded {
		for k := range d.loaded[i] {
			keys[k] = true
		}
	}
	copies := map[string]bool{}
	for k := range keys {
		old, cur := d.loaded[0][k], d.loaded[1][k]
		e := DiffEntry{Key: k, Old: old, New: cur}
		switch {
		case old == nil:
			e.Change = Added
		case cur == nil:
			e.Change = Deleted
		case old.Hash != cur.Hash:
			e.Change = Changed
		default:
			e.Change = Unchanged
		}
		res.Entries = append(res.Entries, e)
		switch e.Change {
		case Added, Changed:
			mk := cur.ManifestKey()
			res.Package.Add(mk.Type, mk.Name)
			if cur.Type.IsChild() && containerTypes[cur.Type.Parent] {
				res.Package.Add(cur.Type.Parent, containerMember(cur.Type.Parent, cur.Parent))
			}
			for _, f := range d.copyFiles(cur) {
				copies[f] = true
			}
		case Deleted:
			mk := old.ManifestKey()
			res.Destructive.Add(mk.Type, mk.Name)
		case Unchanged:
			res.Unchanged = append(res.Unchanged, k)
		}
	}
	// Something both deleted and added under one name is a change.
	for _, k := range res.Destructive.Keys() {
		if res.Package.Has(k.Type, k.Name) {
			res.Destructive.Remove(k.Type, k.Name)
		}
	}
	sort.Slice(res.Entries, func(i, j int) bool { return keyLess(res.Entries[i].Key, res.Entries[j].Key) })
	sort.Slice(res.Unchanged, func(i, j int) bool { return keyLess(res.Unchanged[i], res.Unchanged[j]) })
	for f := range copies {
		res.CopyFiles = append(res.CopyFiles, f)
	}
	sort.Strings(res.CopyFiles)
	sort.Strings(res.NotMetadata)
	sort.Strings(res.Ignored)
}

// copyFiles are the files to ship with a changed component: its own, and
// for a decomposed child its parent's file, which a deploy needs.
func (d *deltaRun) copyFiles(c *Component) []string {
	files := append([]string(nil), c.Files...)
	if c.Type.IsChild() {
		parent := d.reg.Type(c.Type.Parent)
		if parent.Decomp == "folderPerType" || parent.Decomp == "topLevel" {
			for _, f := range c.Files {
				objDir := path.Dir(path.Dir(f))
				if parent.Decomp == "topLevel" {
					objDir = path.Dir(f)
				}
				candidate := path.Join(objDir, c.Parent+"."+parent.Suffix+metaSuffix)
				if _, err := fs.Stat(d.sides[1].proj.FS, candidate); err == nil {
					files = append(files, candidate)
				}
			}
		}
	}
	return files
}
