package metadata

import (
	"bytes"
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Three-way merge of metadata XML by element identity, not by line: a
// permission set's fieldPermissions are matched by their field, labels by
// fullName, a flow's elements by name, a layout's sections by label. Two
// sides that each add or change different elements merge cleanly; an
// element both sides changed differently is a conflict, left marked for a
// person to settle. Element order follows the ours side, with additions
// placed where theirs put them, and runs of elements sorted by identity
// stay sorted, so the result does not churn.

// identityKeys are the child elements whose text names an element among
// its siblings, tried in this order.
var mergeKeys = []string{"fullName", "field", "object", "apexClass", "apexPage", "tab", "recordType", "application", "layout",
	"externalDataSource", "customPermission", "customMetadataType", "customSetting", "flow", "name", "developerName", "label",
	"dataCategoryGroup", "externalCredentialPrincipal", "emailFolder", "reportFolder", "dashboardFolder", "documentFolder", "member", "value"}

// MergeConflict is one element both sides changed differently.
type MergeConflict struct {
	Path string // element path from the root, with identities: Profile/fieldPermissions[Account.Tier__c]
}

// MergeResult is a merged document: clean, or with conflicts marked in
// Data as git marks them.
type MergeResult struct {
	Data      []byte
	Conflicts []MergeConflict
}

// ErrNotMergeable reports documents the XML merge does not take (not
// XML, or roots that differ); callers fall back to a text merge.
var ErrNotMergeable = errors.New("not mergeable as metadata XML")

// MergeXML merges ours and theirs against their common base. A missing
// side (nil) means the file did not exist there.
func MergeXML(base, ours, theirs []byte) (MergeResult, error) {
	parse := func(b []byte) (*Node, error) {
		if b == nil || len(bytes.TrimSpace(b)) == 0 {
			return nil, nil
		}
		n, err := ParseXML(b)
		if err != nil {
			return nil, ErrNotMergeable
		}
		return n, nil
	}
	b, err := parse(base)
	if err != nil {
		return MergeResult{}, err
	}
	o, err := parse(ours)
	if err != nil {
		return MergeResult{}, err
	}
	t, err := parse(theirs)
	if err != nil {
		return MergeResult{}, err
	}
	for _, n := range []*Node{b, o, t} {
		for _, m := range []*Node{b, o, t} {
			if n != nil && m != nil && n.Name != m.Name {
				return MergeResult{}, ErrNotMergeable
			}
		}
	}
	m := &merger{}
	switch {
	case o != nil && t != nil && (bytes.Equal(ours, theirs) || bytes.Equal(base, theirs)):
		return MergeResult{Data: ours}, nil
	case o != nil && t != nil && bytes.Equal(base, ours):
		return MergeResult{Data: theirs}, nil
	case o == nil && t == nil:
		return MergeResult{}, nil
	case o == nil || t == nil:
		// One side deleted the file: clean if the other did not change it.
		kept := o
		if kept == nil {
			kept = t
		}
		if b != nil && same(b, kept) {
			return MergeResult{}, nil
		}
		if b == nil {
			return MergeResult{Data: kept.Marshal()}, nil
		}
		m.conflicts = append(m.conflicts, MergeConflict{Path: kept.Name + " (deleted on one side, changed on the other)"})
		var buf bytes.Buffer
		buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		writeConflict(&buf, 0, o, t, true)
		return MergeResult{Data: buf.Bytes(), Conflicts: m.conflicts}, nil
	}
	root := m.merge(b, o, t, o.Name, false)
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	r := *root
	if r.NS == "" {
		r.NS = MetadataNS
	}
	writeMerged(&buf, &r, 0, true)
	return MergeResult{Data: buf.Bytes(), Conflicts: m.conflicts}, nil
}

type merger struct {
	conflicts []MergeConflict
}

// conflictNode stands for a conflict in a merged tree: Children hold ours
// and theirs (either may be nil, for a deletion).
const conflictName = "\x00conflict"

// same reports whether two elements are equal: names, attributes, text
// and children in order (compared in place: a profile has thousands).
func same(a, b *Node) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Name != b.Name || a.Text != b.Text || a.NS != b.NS || len(a.Attrs) != len(b.Attrs) || len(a.Children) != len(b.Children) {
		return false
	}
	for i := range a.Attrs {
		if a.Attrs[i] != b.Attrs[i] {
			return false
		}
	}
	for i := range a.Children {
		if !same(a.Children[i], b.Children[i]) {
			return false
		}
	}
	return true
}

