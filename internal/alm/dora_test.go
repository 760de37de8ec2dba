package alm

import (
	"testing"
	"time"
)

// TestComputeDORA checks the four metrics against a two-week history
// worked out by hand (see the comments for each figure).
func TestComputeDORA(t *testing.T) {
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	at := func(day, h, m int) time.Time {
		return from.Add(time.Duration(day)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	rolled := at(8, 12, 0)
	deps := []ProdDeployment{
		// F: a bug fix 2 days after E, so E counts as failed (restored in 1h).
		{ID: 6, Status: "succeeded", StartedAt: at(12, 9, 0), FinishedAt: at(12, 10, 0), HasBugFix: true},
		// A: lead times 48h and 24h.
		{ID: 1, Status: "succeeded", StartedAt: at(0, 10, 0), FinishedAt: at(0, 11, 0), FirstChanges: []time.Time{at(0, 11, 0).Add(-48 * time.Hour), at(0, 11, 0).Add(-24 * time.Hour)}},
		// B: failed; C, the next success, restores it 4.5h later.
		{ID: 2, Status: "failed", StartedAt: at(2, 10, 0), FinishedAt: at(2, 10, 30)},
		{ID: 3, Status: "succeeded", StartedAt: at(2, 14, 0), FinishedAt: at(2, 15, 0), FirstChanges: []time.Time{at(2, 5, 0)}},
		// D: rolled back 2h after it ended; lead time 30h.
		{ID: 4, Status: "succeeded", StartedAt: at(8, 9, 0), FinishedAt: at(8, 10, 0), RolledBackAt: &rolled, FirstChanges: []time.Time{at(8, 10, 0).Add(-30 * time.Hour)}},
		{ID: 5, Status: "succeeded", StartedAt: at(10, 9, 0), FinishedAt: at(10, 9, 30)},
		// A canceled deploy counts for nothing.
		{ID: 7, Status: "canceled", StartedAt: at(11, 9, 0), FinishedAt: at(11, 9, 5)},
		// Outside the period.
		{ID: 8, Status: "succeeded", StartedAt: at(15, 9, 0), FinishedAt: at(15, 10, 0)},
	}
	d := ComputeDORA(deps, from, from.Add(14*24*time.Hour))
	f := func(p *float64) float64 {
		if p == nil {
			return -1
		}
		return *p
	}
	check := func(name string, got, want float64) {
		t.Helper()
		if d := got - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if len(d.DeploymentFrequency) != 2 {
		t.Fatalf("%d buckets", len(d.DeploymentFrequency))
	}
	check("week 1 deploys", f(d.DeploymentFrequency[0].Value), 2)          // A, C
	check("week 2 deploys", f(d.DeploymentFrequency[1].Value), 3)          // D, E, F
	check("week 1 failure rate", f(d.ChangeFailureRate[0].Value), 1.0/3)   // B of A, B, C
	check("week 2 failure rate", f(d.ChangeFailureRate[1].Value), 2.0/3)   // D (rolled back), E (hotfixed) of D, E, F
	check("week 1 lead time", f(d.LeadTimeHours[0].Value), 24)             // median of 48, 24, 10
	check("week 2 lead time", f(d.LeadTimeHours[1].Value), 30)             // D only
	check("week 1 time to restore", f(d.TimeToRestoreHours[0].Value), 4.5) // B → C
	check("week 2 time to restore", f(d.TimeToRestoreHours[1].Value), 1.5) // median of 2 (D) and 1 (E → F)
	check("deploys per week", d.Totals.DeploysPerWeek, 2.5)
	check("lead time", f(d.Totals.LeadTimeHours), 27)           // median of 48, 24, 10, 30
	check("failure rate", f(d.Totals.ChangeFailureRate), 0.5)   // 3 of 6
	check("time to restore", f(d.Totals.TimeToRestoreHours), 2) // median of 4.5, 2, 1
	if d.Totals.Deployments != 6 || d.Totals.Failures != 3 {
		t.Errorf("totals %+v", d.Totals)
	}

	empty := ComputeDORA(nil, from, from.Add(7*24*time.Hour))
	if empty.LeadTimeHours[0].Value != nil || empty.ChangeFailureRate[0].Value != nil || empty.Totals.ChangeFailureRate != nil {
		t.Error("nothing to measure is no value, not zero")
	}
}
