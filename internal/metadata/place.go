package metadata

import (
	"path"
	"slices"
	"sort"
	"strings"
)

// Placement is what putting components into a project changes: files to
// write (path → content) and files to remove.
type Placement struct {
	Write  map[string][]byte
	Remove []string
}

// Place works out how to put components into the project proj as it is
// laid out: put are components with content (read from either format),
// gone the keys of components to delete. Existing components keep their
// files' locations and package directories; new ones go where the
// project keeps others of their type, else under the default package
// directory's main/default. Children kept in their parent's file (custom
// labels, workflows not decomposed) are written into that file beside its
// other children, so nothing else in it is lost.
func Place(proj *Project, put []*Component, gone []Key) (Placement, error) {
	res, err := ReadSource(proj, ReadOptions{KeepContent: true})
	if err != nil {
		return Placement{}, err
	}
	cur := res.Set
	next := NewSet()
	for _, c := range cur.Components() {
		next.Add(c)
	}
	affected := map[Key]bool{}
	for _, c := range put {
		next.Add(c)
		affected[c.Key()] = true
	}
	for _, k := range gone {
		if c := next.Get(k); c != nil {
			// A parent goes with its children.
			for _, ch := range next.ChildrenOf(c.Type, c.Name) {
				next.Remove(ch.Key())
				affected[ch.Key()] = true
			}
		}
		next.Remove(k)
		affected[k] = true
	}
	// The units to write: a component, or the whole file of a parent that
	// keeps its children in one file. Each is written, and placed by its
	// own files, on its own.
	type unitFiles struct {
		comps *Set
		old   []string
	}
	units := map[Key]*unitFiles{}
	var order []Key
	for k := range affected {
		t := DefaultRegistry.Type(k.Type)
		if t == nil {
			continue
		}
		id, members := k, []Key{k}
		pt := t
		if t.IsChild() {
			pt = DefaultRegistry.Type(t.Parent)
		}
		if pt != nil && pt.HasAddressableChildren() && !decomposedInSource(pt, proj) {
			parent := k.Name
			if t.IsChild() {
				parent = parentOf(cur, next, k)
			}
			id = Key{Type: pt.Name, Name: parent}
			members = []Key{id}
			for _, s := range []*Set{cur, next} {
				for _, ch := range s.ChildrenOf(pt, parent) {
					members = append(members, ch.Key())
				}
			}
		}
		u := units[id]
		if u == nil {
			u = &unitFiles{comps: NewSet()}
			units[id] = u
			order = append(order, id)
		}
		for _, m := range members {
			if c := cur.Get(m); c != nil {
				for _, f := range c.Files {
					if !slices.Contains(u.old, f) {
						u.old = append(u.old, f)
					}
				}
			}
			if c := next.Get(m); c != nil {
				u.comps.Add(c)
			}
		}
	}
	sort.Slice(order, func(i, j int) bool { return keyLess(order[i], order[j]) })
	base := path.Join(proj.DefaultDir, "main", "default")
	if proj.DefaultDir == "" || proj.DefaultDir == "." {
		base = "main/default"
	}
	typeDirs := projectTypeDirs(cur)
	p := Placement{Write: map[string][]byte{}}
	var old []string
	for _, id := range order {
		u := units[id]
		out, err := WriteSource(u.comps, SourceLayout{Base: base, Project: proj})
		if err != nil {
			return Placement{}, err
		}
		for f, b := range out {
			p.Write[relocate(strings.TrimPrefix(f, base+"/"), base, u.old, typeDirs)] = b
		}
		old = append(old, u.old...)
	}
	for _, f := range old {
		if _, kept := p.Write[f]; !kept && !slices.Contains(p.Remove, f) {
			p.Remove = append(p.Remove, f)
		}
	}
	sort.Strings(p.Remove)
	return p, nil
}

// parentOf names the parent of child k from either set.
func parentOf(cur, next *Set, k Key) string {
	for _, s := range []*Set{next, cur} {
		if c := s.Get(k); c != nil && c.Parent != "" {
			return c.Parent
		}
	}
	if i := strings.IndexByte(k.Name, '.'); i > 0 {
		return k.Name[:i]
	}
	return k.Name
}

// projectTypeDirs maps a type directory ("classes") to where the project
// keeps it ("force-app/main/default"), from the files it has: the first
// in path order, so the choice is stable.
func projectTypeDirs(s *Set) map[string]string {
	out := map[string]string{}
	var files []string
	for _, c := range s.Components() {
		files = append(files, c.Files...)
	}
	sort.Strings(files)
	for _, f := range files {
		segs := strings.Split(f, "/")
		for i := len(segs) - 2; i >= 0; i-- {
			t := segs[i]
			if isTypeDir(t) {
				if _, ok := out[t]; !ok {
					out[t] = strings.Join(segs[:i], "/")
				}
				break
			}
		}
	}
	return out
}

// relocate puts a file written under base where the project has it, or
// keeps such files: the same path below a type directory in an existing
// file of the unit, else the same file name, else the directory the
// project keeps the type in.
func relocate(rel, base string, old []string, typeDirs map[string]string) string {
	for _, f := range old {
		if strings.HasSuffix(f, "/"+rel) || f == rel {
			return f
		}
	}
	name := path.Base(rel)
	for _, f := range old {
		if path.Base(f) == name {
			return f
		}
	}
	typeDir, rest, _ := strings.Cut(rel, "/")
	// A new file of an existing unit (a new field of an object): beside
	// the unit's files, under the same type directory.
	for _, f := range old {
		if i := strings.Index(f, "/"+typeDir+"/"); i >= 0 {
			return f[:i] + "/" + typeDir + "/" + rest
		}
		if strings.HasPrefix(f, typeDir+"/") {
			return rel
		}
	}
	if dir, ok := typeDirs[typeDir]; ok {
		if dir == "" {
			return rel
		}
		return dir + "/" + rel
	}
	return base + "/" + rel
}

// isTypeDir reports a directory that holds a top-level type.
func isTypeDir(d string) bool {
	for _, t := range DefaultRegistry.ByDir(d) {
		if !t.IsChild() {
			return true
		}
	}
	return false
}
