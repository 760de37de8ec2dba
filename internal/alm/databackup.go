// Data backups: records of chosen objects copied out of an org, and the
// restores made from them.

package alm

import (
	"strings"
	"time"
)

// AlertDataChurn is raised when a data backup sees more of an object's
// records changed or deleted than its policy allows.
const AlertDataChurn = "data_churn"

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
	// One rule, the one the message states: whole-percent shares from 1%
	// to 100% (a fraction of a percent of a small org's calls is nothing).
	if p.APIShare < 0.01 || p.APIShare > 1 {
		f["api_share"] = "Let a backup use between 1% and 100% of the org's daily API calls."
	}
	if p.ChurnAlert < 0.01 || p.ChurnAlert > 1 {
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

// The states of an object in a data backup run.
const (
	ObjectDone       = "done"
	ObjectStopped    = "stopped"
	ObjectFailed     = "failed"
	ObjectNotReached = "not reached"
)

// DataObjectCount is one object's share of a data backup run.
type DataObjectCount struct {
	Object string `json:"object"`
	// State is done, stopped (the run's API share ran out in it), failed
	// (Error says why) or not reached (the run stopped before it).
	State   string `json:"state"`
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
	Object string `json:"object"`
	OldID  string `json:"old_id"`
	// NewID is the record's id in the org when it differs from OldID: the
	// record created again, or found under the id an earlier restore (or
	// its external id) gave it.
	NewID  string   `json:"new_id,omitempty"`
	Action string   `json:"action"`           // create, update, unchanged, not_found
	Fields []string `json:"fields,omitempty"` // for an update, what differs
	// FromRun is the backup run the version put back comes from.
	FromRun int64  `json:"from_run,omitempty"`
	Note    string `json:"note,omitempty"`
	Error   string `json:"error,omitempty"`
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
