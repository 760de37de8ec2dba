package metadata

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// Key identifies a component: its type and fullName.
type Key struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

func (k Key) String() string { return k.Type + " " + k.Name }

// Part is a non-XML piece of a component's content: the body of an Apex
// class (Name ""), a file of a bundle or of a folder static resource (Name
// is its path inside the component).
type Part struct {
	Name string
	Data []byte
}

// Component is one addressable piece of metadata with its content.
type Component struct {
	Type   *Type
	Name   string // fullName
	Parent string // the parent's fullName, for child types
	// Files are the paths (in the format it was read from) that hold the
	// component; for a child read from its parent's file, that file.
	Files []string
	// XML is the component's XML: the -meta.xml of a content type, the
	// whole document of an XML type, the element of a child (renamed to
	// the child type). Addressable children are not inside their parent's
	// XML; they are components of their own.
	XML *Node
	// Parts are the non-XML contents, sorted by name.
	Parts []Part
	// Hash is the hex SHA-256 of the canonical content: equal hashes mean
	// Salesforce sees the same thing.
	Hash string
}

// Key returns c's key.
func (c *Component) Key() Key { return Key{Type: c.Type.Name, Name: c.Name} }

// ManifestKey is the key under which c is listed in package.xml (folder
// types under their content type).
func (c *Component) ManifestKey() Key {
	if c.Type.Name == "CustomLabels" {
		return Key{Type: "CustomLabels", Name: "CustomLabels"}
	}
	return Key{Type: c.Type.ManifestName(), Name: c.Name}
}

// containerMember is how a manifest names the container of an in-file
// child: an org has one CustomLabels, whatever its files are called.
func containerMember(parentType, parent string) string {
	if parentType == "CustomLabels" {
		return "CustomLabels"
	}
	return parent
}

// computeHash sets c.Hash from its XML and parts. The root element's name
// is not hashed, so a field read from objects/X/fields/F.field-meta.xml
// (<CustomField>) and one read from objects/X.object (<fields>) agree.
func (c *Component) computeHash() {
	h := sha256.New()
	if c.XML != nil {
		h.Write([]byte("xml\x00"))
		h.Write(contentCanonical(c.XML, c.Type.Unordered))
	}
	sort.Slice(c.Parts, func(i, j int) bool { return c.Parts[i].Name < c.Parts[j].Name })
	for _, p := range c.Parts {
		h.Write([]byte("part\x00" + p.Name + "\x00"))
		h.Write(normalizeText(p.Data))
		h.Write([]byte{0})
	}
	c.Hash = hex.EncodeToString(h.Sum(nil))
}

// contentCanonical is the canonical form of n's attributes and children
// without n's own name.
func contentCanonical(n *Node, unordered bool) []byte {
	anon := *n
	anon.Name = "_"
	return anon.Canonical(unordered)
}

// normalizeText turns CRLF into LF in text content; binary content (a NUL
// in its first 8 KiB) is left alone.
func normalizeText(b []byte) []byte {
	head := b
	if len(head) > 8192 {
		head = head[:8192]
	}
	if bytes.IndexByte(head, 0) >= 0 || !bytes.Contains(b, []byte("\r")) {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
}

// Set is a set of components keyed by type and fullName.
type Set struct {
	m map[Key]*Component
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{m: map[Key]*Component{}} }

// Add puts c in the set, replacing a component with the same key.
func (s *Set) Add(c *Component) { s.m[c.Key()] = c }

// Get returns the component with key k, or nil.
func (s *Set) Get(k Key) *Component { return s.m[k] }

// Remove deletes the component with key k.
func (s *Set) Remove(k Key) { delete(s.m, k) }

// Len returns the number of components.
func (s *Set) Len() int { return len(s.m) }

// Components returns every component sorted by type then name.
func (s *Set) Components() []*Component {
	out := make([]*Component, 0, len(s.m))
	for _, c := range s.m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i].Key(), out[j].Key()) })
	return out
}

