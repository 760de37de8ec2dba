package pgembed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries can be found.
// Its message tells the user how to install them or use DATABASE_URL.
var ErrNoBinaries = errors.New(`no PostgreSQL server binaries found (looked for initdb and postgres on PATH, in /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin and /usr/local/pgsql/bin).
Trellis runs its own private PostgreSQL from the installed server package when DATABASE_URL is unset.
Install the server package, for example "sudo apt-get install postgresql" on Debian or Ubuntu
("sudo dnf install postgresql-server" on Fedora, "brew install postgresql@16" on macOS),
set TRELLIS_PG_BINDIR to the directory holding initdb and postgres,
or set DATABASE_URL to a PostgreSQL 14+ database you already run`)

// FindBinDir returns the directory holding initdb, postgres and pg_ctl:
// dir itself when given, else the newest installed version found in the
// usual places. It returns ErrNoBinaries when there is none.
func FindBinDir(dir string) (string, error) {
	if dir != "" {
		if !hasServer(dir) {
			return "", fmt.Errorf("TRELLIS_PG_BINDIR=%s does not hold initdb and postgres: %w", dir, ErrNoBinaries)
		}
		return dir, nil
	}
	var candidates []string
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin"} {
		m, _ := filepath.Glob(pattern)
		candidates = append(candidates, newestFirst(m)...)
	}
	candidates = append(candidates, "/usr/local/pgsql/bin")
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append([]string{filepath.Dir(p)}, candidates...)
	}
	for _, c := range candidates {
		if hasServer(c) {
			return c, nil
		}
	}
	return "", ErrNoBinaries
}

func hasServer(dir string) bool {
	for _, b := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// newestFirst sorts paths that embed a major version number, highest first.
func newestFirst(paths []string) []string {
	version := func(p string) int {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return ' '
		}, p)
		for _, f := range strings.Fields(digits) {
			if n, err := strconv.Atoi(f); err == nil {
				return n
			}
		}
		return 0
	}
	sort.SliceStable(paths, func(i, j int) bool { return version(paths[i]) > version(paths[j]) })
	return paths
}
