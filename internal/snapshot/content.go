package snapshot

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// EncodeFiles is a component's content as stored: each of its files (in
// Metadata API format) under a header line, in path order, readable and
// diffable as text.
func EncodeFiles(files map[string][]byte) []byte {
	paths := make([]string, 0, len(files))
	for p := range files {
		if p != "package.xml" {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var b bytes.Buffer
	for _, p := range paths {
		fmt.Fprintf(&b, "=== %s\n", p)
		b.Write(files[p])
		if !bytes.HasSuffix(files[p], []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// DecodeFiles reads content made by EncodeFiles back into files. (A file
// that did not end in a newline gains one, which the metadata engine's
// hashing ignores.)
func DecodeFiles(data []byte) map[string][]byte {
	out := map[string][]byte{}
	var path string
	var cur bytes.Buffer
	flush := func() {
		if path != "" {
			out[path] = bytes.Clone(cur.Bytes())
		}
		cur.Reset()
	}
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if p, ok := strings.CutPrefix(string(line), "=== "); ok && (len(out) > 0 || path != "" || cur.Len() == 0) && strings.HasSuffix(p, "\n") && !strings.Contains(p[:len(p)-1], "\n") && looksLikePath(p[:len(p)-1]) {
			flush()
			path = p[:len(p)-1]
			continue
		}
		cur.Write(line)
	}
	flush()
	return out
}

func looksLikePath(p string) bool {
	return p != "" && !strings.ContainsAny(p, "<>\"") && strings.Contains(p, "/")
}
