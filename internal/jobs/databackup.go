package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/databackup"
	"github.com/trellis-alm/trellis/internal/store"
)

// DataBackupArgs takes one data backup run.
type DataBackupArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind names the job.
func (DataBackupArgs) Kind() string { return "data_backup" }

// InsertOpts runs data backups on the backup queue, once: a failed run
// says why, and the next scheduled one carries on from the watermarks.
func (DataBackupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBackup, MaxAttempts: 3, UniqueOpts: uniqueLive}
}

// DataBackupWorker backs an org's records up.
type DataBackupWorker struct {
	river.WorkerDefaults[DataBackupArgs]
	deps Deps
}

// Work runs the backup and records how it ended.
func (w *DataBackupWorker) Work(ctx context.Context, job *river.Job[DataBackupArgs]) error {
	return RunDataBackup(ctx, w.deps, job.Args.RunID)
}

// RunDataBackup takes a data backup run and records how it ended.
func RunDataBackup(ctx context.Context, deps Deps, runID int64) error {
	st := deps.Store
	run, err := st.DataBackupRun(ctx, runID)
	if err != nil {
		return gone(err)
	}
	status, err := runDataBackup(ctx, deps, run)
	msg := ""
	switch {
	case err != nil:
		status, msg = "failed", err.Error()
		if alm.ErrorCode(err) != alm.CodeInternal {
			msg = alm.ErrorMessage(err)
		}
	case status == "partial":
		msg = "Stopped early; the next run carries on."
		if r, err := st.DataBackupRun(ctx, runID); err == nil && len(r.Objects) > 0 {
			msg = "Stopped early — " + databackup.Summary(r.Objects) + ". The next run carries on."
		}
	}
	if ferr := st.FinishDataRun(context.WithoutCancel(ctx), runID, status, msg); ferr != nil {
		return ferr
	}
	if status == "failed" {
		_, err := st.CreateAlert(context.WithoutCancel(ctx), store.NewAlert{Kind: alm.AlertBackupFailed, Severity: alm.SevWarning, OrgID: run.OrgID,
			Title: "A data backup failed", Body: msg, Notify: NotifyJob(running(ctx))})
		return err
	}
	return nil
}

func runDataBackup(ctx context.Context, deps Deps, run alm.DataBackupRun) (string, error) {
	if deps.Orgs == nil {
		return "", errors.New("orgs are not configured on this worker")
	}
	org, err := deps.Store.OrgByID(ctx, run.OrgID)
	if err != nil {
		return "", err
	}
	client, err := deps.Orgs.Client(ctx, org)
	if err != nil {
		return "", err
	}
	return databackup.Run(ctx, deps.Store, client, run.ID, NotifyJob(running(ctx)))
}

// DataRestoreArgs restores records.
type DataRestoreArgs struct {
	RestoreID int64                     `json:"restore_id"`
	Request   databackup.RestoreRequest `json:"request"`
}

// Kind names the job.
func (DataRestoreArgs) Kind() string { return "data_restore" }

// InsertOpts runs a restore once: writing records twice would duplicate
// the ones it creates.
func (DataRestoreArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBackup, MaxAttempts: 3, UniqueOpts: uniqueLive}
}

// DataRestoreWorker writes records back.
type DataRestoreWorker struct {
	river.WorkerDefaults[DataRestoreArgs]
	deps Deps
}

// Work restores and records the result per record.
func (w *DataRestoreWorker) Work(ctx context.Context, job *river.Job[DataRestoreArgs]) error {
	return RunDataRestore(ctx, w.deps, job.Args.RestoreID, job.Args.Request)
}

// RunDataRestore carries a restore out and stores its results.
func RunDataRestore(ctx context.Context, deps Deps, id int64, req databackup.RestoreRequest) error {
	st := deps.Store
	x, err := st.DataRestore(ctx, id)
	if err != nil {
		return gone(err)
	}
	var results []alm.RecordResult
	org, err := st.OrgByID(ctx, x.OrgID)
	if err == nil && deps.Orgs == nil {
		err = errors.New("orgs are not configured on this worker")
	}
	if err == nil {
		client, cerr := deps.Orgs.Client(ctx, org)
		if err = cerr; err == nil {
			results, err = databackup.Restore(ctx, st, client, x.OrgID, id, req)
		}
	}
	status, msg := "done", ""
	if err != nil {
		status, msg = "failed", alm.ErrorMessage(err)
		if alm.ErrorCode(err) == alm.CodeInternal {
			msg = err.Error()
		}
	}
	return st.FinishDataRestore(context.WithoutCancel(ctx), id, status, results, msg)
}
