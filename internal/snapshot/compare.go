package snapshot

import (
	"slices"
	"strings"
)

// Change is what happened to a component between two snapshots.
type Change string

// The changes, from the first snapshot (A) to the second (B).
const (
	New       Change = "new"       // in B only
	Changed   Change = "changed"   // in both, different content
	Deleted   Change = "deleted"   // in A only
	Unchanged Change = "unchanged" // in both, same content
)

// Item is one component of a comparison.
type Item struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Change Change `json:"change"`
	HashA  string `json:"hash_a,omitempty"`
	HashB  string `json:"hash_b,omitempty"`
}

// Counts counts a type's components by change.
type Counts struct {
	New       int `json:"new"`
	Changed   int `json:"changed"`
	Deleted   int `json:"deleted"`
	Unchanged int `json:"unchanged"`
}

// Differs is how many components differ.
func (c Counts) Differs() int { return c.New + c.Changed + c.Deleted }

func (c *Counts) add(ch Change) {
	switch ch {
	case New:
		c.New++
	case Changed:
		c.Changed++
	case Deleted:
		c.Deleted++
	default:
		c.Unchanged++
	}
}

// TypeSummary is one type's line of a comparison.
type TypeSummary struct {
	Type string `json:"type"`
	Counts
}

// Result is a comparison: every component with its change, sorted by
// type and name, and the counts per type and in all.
type Result struct {
	Items  []Item        `json:"items"`
	Types  []TypeSummary `json:"types"`
	Totals Counts        `json:"totals"`
}

// Compare compares snapshot a with snapshot b. Both are walked once in
// their sorted order where names agree in case; names that differ only in
// case (Salesforce treats them as the same component) are matched through
// a map, so the cost stays linear.
func Compare(a, b Manifest) Result {
	inA := make(map[key]Entry, len(a))
	for _, e := range a {
		inA[keyOf(e)] = e
	}
	items := make([]Item, 0, max(len(a), len(b)))
	for _, e := range b {
		k := keyOf(e)
		o, ok := inA[k]
		switch {
		case !ok:
			items = append(items, Item{Type: e.Type, Name: e.Name, Change: New, HashB: e.Hash})
		case o.Hash != e.Hash:
			items = append(items, Item{Type: e.Type, Name: e.Name, Change: Changed, HashA: o.Hash, HashB: e.Hash})
		default:
			items = append(items, Item{Type: e.Type, Name: e.Name, Change: Unchanged, HashA: o.Hash, HashB: e.Hash})
		}
		delete(inA, k)
	}
	for _, o := range inA {
		items = append(items, Item{Type: o.Type, Name: o.Name, Change: Deleted, HashA: o.Hash})
	}
	slices.SortFunc(items, func(x, y Item) int {
		if c := strings.Compare(x.Type, y.Type); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	var r Result
	r.Items = items
	for _, it := range items {
		if n := len(r.Types); n == 0 || r.Types[n-1].Type != it.Type {
			r.Types = append(r.Types, TypeSummary{Type: it.Type})
		}
		r.Types[len(r.Types)-1].add(it.Change)
		r.Totals.add(it.Change)
	}
	return r
}

// TypeCount is how many components of a type a snapshot holds.
type TypeCount struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// CountByType counts a sorted manifest's components per type.
func CountByType(m Manifest) []TypeCount {
	var out []TypeCount
	for _, e := range m {
		if n := len(out); n == 0 || out[n-1].Type != e.Type {
			out = append(out, TypeCount{Type: e.Type})
		}
		out[len(out)-1].Count++
	}
	return out
}
