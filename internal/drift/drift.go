// Package drift detects changes made in an org outside Trellis: what two
// snapshots of the org differ by, less what Trellis deployed between them,
// attributed to the people the org's setup audit trail names.
//
// It is pure; the monitor job (internal/jobs/drift.go) reads the
// snapshots, deployments and audit trail and raises the alert.
package drift

import (
	"sort"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// Detect lists the changes between two snapshots (cmp) that no deployment
// explains; deployed holds the components deployed in between, keyed by
// Key.
func Detect(cmp snapshot.Result, deployed map[string]bool) []alm.DriftEntry {
	var out []alm.DriftEntry
	for _, it := range cmp.Items {
		if it.Change == snapshot.Unchanged || deployed[Key(it.Type, it.Name)] {
			continue
		}
		out = append(out, alm.DriftEntry{Type: it.Type, Name: it.Name, Change: string(it.Change), OldHash: it.HashA, NewHash: it.HashB})
	}
	return out
}

// Key is how deployed components are keyed for Detect (names compare
// without case, as Salesforce's do).
func Key(typ, name string) string { return typ + "\x00" + strings.ToLower(name) }

// AuditRow is one row of an org's SetupAuditTrail.
type AuditRow struct {
	Display, Section, By string
	At                   time.Time
}

// Attribute fills in who made each drifted change: the newest audit row
// whose text names the component (its last name segment, and its object
// for a child such as a field).
func Attribute(entries []alm.DriftEntry, trail []AuditRow) {
	trail = append([]AuditRow(nil), trail...)
	sort.SliceStable(trail, func(i, j int) bool { return trail[i].At.After(trail[j].At) })
	texts := make([]string, len(trail))
	for i, r := range trail {
		texts[i] = strings.ToLower(r.Display + " " + r.Section)
	}
	for i := range entries {
		parent, leaf, isChild := strings.Cut(entries[i].Name, ".")
		if !isChild {
			leaf = parent
		}
		for j, r := range trail {
			if !strings.Contains(texts[j], strings.ToLower(leaf)) || (isChild && !strings.Contains(texts[j], strings.ToLower(parent))) {
				continue
			}
			entries[i].By, entries[i].Action = r.By, r.Display
			if !r.At.IsZero() {
				at := r.At
				entries[i].At = &at
			}
			break
		}
	}
}
