// Package migrations holds the numbered SQL files that make Trellis's whole
// schema, River's tables included, applied by golang-migrate.
package migrations

import (
	"embed"
	"io/fs"
	"strconv"
	"strings"
)

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS

// Latest returns the highest migration version in FS: the schema version this
// build of Trellis needs.
func Latest() uint {
	entries, _ := fs.ReadDir(FS, ".")
	var latest uint
	for _, e := range entries {
		n, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		if v, err := strconv.ParseUint(n, 10, 32); err == nil && uint(v) > latest {
			latest = uint(v)
		}
	}
	return latest
}
