package metadata

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
)

// XMLChange is one difference between two versions of a component's XML.
type XMLChange struct {
	// Path locates the element: tags joined by "/", list items by their
	// identifying value, e.g. "fieldPermissions[Invoice__c.Total__c]/editable".
	Path string `json:"path"`
	Kind Change `json:"kind"` // Added, Deleted or Changed
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// identityKeys name the child elements that identify an item of a
// repeated element, most specific first (permission sets and profiles list
// fieldPermissions by field, classAccesses by apexClass, and so on).
var identityKeys = []string{"fullName", "field", "object", "apexClass", "apexPage", "application", "tab", "recordType",
	"layout", "flow", "customPermission", "externalDataSource", "name", "setting", "label", "developerName", "value"}

// DiffXML lists what changed from a to b, element by element: which
// elements were added or removed and which values changed. Items of a
// repeated element are matched by their identifying child (a field
// permission by its field), so a reordered list is no change.
func DiffXML(a, b *Node) []XMLChange {
	var out []XMLChange
	diffNodes(&out, "", a, b)
	return out
}

func diffNodes(out *[]XMLChange, path string, a, b *Node) {
	if len(a.Children) == 0 && len(b.Children) == 0 {
		if normalizeNewlines(a.Text) != normalizeNewlines(b.Text) || !sameAttrs(a, b) {
			*out = append(*out, XMLChange{Path: path, Kind: Changed, Old: a.Text, New: b.Text})
		}
		return
	}
	ga, gb := groupChildren(a), groupChildren(b)
	names := map[string]bool{}
	for n := range ga {
		names[n] = true
	}
	for n := range gb {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		diffList(out, join(path, name), ga[name], gb[name])
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "/" + name
}

func groupChildren(n *Node) map[string][]*Node {
	g := map[string][]*Node{}
	for _, c := range n.Children {
		g[c.Name] = append(g[c.Name], c)
	}
	return g
}

func diffList(out *[]XMLChange, path string, la, lb []*Node) {
	if len(la) == 1 && len(lb) == 1 && identityOf(la[0], "") == "" {
		diffNodes(out, path, la[0], lb[0])
		return
	}
	key := listKey(la, lb)
	ma, order := indexBy(la, key)
	mb, orderB := indexBy(lb, key)
	for _, id := range orderB {
		if _, ok := ma[id]; !ok {
			order = append(order, id)
		}
	}
	for _, id := range order {
		ea, eb := ma[id], mb[id]
		p := path + "[" + id + "]"
		switch {
		case ea == nil:
			*out = append(*out, XMLChange{Path: p, Kind: Added, New: summary(eb)})
		case eb == nil:
			*out = append(*out, XMLChange{Path: p, Kind: Deleted, Old: summary(ea)})
		default:
			diffNodes(out, p, ea, eb)
		}
	}
}

// listKey picks the identifying child shared by every item of both lists;
// "" means items are identified by their whole content.
func listKey(la, lb []*Node) string {
	for _, k := range identityKeys {
		all := true
		for _, n := range append(append([]*Node(nil), la...), lb...) {
			if n.Child(k) == nil || len(n.Child(k).Children) > 0 {
				all = false
				break
			}
		}
		if all {
			return k
		}
	}
	return ""
}

func identityOf(n *Node, key string) string {
	if key != "" {
		return n.ChildText(key)
	}
	for _, k := range identityKeys {
		if c := n.Child(k); c != nil && len(c.Children) == 0 {
			return c.Text
		}
	}
	return ""
}

// indexBy maps each item to its identity; duplicates get a #n suffix.
func indexBy(list []*Node, key string) (map[string]*Node, []string) {
	m := map[string]*Node{}
	var order []string
	for _, n := range list {
		id := ""
		if key != "" {
			id = n.ChildText(key)
		} else if len(n.Children) == 0 {
			id = n.Text
		} else {
			id = string(n.Canonical(false))
			if len(id) > 80 {
				id = id[:77] + "..."
			}
		}
		base := id
		for i := 2; m[id] != nil; i++ {
			id = base + "#" + strconv.Itoa(i)
		}
		m[id] = n
		order = append(order, id)
	}
	return m, order
}

func sameAttrs(a, b *Node) bool {
	return bytes.Equal((&Node{Name: "_", Attrs: a.Attrs}).Canonical(false), (&Node{Name: "_", Attrs: b.Attrs}).Canonical(false))
}

// summary is a short text form of an element for added/removed entries.
func summary(n *Node) string {
	if len(n.Children) == 0 {
		return n.Text
	}
	var parts []string
	for _, c := range n.Children {
		if len(c.Children) == 0 {
			parts = append(parts, c.Name+"="+c.Text)
		} else {
			parts = append(parts, c.Name+"{…}")
		}
	}
	s := strings.Join(parts, ", ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}
