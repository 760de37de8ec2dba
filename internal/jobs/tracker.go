package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/crashpoint"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/tracksync"
)

// TrackerService is the tracker sync the workers use.
func (d Deps) TrackerService() *tracksync.Service {
	return &tracksync.Service{Store: d.Store, Keyring: d.Keyring, HTTP: d.Outbound.Client(30 * time.Second), BaseURL: d.BaseURL}
}

// TrackerDispatchArgs turns new events about linked records into sync
// and delivery jobs. It runs every few seconds on the leader.
type TrackerDispatchArgs struct{}

// Kind names the job.
func (TrackerDispatchArgs) Kind() string { return "tracker_dispatch" }

// InsertOpts keeps one dispatch queued at a time.
func (TrackerDispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 2 * time.Second}}
}

// TrackerDispatchWorker dispatches.
type TrackerDispatchWorker struct {
	river.WorkerDefaults[TrackerDispatchArgs]
	deps Deps
}

// Work dispatches.
func (w *TrackerDispatchWorker) Work(ctx context.Context, _ *river.Job[TrackerDispatchArgs]) error {
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return DispatchTrackerEvents(ctx, w.deps.Store, c)
}

// DispatchTrackerEvents queues, with the cursor's move, a sync for each
// link an event touches and a delivery comment for delivery events.
func DispatchTrackerEvents(ctx context.Context, st *store.Store, c *Client) error {
	_, err := st.DispatchTrackerEvents(ctx, 500, tracksync.IsDelivery, func(ctx context.Context, tx pgx.Tx, e store.TrackerEvent) error {
		for _, id := range e.Links {
			if e.Delivery {
				if _, err := c.InsertTx(ctx, tx, TrackerDeliverArgs{LinkID: id}, nil); err != nil {
					return err
				}
			}
			if _, err := c.InsertTx(ctx, tx, TrackerSyncArgs{LinkID: id}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// TrackerSyncArgs syncs one link both ways.
type TrackerSyncArgs struct {
	LinkID int64 `json:"link_id"`
}

// Kind names the job.
func (TrackerSyncArgs) Kind() string { return "tracker_sync" }

// InsertOpts: a tracker down for an hour is retried well past the hour
// (River's backoff over 25 attempts spans days).
func (TrackerSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: 25}
}

// TrackerSyncWorker syncs.
type TrackerSyncWorker struct {
	river.WorkerDefaults[TrackerSyncArgs]
	deps Deps
}

// Work syncs the link; one sync per link at a time.
func (w *TrackerSyncWorker) Work(ctx context.Context, j *river.Job[TrackerSyncArgs]) error {
	return trackerRetry(w.deps.Store.WithLinkLock(ctx, j.Args.LinkID, j.ID, func(ctx context.Context) error {
		crashpoint.At("tracker.leased")
		return w.deps.TrackerService().Sync(ctx, j.Args.LinkID)
	}))
}

// trackerRetry honours the tracker's Retry-After: the job sleeps as long
// as it asked instead of River's own backoff.
func trackerRetry(err error) error {
	if err == nil {
		return nil
	}
	if tracker.CodeOf(err) == tracker.CodeRateLimit {
		return river.JobSnooze(max(time.Second, tracker.RetryAfter(err)))
	}
	if errors.Is(err, store.ErrLinkBusy) {
		return river.JobSnooze(time.Second)
	}
	return err
}

// TrackerDeliverArgs posts a link's waiting delivery events on its issue.
type TrackerDeliverArgs struct {
	LinkID int64 `json:"link_id"`
}

// Kind names the job.
func (TrackerDeliverArgs) Kind() string { return "tracker_deliver" }

// InsertOpts retries like a sync.
func (TrackerDeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: 25}
}

// TrackerDeliverWorker posts.
type TrackerDeliverWorker struct {
	river.WorkerDefaults[TrackerDeliverArgs]
	deps Deps
}

// Work posts the comment once.
func (w *TrackerDeliverWorker) Work(ctx context.Context, j *river.Job[TrackerDeliverArgs]) error {
	return trackerRetry(w.deps.Store.WithLinkLock(ctx, j.Args.LinkID, j.ID, func(ctx context.Context) error {
		return w.deps.TrackerService().Deliver(ctx, j.Args.LinkID)
	}))
}

// TrackerReconcileArgs syncs every link now and then, for changes whose
// webhook never came.
type TrackerReconcileArgs struct{}

// Kind names the job.
func (TrackerReconcileArgs) Kind() string { return "tracker_reconcile" }

// InsertOpts keeps one queued at a time.
func (TrackerReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

// TrackerReconcileWorker queues a sync per link.
type TrackerReconcileWorker struct {
	river.WorkerDefaults[TrackerReconcileArgs]
	deps Deps
}

// Work queues.
func (w *TrackerReconcileWorker) Work(ctx context.Context, _ *river.Job[TrackerReconcileArgs]) error {
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return QueueTrackerSyncs(ctx, w.deps.Store, c, 0)
}

// QueueTrackerSyncs queues a sync for every link (of one connection, or
// all when connID is 0): the reconcile, and a reconnect resuming.
func QueueTrackerSyncs(ctx context.Context, st *store.Store, c *Client, connID int64) error {
	ids, err := st.TrackerLinkIDs(ctx, connID)
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for _, id := range ids {
		params = append(params, river.InsertManyParams{Args: TrackerSyncArgs{LinkID: id}})
	}
	if len(params) == 0 {
		return nil
	}
	_, err = c.InsertMany(ctx, params)
	return err
}
