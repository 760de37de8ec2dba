// Scheduled metadata backups: the tick that starts the ones due.

package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/crashpoint"
	"github.com/trellis-alm/trellis/internal/store"
)

// BackupTickArgs starts the metadata backups that are due. It runs every
// minute on the elected leader; the claim in the database makes a second
// runner harmless.
type BackupTickArgs struct{}

// Kind names the job.
func (BackupTickArgs) Kind() string { return "backup_tick" }

// InsertOpts keeps one tick queued at a time.
func (BackupTickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBackup, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

// BackupTickWorker queues a snapshot for every org whose backup is due.
type BackupTickWorker struct {
	river.WorkerDefaults[BackupTickArgs]
	deps Deps
}

// Work queues the due backups.
func (w *BackupTickWorker) Work(ctx context.Context, _ *river.Job[BackupTickArgs]) error {
	_, err := StartDueBackups(ctx, w.deps.Store, river.ClientFromContext[pgx.Tx](ctx))
	return err
}

// StartDueBackups claims the due backup schedules and queues a snapshot
// (and, where data backups are on, a data backup run) for each, returning
// the snapshots.
func StartDueBackups(ctx context.Context, st *store.Store, c *Client) ([]alm.Snapshot, error) {
	var errs []error
	if _, err := st.ClaimDueDataBackups(ctx, DataBackupJob(c)); err != nil {
		errs = append(errs, err)
	}
	if _, err := st.ClaimDueRegressions(alm.WithActor(ctx, alm.Actor{Label: "regression schedule"}), TestRunJob(c)); err != nil {
		errs = append(errs, err)
	}
	ids, err := st.ClaimDueBackups(ctx, SnapshotJob(c))
	if err != nil {
		errs = append(errs, err)
	}
	crashpoint.At("backup.claimed")
	var out []alm.Snapshot
	for _, id := range ids {
		sn, err := st.SnapshotByID(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sn)
	}
	return out, errors.Join(errs...)
}
