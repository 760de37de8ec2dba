// Package build makes a release's build: it loads the captures of the
// release's work items and their content, composes them with the build
// package, and records the immutable artifact.
package build

import (
	"context"
	"fmt"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/artifact"
	"github.com/trellis-alm/trellis/internal/checks"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// Service builds releases.
type Service struct{ st *store.Store }

// New returns a Service.
func New(st *store.Store) *Service { return &Service{st: st} }

// ConflictError lists the conflicts that stop a build.
type ConflictError struct{ Conflicts []artifact.Conflict }

func (e *ConflictError) Error() string {
	var names []string
	for _, c := range e.Conflicts {
		names = append(names, c.Type+" "+c.Name)
	}
	return fmt.Sprintf("%d of the components were captured differently by several work items: %s. Pick one version of each, or capture a merged version, then build again.",
		len(e.Conflicts), strings.Join(names, ", "))
}

// Plan composes the release's current captures, settling conflicts with
// resolutions (conflict key → work item key).
func (s *Service) Plan(ctx context.Context, releaseID int64, resolutions map[string]string) (artifact.Plan, error) {
	caps, err := s.st.ReleaseCaptures(ctx, releaseID)
	if err != nil {
		return artifact.Plan{}, err
	}
	if len(caps) == 0 {
		return artifact.Plan{}, alm.Errorf(alm.CodeInvalid, "The release's work items have no captured components yet: capture them from a comparison under Develop first.")
	}
	var in []artifact.Capture
	for _, c := range caps {
		bc := artifact.Capture{WorkItem: c.WorkItem, Type: c.Type, Name: c.Name, Change: c.Change, Hash: c.Hash}
		if c.Hash != "" {
			if bc.Content, err = s.st.BlobData(ctx, c.Hash); err != nil {
				return artifact.Plan{}, err
			}
		}
		in = append(in, bc)
	}
	return artifact.Compose(in, resolutions), nil
}

// Build packages the release as a new, immutable build.
func (s *Service) Build(ctx context.Context, releaseID int64, apiVersion string, resolutions map[string]string) (alm.Build, error) {
	if apiVersion == "" {
		apiVersion = "64.0"
	}
	p, err := s.Plan(ctx, releaseID, resolutions)
	if err != nil {
		return alm.Build{}, err
	}
	if len(p.Conflicts) > 0 {
		return alm.Build{}, &ConflictError{Conflicts: p.Conflicts}
	}
	art, err := artifact.Package(p, apiVersion)
	if err != nil {
		return alm.Build{}, alm.Errorf(alm.CodeInvalid, "The release could not be packaged: %v", err)
	}
	n := store.NewBuild{ReleaseID: releaseID, APIVersion: apiVersion, Checksum: art.Checksum, Artifact: art.Zip, Deletes: art.Deletes}
	for _, c := range p.Components {
		n.Components = append(n.Components, alm.BuildComponent{Type: c.Type, Name: c.Name, Change: c.Change, Hash: c.Hash, WorkItem: c.WorkItem})
	}
	return s.st.CreateBuild(ctx, n)
}

// BuildWorkItem packages one work item's change set as a build of its
// own, to promote it into the first stage before it joins a release.
func (s *Service) BuildWorkItem(ctx context.Context, key, apiVersion string) (alm.Build, error) {
	if apiVersion == "" {
		apiVersion = "64.0"
	}
	id, caps, err := s.st.WorkItemCaptures(ctx, key)
	if err != nil {
		return alm.Build{}, err
	}
	if len(caps) == 0 {
		return alm.Build{}, alm.Errorf(alm.CodeInvalid, "%s has no captured components yet: capture them from a comparison under Develop first.", strings.ToUpper(key))
	}
	var in []artifact.Capture
	for _, c := range caps {
		bc := artifact.Capture{WorkItem: c.WorkItem, Type: c.Type, Name: c.Name, Change: c.Change, Hash: c.Hash}
		if c.Hash != "" {
			if bc.Content, err = s.st.BlobData(ctx, c.Hash); err != nil {
				return alm.Build{}, err
			}
		}
		in = append(in, bc)
	}
	p := artifact.Compose(in, nil)
	art, err := artifact.Package(p, apiVersion)
	if err != nil {
		return alm.Build{}, alm.Errorf(alm.CodeInvalid, "The change set could not be packaged: %v", err)
	}
	n := store.NewBuild{WorkItemID: id, APIVersion: apiVersion, Checksum: art.Checksum, Artifact: art.Zip, Deletes: art.Deletes}
	for _, c := range p.Components {
		n.Components = append(n.Components, alm.BuildComponent{Type: c.Type, Name: c.Name, Change: c.Change, Hash: c.Hash, WorkItem: c.WorkItem})
	}
	return s.st.CreateBuild(ctx, n)
}

// Check checks a build against an org's latest snapshot: references the
// deploy would miss, and the deletion checklist.
func (s *Service) Check(ctx context.Context, buildID, orgID int64) (artifact.Check, alm.Snapshot, error) {
	_, comps, err := s.st.BuildByID(ctx, buildID)
	if err != nil {
		return artifact.Check{}, alm.Snapshot{}, err
	}
	sn, err := s.st.LatestSnapshot(ctx, orgID)
	if err != nil {
		return artifact.Check{}, sn, err
	}
	target, err := s.st.SnapshotManifest(ctx, sn.ID)
	if err != nil {
		return artifact.Check{}, sn, err
	}
	var p artifact.Plan
	for _, c := range comps {
		bc := artifact.Capture{WorkItem: c.WorkItem, Type: c.Type, Name: c.Name, Change: c.Change, Hash: c.Hash}
		if c.Hash != "" {
			if bc.Content, err = s.st.BlobData(ctx, c.Hash); err != nil {
				return artifact.Check{}, sn, err
			}
		}
		p.Components = append(p.Components, bc)
	}
	chk, err := artifact.CheckAgainst(p, target)
	return chk, sn, err
}

// StaticChecks runs the static checks over a build's components; with
// orgAPIVersion set, components far behind it are flagged too.
func (s *Service) StaticChecks(ctx context.Context, buildID int64, orgAPIVersion string) ([]checks.Finding, error) {
	_, comps, err := s.st.BuildByID(ctx, buildID)
	if err != nil {
		return nil, err
	}
	var files []checks.File
	var newClasses []string
	for _, c := range comps {
		if c.Hash == "" {
			continue
		}
		data, err := s.st.BlobData(ctx, c.Hash)
		if err != nil {
			return nil, err
		}
		for p, b := range snapshot.DecodeFiles(data) {
			files = append(files, checks.File{Component: c.Type + " " + c.Name, Type: c.Type, Path: p, Data: b})
		}
		if c.Type == "ApexClass" && c.Change == "new" {
			newClasses = append(newClasses, c.Name)
		}
	}
	return checks.Run(files, newClasses, checks.Options{OrgAPIVersion: orgAPIVersion}), nil
}