func keyLess(a, b Key) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.Name < b.Name
}

// ChildrenOf returns the components whose parent is the component with
// type parentType and name parent.
func (s *Set) ChildrenOf(parentType *Type, parent string) []*Component {
	var out []*Component
	for _, c := range s.m {
		if c.Type.Parent == parentType.Name && c.Parent == parent {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i].Key(), out[j].Key()) })
	return out
}

// Change classifies a component in a set diff.
type Change string

// The kinds of change.
const (
	Added     Change = "added"
	Changed   Change = "changed"
	Deleted   Change = "deleted"
	Unchanged Change = "unchanged"
)

// DiffEntry is one component in a diff.
type DiffEntry struct {
	Key    Key
	Change Change
	Old    *Component // nil when added
	New    *Component // nil when deleted
}

// Diff compares two sets: what is in b and not a is added, in a and not b
// deleted, in both with different content changed. Names match without
// regard to case, as Salesforce API names do: a field renamed from foo__c
// to Foo__c is that field, changed, never a deletion. It returns every
// component sorted by type and name, unchanged ones included.
func Diff(a, b *Set) []DiffEntry {
	old, cur := make(map[Key]*Component, a.Len()), make(map[Key]*Component, b.Len())
	for k, c := range a.m {
		old[k] = c
	}
	for k, c := range b.m {
		cur[k] = c
	}
	foldCaseRenames(old, cur)
	keys := make(map[Key]bool, len(old)+len(cur))
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	out := make([]DiffEntry, 0, len(keys))
	for k := range keys {
		e := DiffEntry{Key: k, Old: old[k], New: cur[k]}
		switch {
		case e.Old == nil:
			e.Change = Added
		case e.New == nil:
			e.Change = Deleted
		case e.Old.Hash != e.New.Hash:
			e.Change = Changed
		default:
			e.Change = Unchanged
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i].Key, out[j].Key) })
	return out
}

// DiffSummary counts a diff's entries by type and change.
func DiffSummary(entries []DiffEntry) map[string]map[Change]int {
	out := map[string]map[Change]int{}
	for _, e := range entries {
		if out[e.Key.Type] == nil {
			out[e.Key.Type] = map[Change]int{}
		}
		out[e.Key.Type][e.Change]++
	}
	return out
}

// childName returns the fullName of a child called name under parent.
// CustomLabel names stand alone (their parent is always "CustomLabels").
func childName(parentType *Type, parent, name string) string {
	if parentType.Name == "CustomLabels" {
		return name
	}
	return parent + "." + name
}

// splitChildName returns the parent and child parts of a child fullName.
func splitChildName(childType *Type, fullName string) (parent, name string) {
	if childType.Parent == "CustomLabels" {
		return "CustomLabels", fullName
	}
	i := strings.Index(fullName, ".")
	if i < 0 {
		return "", fullName
	}
	return fullName[:i], fullName[i+1:]
}

// foldCaseRenames pairs a component only in old with one only in cur whose
// key differs only in case, moving the old one under the new key. Deleting
// the old spelling in the same deploy as adding the new one would delete
// the component, since Salesforce compares API names without case.
func foldCaseRenames(old, cur map[Key]*Component) {
	lower := map[Key]Key{}
	for k := range cur {
		if _, ok := old[k]; !ok {
			lower[Key{k.Type, strings.ToLower(k.Name)}] = k
		}
	}
	if len(lower) == 0 {
		return
	}
	for k, c := range old {
		if _, ok := cur[k]; ok {
			continue
		}
		if nk, ok := lower[Key{k.Type, strings.ToLower(k.Name)}]; ok {
			delete(old, k)
			old[nk] = c
		}
	}
}

// Rehash recomputes Hash after the component's XML or parts changed.
func (c *Component) Rehash() { c.computeHash() }
