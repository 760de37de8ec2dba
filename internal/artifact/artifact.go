// Package artifact composes a release's build: the union of its work items'
// captured components, with the conflicts that must be settled first, and
// the immutable artifact — a deterministic zip of package.xml, the
// destructive changes and the files — with its checksum.
//
// It is pure: callers load the captures and their stored content.
package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// Capture is one work item's latest capture of a component.
type Capture struct {
	WorkItem string
	Type     string
	Name     string
	Change   string // new, changed or deleted
	Hash     string // "" for a deletion
	Content  []byte // the stored content (snapshot.EncodeFiles); nil for a deletion
}

func keyOf(typ, name string) string { return typ + "\x00" + strings.ToLower(name) }

// Conflict is a component two or more work items captured differently.
type Conflict struct {
	Type, Name string
	Options    []Capture // one per differing version, in work item order
}

// Key names the conflict for resolutions.
func (c Conflict) Key() string { return keyOf(c.Type, c.Name) }

// Plan is what a build holds: one capture per component.
type Plan struct {
	Components []Capture // sorted by type and name
	Conflicts  []Conflict
}

// Compose takes the union of captures. Work items that captured the same
// content agree; different content is a conflict unless resolutions
// (conflict key → work item) picks one.
func Compose(captures []Capture, resolutions map[string]string) Plan {
	byKey := map[string][]Capture{}
	var order []string
	for _, c := range captures {
		k := keyOf(c.Type, c.Name)
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], c)
	}
	var p Plan
	for _, k := range order {
		cs := byKey[k]
		slices.SortFunc(cs, func(a, b Capture) int { return strings.Compare(a.WorkItem, b.WorkItem) })
		distinct := []Capture{cs[0]}
		for _, c := range cs[1:] {
			if !slices.ContainsFunc(distinct, func(d Capture) bool { return d.Hash == c.Hash && d.Change == c.Change }) {
				distinct = append(distinct, c)
			}
		}
		if len(distinct) == 1 {
			p.Components = append(p.Components, distinct[0])
			continue
		}
		if pick, ok := resolutions[k]; ok {
			if i := slices.IndexFunc(distinct, func(d Capture) bool { return d.WorkItem == pick }); i >= 0 {
				p.Components = append(p.Components, distinct[i])
				continue
			}
		}
		p.Conflicts = append(p.Conflicts, Conflict{Type: cs[0].Type, Name: cs[0].Name, Options: distinct})
	}
	sortCaptures(p.Components)
	slices.SortFunc(p.Conflicts, func(a, b Conflict) int { return strings.Compare(a.Key(), b.Key()) })
	return p
}

func sortCaptures(cs []Capture) {
	slices.SortFunc(cs, func(a, b Capture) int { return strings.Compare(keyOf(a.Type, a.Name), keyOf(b.Type, b.Name)) })
}

// Artifact is a build's deployable package.
type Artifact struct {
	Zip      []byte
	Checksum string // hex SHA-256 of Zip
	Files    int
	Deletes  int
}

// Package lays a conflict-free plan out as a deploy zip: the components'
// files in Metadata API format (children recomposed into their parents),
// package.xml, and destructiveChangesPost.xml for deletions. The same
// plan always gives the same bytes.
func Package(p Plan, apiVersion string) (Artifact, error) {
	if len(p.Conflicts) > 0 {
		return Artifact{}, fmt.Errorf("build: %d conflict(s) to settle first", len(p.Conflicts))
	}
	set := metadata.NewSet()
	deletes := metadata.NewManifest(apiVersion)
	for _, c := range p.Components {
		if c.Change == "deleted" {
			deletes.Add(manifestType(c.Type), c.Name)
			continue
		}
		res, err := metadata.ReadMetadataFormat(metadata.MemFS(snapshot.DecodeFiles(c.Content)), metadata.ReadOptions{KeepContent: true})
		if err != nil {
			return Artifact{}, fmt.Errorf("build: %s %s: %w", c.Type, c.Name, err)
		}
		for _, comp := range res.Set.Components() {
			if comp.Type.Name == c.Type && strings.EqualFold(comp.Name, c.Name) {
				set.Add(comp)
			}
		}
	}
	files, err := metadata.WriteMetadataFormat(set)
	if err != nil {
		return Artifact{}, fmt.Errorf("build: %w", err)
	}
	files["package.xml"] = metadata.ManifestFromSet(set, apiVersion).Marshal()
	if !deletes.Empty() {
		files["destructiveChangesPost.xml"] = deletes.Marshal()
	}
	zip, err := metadata.WriteZip(files)
	if err != nil {
		return Artifact{}, err
	}
	sum := sha256.Sum256(zip)
	return Artifact{Zip: zip, Checksum: hex.EncodeToString(sum[:]), Files: len(files), Deletes: deletes.Count()}, nil
}

func manifestType(t string) string {
	if typ := metadata.DefaultRegistry.Type(t); typ != nil {
		return typ.ManifestName()
	}
	return t
}
