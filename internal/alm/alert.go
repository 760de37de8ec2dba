// Alerts raised while maintaining orgs, and the routes that send them on.

package alm

import (
	"slices"
	"time"
)

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
	AlertDataChurn:    "Unusual record changes",
	AlertTestFailure:  "New test failures",
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
