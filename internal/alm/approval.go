// Promotion approval rules: the gates a promotion must pass before it may
// deploy (approvals, validation, coverage, static checks, change windows,
// freezes), judged from the stage's policy.

package alm

import (
	"fmt"
	"strings"
	"time"
)

// Gate is one condition a deploy must meet, as the promotion page shows it.
type Gate struct {
	Name        string `json:"name"`
	OK          bool   `json:"ok"`
	Detail      string `json:"detail"`
	Overridable bool   `json:"overridable,omitempty"` // an admin may deploy anyway (audited)
}

// GateInput is what the gates are judged on.
type GateInput struct {
	Stage         Stage
	BuildID       int64
	Decisions     []Decision
	Validation    *Validation // the newest validation of the build in the stage's org
	PreviousStage string      // "" for the first stage
	PreviousOK    bool        // the build is deployed in the previous stage
	Blocking      int         // static check findings at or above the stage's block level
	Now           time.Time
}

// TestLevelRank orders test levels by how much they run.
func TestLevelRank(l string) int {
	switch l {
	case "RunSpecifiedTests":
		return 1
	case "RunLocalTests":
		return 2
	case "RunAllTestsInOrg":
		return 3
	}
	return 0
}

// Gates judges a promotion against its stage's policy.
func Gates(in GateInput) []Gate {
	st := in.Stage
	var gs []Gate
	if in.PreviousStage != "" {
		g := Gate{Name: "Previous stage", OK: in.PreviousOK, Detail: "Deployed in " + in.PreviousStage + "."}
		if !in.PreviousOK {
			g.Detail = "Deploy this build in " + in.PreviousStage + " first."
		}
		gs = append(gs, g)
	}
	if st.ApprovalsRequired > 0 {
		n := len(ValidApprovals(in.Decisions, in.BuildID, in.Now))
		gs = append(gs, Gate{Name: "Approvals", OK: n >= st.ApprovalsRequired,
			Detail: fmt.Sprintf("%d of %d approvals from %s.", n, st.ApprovalsRequired, approverList(st.ApproverRoles))})
	}
	if st.ValidationRequired {
		v := in.Validation
		g := Gate{Name: "Validation"}
		switch {
		case v == nil:
			g.Detail = "Validate this build in " + st.OrgName + " first."
		case v.Finished == nil:
			g.Detail = fmt.Sprintf("Validation #%d is running.", v.ID)
		case v.Status != "succeeded":
			g.Detail = fmt.Sprintf("Validation #%d %s.", v.ID, v.Status)
		case TestLevelRank(v.TestLevel) < TestLevelRank(st.TestLevel):
			g.Detail = fmt.Sprintf("Validation #%d ran %s; the stage asks for %s.", v.ID, v.TestLevel, st.TestLevel)
		default:
			g.OK, g.Detail = true, fmt.Sprintf("Validation #%d passed (%s).", v.ID, v.TestLevel)
		}
		gs = append(gs, g)
		if st.CoverageThreshold > 0 && st.TestLevel != "NoTestRun" && v != nil && v.Status == "succeeded" && len(v.Result.Coverage) > 0 {
			low := []string{}
			for _, c := range v.Result.Coverage {
				if c.Percent < st.CoverageThreshold {
					low = append(low, fmt.Sprintf("%s %d%%", c.Name, c.Percent))
				}
			}
			g := Gate{Name: "Coverage", OK: len(low) == 0, Detail: fmt.Sprintf("Every class in the validation at %d%% or more.", st.CoverageThreshold)}
			if len(low) > 0 {
				g.Detail = fmt.Sprintf("Below %d%%: %s.", st.CoverageThreshold, strings.Join(low, ", "))
			}
			gs = append(gs, g)
		}
	}
	if st.BlockChecks != "" {
		g := Gate{Name: "Static checks", OK: in.Blocking == 0, Detail: "No findings at " + st.BlockChecks + " level or above."}
		if in.Blocking > 0 {
			g.Detail = fmt.Sprintf("%s at %s level or above block this stage.", Count(in.Blocking, "finding"), st.BlockChecks)
		}
		gs = append(gs, g)
	}
	if st.Frozen {
		reason := st.FreezeReason
		if reason == "" {
			reason = "no reason given"
		}
		gs = append(gs, Gate{Name: "Freeze", Detail: st.Name + " is frozen: " + reason + ".", Overridable: true})
	}
	if st.ChangeWindows != "" {
		ok := InWindow(st.ChangeWindows, in.Now)
		g := Gate{Name: "Change window", OK: ok, Detail: "Now is inside " + st.ChangeWindows + " (UTC)."}
		if !ok {
			g.Detail, g.Overridable = "Deploys to "+st.Name+" are allowed "+st.ChangeWindows+" (UTC) only.", true
		}
		gs = append(gs, g)
	}
	return gs
}

// ValidApprovals lists the approvals that count for build at now.
func ValidApprovals(ds []Decision, buildID int64, now time.Time) []Decision {
	var out []Decision
	for _, d := range ds {
		if d.Counts(buildID, now) {
			out = append(out, d)
		}
	}
	return out
}

// Blocked reports whether any gate is shut; overridable says whether
// every shut gate may be overridden.
func Blocked(gs []Gate) (blocked, overridable bool) {
	overridable = true
	for _, g := range gs {
		if !g.OK {
			blocked = true
			overridable = overridable && g.Overridable
		}
	}
	return blocked, blocked && overridable
}

func approverList(rs []Role) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Label())
	}
	if len(s) == 0 {
		return "anyone"
	}
	return strings.Join(s, " or ")
}

var weekdays = map[string]time.Weekday{"Sun": time.Sunday, "Mon": time.Monday, "Tue": time.Tuesday, "Wed": time.Wednesday,
	"Thu": time.Thursday, "Fri": time.Friday, "Sat": time.Saturday}

// InWindow reports whether t (read in UTC) falls in one of the windows,
// written like "Mon-Fri 18:00-22:00; Sat 08:00-12:00". A day range may wrap
// (Fri-Mon). Empty windows allow any time.
func InWindow(windows string, t time.Time) bool {
	t = t.UTC()
	minute := t.Hour()*60 + t.Minute()
	any := false
	for _, w := range strings.Split(windows, ";") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		any = true
		m := windowRe.FindStringSubmatch(w)
		if m == nil {
			continue
		}
		from := weekdays[m[1]]
		to := from
		if m[3] != "" {
			to = weekdays[m[3]]
		}
		day := t.Weekday()
		inDays := false
		if from <= to {
			inDays = day >= from && day <= to
		} else {
			inDays = day >= from || day <= to
		}
		var h1, m1, h2, m2 int
		hours := w[strings.LastIndex(w, " ")+1:]
		if _, err := fmt.Sscanf(hours, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil {
			continue
		}
		if inDays && minute >= h1*60+m1 && minute < h2*60+m2 {
			return true
		}
	}
	return !any
}
