package build

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// A DependencySource says where a component the build refers to, but
// neither it nor the target holds, can be captured from: a snapshot the
// release's changes were captured from (the developer's org or branch),
// onto the work item whose component needs it.
type DependencySource struct {
	Ref      metadata.Reference `json:"reference"`
	WorkItem string             `json:"work_item"`
	From     int64              `json:"from_snapshot,omitempty"` // the comparison's "before" side, kept for the capture's diff
	Snapshot int64              `json:"snapshot,omitempty"`      // 0: no snapshot the release was captured from holds it
	Hash     string             `json:"-"`
	Added    bool               `json:"added"` // already captured onto a work item of the build: build again
}

// Addable reports whether "add to release" can capture it.
func (d DependencySource) Addable() bool { return !d.Added && d.Snapshot != 0 }

func refKey(k metadata.Key) string { return k.Type + "\x00" + strings.ToLower(k.Name) }

// DependencySources finds, for each missing reference, a source to
// capture it from. It prefers the snapshot the referencing component was
// itself captured from (the same org or branch, same moment), then any
// other snapshot the build's work items were captured from, newest first.
func (s *Service) DependencySources(ctx context.Context, buildID int64, missing []metadata.Reference) ([]DependencySource, error) {
	if len(missing) == 0 {
		return nil, nil
	}
	_, comps, err := s.st.BuildByID(ctx, buildID)
	if err != nil {
		return nil, err
	}
	owner := map[string]string{} // component → work item carrying it in the build
	var items []string
	for _, c := range comps {
		if c.WorkItem == "" {
			continue
		}
		owner[refKey(metadata.Key{Type: c.Type, Name: c.Name})] = c.WorkItem
		if !slices.Contains(items, c.WorkItem) {
			items = append(items, c.WorkItem)
		}
	}
	captured := map[string]bool{} // components the work items carry now
	var caps []alm.CapturedComponent
	for _, k := range items {
		cs, err := s.st.CapturedComponents(ctx, k, false)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			captured[refKey(metadata.Key{Type: c.Type, Name: c.Name})] = true
		}
		caps = append(caps, cs...)
	}
	manifests := map[int64]map[string]string{}
	holds := func(snap int64, k metadata.Key) (string, error) {
		m, ok := manifests[snap]
		if !ok {
			man, err := s.st.SnapshotManifest(ctx, snap)
			if err != nil {
				return "", err
			}
			m = index(man)
			manifests[snap] = m
		}
		return m[refKey(k)], nil
	}
	out := make([]DependencySource, 0, len(missing))
	for _, ref := range missing {
		d := DependencySource{Ref: ref, WorkItem: owner[refKey(ref.From)], Added: captured[refKey(ref.To)]}
		if d.WorkItem == "" && len(items) > 0 {
			d.WorkItem = items[0]
		}
		if !d.Added {
			for _, c := range candidates(caps, ref.From, d.WorkItem) {
				h, err := holds(*c.ToSnapshot, ref.To)
				if err != nil {
					return nil, err
				}
				if h != "" {
					d.Snapshot, d.Hash = *c.ToSnapshot, h
					if c.FromSnapshot != nil {
						d.From = *c.FromSnapshot
					}
					break
				}
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// candidates orders the captures whose "after" snapshot may hold a missing
// component: the referencing component's own capture first, then the
// work item's other captures, then the rest (caps is newest first within
// each work item).
func candidates(caps []alm.CapturedComponent, from metadata.Key, item string) []alm.CapturedComponent {
	var first, mine, rest []alm.CapturedComponent
	for _, c := range caps {
		switch {
		case c.ToSnapshot == nil || c.Hash == "":
			continue
		case c.WorkItemKey == item && c.Type == from.Type && strings.EqualFold(c.Name, from.Name):
			first = append(first, c)
		case c.WorkItemKey == item:
			mine = append(mine, c)
		default:
			rest = append(rest, c)
		}
	}
	return append(append(first, mine...), rest...)
}

func index(m snapshot.Manifest) map[string]string {
	out := make(map[string]string, len(m))
	for _, e := range m {
		out[refKey(metadata.Key{Type: e.Type, Name: e.Name})] = e.Hash
	}
	return out
}

// AddDependencies captures the chosen missing components (type and name)
// onto the work items that need them, from the sources DependencySources
// finds, so that the next build of the release carries them. It checks the
// build against orgID's latest snapshot again first: only what is still
// missing there is added.
func (s *Service) AddDependencies(ctx context.Context, buildID, orgID int64, chosen []metadata.Key) ([]DependencySource, error) {
	if len(chosen) == 0 {
		return nil, alm.Errorf(alm.CodeInvalid, "Choose at least one missing component to add.")
	}
	chk, _, err := s.Check(ctx, buildID, orgID)
	if err != nil {
		return nil, err
	}
	srcs, err := s.DependencySources(ctx, buildID, chk.Missing)
	if err != nil {
		return nil, err
	}
	byTo := map[string]DependencySource{}
	for _, d := range srcs {
		if _, seen := byTo[refKey(d.Ref.To)]; !seen || d.Addable() {
			byTo[refKey(d.Ref.To)] = d
		}
	}
	type group struct {
		item     string
		from, to int64
	}
	groups := map[group][]store.Capture{}
	var order []group
	var added []DependencySource
	var problems []string
	done := map[string]bool{}
	for _, k := range chosen {
		d, ok := byTo[refKey(k)]
		switch {
		case done[refKey(k)]:
		case !ok:
			problems = append(problems, fmt.Sprintf("%s %s is not missing from this build against that org", k.Type, k.Name))
		case d.Added:
			problems = append(problems, fmt.Sprintf("%s %s is already on %s: build the release again", k.Type, k.Name, d.WorkItem))
		case d.Snapshot == 0:
			problems = append(problems, fmt.Sprintf("%s %s is in no snapshot the release's changes were captured from: capture it from a comparison", k.Type, k.Name))
		default:
			g := group{d.WorkItem, d.From, d.Snapshot}
			if _, ok := groups[g]; !ok {
				order = append(order, g)
			}
			groups[g] = append(groups[g], store.Capture{Type: d.Ref.To.Type, Name: d.Ref.To.Name, Change: "new", Hash: d.Hash,
				DependencyOf: d.Ref.From.Type + " " + d.Ref.From.Name})
			added = append(added, d)
			done[refKey(k)] = true
		}
	}
	if len(problems) > 0 {
		return nil, alm.Errorf(alm.CodeInvalid, "Nothing was added: %s.", strings.Join(problems, "; "))
	}
	for _, g := range order {
		from := g.from
		if from == 0 {
			from = g.to
		}
		if err := s.st.CaptureComponents(ctx, g.item, from, g.to, groups[g]); err != nil {
			return nil, err
		}
	}
	return added, nil
}
