// Package capture attaches components from a comparison to a work item:
// their content (blob hashes) becomes the work item's change set, a link
// of the lineage. It can add what the chosen components depend on, found
// by the metadata engine's dependency extraction, when those changed too.
package capture

import (
	"context"
	"fmt"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// Component names a component.
type Component struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// Request is a capture: components of the comparison of snapshot A (before)
// with snapshot B (after), onto a work item.
type Request struct {
	WorkItem         string      `json:"-"`
	A                int64       `json:"a"`
	B                int64       `json:"b"`
	Components       []Component `json:"components"`
	WithDependencies bool        `json:"with_dependencies"`
}

// Service captures components.
type Service struct{ st *store.Store }

// New returns a Service.
func New(st *store.Store) *Service { return &Service{st: st} }

func keyOf(typ, name string) string { return typ + "\x00" + strings.ToLower(name) }

// Capture records the request's components (and, when asked, the changed
// components they reference) on the work item, and returns what it
// captured.
func (s *Service) Capture(ctx context.Context, r Request) ([]store.Capture, error) {
	if _, err := s.st.WorkItemByKey(ctx, r.WorkItem); err != nil {
		return nil, alm.Invalid(map[string]string{"work_item": "There is no work item " + strings.ToUpper(r.WorkItem) + "."})
	}
	ma, err := s.st.SnapshotManifest(ctx, r.A)
	if err != nil {
		return nil, err
	}
	mb, err := s.st.SnapshotManifest(ctx, r.B)
	if err != nil {
		return nil, err
	}
	items := map[string]snapshot.Item{}
	for _, it := range snapshot.Compare(ma, mb).Items {
		items[keyOf(it.Type, it.Name)] = it
	}
	var caps []store.Capture
	chosen := map[string]bool{}
	var unchanged, missing []string
	for _, c := range r.Components {
		it, ok := items[keyOf(c.Type, c.Name)]
		switch {
		case !ok:
			missing = append(missing, c.Type+" "+c.Name)
		case it.Change == snapshot.Unchanged:
			unchanged = append(unchanged, c.Name)
		case !chosen[keyOf(it.Type, it.Name)]:
			chosen[keyOf(it.Type, it.Name)] = true
			caps = append(caps, store.Capture{Type: it.Type, Name: it.Name, Change: string(it.Change), Hash: it.HashB, BaseHash: it.HashA})
		}
	}
	if len(missing) > 0 {
		return nil, alm.Invalid(map[string]string{"components": "Not in either snapshot: " + strings.Join(missing, ", ") + "."})
	}
	if len(unchanged) > 0 {
		return nil, alm.Invalid(map[string]string{"components": "Unchanged between these snapshots, so there is nothing to capture: " + strings.Join(unchanged, ", ") + "."})
	}
	if r.WithDependencies {
		deps, err := s.dependencies(ctx, caps, items, chosen)
		if err != nil {
			return nil, err
		}
		caps = append(caps, deps...)
	}
	if err := s.st.CaptureComponents(ctx, r.WorkItem, r.A, r.B, caps); err != nil {
		return nil, err
	}
	// A drifted change captured onto a work item is explained: its drift
	// alert is acknowledged and linked to the item.
	keys := make([]store.DriftKey, len(caps))
	for i, c := range caps {
		keys[i] = store.DriftKey{Type: c.Type, Name: c.Name}
	}
	for _, id := range []int64{r.A, r.B} {
		if sn, err := s.st.SnapshotByID(ctx, id); err == nil && sn.OrgID != nil {
			if _, err := s.st.AcknowledgeDrift(ctx, *sn.OrgID, keys, r.WorkItem); err != nil {
				return caps, err
			}
		}
	}
	return caps, nil
}

// dependencies reads the chosen components' content, extracts what they
// reference, and returns the referenced components that changed too.
func (s *Service) dependencies(ctx context.Context, caps []store.Capture, items map[string]snapshot.Item, chosen map[string]bool) ([]store.Capture, error) {
	files := map[string][]byte{}
	for _, c := range caps {
		if c.Hash == "" {
			continue
		}
		data, err := s.st.BlobData(ctx, c.Hash)
		if err != nil {
			return nil, err
		}
		for p, b := range snapshot.DecodeFiles(data) {
			files[p] = b
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(files), metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return nil, fmt.Errorf("read captured content: %w", err)
	}
	var out []store.Capture
	for _, ref := range metadata.References(res.Set) {
		k := keyOf(ref.To.Type, ref.To.Name)
		it, ok := items[k]
		if !ok || chosen[k] || it.Change == snapshot.Unchanged || it.Change == snapshot.Deleted {
			continue
		}
		chosen[k] = true
		out = append(out, store.Capture{Type: it.Type, Name: it.Name, Change: string(it.Change), Hash: it.HashB, BaseHash: it.HashA,
			DependencyOf: ref.From.Type + " " + ref.From.Name})
	}
	return out, nil
}
