// Package snapshot holds what a snapshot of an org or a git ref is: a
// manifest listing every component with the hash of its canonical content
// (the content itself lives in a content-addressed blob store, shared by
// every snapshot of every org). It encodes manifests compactly, as a full
// list or as a delta against an earlier snapshot, so that thirty daily
// snapshots of an org that changes by 1% a day cost little more than one,
// and it compares two manifests into a result grouped by type.
//
// Standard library only; the store keeps the bytes.
package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Entry is one component of a snapshot.
type Entry struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Hash string `json:"hash"` // hex SHA-256 of the canonical content
}

// key matches components as Salesforce does: type exactly, name without
// regard to case.
type key struct{ typ, name string }

func keyOf(e Entry) key { return key{e.Type, strings.ToLower(e.Name)} }

// Manifest is a snapshot's components sorted by type, then name.
type Manifest []Entry

// Sort puts m in canonical order.
func (m Manifest) Sort() {
	slices.SortFunc(m, func(a, b Entry) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// Delta turns one manifest into another: entries to put (new or changed)
// and keys to delete.
type Delta struct {
	Put []Entry
	Del []Entry // Hash empty
}

// Size is how many entries the delta touches.
func (d Delta) Size() int { return len(d.Put) + len(d.Del) }

// DeltaOf returns what turns base into next.
func DeltaOf(base, next Manifest) Delta {
	old := make(map[key]Entry, len(base))
	for _, e := range base {
		old[keyOf(e)] = e
	}
	var d Delta
	for _, e := range next {
		k := keyOf(e)
		if o, ok := old[k]; !ok || o.Hash != e.Hash || o.Name != e.Name {
			d.Put = append(d.Put, e)
		}
		delete(old, k)
	}
	for _, e := range old {
		d.Del = append(d.Del, Entry{Type: e.Type, Name: e.Name})
	}
	Manifest(d.Del).Sort()
	return d
}

// Apply returns base with d applied.
func Apply(base Manifest, d Delta) Manifest {
	idx := make(map[key]int, len(base))
	out := make(Manifest, len(base), len(base)+len(d.Put))
	copy(out, base)
	for i, e := range out {
		idx[keyOf(e)] = i
	}
	gone := make(map[int]bool, len(d.Del))
	for _, e := range d.Del {
		if i, ok := idx[keyOf(e)]; ok {
			gone[i] = true
		}
	}
	for _, e := range d.Put {
		if i, ok := idx[keyOf(e)]; ok {
			out[i] = e
			delete(gone, i)
		} else {
			out = append(out, e)
		}
	}
	if len(gone) > 0 {
		kept := out[:0]
		for i, e := range out {
			if !gone[i] {
				kept = append(kept, e)
			}
		}
		out = kept
	}
	out.Sort()
	return out
}

// The encoded forms: gzip of a header line then one entry a line,
// "type\tname\thash" ("-type\tname" deletes in a delta). Types repeat,
// so a line whose type is the previous line's starts with a tab.
const (
	fullHeader  = "trellis-manifest full 1"
	deltaHeader = "trellis-manifest delta 1"
)

// EncodeFull encodes a whole manifest.
func EncodeFull(m Manifest) []byte { return encode(fullHeader, m, nil) }

// EncodeDelta encodes a delta.
func EncodeDelta(d Delta) []byte { return encode(deltaHeader, d.Put, d.Del) }

func encode(header string, put, del []Entry) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w := bufio.NewWriter(zw)
	w.WriteString(header + "\n")
	prev := ""
	for _, e := range put {
		if e.Type == prev {
			w.WriteString("\t" + e.Name + "\t" + e.Hash + "\n")
		} else {
			w.WriteString(e.Type + "\t" + e.Name + "\t" + e.Hash + "\n")
		}
		prev = e.Type
	}
	for _, e := range del {
		w.WriteString("-" + e.Type + "\t" + e.Name + "\n")
	}
	w.Flush()
	zw.Close()
	return buf.Bytes()
}

// ErrCorrupt is returned for bytes that are not an encoded manifest.
var ErrCorrupt = errors.New("snapshot: not an encoded manifest")

// Decode reads an encoded manifest: a full one (isDelta false, the
// manifest in d.Put) or a delta.
func Decode(data []byte) (d Delta, isDelta bool, err error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return d, false, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	sc := bufio.NewScanner(io.LimitReader(zr, 1<<30))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() {
		return d, false, ErrCorrupt
	}
	switch sc.Text() {
	case fullHeader:
	case deltaHeader:
		isDelta = true
	default:
		return d, false, ErrCorrupt
	}
	prev := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-") {
			typ, name, ok := strings.Cut(line[1:], "\t")
			if !ok {
				return d, false, ErrCorrupt
			}
			d.Del = append(d.Del, Entry{Type: typ, Name: name})
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			return d, false, ErrCorrupt
		}
		if parts[0] == "" {
			parts[0] = prev
		}
		prev = parts[0]
		d.Put = append(d.Put, Entry{Type: parts[0], Name: parts[1], Hash: parts[2]})
	}
	if err := sc.Err(); err != nil {
		return d, false, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return d, isDelta, nil
}

// ApplyAll applies deltas in order to base in one pass, so a long chain of
// small daily deltas costs about as much to read as one.
func ApplyAll(base Manifest, deltas []Delta) Manifest {
	if len(deltas) == 0 {
		return base
	}
	type change struct {
		e    Entry
		gone bool
	}
	over := map[key]change{}
	for _, d := range deltas {
		for _, e := range d.Del {
			over[keyOf(e)] = change{gone: true}
		}
		for _, e := range d.Put {
			over[keyOf(e)] = change{e: e}
		}
	}
	out := make(Manifest, 0, len(base)+len(over))
	for _, e := range base {
		k := keyOf(e)
		c, ok := over[k]
		switch {
		case !ok:
			out = append(out, e)
		case !c.gone:
			out = append(out, c.e)
		}
		delete(over, k)
	}
	for _, c := range over {
		if !c.gone {
			out = append(out, c.e)
		}
	}
	out.Sort()
	return out
}
