package alm

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// BackupPolicy is an org's metadata backup schedule and retention.
type BackupPolicy struct {
	OrgID      int64     `json:"org_id"`
	Enabled    bool      `json:"enabled"`
	EveryHours int       `json:"every_hours"`
	KeepDaily  int       `json:"keep_daily"`  // one snapshot a day for this many days
	KeepWeekly int       `json:"keep_weekly"` // then one a week for this many weeks
	NextAt     time.Time `json:"next_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate checks the policy's numbers.
func (p BackupPolicy) Validate() error {
	f := map[string]string{}
	if p.EveryHours < 1 || p.EveryHours > 168 {
		f["every_hours"] = "Back up between every hour and once a week (1–168 hours)."
	}
	if p.KeepDaily < 1 || p.KeepDaily > 366 {
		f["keep_daily"] = "Keep daily backups for 1 to 366 days."
	}
	if p.KeepWeekly < 0 || p.KeepWeekly > 520 {
		f["keep_weekly"] = "Keep weekly backups for 0 to 520 weeks."
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

// Retain decides which backups a policy keeps. at lists the backups' times,
// newest first; the newest and everything from the last 24 hours are kept,
// then the newest of each UTC day within keepDaily days of now, then the
// newest of each ISO week within keepWeekly weeks. Everything else may go.
func Retain(at []time.Time, now time.Time, keepDaily, keepWeekly int) []bool {
	keep := make([]bool, len(at))
	days := map[string]bool{}
	weeks := map[string]bool{}
	dailyFrom := now.AddDate(0, 0, -keepDaily)
	weeklyFrom := now.AddDate(0, 0, -7*keepWeekly)
	for i, t := range at {
		t = t.UTC()
		day := t.Format("2006-01-02")
		y, w := t.ISOWeek()
		week := fmt.Sprintf("%d-%02d", y, w)
		switch {
		case i == 0, now.Sub(t) < 24*time.Hour:
			keep[i] = true
		case !t.Before(dailyFrom) && !days[day]:
			keep[i] = true
		case !t.Before(weeklyFrom) && !weeks[week]:
			keep[i] = true
		}
		if keep[i] {
			days[day] = true
			weeks[week] = true
		}
	}
	return keep
}

// Severity ranks alerts.
type Severity string

const (
	SevInfo     Severity = "info"
	SevWarning  Severity = "warning"
	SevCritical Severity = "critical"
)

// Severities lists them from least to most urgent.
var Severities = []Severity{SevInfo, SevWarning, SevCritical}

// AtLeast reports whether s is as urgent as min.
func (s Severity) AtLeast(min Severity) bool {
	return slices.Index(Severities, s) >= slices.Index(Severities, min)
}

// Tone is the severity's badge colour.
func (s Severity) Tone() string {
	switch s {
	case SevCritical:
		return "bad"
	case SevWarning:
		return "warn"
	}
	return "info"
}

// Alert kinds.
const (
	AlertDrift        = "drift"         // a change made in the org outside Trellis
	AlertBackupFailed = "backup_failed" // a scheduled backup did not finish
)

// AlertKinds lists the kinds a route can pick, with their labels.
var AlertKinds = map[string]string{
	AlertDrift:        "Changes made outside Trellis",
	AlertBackupFailed: "Failed backups",
}

// Alert is something in an org that needs a person.
type Alert struct {
	ID          int64        `json:"id"`
	Kind        string       `json:"kind"`
	Severity    Severity     `json:"severity"`
	OrgID       *int64       `json:"org_id"`
	OrgName     string       `json:"org_name"`
	Title       string       `json:"title"`
	Body        string       `json:"body"`
	Drift       []DriftEntry `json:"drift,omitempty"`
	SnapshotID  *int64       `json:"snapshot_id"`
	PreviousID  *int64       `json:"previous_id"`
	Status      string       `json:"status"` // open, acknowledged, resolved
	WorkItem    string       `json:"work_item,omitempty"`
	ResolvedBy  string       `json:"resolved_by,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Deliveries  int          `json:"deliveries"`
	Undelivered int          `json:"undelivered"`
}

// DriftEntry is one component changed in an org outside Trellis, with who
// changed it when the org's setup audit trail says.
type DriftEntry struct {
	Type      string     `json:"type"`
	Name      string     `json:"name"`
	Change    string     `json:"change"` // new, changed, deleted
	By        string     `json:"by,omitempty"`
	At        *time.Time `json:"at,omitempty"`
	Action    string     `json:"action,omitempty"` // the audit trail's words
	OldHash   string     `json:"old_hash,omitempty"`
	NewHash   string     `json:"new_hash,omitempty"`
	Explained bool       `json:"-"`
}

