package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gitflow"
	"github.com/trellis-alm/trellis/internal/store"
)

// GitPushArgs pushes a deployed promotion's merge to its stage branch.
type GitPushArgs struct {
	PromotionID int64 `json:"promotion_id"`
}

// Kind names the job.
func (GitPushArgs) Kind() string { return "git_push" }

// InsertOpts: queued in the transaction that records the deploy's
// success, so a crash between the two loses neither; a push that fails
// for good is recorded on the promotion, not retried here. Not unique: a
// "push again" right after a refusal may meet the refused job still
// finishing; two pushes of one merge are harmless (the second finds the
// merge there, and a refusal never overwrites "pushed").
func (GitPushArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeploy, MaxAttempts: 5}
}

// GitPushJob queues the push of a promotion's merge with the deploy's outcome.
func GitPushJob(c *Client) store.Job {
	return job(c, func(id int64) river.JobArgs { return GitPushArgs{PromotionID: id} })
}

// GitPushWorker runs gitflow's Push.
type GitPushWorker struct {
	river.WorkerDefaults[GitPushArgs]
	deps Deps
}

// Timeout: a push (and a back-propagation) over a slow link.
func (w *GitPushWorker) Timeout(*river.Job[GitPushArgs]) time.Duration { return 10 * time.Minute }

// Work pushes; gitflow records a refusal on the promotion itself.
func (w *GitPushWorker) Work(ctx context.Context, job *river.Job[GitPushArgs]) error {
	if w.deps.Repos == nil {
		return river.JobCancel(errNoRepos)
	}
	err := gitflow.New(w.deps.Store, w.deps.Repos).Push(ctx, job.Args.PromotionID)
	if alm.ErrorCode(err) == alm.CodeConflict {
		return river.JobCancel(err) // not a deployed merge: nothing a retry changes
	}
	return gone(err)
}

var errNoRepos = errors.New("this process has no repository service")

// RunGitPush runs the push job's work in the calling goroutine (tests).
func RunGitPush(ctx context.Context, deps Deps, promotionID int64) error {
	w := &GitPushWorker{deps: deps}
	return w.Work(ctx, &river.Job[GitPushArgs]{Args: GitPushArgs{PromotionID: promotionID}})
}
