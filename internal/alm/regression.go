// Regression test runs: scheduled Apex runs and what changed between them.

package alm

import (
	"strings"
	"time"
)

// AlertTestFailure is raised when a regression run fails tests that
// passed in the run before.
const AlertTestFailure = "test_failure"

// RegressionPolicy schedules an org's regression test runs: every so many
// days, and after Salesforce upgrades the org (a new API version).
type RegressionPolicy struct {
	OrgID   int64 `json:"org_id"`
	Enabled bool  `json:"enabled"`
	// EveryHours is the interval between scheduled runs, from an hour to
	// 90 days.
	EveryHours int `json:"every_hours"`
	// EveryDays is the interval in whole days (rounded up), for clients
	// written before intervals were kept in hours; a change to it alone
	// sets EveryHours to as many days.
	EveryDays      int       `json:"every_days"`
	OnUpgrade      bool      `json:"on_upgrade"`
	LastAPIVersion string    `json:"last_api_version"`
	NextAt         time.Time `json:"next_at"`
}

// Validate checks the policy.
func (p RegressionPolicy) Validate() error {
	if p.EveryHours < 1 || p.EveryHours > 90*24 {
		return Invalid(map[string]string{"every_hours": "Run between every hour and every 90 days (1–2160 hours)."})
	}
	return nil
}

// DaysOf rounds an interval in hours up to whole days.
func DaysOf(hours int) int { return (hours + 23) / 24 }

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
