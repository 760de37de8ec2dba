package alm

import (
	"testing"
	"time"
)

func TestInWindow(t *testing.T) {
	// 2026-11-27 is a Friday.
	at := func(s string) time.Time { x, _ := time.Parse(time.RFC3339, s); return x }
	for _, c := range []struct {
		windows, at string
		want        bool
	}{
		{"", "2026-11-27T03:00:00Z", true},
		{"Mon-Fri 18:00-22:00", "2026-11-27T19:00:00Z", true},
		{"Mon-Fri 18:00-22:00", "2026-11-27T22:00:00Z", false},
		{"Mon-Fri 18:00-22:00", "2026-11-28T19:00:00Z", false},
		{"Mon-Fri 18:00-22:00; Sat 08:00-12:00", "2026-11-28T09:30:00Z", true},
		{"Fri-Mon 00:00-24:00", "2026-11-30T23:59:00Z", true},
		{"Fri-Mon 00:00-24:00", "2026-12-01T10:00:00Z", false},
		{"Sat 08:00-12:00", "2026-11-28T10:00:00+02:00", true}, // 08:00 UTC
	} {
		if got := InWindow(c.windows, at(c.at)); got != c.want {
			t.Errorf("InWindow(%q, %s) = %v, want %v", c.windows, c.at, got, c.want)
		}
	}
}

func TestGates(t *testing.T) {
	now := time.Date(2026, 11, 27, 19, 0, 0, 0, time.UTC)
	ok := func(by int64) Decision {
		return Decision{UserID: by, BuildID: 7, Decision: "approved", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(ApprovalTTL - time.Hour)}
	}
	old := ok(3)
	old.ExpiresAt = now.Add(-time.Minute)
	reset := ok(4)
	reset.ResetAt = &now
	other := ok(5)
	other.BuildID = 6
	stage := Stage{Name: "Prod", OrgName: "PROD", ApprovalsRequired: 2, ApproverRoles: []Role{RoleReleaseManager}, TestLevel: "RunLocalTests",
		ValidationRequired: true, CoverageThreshold: 75, BlockChecks: "error", ChangeWindows: "Mon-Fri 18:00-22:00"}
	val := &Validation{ID: 9, Status: "succeeded", TestLevel: "RunLocalTests", Finished: &now,
		Result: ValidationResult{Coverage: []ClassCoverage{{Name: "Quotes", Percent: 80}, {Name: "Legacy", Percent: 60}}}}
	for _, c := range []struct {
		name        string
		in          GateInput
		shut        []string
		overridable bool
	}{
		{"approvals counted once each, lapsed/reset/other build ignored", GateInput{Stage: stage, BuildID: 7, Decisions: []Decision{ok(1), old, reset, other},
			Validation: val, Now: now, PreviousStage: "UAT", PreviousOK: true}, []string{"Approvals", "Coverage"}, false},
		{"open but for coverage", GateInput{Stage: stage, BuildID: 7, Decisions: []Decision{ok(1), ok(2)}, Validation: val, Now: now}, []string{"Coverage"}, false},
		{"no validation, previous stage missing, blocking finding", GateInput{Stage: stage, BuildID: 7, Decisions: []Decision{ok(1), ok(2)}, Now: now,
			PreviousStage: "UAT", Blocking: 1}, []string{"Previous stage", "Validation", "Static checks"}, false},
		{"outside the window and frozen: overridable", GateInput{Stage: Stage{Name: "Prod", TestLevel: "NoTestRun", ChangeWindows: "Sat 08:00-12:00", Frozen: true},
			Now: now}, []string{"Freeze", "Change window"}, true},
		{"low validation level", GateInput{Stage: Stage{Name: "Prod", TestLevel: "RunLocalTests", ValidationRequired: true},
			Validation: &Validation{ID: 1, Status: "succeeded", TestLevel: "NoTestRun", Finished: &now}, Now: now}, []string{"Validation"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			gs := Gates(c.in)
			var shut []string
			for _, g := range gs {
				if !g.OK {
					shut = append(shut, g.Name)
				}
			}
			if len(shut) != len(c.shut) {
				t.Fatalf("shut %v, want %v (%+v)", shut, c.shut, gs)
			}
			for i := range shut {
				if shut[i] != c.shut[i] {
					t.Fatalf("shut %v, want %v", shut, c.shut)
				}
			}
			if _, o := Blocked(gs); o != c.overridable {
				t.Errorf("overridable = %v, want %v", o, c.overridable)
			}
		})
	}
}
