package alm

import (
	"slices"
	"sort"
	"time"
)

// ProdDeployment is a deployment into a project's last pipeline stage, with
// what the delivery metrics need to know about it.
type ProdDeployment struct {
	ID           int64
	Status       string // succeeded, failed, canceled
	StartedAt    time.Time
	FinishedAt   time.Time
	RolledBackAt *time.Time // a successful rollback of it finished then
	HasBugFix    bool       // it carries a bug work item: a hotfix
	FirstChanges []time.Time
}

// Point is one bucket of a metric series; Value is nil where the bucket
// has nothing to measure (no deploys to time, no failures to restore).
type Point struct {
	Start time.Time `json:"start"`
	Value *float64  `json:"value"`
	Count int       `json:"count"` // what the value was computed from
}

// DORA holds the four delivery metrics for a period, bucketed by week.
type DORA struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Bucket string    `json:"bucket"`
	// Deploys per bucket; lead time and time to restore in hours (median);
	// failure rate as a fraction.
	DeploymentFrequency []Point `json:"deployment_frequency"`
	LeadTimeHours       []Point `json:"lead_time_hours"`
	ChangeFailureRate   []Point `json:"change_failure_rate"`
	TimeToRestoreHours  []Point `json:"time_to_restore_hours"`
	Totals              struct {
		Deployments        int      `json:"deployments"`
		DeploysPerWeek     float64  `json:"deploys_per_week"`
		LeadTimeHours      *float64 `json:"lead_time_hours"`
		ChangeFailureRate  *float64 `json:"change_failure_rate"`
		TimeToRestoreHours *float64 `json:"time_to_restore_hours"`
		Failures           int      `json:"failures"`
	} `json:"totals"`
}

// HotfixWindow is how soon after a production deployment another one
// carrying a bug counts as its hotfix.
const HotfixWindow = 7 * 24 * time.Hour

// DORADefinitions say how each metric is computed; the metrics page and
// API show them.
var DORADefinitions = map[string]string{
	"deployment_frequency": "Successful deployments into the project's last pipeline stage (production) per week; rollbacks and restores do not count.",
	"lead_time":            "For each work item a successful production deployment carried: from its first captured change to the end of that deployment. The median per week.",
	"change_failure_rate":  "The share of production deployments that failed, were rolled back, or were followed within 7 days by a production deployment carrying a bug (a hotfix).",
	"time_to_restore":      "For each failed production change: from its end (or its hotfix's start) to the end of the rollback or the next successful production deployment that fixed it. The median per week.",
}

// ComputeDORA works the four metrics out of a project's production
// deployments (any order) for [from, to), in weekly buckets starting at
// from.
func ComputeDORA(deps []ProdDeployment, from, to time.Time) DORA {
	d := DORA{From: from, To: to, Bucket: "week"}
	sorted := append([]ProdDeployment(nil), deps...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].StartedAt.Before(sorted[j].StartedAt) })
	const week = 7 * 24 * time.Hour
	n := int((to.Sub(from) + week - 1) / week)
	if n < 1 {
		n = 1
	}
	bucketOf := func(t time.Time) int {
		if t.Before(from) || !t.Before(to) {
			return -1
		}
		return int(t.Sub(from) / week)
	}
	freq := make([]int, n)
	leads := make([][]float64, n)
	attempts := make([]int, n)
	fails := make([]int, n)
	restores := make([][]float64, n)
	var allLeads, allRestores []float64
	for i, x := range sorted {
		b := bucketOf(x.FinishedAt)
		if b < 0 {
			continue
		}
		if x.Status == "canceled" {
			continue
		}
		attempts[b]++
		d.Totals.Deployments++
		if x.Status == "succeeded" {
			freq[b]++
			for _, c := range x.FirstChanges {
				h := x.FinishedAt.Sub(c).Hours()
				leads[b] = append(leads[b], h)
				allLeads = append(allLeads, h)
			}
		}
		failed, failedAt := false, x.FinishedAt
		var restoredAt *time.Time
		switch {
		case x.Status == "failed":
			failed = true
		case x.RolledBackAt != nil:
			failed = true
			restoredAt = x.RolledBackAt
		default:
			for _, y := range sorted[i+1:] {
				if y.StartedAt.Sub(x.FinishedAt) > HotfixWindow {
					break
				}
				if y.HasBugFix && y.Status == "succeeded" {
					failed, failedAt = true, y.StartedAt
					restoredAt = &y.FinishedAt
					break
				}
			}
		}
		if !failed {
			continue
		}
		fails[b]++
		d.Totals.Failures++
		if restoredAt == nil {
			// A failed deploy is restored by the next one that succeeds.
			for _, y := range sorted[i+1:] {
				if y.Status == "succeeded" {
					restoredAt = &y.FinishedAt
					break
				}
			}
		}
		if restoredAt != nil {
			h := restoredAt.Sub(failedAt).Hours()
			restores[b] = append(restores[b], h)
			allRestores = append(allRestores, h)
		}
	}
	for b := range n {
		start := from.Add(time.Duration(b) * week)
		f := float64(freq[b])
		d.DeploymentFrequency = append(d.DeploymentFrequency, Point{Start: start, Value: &f, Count: freq[b]})
		d.LeadTimeHours = append(d.LeadTimeHours, Point{Start: start, Value: median(leads[b]), Count: len(leads[b])})
		p := Point{Start: start, Count: attempts[b]}
		if attempts[b] > 0 {
			r := float64(fails[b]) / float64(attempts[b])
			p.Value = &r
		}
		d.ChangeFailureRate = append(d.ChangeFailureRate, p)
		d.TimeToRestoreHours = append(d.TimeToRestoreHours, Point{Start: start, Value: median(restores[b]), Count: len(restores[b])})
	}
	succeeded := 0
	for _, c := range freq {
		succeeded += c
	}
	d.Totals.DeploysPerWeek = float64(succeeded) / (to.Sub(from).Hours() / (7 * 24))
	d.Totals.LeadTimeHours = median(allLeads)
	d.Totals.TimeToRestoreHours = median(allRestores)
	if d.Totals.Deployments > 0 {
		r := float64(d.Totals.Failures) / float64(d.Totals.Deployments)
		d.Totals.ChangeFailureRate = &r
	}
	return d
}

func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &m
}
