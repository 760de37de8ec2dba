package jobs

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// SessionPruneArgs deletes sessions that can no longer be used, so the
// sessions table holds only live ones.
type SessionPruneArgs struct{}

// Kind names the job kind; it is stored in the database, so never change it.
func (SessionPruneArgs) Kind() string { return "session_prune" }

// InsertOpts keeps at most one pending prune at a time.
func (SessionPruneArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{
		ByArgs:  true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// SessionPruneWorker runs SessionPruneArgs.
type SessionPruneWorker struct {
	river.WorkerDefaults[SessionPruneArgs]
	deps Deps
}

// Work deletes idle and expired sessions.
func (w *SessionPruneWorker) Work(ctx context.Context, job *river.Job[SessionPruneArgs]) error {
	n, err := w.deps.Store.PruneSessions(ctx, w.deps.SessionIdle)
	if err != nil {
		return err
	}
	if n > 0 && w.deps.Logger != nil {
		w.deps.Logger.InfoContext(ctx, "pruned ended sessions", slog.Int64("count", n))
	}
	return w.deps.Store.PruneRateLimits(ctx)
}
