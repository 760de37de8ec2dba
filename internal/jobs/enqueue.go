package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/databackup"
	"github.com/trellis-alm/trellis/internal/store"
)

// job is the store.Job that inserts args(id) through c in the record's
// own transaction; nil when there is no client.
func job(c *Client, args func(id int64) river.JobArgs) store.Job {
	if c == nil {
		return nil
	}
	return func(ctx context.Context, tx pgx.Tx, id int64) error {
		_, err := c.InsertTx(ctx, tx, args(id), nil)
		return err
	}
}

// SnapshotJob queues a snapshot (or a scheduled backup) with its record.
func SnapshotJob(c *Client) store.Job {
	return job(c, func(id int64) river.JobArgs { return SnapshotArgs{SnapshotID: id} })
}

// DeployJob queues a deployment (deploy, rollback or restore) with its record.
func DeployJob(c *Client) store.Job {
	return job(c, func(id int64) river.JobArgs { return DeployArgs{DeploymentID: id} })
}

// ValidateJob queues a validation with its record.
func ValidateJob(c *Client) store.Job {
	return job(c, func(id int64) river.JobArgs { return ValidateArgs{ValidationID: id} })
}

// TestRunJob queues an Apex test run with its record.
func TestRunJob(c *Client) store.Job {
	return job(c, func(id int64) river.JobArgs { return TestRunArgs{TestRunID: id} })
}

// DataBackupJob queues a data backup run with its record.
func DataBackupJob(c *Client) store.Job {
	return job(c, func(id int64) river.JobArgs { return DataBackupArgs{RunID: id} })
}

// DataRestoreJob queues a record restore with its record.
func DataRestoreJob(c *Client, req databackup.RestoreRequest) store.Job {
	return job(c, func(id int64) river.JobArgs { return DataRestoreArgs{RestoreID: id, Request: req} })
}

// NotifyJob queues an alert's delivery along its routes with the alert.
func NotifyJob(c *Client) store.Job {
	return job(c, func(id int64) river.JobArgs { return NotifyArgs{AlertID: id} })
}

// AnnounceJob queues a release's announcement, for the promotion that
// released it, with the release's finalisation.
func AnnounceJob(c *Client, promotionID int64) store.Job {
	return job(c, func(id int64) river.JobArgs { return AnnounceArgs{ReleaseID: id, PromotionID: promotionID} })
}

// running is the client running the job in ctx (nil when a test runs a
// worker by hand): follow-up work is queued through it.
func running(ctx context.Context) *Client {
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return nil
	}
	return c
}

// gone ends a job whose record no longer exists (River need not try
// again); any other error loading it, such as the database being away for
// a moment, is returned for River to retry.
func gone(err error) error {
	if alm.ErrorCode(err) == alm.CodeNotFound {
		return river.JobCancel(err)
	}
	return err
}
