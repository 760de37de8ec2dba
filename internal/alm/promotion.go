// Promotions: a build asked into a pipeline stage, the actions each state
// allows, the decisions and sign-offs recorded on it.

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
	// Git is set for a promotion made as a merge (a git-backed project).
	Git *PromotionGit `json:"git,omitempty"`
}

// Git states of a promotion made as a merge.
const (
	GitConflicts  = "conflicts"   // the merge waits for people to settle conflicts; no build yet
	GitMerged     = "merged"      // the merge commit is built and waits for its deploy
	GitPushing    = "pushing"     // deployed; the merge commit is being pushed
	GitPushed     = "pushed"      // the stage branch holds the merge
	GitPushFailed = "push_failed" // deployed, but the repository refused the push (Message says why)
)

// PromotionGit is the merge behind a promotion in a git-backed project.
type PromotionGit struct {
	Into    string `json:"into"`    // the stage's branch
	From    string `json:"from"`    // what is merged into it (a work item's branch), or "" for deploying the branch as it is
	Base    string `json:"base"`    // the stage branch's commit before the merge
	Commit  string `json:"commit"`  // the commit the deploy carries
	State   string `json:"state"`   // see the Git* states
	Message string `json:"message"` // why a push failed, or what back-propagation did
	PRURL   string `json:"pr_url,omitempty"`
	PRNum   int    `json:"pr_number,omitempty"`
	// Conflicts counts the files the merge stopped on (settled or not).
	Conflicts int `json:"conflicts"`
}

// StateLabel is the git state as people read it.
func (g PromotionGit) StateLabel() string {
	switch g.State {
	case GitConflicts:
		return "Conflicts to settle"
	case GitMerged:
		return "Merged, waiting for deploy"
	case GitPushing:
		return "Pushing"
	case GitPushed:
		return "Pushed"
	case GitPushFailed:
		return "Push failed"
	}
	return g.State
}

// MergeConflict is a file a promotion's merge could not settle, and how
// people settled it.
type MergeConflict struct {
	ID         int64      `json:"id"`
	Path       string     `json:"path"`
	Elements   []string   `json:"elements"` // conflicting elements of metadata XML; empty for text
	Base       []byte     `json:"-"`
	Ours       []byte     `json:"-"`
	Theirs     []byte     `json:"-"`
	Marked     []byte     `json:"-"`
	Resolution string     `json:"resolution"` // "", ours, theirs, both, edited
	Resolved   []byte     `json:"-"`
	By         string     `json:"resolved_by,omitempty"`
	At         *time.Time `json:"resolved_at,omitempty"`
}

// Subject names what is promoted: the release and build, or the work item.
func (p Promotion) Subject() string {
	if p.Git != nil && p.BuildID == 0 {
		return fmt.Sprintf("%s merge into %s", p.WorkItem, p.Git.Into)
	}
	if p.WorkItem == "" && p.ReleaseName == "" && p.Git != nil {
		return fmt.Sprintf("%s at %.8s", p.Git.Into, p.Git.Commit)
	}
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
