package artifact

import (
	"fmt"
	"strings"

	"github.com/trellis-alm/trellis/internal/deletion"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// Check is a build checked against a stage's latest snapshot.
type Check struct {
	// Missing are references from the build to components neither in the
	// build nor in the target: the deploy would fail on them.
	Missing []metadata.Reference
	// Deletions is the deletion checklist (see package deletion).
	Deletions []deletion.Step
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
	var deletes []deletion.Component
	for _, comp := range p.Components {
		if comp.Change == "deleted" {
			deletes = append(deletes, deletion.Component{Type: comp.Type, Name: comp.Name})
		}
	}
	c.Deletions = deletion.Plan(deletes, included, func(typ, name string) bool { return inTarget[keyOf(typ, name)] })
	return c, nil
}
