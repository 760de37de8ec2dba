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

// BuildSummary is a build as the Build hub lists it: its project, what it
// belongs to, its latest validation and where it is deployed.
type BuildSummary struct {
	Build
	Project    string     `json:"project"`
	Owner      string     `json:"owner"` // the release's name, the work item's key, or the branch commit
	Validation string     `json:"validation"`
	ValidOrg   string     `json:"validation_org,omitempty"`
	DeployedTo []string   `json:"deployed_to"`
	LastDeploy *time.Time `json:"last_deployed_at,omitempty"`
}

// ValidationSummary is a validation as the Test hub lists it.
type ValidationSummary struct {
	Validation
	Project string `json:"project"`
	Owner   string `json:"owner"`
}

// TestRunSummary is an Apex test run as the Test hub lists it.
type TestRunSummary struct {
	TestRun
	OrgName string `json:"org_name"`
}
