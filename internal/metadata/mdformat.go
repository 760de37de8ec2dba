package metadata

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// ReadMetadataFormat reads a Metadata API format tree (package.xml beside
// type folders, as in a retrieve or deploy zip) into a component set. The
// manifests themselves are not components.
func ReadMetadataFormat(fsys fs.FS, opts ReadOptions) (*ReadResult, error) {
	reg := opts.registry()
	res := &ReadResult{Set: NewSet()}
	builders := map[Key]*builder{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &FileError{Path: p, Err: err}
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if isManifestFile(p) {
			// Not components, but a broken or hostile manifest means the
			// archive is not what it claims: say so, naming it.
			b, err := readFile(fsys, p)
			if err != nil {
				return err
			}
			if _, err := ParseManifest(b); err != nil {
				return &FileError{Path: p, Err: err}
			}
			return nil
		}
		r, ok := reg.resolveMetadata(strings.Split(p, "/"))
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
	comps, err := loadAll(fsys, reg, builders, opts)
	if err != nil {
		return nil, err
	}
	for _, c := range comps {
		res.Set.Add(c)
	}
	return res, nil
}

func isManifestFile(p string) bool {
	switch p {
	case "package.xml", "destructiveChanges.xml", "destructiveChangesPre.xml", "destructiveChangesPost.xml":
		return true
	}
	return false
}

// resolveMetadata finds the component of a metadata-format path.
func (r *Registry) resolveMetadata(segs []string) (ref, bool) {
	if len(segs) < 2 {
		return ref{}, false
	}
	types := r.ByDir(segs[0])
	rest := segs[1:]
	file := rest[len(rest)-1]
	isMeta := strings.HasSuffix(file, metaSuffix)
	base := strings.TrimSuffix(file, metaSuffix)
	for _, t := range types {
		if t.IsChild() {
			continue
		}
		switch t.Shape {
		case ShapeBundle:
			if r, ok := resolveBundle(t, rest); ok {
				return r, true
			}
			continue
		case ShapeMixed:
			if r, ok := r.resolveMixedMD(t, rest); ok {
				return r, true
			}
			continue
		}
		if t.IsFolder() {
			// reports/Sales-meta.xml, reports/Sales/Q1-meta.xml
			if isMeta && !strings.Contains(base, ".") {
				return ref{typ: t, name: strings.Join(append(rest[:len(rest)-1:len(rest)-1], base), "/"), role: roleXML}, true
			}
			continue
		}
		name, suffix := splitExt(base)
		if suffix != t.Suffix || name == "" {
			continue
		}
		if t.InFolder() {
			if len(rest) < 2 {
				continue
			}
			name = strings.Join(rest[:len(rest)-1], "/") + "/" + name
		} else if len(rest) != 1 {
			continue
		}
		rl := roleXML
		if t.Shape == ShapeContent && !isMeta {
			rl = roleBody
		} else if t.Shape != ShapeContent && isMeta {
			continue
		}
		return ref{typ: t, name: decodeName(name), role: rl}, true
	}
	return ref{}, false
}

func (r *Registry) resolveMixedMD(t *Type, rest []string) (ref, bool) {
	file := rest[len(rest)-1]
	switch t.Name {
	case "Document":
		if len(rest) == 1 {
			if base, ok := strings.CutSuffix(file, metaSuffix); ok {
				return ref{typ: r.Type("DocumentFolder"), name: base, role: roleXML}, true
			}
			return ref{}, false
		}
		name := strings.Join(rest, "/")
		if base, ok := strings.CutSuffix(name, metaSuffix); ok {
			return ref{typ: t, name: base, role: roleXML}, true
		}
		return ref{typ: t, name: name, role: roleBody}, true
	case "ExperienceBundle":
		if len(rest) == 1 {
			// Retrieves name the site's XML like source format does;
			// a bare ".site" is accepted as an older spelling.
			if base, ok := strings.CutSuffix(file, ".site"+metaSuffix); ok {
				return ref{typ: t, name: base, role: roleXML}, true
			}
			if base, ok := strings.CutSuffix(file, ".site"); ok {
				return ref{typ: t, name: base, role: roleXML}, true
			}
			return ref{}, false
		}
		return ref{typ: t, name: rest[0], role: rolePart, part: strings.Join(rest[1:], "/")}, true
	default: // StaticResource: name.resource and name.resource-meta.xml
		if len(rest) != 1 {
			return ref{}, false
		}
		if base, ok := strings.CutSuffix(file, "."+t.Suffix+metaSuffix); ok {
			return ref{typ: t, name: base, role: roleXML}, true
		}
		if base, ok := strings.CutSuffix(file, "."+t.Suffix); ok {
			return ref{typ: t, name: base, role: roleBody}, true
		}
		return ref{}, false
	}
}

// WriteMetadataFormat lays s out in Metadata API format: decomposed
// components recomposed into one file per parent, bundles and folders as
// they are, folder static resources zipped. The components must have been
// read with KeepContent. It returns path → content.
func WriteMetadataFormat(s *Set) (map[string][]byte, error) {
	out := map[string][]byte{}
	parents := map[Key]*Node{}
	var order []Key
	for _, c := range s.Components() {
		if c.XML == nil && c.Parts == nil {
			return nil, fmt.Errorf("%s was read without its content", c.Key())
		}
		if c.Type.IsChild() || c.Type.HasAddressableChildren() {
			pk, el := recomposeTarget(c)
			if parents[pk] == nil {
				parents[pk] = &Node{Name: pk.Type}
				order = append(order, pk)
			}
			root := parents[pk]
			if el == nil { // the parent itself
				root.Name, root.Attrs = c.XML.Name, c.XML.Attrs
				root.Children = append(append([]*Node(nil), c.XML.Children...), root.Children...)
			} else {
				root.Children = append(root.Children, el)
			}
			continue
		}
		if err := writeMDComponent(out, c); err != nil {
			return nil, err
		}
	}
	for _, pk := range order {
		t := DefaultRegistry.Type(pk.Type)
		root := parents[pk]
		sortElements(root)
		out[t.Dir+"/"+encodeName(pk.Name)+"."+t.Suffix] = root.Marshal()
	}
	return out, nil
}

// recomposeTarget returns the parent file a component belongs to and, for
// a child, its element renamed to the tag it has inside the parent.
func recomposeTarget(c *Component) (Key, *Node) {
	if !c.Type.IsChild() {
		return c.Key(), nil
	}
	el := *c.XML
	el.Name, el.NS = c.Type.Tag, ""
	return Key{Type: c.Type.Parent, Name: c.Parent}, &el
}

// sortElements orders a recomposed document's elements by name, as
// Salesforce writes them; children of one kind keep their name order.
func sortElements(root *Node) {
	sort.SliceStable(root.Children, func(i, j int) bool {
		a, b := root.Children[i], root.Children[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ChildText("fullName") < b.ChildText("fullName")
	})
}

func writeMDComponent(out map[string][]byte, c *Component) error {
	t := c.Type
	switch {
	case t.Shape == ShapeBundle:
		for _, p := range c.Parts {
			out[t.Dir+"/"+c.Name+"/"+p.Name] = p.Data
		}
	case t.Name == "StaticResource":
		body, err := resourceBody(c)
		if err != nil {
			return err
		}
		out[t.Dir+"/"+c.Name+"."+t.Suffix] = body
		if c.XML != nil {
			out[t.Dir+"/"+c.Name+"."+t.Suffix+metaSuffix] = c.XML.Marshal()
		}
	case t.Name == "Document":
		if len(c.Parts) > 0 {
			out[t.Dir+"/"+c.Name] = c.Parts[0].Data
		}
		if c.XML != nil {
			out[t.Dir+"/"+c.Name+metaSuffix] = c.XML.Marshal()
		}
	case t.Name == "ExperienceBundle":
		for _, p := range c.Parts {
			out[t.Dir+"/"+c.Name+"/"+p.Name] = p.Data
		}
		if c.XML != nil {
			out[t.Dir+"/"+c.Name+".site"+metaSuffix] = c.XML.Marshal()
		}
	case t.IsFolder():
		out[t.Dir+"/"+folderFile(c.Name)+metaSuffix] = c.XML.Marshal()
	case t.Shape == ShapeContent:
		p := t.Dir + "/" + pathName(t, c.Name) + "." + t.Suffix
		if len(c.Parts) > 0 {
			out[p] = c.Parts[0].Data
		}
		if c.XML != nil {
			out[p+metaSuffix] = c.XML.Marshal()
		}
	default:
		if c.XML == nil {
			return fmt.Errorf("%s has no XML", c.Key())
		}
		out[t.Dir+"/"+pathName(t, c.Name)+"."+t.Suffix] = c.XML.Marshal()
	}
	return nil
}

// pathName turns a fullName into a path below the type directory: folder
// separators stay, each segment is file-name safe.
func pathName(t *Type, name string) string {
	if !t.InFolder() {
		return encodeName(name)
	}
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = encodeName(s)
	}
	return strings.Join(segs, "/")
}

func folderFile(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = encodeName(s)
	}
	return strings.Join(segs, "/")
}

// resourceBody is a static resource's bytes: its single file, or its
// folder zipped deterministically.
func resourceBody(c *Component) ([]byte, error) {
	if len(c.Parts) == 1 && c.Parts[0].Name == "" {
		return c.Parts[0].Data, nil
	}
	files := make(map[string][]byte, len(c.Parts))
	for _, p := range c.Parts {
		files[p.Name] = p.Data
	}
	return WriteZip(files)
}

// ErrNoContent is returned when a set read without content is written.
var ErrNoContent = errors.New("components were read without their content")
