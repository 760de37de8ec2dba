package web

import (
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/metadata"
)

// RestorePreview is what a metadata restore would deploy (its dry run).
type RestorePreview struct {
	Components []alm.DeploymentComponent
	Unchanged  []alm.DeploymentComponent // the org's latest snapshot had these as the backup does
	TestLevel  string
}

// DependencySource says, for a reference a build's target lacks, where
// "add to release" would capture it from.
type DependencySource struct {
	Ref      metadata.Reference
	WorkItem string
	Snapshot int64 // 0: no snapshot the release was captured from holds it
	Added    bool  // already captured onto a work item of the build: build again
}

// Addable reports whether "add to release" can capture it.
func (d DependencySource) Addable() bool { return !d.Added && d.Snapshot != 0 }
