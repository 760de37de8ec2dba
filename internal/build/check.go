package build

import (
	"fmt"
	"strings"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// Step is one deletion of a build, planned against the target org.
type Step struct {
	Type, Name string
	// Exists says whether the target has the component; deleting what is
	// absent is skipped rather than failing the deploy.
	Exists bool
	// When is "post" (deleted after the deploy, so what referred to it has
	// changed first), "skip" when the target does not have it, or
	// "manual" when it cannot go in the deploy (see Manual).
	When string
	// Manual says what someone must do by hand, when When is "manual".
	Manual string
}

// Check is a build checked against a stage's latest snapshot.
type Check struct {
	// Missing are references from the build to components neither in the
	// build nor in the target: the deploy would fail on them.
	Missing []metadata.Reference
	// Deletions is the deletion checklist.
	Deletions []Step
}

// CheckAgainst checks a conflict-free plan against the target's manifest.
func CheckAgainst(p Plan, target snapshot.Manifest) (Check, error) {
	var c Check
	included := metadata.NewSet()
	for _, comp := range p.Components {
		if comp.Change == "deleted" {
			continue
		}
		res, err := metadata.ReadMetadataFormat(metadata.MemFS(snapshot.DecodeFiles(comp.Content)), metadata.ReadOptions{KeepContent: true})
		if err != nil {
			return c, fmt.Errorf("check %s %s: %w", comp.Type, comp.Name, err)
		}
		for _, x := range res.Set.Components() {
			if x.Type.Name == comp.Type && strings.EqualFold(x.Name, comp.Name) {
				included.Add(x)
			}
		}
	}
	inTarget := map[string]bool{}
	targetSet := metadata.NewSet()
	for _, e := range target {
		inTarget[keyOf(e.Type, e.Name)] = true
		if t := metadata.DefaultRegistry.Type(e.Type); t != nil {
			targetSet.Add(&metadata.Component{Type: t, Name: e.Name})
		}
	}
	c.Missing = metadata.Missing(metadata.References(included), included, targetSet)
	for _, comp := range p.Components {
		if comp.Change != "deleted" {
			continue
		}
		st := Step{Type: comp.Type, Name: comp.Name, Exists: inTarget[keyOf(comp.Type, comp.Name)]}
		t := metadata.DefaultRegistry.Type(comp.Type)
		switch {
		case !st.Exists:
			st.When = "skip"
		case t == nil || !t.Deletable:
			st.When, st.Manual = "manual", fmt.Sprintf("The Metadata API cannot delete a %s: remove it in the org's Setup after the deploy.", comp.Type)
		case referencedBy(included, comp) != "":
			st.When, st.Manual = "manual", fmt.Sprintf("%s in this build still refers to it; remove that reference (and build again) before deleting it.", referencedBy(included, comp))
		default:
			// After the deploy, when what referred to it has changed.
			st.When = "post"
		}
		c.Deletions = append(c.Deletions, st)
	}
	return c, nil
}

// referencedBy names a component the build deploys that references the
// deleted one, or "".
func referencedBy(included *metadata.Set, del Capture) string {
	for _, r := range metadata.References(included) {
		if r.To.Type == del.Type && strings.EqualFold(r.To.Name, del.Name) {
			return r.From.Type + " " + r.From.Name
		}
	}
	return ""
}