// merge merges three versions of one element (base may be nil: both
// added it).
func (m *merger) merge(b, o, t *Node, path string, item bool) *Node {
	switch {
	case !item:
		// The root: MergeXML compared the documents' bytes already, and
		// canonicalising megabytes three times would dominate.
	case same(o, t):
		return o
	case b != nil && same(o, b):
		return t
	case b != nil && same(t, b):
		return o
	}
	// Both changed it differently. Leaves, or elements whose own
	// attributes or text differ, conflict as a whole; others merge child
	// by child.
	// A list item made of leaves (a field permission, a label) is one
	// setting: two different edits of it conflict, even in different
	// leaves.
	if len(o.Children) == 0 || len(t.Children) == 0 || !sameAttrs(o, t) || (b != nil && len(b.Children) == 0 && b.Text != "") || (item && isRecord(o)) {
		m.conflicts = append(m.conflicts, MergeConflict{Path: path})
		return &Node{Name: conflictName, Children: []*Node{o, t}}
	}
	var bc []*Node
	if b != nil {
		bc = b.Children
	}
	out := o.Clone()
	out.Children = m.mergeChildren(bc, o.Children, t.Children, path)
	return out
}

// isRecord reports an identified element whose children are all leaves.
func isRecord(n *Node) bool {
	if n == nil || mergeIdentity(n) == "" {
		return false
	}
	for _, c := range n.Children {
		if len(c.Children) > 0 {
			return false
		}
	}
	return true
}

// keyed is a child with its identity among its siblings.
type keyed struct {
	key  string
	node *Node
}

// keyChildren gives each child an identity: its name and the text of its
// first identity element; a leaf that is its name's only sibling is keyed
// by name; other repeated leaves by their text; the rest by occurrence.
func keyChildren(children []*Node) []keyed {
	count := map[string]int{}
	for _, c := range children {
		count[c.Name]++
	}
	occurrence := map[string]int{}
	used := map[string]int{}
	out := make([]keyed, 0, len(children))
	for _, c := range children {
		k := c.Name
		switch {
		case len(c.Children) > 0:
			if id := mergeIdentity(c); id != "" {
				k += "[" + id + "]"
			} else if count[c.Name] > 1 {
				k += "#" + strconv.Itoa(occurrence[c.Name])
			}
		case count[c.Name] > 1:
			k += "=" + c.Text
		}
		occurrence[c.Name]++
		if n := used[k]; n > 0 {
			used[k]++
			k += "#" + strconv.Itoa(n)
		} else {
			used[k] = 1
		}
		out = append(out, keyed{k, c})
	}
	return out
}

// identityOf is the text of an element's identity child, composed for
// the elements named by two (a layout assignment: layout and record type).
// compoundKeys name the elements identified by several children
// together (an action override is its action for a form factor).
var compoundKeys = map[string][]string{
	"layoutAssignments":       {"layout", "recordType"},
	"actionOverrides":         {"actionName", "formFactor", "pageOrSobjectType"},
	"profileActionOverrides":  {"actionName", "formFactor", "pageOrSobjectType", "recordType", "profile"},
	"platformActionListItems": {"actionName", "actionType"},
	"quickActionListItems":    {"quickActionName"},
	"relatedLists":            {"relatedList"},
	"excludeButtons":          {},
}

func mergeIdentity(n *Node) string {
	if keys, ok := compoundKeys[n.Name]; ok && len(keys) > 0 {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = n.ChildText(k)
		}
		return strings.Join(parts, "|")
	}
	for _, k := range mergeKeys {
		if c := n.Child(k); c != nil && len(c.Children) == 0 && c.Text != "" {
			return k + "=" + c.Text
		}
	}
	return ""
}

