package alm

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// PromotionStatus is where a promotion stands. Every state has a way out:
// open → deploy or abandon; deploying → cancel; failed and canceled →
// retry or abandon; deployed → roll back.
type PromotionStatus string

// The promotion states.
const (
	PromoOpen       PromotionStatus = "open"
	PromoDeploying  PromotionStatus = "deploying"
	PromoDeployed   PromotionStatus = "deployed"
	PromoFailed     PromotionStatus = "failed"
	PromoCanceled   PromotionStatus = "canceled"
	PromoRejected   PromotionStatus = "rejected"
	PromoAbandoned  PromotionStatus = "abandoned"
	PromoRolledBack PromotionStatus = "rolled_back"
)

// PromotionStatuses lists the states in the order a promotion meets them.
var PromotionStatuses = []PromotionStatus{PromoOpen, PromoDeploying, PromoDeployed, PromoFailed, PromoCanceled, PromoRejected, PromoAbandoned, PromoRolledBack}

// Label is the status as people read it.
func (s PromotionStatus) Label() string {
	switch s {
	case PromoOpen:
		return "Open"
	case PromoRolledBack:
		return "Rolled back"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// PromotionAction is something done to a promotion.
type PromotionAction string

// The actions.
const (
	ActApprove  PromotionAction = "approve"
	ActReject   PromotionAction = "reject"
	ActDeploy   PromotionAction = "deploy"
	ActCancel   PromotionAction = "cancel"
	ActRetry    PromotionAction = "retry"
	ActAbandon  PromotionAction = "abandon"
	ActRollback PromotionAction = "rollback"
)

var promotionMoves = map[PromotionStatus][]PromotionAction{
	PromoOpen:      {ActApprove, ActReject, ActDeploy, ActAbandon},
	PromoDeploying: {ActCancel},
	PromoFailed:    {ActRetry, ActAbandon, ActRollback},
	PromoCanceled:  {ActRetry, ActAbandon},
	PromoDeployed:  {ActRollback},
}

// Allows reports whether action a may be taken in status s.
func (s PromotionStatus) Allows(a PromotionAction) bool { return slices.Contains(promotionMoves[s], a) }

// Actions lists what may be done in status s.
func (s PromotionStatus) Actions() []PromotionAction { return promotionMoves[s] }

// CheckMove returns why action a cannot be taken in status s, or nil.
func CheckMove(s PromotionStatus, a PromotionAction) error {
	if s.Allows(a) {
		return nil
	}
	return Errorf(CodeConflict, "A promotion that is %s cannot be %s.", strings.ToLower(s.Label()), actionPast[a])
}

var actionPast = map[PromotionAction]string{ActApprove: "approved", ActReject: "rejected", ActDeploy: "deployed", ActCancel: "canceled",
	ActRetry: "retried", ActAbandon: "abandoned", ActRollback: "rolled back"}

// Promotion moves one build into one stage of a project's pipeline.
type Promotion struct {
	ID            int64           `json:"id"`
	ProjectID     int64           `json:"project_id"`
	ProjectKey    string          `json:"project"`
	BuildID       int64           `json:"build_id"`
	BuildNumber   int             `json:"build_number"`
	Checksum      string          `json:"checksum"`
	ReleaseID     *int64          `json:"release_id"`
	ReleaseName   string          `json:"release_name,omitempty"`
	WorkItem      string          `json:"work_item,omitempty"` // for a work item's own change set
	StagePosition int             `json:"stage_position"`
	StageName     string          `json:"stage"`
	OrgID         int64           `json:"org_id"`
	OrgName       string          `json:"org_name"`
	Status        PromotionStatus `json:"status"`
	Reason        string          `json:"reason,omitempty"`
	CreatedBy     string          `json:"created_by"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Revision      int             `json:"revision"`
}

// Subject names what is promoted: the release and build, or the work item.
func (p Promotion) Subject() string {
	if p.WorkItem != "" {
		return fmt.Sprintf("%s change set #%d", p.WorkItem, p.BuildNumber)
	}
	return fmt.Sprintf("%s build #%d", p.ReleaseName, p.BuildNumber)
}

// ApprovalTTL is how long an approval counts.
const ApprovalTTL = 7 * 24 * time.Hour

// Decision is an approval or rejection of a promotion.
type Decision struct {
	ID        int64      `json:"id"`
	BuildID   int64      `json:"build_id"`
	UserID    int64      `json:"user_id"`
	User      string     `json:"user"`
	Role      Role       `json:"role"`
	Decision  string     `json:"decision"` // approved, rejected
	Note      string     `json:"note,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	ResetAt   *time.Time `json:"reset_at"`
}

// Counts reports whether an approval counts for build at now.
func (d Decision) Counts(buildID int64, now time.Time) bool {
	return d.Decision == "approved" && d.ResetAt == nil && d.BuildID == buildID && now.Before(d.ExpiresAt)
}

// PromotionComment is a remark on a promotion.
type PromotionComment struct {
	ID        int64     `json:"id"`
	User      string    `json:"user"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// Signoff is a tester's word on one work item in a stage.
type Signoff struct {
	ID        int64     `json:"id"`
	WorkItem  string    `json:"work_item"`
	Decision  string    `json:"decision"` // signed_off, returned
	Note      string    `json:"note,omitempty"`
	User      string    `json:"user"`
	CreatedAt time.Time `json:"created_at"`
}

// Deployment is one deploy into an org: a promotion's, or a rollback.
type Deployment struct {
	ID              int64            `json:"id"`
	PromotionID     *int64           `json:"promotion_id"`
	OrgID           int64            `json:"org_id"`
	OrgName         string           `json:"org_name"`
	BuildID         *int64           `json:"build_id"`
	Kind            string           `json:"kind"` // deploy, quick_deploy, rollback, restore
	RollbackOf      *int64           `json:"rollback_of"`
	TestLevel       string           `json:"test_level"`
	Status          string           `json:"status"` // queued, snapshotting, deploying, succeeded, failed, canceled
	Phase           string           `json:"phase,omitempty"`
	Done            int              `json:"done"`
	Total           int              `json:"total"`
	Checksum        string           `json:"checksum"`
	ValidationID    *int64           `json:"validation_id"`
	DeployID        string           `json:"deploy_id,omitempty"`
	CancelRequested bool             `json:"cancel_requested"`
	Result          ValidationResult `json:"result"`
	Error           string           `json:"error,omitempty"`
	Override        string           `json:"override,omitempty"`
	StartedBy       string           `json:"started_by"`
	StartedAt       time.Time        `json:"started_at"`
	SubmittedAt     *time.Time       `json:"submitted_at"`
	Finished        *time.Time       `json:"finished_at"`
	RestoreOf       *int64           `json:"restore_of"` // the snapshot a restore put back
}

// Active reports whether the deployment is still under way.
func (d Deployment) Active() bool { return d.Finished == nil }

// DeploymentComponent is what a deployment changed, with the version it
// replaced (Existed false: the deployment added it).
type DeploymentComponent struct {
	Type         string `json:"type"`
	Name         string `json:"name"`
	Change       string `json:"change"`
	Hash         string `json:"hash,omitempty"`
	PreviousHash string `json:"previous_hash,omitempty"`
	Existed      *bool  `json:"existed"`
	WorkItem     string `json:"work_item,omitempty"`
}

// ComponentHistoryEntry is one deployment that changed a component in an
// org, with what it came from.
type ComponentHistoryEntry struct {
	DeploymentID int64      `json:"deployment_id"`
	Kind         string     `json:"kind"`
	Status       string     `json:"status"`
	Change       string     `json:"change"`
	Hash         string     `json:"hash,omitempty"`
	PreviousHash string     `json:"previous_hash,omitempty"`
	BuildID      *int64     `json:"build_id"`
	BuildNumber  int        `json:"build_number"`
	ReleaseName  string     `json:"release_name,omitempty"`
	PromotionID  *int64     `json:"promotion_id"`
	Stage        string     `json:"stage,omitempty"`
	WorkItems    []string   `json:"work_items"`
	Requirements []string   `json:"requirements"`
	By           string     `json:"by"`
	At           time.Time  `json:"at"`
	Finished     *time.Time `json:"finished_at"`
}

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
			g.Detail = fmt.Sprintf("%d finding(s) at %s level or above block this stage.", in.Blocking, st.BlockChecks)
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

// AfterDeploy is where a work item goes on the board once a build carrying
// it is deployed into a stage: "In release" after any stage but the last,
// "Done" after the last. Items only move forward, so a deploy into an
// early stage never pulls a finished item back; ok is false when the item
// stays where it is.
func AfterDeploy(cur WorkStatus, lastStage bool) (WorkStatus, bool) {
	to := WorkInRelease
	if lastStage {
		to = WorkDone
	}
	if slices.Index(WorkStatuses, cur) >= slices.Index(WorkStatuses, to) {
		return cur, false
	}
	return to, true
}
