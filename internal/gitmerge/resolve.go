package gitmerge

import (
	"bytes"
	"fmt"
)

// Hunk is one conflict in a marked merge: both sides' lines.
type Hunk struct {
	Ours, Theirs []byte
}

// Choices settle a hunk: ours, theirs, or both (ours then theirs).
const (
	ChooseOurs   = "ours"
	ChooseTheirs = "theirs"
	ChooseBoth   = "both"
)

// Hunks lists the conflicts between markers in a marked merge (as
// MergeXML and TextMerge write them), in order.
func Hunks(marked []byte) []Hunk {
	var hs []Hunk
	forHunks(marked, func(h Hunk) []byte { hs = append(hs, h); return nil }, func([]byte) {})
	return hs
}

// Resolve settles every conflict of a marked merge with choices (one per
// hunk, in order) and returns the file without markers.
func Resolve(marked []byte, choices []string) ([]byte, error) {
	var out bytes.Buffer
	i := 0
	var bad error
	forHunks(marked, func(h Hunk) []byte {
		if i >= len(choices) {
			bad = fmt.Errorf("conflict %d has no choice", i+1)
			return nil
		}
		c := choices[i]
		i++
		switch c {
		case ChooseOurs:
			return h.Ours
		case ChooseTheirs:
			return h.Theirs
		case ChooseBoth:
			return append(append([]byte(nil), h.Ours...), h.Theirs...)
		}
		bad = fmt.Errorf("conflict %d: choose ours, theirs or both, not %q", i, c)
		return nil
	}, func(b []byte) { out.Write(b) })
	if bad != nil {
		return nil, bad
	}
	if i != len(choices) {
		return nil, fmt.Errorf("%d choices for %d conflicts", len(choices), i)
	}
	return out.Bytes(), nil
}

// forHunks walks marked line by line, handing plain lines to plain and
// each conflict to hunk, whose answer is handed to plain.
func forHunks(marked []byte, hunk func(Hunk) []byte, plain func([]byte)) {
	const (
		text = iota
		inOurs
		inBase // diff3 style: the base section is dropped
		inTheirs
	)
	state := text
	var h Hunk
	for len(marked) > 0 {
		n := bytes.IndexByte(marked, '\n') + 1
		if n == 0 {
			n = len(marked)
		}
		line := marked[:n]
		marked = marked[n:]
		switch {
		case state == text && bytes.HasPrefix(line, []byte("<<<<<<< ")) || state == text && bytes.Equal(bytes.TrimRight(line, "\r\n"), []byte("<<<<<<<")):
			state, h = inOurs, Hunk{Ours: []byte{}, Theirs: []byte{}}
		case state == inOurs && bytes.HasPrefix(line, []byte("|||||||")):
			state = inBase
		case (state == inOurs || state == inBase) && bytes.Equal(bytes.TrimRight(line, "\r\n"), []byte("=======")):
			state = inTheirs
		case state == inTheirs && bytes.HasPrefix(line, []byte(">>>>>>>")):
			plain(hunk(h))
			state = text
		case state == inOurs:
			h.Ours = append(h.Ours, line...)
		case state == inTheirs:
			h.Theirs = append(h.Theirs, line...)
		case state == inBase:
		default:
			plain(line)
		}
	}
}
