// Package deletion plans the deletions a deploy carries. The Metadata API
// deletes through destructiveChanges manifests, and not everything can go
// that way: a deletion of something the target does not have is skipped
// (Salesforce would fail the whole deploy on it), a type the API cannot
// delete or a component the same deploy still refers to needs a person
// (a manual step), and the rest is deleted after the deploy
// (destructiveChangesPost.xml), once whatever referred to it has changed.
//
// Builds, promotions, rollbacks and restores all plan their deletions
// here; the package is pure (no database, no HTTP).
package deletion

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// When a deletion happens.
const (
	Post   = "post"   // in destructiveChangesPost.xml, after the rest of the deploy
	Skip   = "skip"   // the target does not have it: nothing to delete
	Manual = "manual" // cannot go in the deploy; Step.Manual says what to do
)

// Step is one deletion, planned against a target.
type Step struct {
	Type, Name string
	// Exists says whether the target has the component.
	Exists bool
	// When is Post, Skip or Manual.
	When string
	// Manual says what someone must do by hand, when When is Manual.
	Manual string
}

// Component names a component to delete.
type Component struct{ Type, Name string }

// Plan decides each deletion against the target: inTarget reports whether
// the target has a component, deploying is what the same deploy puts in.
func Plan(deletes []Component, deploying *metadata.Set, inTarget func(typ, name string) bool) []Step {
	refs := metadata.References(deploying)
	var steps []Step
	for _, d := range deletes {
		st := Step{Type: d.Type, Name: d.Name, Exists: inTarget(d.Type, d.Name)}
		t := metadata.DefaultRegistry.Type(d.Type)
		switch by := referencedBy(refs, d); {
		case !st.Exists:
			st.When = Skip
		case t == nil || !t.Deletable:
			st.When, st.Manual = Manual, fmt.Sprintf("The Metadata API cannot delete a %s: remove it in the org's Setup after the deploy.", d.Type)
		case by != "":
			st.When, st.Manual = Manual, fmt.Sprintf("%s in this build still refers to it; remove that reference (and build again) before deleting it.", by)
		default:
			st.When = Post
		}
		steps = append(steps, st)
	}
	return steps
}

// referencedBy names a component of the deploy that refers to d, or "".
func referencedBy(refs []metadata.Reference, d Component) string {
	for _, r := range refs {
		if r.To.Type == d.Type && strings.EqualFold(r.To.Name, d.Name) {
			return r.From.Type + " " + r.From.Name
		}
	}
	return ""
}

// Added lists what an org has now (current) but a kept snapshot did not,
// within the given types: the components a restore of that snapshot
// deletes when asked to put the org back exactly.
func Added(current, kept snapshot.Manifest, types []string) []Component {
	had := make(map[string]bool, len(kept))
	for _, e := range kept {
		had[strings.ToLower(e.Type+"/"+e.Name)] = true
	}
	var out []Component
	for _, e := range current {
		if slices.Contains(types, e.Type) && !had[strings.ToLower(e.Type+"/"+e.Name)] {
			out = append(out, Component{Type: e.Type, Name: e.Name})
		}
	}
	return out
}
