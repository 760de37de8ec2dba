// Builds: immutable, deployable packages of a release's or a work item's
// changes.

package alm

import "time"

// Build is a release's immutable artifact.
type Build struct {
	ID         int64     `json:"id"`
	ReleaseID  int64     `json:"release_id"`
	Number     int       `json:"number"`
	APIVersion string    `json:"api_version"`
	Checksum   string    `json:"checksum"`
	Components int       `json:"components"`
	Deletes    int       `json:"deletes"`
	Size       int       `json:"size"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	WorkItem   string    `json:"work_item,omitempty"` // set for a work item's own change set
}

// BuildComponent is a component a build holds.
type BuildComponent struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Change   string `json:"change"`
	Hash     string `json:"hash,omitempty"`
	WorkItem string `json:"work_item"`
}
