package alm

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// OrgKind is what sort of org a connected org is.
type OrgKind string

// The org kinds.
const (
	OrgProduction       OrgKind = "production"
	OrgFullSandbox      OrgKind = "full_sandbox"
	OrgPartialSandbox   OrgKind = "partial_sandbox"
	OrgDeveloperSandbox OrgKind = "developer_sandbox"
	OrgScratch          OrgKind = "scratch"
	OrgDeveloper        OrgKind = "developer"
)

// OrgKinds lists the kinds in the order forms offer them.
var OrgKinds = []OrgKind{OrgProduction, OrgFullSandbox, OrgPartialSandbox, OrgDeveloperSandbox, OrgScratch, OrgDeveloper}

// Label is the kind as people say it.
func (k OrgKind) Label() string {
	switch k {
	case OrgFullSandbox:
		return "Full sandbox"
	case OrgPartialSandbox:
		return "Partial sandbox"
	case OrgDeveloperSandbox:
		return "Developer sandbox"
	case OrgScratch:
		return "Scratch org"
	case OrgDeveloper:
		return "Developer edition"
	}
	return "Production"
}

// Sandbox reports whether the org logs in through test.salesforce.com.
func (k OrgKind) Sandbox() bool {
	return k == OrgFullSandbox || k == OrgPartialSandbox || k == OrgDeveloperSandbox || k == OrgScratch
}

// OrgStatus is whether Trellis can reach an org.
type OrgStatus string

// The org statuses.
const (
	OrgConnected    OrgStatus = "connected"
	OrgNeedsReauth  OrgStatus = "needs_reauth"
	OrgDisconnected OrgStatus = "disconnected"
)

// Org is a connected Salesforce org. Its credentials never leave the
// store in this struct.
type Org struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Kind          OrgKind    `json:"kind"`
	LoginURL      string     `json:"login_url"`
	InstanceURL   string     `json:"instance_url"`
	APIVersion    string     `json:"api_version"`
	Username      string     `json:"username"`
	SFOrgID       string     `json:"org_id"`
	SFUserID      string     `json:"user_id"`
	AuthKind      string     `json:"auth"` // oauth or jwt
	ClientID      string     `json:"client_id"`
	Status        OrgStatus  `json:"status"`
	LastError     string     `json:"last_error,omitempty"`
	LastCheckedAt *time.Time `json:"last_checked_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// NewOrg is what connecting an org takes, besides its credentials.
type NewOrg struct {
	Name, LoginURL, APIVersion, Username, ClientID string
	Kind                                           OrgKind
}

// Validate checks a new org's fields.
func (n *NewOrg) Validate() error {
	n.Name, n.LoginURL, n.Username, n.ClientID = strings.TrimSpace(n.Name), strings.TrimRight(strings.TrimSpace(n.LoginURL), "/"), strings.TrimSpace(n.Username), strings.TrimSpace(n.ClientID)
	f := map[string]string{}
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 80 {
		f["name"] = "Name the org (up to 80 characters), e.g. UAT."
	}
	if !slices.Contains(OrgKinds, n.Kind) {
		f["kind"] = "Choose production, a sandbox kind, scratch or developer."
	}
	if !strings.HasPrefix(n.LoginURL, "https://") && !strings.HasPrefix(n.LoginURL, "http://") {
		f["login_url"] = "Give the login host as a URL, e.g. https://login.salesforce.com."
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

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

// Repository is a connected git repository holding an SFDX project.
type Repository struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	URL           string     `json:"url"`
	AuthKind      string     `json:"auth"` // none, token or ssh
	DefaultBranch string     `json:"default_branch"`
	LastFetchedAt *time.Time `json:"last_fetched_at"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
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

// Validation is a check-only deploy of a build into an org.
type Validation struct {
	ID          int64            `json:"id"`
	BuildID     int64            `json:"build_id"`
	BuildNumber int              `json:"build_number"`
	OrgID       int64            `json:"org_id"`
	OrgName     string           `json:"org_name"`
	TestLevel   string           `json:"test_level"`
	Status      string           `json:"status"` // queued, running, succeeded, failed
	DeployID    string           `json:"deploy_id,omitempty"`
	Result      ValidationResult `json:"result"`
	Error       string           `json:"error,omitempty"`
	StartedBy   string           `json:"started_by"`
	StartedAt   time.Time        `json:"started_at"`
	Finished    *time.Time       `json:"finished_at"`
}

// ValidationResult is what a validation found.
type ValidationResult struct {
	Components      int                 `json:"components"`
	ComponentErrors []ValidationProblem `json:"component_errors"`
	Tests           int                 `json:"tests"`
	TestFailures    []ValidationProblem `json:"test_failures"`
	Coverage        []ClassCoverage     `json:"coverage,omitempty"`
	Notes           []string            `json:"notes,omitempty"` // e.g. why a quick deploy fell back to a full one
}

// ClassCoverage is one Apex class's or trigger's coverage in a deploy's
// test run.
type ClassCoverage struct {
	Name      string `json:"name"`
	Percent   int    `json:"percent"`
	Lines     int    `json:"lines"`
	Uncovered int    `json:"uncovered"`
}

// ValidationProblem is one component failure (file, line, problem) or
// test failure (class.method, message, stack trace).
type ValidationProblem struct {
	Where   string `json:"where"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

// TestRun is an on-demand Apex test run on an org.
type TestRun struct {
	ID        int64        `json:"id"`
	OrgID     int64        `json:"org_id"`
	Classes   []string     `json:"classes"`
	Suites    []string     `json:"suites"`
	TestLevel string       `json:"test_level"` // RunSpecifiedTests or RunLocalTests
	Status    string       `json:"status"`     // queued, running, passed, failed, error
	Passed    int          `json:"passed"`
	Failed    int          `json:"failed"`
	Results   []TestResult `json:"results"`
	Error     string       `json:"error,omitempty"`
	StartedBy string       `json:"started_by"`
	StartedAt time.Time    `json:"started_at"`
	Finished  *time.Time   `json:"finished_at"`
}

// TestResult is one test method's outcome.
type TestResult struct {
	Class   string `json:"class"`
	Method  string `json:"method"`
	Outcome string `json:"outcome"` // Pass, Fail, CompileFail, Skip
	Message string `json:"message,omitempty"`
	Stack   string `json:"stack,omitempty"`
	Millis  int    `json:"ms"`
}