// DriftSeverity grades a drift: profile, permission and security changes
// and deletions are critical, code warns, the rest informs.
func DriftSeverity(entries []DriftEntry) Severity {
	sev := SevInfo
	for _, e := range entries {
		switch {
		case e.Change == "deleted", strings.Contains("Profile PermissionSet PermissionSetGroup SharingRules RemoteSiteSetting NamedCredential ConnectedApp AuthProvider", e.Type):
			return SevCritical
		case strings.HasPrefix(e.Type, "Apex"), e.Type == "Flow", e.Type == "LightningComponentBundle", e.Type == "AuraDefinitionBundle":
			sev = SevWarning
		}
	}
	return sev
}

// AlertRoute sends alerts of a kind ("*" for all) at or above a severity to
// a channel.
type AlertRoute struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	MinSeverity Severity  `json:"min_severity"`
	Channel     string    `json:"channel"` // email or webhook
	TargetHint  string    `json:"target"`  // the address, or a webhook's host only
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// Matches reports whether the route takes an alert.
func (r AlertRoute) Matches(kind string, sev Severity) bool {
	return (r.Kind == "*" || r.Kind == kind) && sev.AtLeast(r.MinSeverity)
}

// Backup is a snapshot in an org's backup history, with what changed since
// the snapshot before it.
type Backup struct {
	Snapshot
	DiffNew     *int `json:"diff_new"` // nil until compared with the one before
	DiffChanged *int `json:"diff_changed"`
	DiffDeleted *int `json:"diff_deleted"`
}

