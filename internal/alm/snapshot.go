// Snapshots of an org or a branch, comparisons of two, and the components
// captured from them onto work items.

package alm

import "time"

// SnapshotStatus is where a snapshot is.
type SnapshotStatus string

// The snapshot statuses.
const (
	SnapQueued   SnapshotStatus = "queued"
	SnapRunning  SnapshotStatus = "running"
	SnapDone     SnapshotStatus = "done"
	SnapFailed   SnapshotStatus = "failed"
	SnapCanceled SnapshotStatus = "canceled"
)

// Finished reports whether the snapshot will change no more.
func (s SnapshotStatus) Finished() bool { return s == SnapDone || s == SnapFailed || s == SnapCanceled }

// Snapshot is the metadata of an org or a git ref at one moment.
type Snapshot struct {
	ID            int64          `json:"id"`
	Source        string         `json:"source"` // org or git
	OrgID         *int64         `json:"org_id"`
	RepoID        *int64         `json:"repo_id"`
	OrgName       string         `json:"org_name,omitempty"` // the org's or the repository's name
	Ref           string         `json:"ref,omitempty"`
	Label         string         `json:"label"`
	Status        SnapshotStatus `json:"status"`
	Phase         string         `json:"phase"`
	Done          int            `json:"done"`
	Total         int            `json:"total"`
	Warnings      []string       `json:"warnings"`
	Error         string         `json:"error,omitempty"`
	Components    int            `json:"components"`
	ManifestBytes int            `json:"manifest_bytes"`
	NewBlobBytes  int64          `json:"new_blob_bytes"`
	StartedAt     time.Time      `json:"started_at"`
	FinishedAt    *time.Time     `json:"finished_at"`
	Backup        bool           `json:"backup"` // taken by the backup schedule
}

// CapturedComponent is a component in a work item's change set.
type CapturedComponent struct {
	ID           int64      `json:"id"`
	WorkItemKey  string     `json:"work_item"`
	Type         string     `json:"type"`
	Name         string     `json:"name"`
	Change       string     `json:"change"` // new, changed or deleted
	Hash         string     `json:"hash,omitempty"`
	BaseHash     string     `json:"base_hash,omitempty"`
	FromSnapshot *int64     `json:"from_snapshot"`
	ToSnapshot   *int64     `json:"to_snapshot"`
	DependencyOf string     `json:"dependency_of,omitempty"`
	CapturedBy   string     `json:"captured_by"`
	CapturedAt   time.Time  `json:"captured_at"`
	Superseded   *time.Time `json:"superseded_at,omitempty"`
}

// Comparison is a kept comparison of two snapshots.
type Comparison struct {
	ID        int64     `json:"id"`
	A         int64     `json:"a"`
	B         int64     `json:"b"`
	AName     string    `json:"a_name"`
	BName     string    `json:"b_name"`
	New       int       `json:"new"`
	Changed   int       `json:"changed"`
	Deleted   int       `json:"deleted"`
	Unchanged int       `json:"unchanged"`
	By        string    `json:"created_by"`
	At        time.Time `json:"created_at"`
}
