// Deployments: a build sent to an org, its components, and what it does to
// the work items it carries.

package alm

import (
	"slices"
	"time"
)

// Deployment is one deploy into an org: a promotion's, or a rollback.
type Deployment struct {
	ID              int64            `json:"id"`
	PromotionID     *int64           `json:"promotion_id"`
	OrgID           int64            `json:"org_id"`
	OrgName         string           `json:"org_name"`
	BuildID         *int64           `json:"build_id"`
	Kind            string           `json:"kind"` // deploy, quick_deploy, rollback, restore
	RollbackOf      *int64           `json:"rollback_of"`
	TestLevel       string           `json:"test_level"`
	Status          string           `json:"status"` // queued, snapshotting, deploying, succeeded, failed, canceled
	Phase           string           `json:"phase,omitempty"`
	Done            int              `json:"done"`
	Total           int              `json:"total"`
	Checksum        string           `json:"checksum"`
	ValidationID    *int64           `json:"validation_id"`
	DeployID        string           `json:"deploy_id,omitempty"`
	CancelRequested bool             `json:"cancel_requested"`
	Result          ValidationResult `json:"result"`
	Error           string           `json:"error,omitempty"`
	Override        string           `json:"override,omitempty"`
	StartedBy       string           `json:"started_by"`
	StartedAt       time.Time        `json:"started_at"`
	SubmittedAt     *time.Time       `json:"submitted_at"`
	Finished        *time.Time       `json:"finished_at"`
	RestoreOf       *int64           `json:"restore_of"` // the snapshot a restore put back
}

// Active reports whether the deployment is still under way.
func (d Deployment) Active() bool { return d.Finished == nil }

// DeploymentComponent is what a deployment changed, with the version it
// replaced (Existed false: the deployment added it).
type DeploymentComponent struct {
	Type         string `json:"type"`
	Name         string `json:"name"`
	Change       string `json:"change"`
	Hash         string `json:"hash,omitempty"`
	PreviousHash string `json:"previous_hash,omitempty"`
	Existed      *bool  `json:"existed"`
	WorkItem     string `json:"work_item,omitempty"`
}

// ComponentHistoryEntry is one deployment that changed a component in an
// org, with what it came from.
type ComponentHistoryEntry struct {
	DeploymentID int64      `json:"deployment_id"`
	Kind         string     `json:"kind"`
	Status       string     `json:"status"`
	Change       string     `json:"change"`
	Hash         string     `json:"hash,omitempty"`
	PreviousHash string     `json:"previous_hash,omitempty"`
	BuildID      *int64     `json:"build_id"`
	BuildNumber  int        `json:"build_number"`
	ReleaseName  string     `json:"release_name,omitempty"`
	PromotionID  *int64     `json:"promotion_id"`
	Stage        string     `json:"stage,omitempty"`
	WorkItems    []string   `json:"work_items"`
	Requirements []string   `json:"requirements"`
	By           string     `json:"by"`
	At           time.Time  `json:"at"`
	Finished     *time.Time `json:"finished_at"`
}

// AfterDeploy is where a work item goes on the board once a build carrying
// it is deployed into a stage: "In release" after any stage but the last,
// "Done" after the last. Items only move forward, so a deploy into an
// early stage never pulls a finished item back; ok is false when the item
// stays where it is.
func AfterDeploy(cur WorkStatus, lastStage bool) (WorkStatus, bool) {
	to := WorkInRelease
	if lastStage {
		to = WorkDone
	}
	if slices.Index(WorkStatuses, cur) >= slices.Index(WorkStatuses, to) {
		return cur, false
	}
	return to, true
}
