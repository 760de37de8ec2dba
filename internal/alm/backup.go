// Scheduled metadata backups of an org and how long they are kept.

package alm

import (
	"fmt"
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

// Backup is a snapshot in an org's backup history, with what changed since
// the snapshot before it.
type Backup struct {
	Snapshot
	DiffNew     *int `json:"diff_new"` // nil until compared with the one before
	DiffChanged *int `json:"diff_changed"`
	DiffDeleted *int `json:"diff_deleted"`
}
