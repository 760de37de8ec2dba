// Package crashpoint kills the process, as kill -9 does, at a named step
// of its work when TRELLIS_CRASH_AT names that step (a comma-separated
// list). The crash tests start Trellis with it to prove that a process
// dying at any step of a promotion, a snapshot, a backup or a restore is
// recovered from: nothing stuck, nothing done twice, nothing lost. Unset,
// it costs a map lookup.
package crashpoint

import (
	"os"
	"strings"
)

var armed = parse(os.Getenv("TRELLIS_CRASH_AT"))

func parse(v string) map[string]bool {
	out := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out[p] = true
		}
	}
	return out
}

// At kills the process when step is armed. It does not return then.
func At(step string) {
	if !armed[step] {
		return
	}
	os.Stderr.WriteString("crashpoint: killing the process at " + step + "\n")
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	select {} // the kill is on its way
}
