package metadata

import (
	"fmt"
	"sort"
	"strings"
)

// Shape says how a type's components are laid out on disk.
type Shape int

// The shapes.
const (
	// ShapeXML is one XML file: {name}.{suffix} in metadata format,
	// {name}.{suffix}-meta.xml in source format.
	ShapeXML Shape = iota
	// ShapeContent is a content file plus a -meta.xml in both formats
	// (ApexClass: X.cls + X.cls-meta.xml).
	ShapeContent
	// ShapeMixed is content that may be a single file or a folder
	// (StaticResource, Document, ExperienceBundle).
	ShapeMixed
	// ShapeBundle is a directory that is one component (LWC, Aura).
	ShapeBundle
)

// Type describes one metadata type.
type Type struct {
	Name          string // xmlName, as in package.xml
	Dir           string // directoryName; for child types, the sub-folder in decomposed source
	Suffix        string // file suffix without the dot; "" for bundles
	Shape         Shape
	Folder        string // for in-folder content types: the folder type's name
	FolderOf      string // for folder types: the content type's name
	Decomp        string // "folderPerType", "topLevel" or "" (never decomposed by default)
	Strict        bool   // must sit in a directory named Dir
	Wildcard      bool   // "*" allowed in package.xml
	WildAndName   bool
	Deletable     bool // the Metadata API can delete it
	Unordered     bool // top-level element order carries no meaning
	PartialDelete bool
	Hidden        bool // not addressable alone (part of its parent)

	// For child types.
	Parent string // parent type name
	Tag    string // element name in the parent's XML
	Key    string // element holding the child's name

	children []*Type
}

// Children returns the child types (addressable or not) of t.
func (t *Type) Children() []*Type { return t.children }

// IsChild reports whether t is a child type of another type.
func (t *Type) IsChild() bool { return t.Parent != "" }

// InFolder reports whether t's components live in folders.
func (t *Type) InFolder() bool { return t.Folder != "" }

// IsFolder reports whether t is a folder type (ReportFolder, …).
func (t *Type) IsFolder() bool { return t.FolderOf != "" }

// ManifestName is the type name under which components of t appear in
// package.xml: folder types are listed under their content type.
func (t *Type) ManifestName() string {
	if t.FolderOf != "" {
		return t.FolderOf
	}
	return t.Name
}

// ChildByTag returns t's child type whose elements are tag, or nil.
func (t *Type) ChildByTag(tag string) *Type {
	for _, c := range t.children {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

// HasAddressableChildren reports whether t splits into child components.
func (t *Type) HasAddressableChildren() bool {
	for _, c := range t.children {
		if !c.Hidden {
			return true
		}
	}
	return false
}

// Registry holds every known type with indexes for resolving paths.
type Registry struct {
	byName   map[string]*Type
	byLower  map[string]*Type
	bySuffix map[string][]*Type
	byDir    map[string][]*Type
	all      []*Type
}

// DefaultRegistry is the registry built from the type table.
var DefaultRegistry = mustRegistry(typeTable + moreTypes)

func mustRegistry(table string) *Registry {
	r, err := ParseRegistry(table)
	if err != nil {
		panic(err)
	}
	return r
}

// ParseRegistry builds a registry from a type table (see typeTable). It
// returns an error naming the line of the first malformed entry.
func ParseRegistry(table string) (*Registry, error) {
	r := &Registry{byName: map[string]*Type{}, byLower: map[string]*Type{}, bySuffix: map[string][]*Type{}, byDir: map[string][]*Type{}}
	var parent *Type
	for n, line := range strings.Split(table, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		child := strings.HasPrefix(line, "  ")
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("registry line %d: want name, directory and suffix: %q", n, line)
		}
		t := &Type{Name: f[0], Dir: f[1], Wildcard: true, Deletable: true, Key: "fullName"}
		if f[2] != "-" {
			t.Suffix = f[2]
		}
		for _, flag := range f[3:] {
			if err := t.setFlag(flag); err != nil {
				return nil, fmt.Errorf("registry line %d (%s): %w", n, t.Name, err)
			}
		}
		if child {
			if parent == nil {
				return nil, fmt.Errorf("registry line %d: child %s has no parent", n, t.Name)
			}
			t.Parent = parent.Name
			parent.children = append(parent.children, t)
		} else {
			parent = t
		}
		if _, dup := r.byName[t.Name]; dup {
			return nil, fmt.Errorf("registry line %d: %s listed twice", n, t.Name)
		}
		r.byName[t.Name] = t
		r.byLower[strings.ToLower(t.Name)] = t
		r.all = append(r.all, t)
		if t.Suffix != "" {
			r.bySuffix[t.Suffix] = append(r.bySuffix[t.Suffix], t)
		}
		r.byDir[t.Dir] = append(r.byDir[t.Dir], t)
	}
	sort.Slice(r.all, func(i, j int) bool { return r.all[i].Name < r.all[j].Name })
	return r, nil
}

func (t *Type) setFlag(flag string) error {
	k, v, _ := strings.Cut(flag, "=")
	switch k {
	case "content":
		t.Shape = ShapeContent
	case "mixed":
		t.Shape = ShapeMixed
	case "bundle":
		t.Shape = ShapeBundle
	case "folder":
		t.Folder = v
	case "folderof":
		t.FolderOf = v
	case "decomp":
		if v != "folderPerType" && v != "topLevel" {
			return fmt.Errorf("decomp=%s: want folderPerType or topLevel", v)
		}
		t.Decomp = v
	case "strict":
		t.Strict = true
	case "nowild":
		t.Wildcard = false
	case "wan":
		t.WildAndName = true
	case "nodel":
		t.Deletable = false
	case "unordered":
		t.Unordered = true
	case "partial":
		t.PartialDelete = true
	case "hidden":
		t.Hidden = true
	case "tag":
		t.Tag = v
	case "key":
		t.Key = v
	default:
		return fmt.Errorf("unknown flag %q", flag)
	}
	return nil
}

// Type returns the type named name (case-insensitively), or nil.
func (r *Registry) Type(name string) *Type {
	if t, ok := r.byName[name]; ok {
		return t
	}
	return r.byLower[strings.ToLower(name)]
}

// Types returns every type sorted by name.
func (r *Registry) Types() []*Type { return r.all }

// BySuffix returns the types using suffix.
func (r *Registry) BySuffix(suffix string) []*Type { return r.bySuffix[suffix] }

// ByDir returns the types whose directory is dir.
func (r *Registry) ByDir(dir string) []*Type { return r.byDir[dir] }

// Parent returns t's parent type, or nil.
func (r *Registry) Parent(t *Type) *Type {
	if t.Parent == "" {
		return nil
	}
	return r.byName[t.Parent]
}