// Feedback is a problem report or suggestion from a user of the org.
type Feedback struct {
	ID            int64     `json:"id"`
	ProjectID     int64     `json:"project_id"`
	ProjectKey    string    `json:"project"`
	Kind          string    `json:"kind"` // problem or suggestion
	Title         string    `json:"title"`
	Body          string    `json:"body"`
	WhereSeen     string    `json:"where_seen"`
	ComponentType string    `json:"component_type"`
	ComponentName string    `json:"component_name"`
	HasScreenshot bool      `json:"has_screenshot"`
	Status        string    `json:"status"` // new, converted, declined
	TriageNote    string    `json:"triage_note"`
	Requirement   string    `json:"requirement,omitempty"`
	WorkItem      string    `json:"work_item,omitempty"`
	ReleaseID     *int64    `json:"release_id"`
	ReleaseName   string    `json:"release_name,omitempty"`
	SubmittedBy   string    `json:"submitted_by"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// NewFeedback is what a user files.
type NewFeedback struct {
	Kind          string `json:"kind"`
	Title         string `json:"title"`
	Body          string `json:"body"`
	WhereSeen     string `json:"where_seen"`
	ComponentType string `json:"component_type"`
	ComponentName string `json:"component_name"`
}

// Validate checks a report.
func (n *NewFeedback) Validate() error {
	n.Title, n.Body = strings.TrimSpace(n.Title), strings.TrimSpace(n.Body)
	n.ComponentType, n.ComponentName = strings.TrimSpace(n.ComponentType), strings.TrimSpace(n.ComponentName)
	f := map[string]string{}
	if n.Kind != "problem" && n.Kind != "suggestion" {
		f["kind"] = "Say whether this is a problem or a suggestion."
	}
	if n.Title == "" {
		f["title"] = "Give it a short title."
	} else if len(n.Title) > 200 {
		f["title"] = "Keep the title under 200 characters."
	}
	if len(n.Body) > 20000 {
		f["body"] = "Keep the description under 20,000 characters."
	}
	if (n.ComponentType == "") != (n.ComponentName == "") {
		f["component_name"] = "Give both the component's type and its name, or neither."
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

// AlertDataChurn is raised when a data backup sees more of an object's
// records changed or deleted than its policy allows.
const AlertDataChurn = "data_churn"

func init() { AlertKinds[AlertDataChurn] = "Unusual record changes" }

// DataBackupPolicy says which records of an org are backed up and how.
type DataBackupPolicy struct {
	OrgID      int64     `json:"org_id"`
	Enabled    bool      `json:"enabled"`
	Objects    []string  `json:"objects"` // empty: custom objects and the key standard ones
	APIShare   float64   `json:"api_share"`
	ChurnAlert float64   `json:"churn_alert"`
	EveryHours int       `json:"every_hours"`
	NextAt     time.Time `json:"next_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate checks the policy.
func (p DataBackupPolicy) Validate() error {
	f := map[string]string{}
	if p.APIShare <= 0 || p.APIShare > 1 {
		f["api_share"] = "Let a backup use between 1% and 100% of the org's daily API calls."
	}
	if p.ChurnAlert <= 0 || p.ChurnAlert > 1 {
		f["churn_alert"] = "Alert above a share between 1% and 100% of an object's records."
	}
	if p.EveryHours < 1 || p.EveryHours > 168 {
		f["every_hours"] = "Back up between every hour and once a week (1–168 hours)."
	}
	for _, o := range p.Objects {
		if o == "" || strings.ContainsAny(o, " ,;'\"()") {
			f["objects"] = "Name objects by their API names, e.g. Account or Invoice__c."
		}
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

// DataObjectCount is one object's share of a data backup run.
type DataObjectCount struct {
	Object  string `json:"object"`
	Records int64  `json:"records"`
	Changed int64  `json:"changed"`
	Deleted int64  `json:"deleted"`
	Bytes   int64  `json:"bytes"`
	Error   string `json:"error,omitempty"`
}

// DataBackupRun is one run of an org's data backup.
type DataBackupRun struct {
	ID        int64             `json:"id"`
	OrgID     int64             `json:"org_id"`
	Kind      string            `json:"kind"`   // full or incremental
	Status    string            `json:"status"` // queued, running, done, partial, failed
	Phase     string            `json:"phase"`
	Objects   []DataObjectCount `json:"objects"`
	Records   int64             `json:"records"`
	Changed   int64             `json:"changed"`
	Deleted   int64             `json:"deleted"`
	Bytes     int64             `json:"bytes"`
	APICalls  int               `json:"api_calls"`
	Error     string            `json:"error,omitempty"`
	StartedBy string            `json:"started_by"`
	StartedAt time.Time         `json:"started_at"`
	Finished  *time.Time        `json:"finished_at"`
}

// RecordResult is what a data restore did with one record.
type RecordResult struct {
	Object string   `json:"object"`
	OldID  string   `json:"old_id"`
	NewID  string   `json:"new_id,omitempty"`
	Action string   `json:"action"`           // create, update, unchanged
	Fields []string `json:"fields,omitempty"` // for an update, what differs
	Error  string   `json:"error,omitempty"`
}

// DataRestore is a restore of records from data backups.
type DataRestore struct {
	ID        int64          `json:"id"`
	OrgID     int64          `json:"org_id"`
	AsOfRun   *int64         `json:"as_of_run"`
	Status    string         `json:"status"`
	Created   int            `json:"created"`
	Updated   int            `json:"updated"`
	Failed    int            `json:"failed"`
	Results   []RecordResult `json:"results"`
	Error     string         `json:"error,omitempty"`
	StartedBy string         `json:"started_by"`
	StartedAt time.Time      `json:"started_at"`
	Finished  *time.Time     `json:"finished_at"`
}

// AlertTestFailure is raised when a regression run fails tests that
// passed in the run before.
const AlertTestFailure = "test_failure"

func init() { AlertKinds[AlertTestFailure] = "New test failures" }

// RegressionPolicy schedules an org's regression test runs: every so many
// days, and after Salesforce upgrades the org (a new API version).
type RegressionPolicy struct {
	OrgID          int64     `json:"org_id"`
	Enabled        bool      `json:"enabled"`
	EveryDays      int       `json:"every_days"`
	OnUpgrade      bool      `json:"on_upgrade"`
	LastAPIVersion string    `json:"last_api_version"`
	NextAt         time.Time `json:"next_at"`
}

// Validate checks the policy.
func (p RegressionPolicy) Validate() error {
	if p.EveryDays < 1 || p.EveryDays > 90 {
		return Invalid(map[string]string{"every_days": "Run between every day and every 90 days."})
	}
	return nil
}

func testKey(r TestResult) string { return r.Class + "." + r.Method }

func passed(r TestResult) bool { return r.Outcome == "Pass" || r.Outcome == "Skip" }

// NewFailures lists the tests failing in cur that passed in prev (a test
// prev did not run is not new: nothing says it ever passed).
func NewFailures(prev, cur []TestResult) []TestResult {
	before := map[string]bool{}
	for _, r := range prev {
		before[testKey(r)] = passed(r)
	}
	var out []TestResult
	for _, r := range cur {
		if !passed(r) && before[testKey(r)] {
			out = append(out, r)
		}
	}
	return out
}

// FlakyTest is a test whose outcome keeps changing without a pattern.
type FlakyTest struct {
	Class    string `json:"class"`
	Method   string `json:"method"`
	Runs     int    `json:"runs"`
	Failures int    `json:"failures"`
	Flips    int    `json:"flips"`
}

// Flaky finds flaky tests in a history of runs (oldest first): a test that
// changed outcome at least twice — failed and passed again, and failed
// again or the other way about — across the runs it was in. One change is
// a regression or a fix, not flakiness.
func Flaky(history [][]TestResult) []FlakyTest {
	type track struct {
		runs, failures, flips int
		last                  *bool
	}
	seen := map[string]*track{}
	var order []string
	for _, run := range history {
		for _, r := range run {
			k := testKey(r)
			t, ok := seen[k]
			if !ok {
				t = &track{}
				seen[k] = t
				order = append(order, k)
			}
			ok = passed(r)
			t.runs++
			if !ok {
				t.failures++
			}
			if t.last != nil && *t.last != ok {
				t.flips++
			}
			t.last = &ok
		}
	}
	var out []FlakyTest
	for _, k := range order {
		t := seen[k]
		if t.flips >= 2 {
			class, method, _ := strings.Cut(k, ".")
			out = append(out, FlakyTest{Class: class, Method: method, Runs: t.runs, Failures: t.failures, Flips: t.flips})
		}
	}
	return out
}
