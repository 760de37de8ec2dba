package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/databackup"
	"github.com/trellis-alm/trellis/internal/store"
)

// StaleAfter is how long a silent process has, by default, before its
// running jobs are taken back (TRELLIS_JOB_STALE_AFTER); a process beats
// four times in that span, and the reconciler looks three times.
const StaleAfter = 45 * time.Second

// ReconcileArgs settles or re-queues work whose job was lost: it runs
// on the elected leader, three times per StaleAfter.
type ReconcileArgs struct{}

// Kind names the job.
func (ReconcileArgs) Kind() string { return "reconcile" }

// InsertOpts keeps one reconcile queued at a time.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: time.Second}}
}

// ReconcileWorker runs Reconcile.
type ReconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	deps  Deps
	stale time.Duration
}

// Work reconciles.
func (w *ReconcileWorker) Work(ctx context.Context, _ *river.Job[ReconcileArgs]) error {
	_, err := Reconcile(ctx, w.deps, running(ctx), w.stale)
	return err
}

// Reconciled says what one pass did.
type Reconciled struct {
	Rescued  int // running jobs of dead processes made available again
	Requeued int // records whose job was missing, queued again
	Settled  int // records whose job was cancelled or gave up, settled
}

// Reconcile takes back the running jobs of processes that stopped
// beating, then finds records no live job carries (promotions'
// deployments, validations, snapshots and backups, test runs, data
// backups and restores): those whose job is missing, or completed without
// settling them, are queued again; those whose job was cancelled (in the
// jobs UI) or gave up are settled with the reason, so nothing waits for
// ever. Each action is noted on the record's timeline or in the audit log.
func Reconcile(ctx context.Context, deps Deps, c *Client, staleAfter time.Duration) (Reconciled, error) {
	var r Reconciled
	st := deps.Store
	ctx = alm.WithActor(ctx, alm.Actor{Label: "reconciler"})
	rescued, err := st.RescueOrphanedJobs(ctx, staleAfter)
	if err != nil {
		return r, err
	}
	r.Rescued = len(rescued)
	orphans, err := st.OrphanedWork(ctx, max(staleAfter, 5*time.Second))
	if err != nil {
		return r, err
	}
	for _, o := range orphans {
		switch o.JobState {
		case "cancelled", "discarded":
			if err := settle(ctx, st, o); err != nil {
				return r, err
			}
			r.Settled++
		default:
			if c == nil {
				continue
			}
			if err := requeue(ctx, st, c, o); err != nil {
				return r, err
			}
			r.Requeued++
		}
	}
	return r, nil
}

// requeue inserts the job a record's work needs again; River's uniqueness
// by arguments keeps it from running twice.
func requeue(ctx context.Context, st *store.Store, c *Client, o store.Orphan) error {
	var args river.JobArgs
	switch o.Kind {
	case "deploy":
		args = DeployArgs{DeploymentID: o.ID}
	case "snapshot":
		args = SnapshotArgs{SnapshotID: o.ID}
	case "validate":
		args = ValidateArgs{ValidationID: o.ID}
	case "apex_tests":
		args = TestRunArgs{TestRunID: o.ID}
	case "data_backup":
		args = DataBackupArgs{RunID: o.ID}
	case "data_restore":
		raw, err := st.DataRestoreRequest(ctx, o.ID)
		if err != nil {
			return err
		}
		var req databackup.RestoreRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return fmt.Errorf("data restore #%d request: %w", o.ID, err)
		}
		args = DataRestoreArgs{RestoreID: o.ID, Request: req}
	default:
		return nil
	}
	if _, err := c.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("requeue %s #%d: %w", o.Kind, o.ID, err)
	}
	why := "it had no job"
	if o.JobState == "completed" {
		why = "its job ended without finishing it"
	}
	return st.NoteReconciled(ctx, o.Kind, o.ID, fmt.Sprintf("%s #%d was queued again: %s.", label(o.Kind), o.ID, why))
}

// settle ends a record whose job was cancelled or gave up, saying so.
func settle(ctx context.Context, st *store.Store, o store.Orphan) error {
	reason := "Its job was cancelled (in the jobs UI, or as it could not go on)"
	if o.JobState == "discarded" {
		reason = "Its job gave up"
	}
	if o.JobError != "" {
		reason += ": " + o.JobError
	}
	reason += "."
	var err error
	switch o.Kind {
	case "deploy":
		err = settleDeployment(ctx, st, o.ID, o.JobState, reason)
	case "snapshot":
		status := alm.SnapFailed
		if o.JobState == "cancelled" {
			status = alm.SnapCanceled
		}
		err = st.EndSnapshot(ctx, o.ID, status, reason)
	case "validate":
		err = st.FinishValidation(ctx, o.ID, "error", alm.ValidationResult{}, reason+" Validate again.")
	case "apex_tests":
		err = st.FinishTestRun(ctx, o.ID, "error", nil, reason+" Run the tests again.")
	case "data_backup":
		err = st.FinishDataRun(ctx, o.ID, "failed", reason+" The next run carries on.")
	case "data_restore":
		err = st.FinishDataRestore(ctx, o.ID, "failed", nil, reason+" Preview it again before restoring: some records may be back already.")
	}
	if err != nil {
		return err
	}
	return st.NoteReconciled(ctx, o.Kind, o.ID, fmt.Sprintf("%s #%d was settled: %s", label(o.Kind), o.ID, reason))
}

// settleDeployment ends a deployment whose job is gone. Nothing sent to
// the org: canceled. Sent: failed, with what to check, since the org may
// still be carrying it out. Its promotion moves with it and offers retry.
func settleDeployment(ctx context.Context, st *store.Store, id int64, jobState, reason string) error {
	d, err := st.DeploymentByID(ctx, id)
	if err != nil {
		return err
	}
	status := "failed"
	switch {
	case d.DeployID != "":
		reason += fmt.Sprintf(" The org may still be carrying out deploy %s: check its Deployment Status page, then retry or roll back.", d.DeployID)
	case d.SubmittedAt != nil:
		reason += " It may have reached the org: check its Deployment Status page, then retry or roll back."
	case jobState == "cancelled":
		status, reason = "canceled", reason+" Nothing was sent to the org."
	default:
		reason += " Nothing was sent to the org; retry when ready."
	}
	return st.FinishDeployment(ctx, id, status, alm.ValidationResult{ComponentErrors: []alm.ValidationProblem{}, TestFailures: []alm.ValidationProblem{}}, reason, false, nil, nil)
}

func label(kind string) string {
	switch kind {
	case "deploy":
		return "Deployment"
	case "snapshot":
		return "Snapshot"
	case "validate":
		return "Validation"
	case "apex_tests":
		return "Test run"
	case "data_backup":
		return "Data backup run"
	case "data_restore":
		return "Data restore"
	}
	return kind
}