func (m *merger) mergeChildren(base, ours, theirs []*Node, path string) []*Node {
	bk, ok, tk := keyChildren(base), keyChildren(ours), keyChildren(theirs)
	bm, om, tm := map[string]*Node{}, map[string]*Node{}, map[string]*Node{}
	for _, x := range bk {
		bm[x.key] = x.node
	}
	for _, x := range ok {
		om[x.key] = x.node
	}
	for _, x := range tk {
		tm[x.key] = x.node
	}
	result := map[string]*Node{}
	decide := func(k string) {
		b, o, t := bm[k], om[k], tm[k]
		var r *Node
		switch {
		case o != nil && t != nil:
			r = m.merge(b, o, t, path+"/"+k, true)
		case o == nil && t == nil:
			// Both deleted it.
		case o == nil: // deleted in ours, or added in theirs
			if b == nil {
				r = t
			} else if !same(b, t) {
				m.conflicts = append(m.conflicts, MergeConflict{Path: path + "/" + k + " (deleted in ours, changed in theirs)"})
				r = &Node{Name: conflictName, Children: []*Node{nil, t}}
			}
		default: // t == nil
			if b == nil {
				r = o
			} else if !same(b, o) {
				m.conflicts = append(m.conflicts, MergeConflict{Path: path + "/" + k + " (changed in ours, deleted in theirs)"})
				r = &Node{Name: conflictName, Children: []*Node{o, nil}}
			}
		}
		if r != nil {
			result[k] = r
		}
	}
	// Order: ours, with what only theirs has placed after its nearest
	// predecessor (in theirs) that ours has too; with none, before the
	// first of its name in ours, or first.
	inOurs := make(map[string]bool, len(ok))
	for _, x := range ok {
		inOurs[x.key] = true
	}
	after := map[string][]string{} // anchor key ("" = start, "<name" = before the first of name) → additions
	anchor := ""
	firstOfName := map[string]string{}
	for _, x := range ok {
		if _, seen := firstOfName[x.node.Name]; !seen {
			firstOfName[x.node.Name] = x.key
		}
	}
	for _, x := range tk {
		if inOurs[x.key] {
			anchor = x.key
			continue
		}
		a := anchor
		if a == "" {
			if f, ok := firstOfName[x.node.Name]; ok {
				a = "<" + f
			}
		}
		after[a] = append(after[a], x.key)
		if a != "" && !strings.HasPrefix(a, "<") {
			anchor = x.key // a run of additions keeps its order
			inOurs[x.key] = true
			after[x.key] = nil
		}
	}
	order := make([]string, 0, len(ok)+len(tk))
	var emit func(k string)
	emit = func(k string) {
		order = append(order, k)
		for _, a := range after[k] {
			emit(a)
		}
		delete(after, k)
	}
	for _, a := range after[""] {
		emit(a)
	}
	for _, x := range ok {
		for _, a := range after["<"+x.key] {
			emit(a)
		}
		emit(x.key)
	}
	for _, k := range order {
		decide(k)
	}
	// Runs sorted by identity in ours stay sorted.
	sortedRun := map[string]bool{}
	byName := map[string][]string{}
	for _, x := range ok {
		byName[x.node.Name] = append(byName[x.node.Name], x.key)
	}
	for name, keys := range byName {
		sortedRun[name] = len(keys) > 1 && sort.SliceIsSorted(keys, func(i, j int) bool { return strings.ToLower(keys[i]) < strings.ToLower(keys[j]) })
	}
	var out []*Node
	for _, k := range order {
		if n := result[k]; n != nil {
			out = append(out, n)
		}
	}
	// Re-sort each contiguous run of a sorted name.
	for i := 0; i < len(out); {
		name := nodeName(out[i])
		j := i + 1
		for j < len(out) && nodeName(out[j]) == name {
			j++
		}
		if sortedRun[name] {
			run := out[i:j]
			keys := make(map[*Node]string, len(run))
			for _, n := range run {
				keys[n] = strings.ToLower(keyOfNode(n))
			}
			sort.SliceStable(run, func(a, b int) bool { return keys[run[a]] < keys[run[b]] })
		}
		i = j
	}
	return out
}

func nodeName(n *Node) string {
	if n.Name == conflictName {
		for _, c := range n.Children {
			if c != nil {
				return c.Name
			}
		}
	}
	return n.Name
}

func keyOfNode(n *Node) string {
	if n.Name == conflictName {
		for _, c := range n.Children {
			if c != nil {
				n = c
				break
			}
		}
	}
	if id := mergeIdentity(n); id != "" {
		return n.Name + "[" + id + "]"
	}
	return n.Name + "=" + n.Text
}

// writeMerged writes a merged tree as Marshal does, with each conflict
// between git's markers.
func writeMerged(b *bytes.Buffer, n *Node, depth int, root bool) {
	if n.Name == conflictName {
		writeConflict(b, depth, n.Children[0], n.Children[1], false)
		return
	}
	if !containsConflict(n) {
		var tmp bytes.Buffer
		cp := *n
		if !root {
			cp.NS = n.NS
		}
		cp.write(&tmp, depth, root)
		b.Write(tmp.Bytes())
		return
	}
	indent := strings.Repeat("    ", depth)
	b.WriteString(indent + "<" + n.Name)
	if n.NS != "" {
		b.WriteString(` xmlns="`)
		escapeText(b, n.NS)
		b.WriteByte('"')
	}
	for _, a := range n.Attrs {
		b.WriteString(" " + a.Name + `="`)
		escapeText(b, a.Value)
		b.WriteByte('"')
	}
	b.WriteString(">\n")
	for _, c := range n.Children {
		writeMerged(b, c, depth+1, false)
	}
	b.WriteString(indent + "</" + n.Name + ">\n")
}

func writeConflict(b *bytes.Buffer, depth int, ours, theirs *Node, root bool) {
	b.WriteString("<<<<<<< ours\n")
	if ours != nil {
		writeMerged(b, ours, depth, root)
	}
	b.WriteString("=======\n")
	if theirs != nil {
		writeMerged(b, theirs, depth, root)
	}
	b.WriteString(">>>>>>> theirs\n")
}

func containsConflict(n *Node) bool {
	for _, c := range n.Children {
		if c.Name == conflictName || containsConflict(c) {
			return true
		}
	}
	return false
}
