// Package jobs holds Trellis's background work as River job kinds: each
// kind's args and worker sit side by side in one file. This file builds the
// River client that `serve` and `worker` run.
package jobs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/outbound"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
)

// The queues. Long org operations get their own so a slow backup never
// holds up a deploy.
const (
	QueueDefault = river.QueueDefault
	QueueDeploy  = "deploy"
	QueueTest    = "test"
	QueueBackup  = "backup"
	QueueMonitor = "monitor"
	QueueNotify  = "notify"
)

// Deps are what the workers need.
type Deps struct {
	Store *store.Store
	Orgs  *orgs.Service  // nil where no org work runs
	Repos *repos.Service // nil where no repository work runs
	// SnapshotChunk is how many components one retrieve asks for; zero
	// means 2,000 (tests make it small to see chunking).
	SnapshotChunk int
	SessionIdle   time.Duration
	Logger        *slog.Logger
	// BaseURL is where people reach Trellis, for links in announcements.
	BaseURL string
	// Mail sends announcements by email.
	Mail Mail
	// Keyring opens sealed settings (announcement webhooks).
	Keyring *secret.Keyring
	// Outbound is where webhooks, announcements and alerts may be sent:
	// the zero policy allows public addresses only.
	Outbound outbound.Policy
}

// Config shapes the client.
type Config struct {
	// Work is false for a client that only inserts jobs (tests, CLI).
	Work bool
	// MaxWorkers per queue; zero means the defaults.
	MaxWorkers int
	// AddWorkers registers extra workers (tests).
	AddWorkers func(*river.Workers)
	// FetchPollInterval and FetchCooldown tune how soon new jobs are picked
	// up; zero means River's defaults.
	FetchPollInterval time.Duration
	FetchCooldown     time.Duration
	// NoSchedules leaves out the scheduled backups and the reconciler
	// (tests start them by hand, so a slow test never sees work it did not
	// ask for).
	NoSchedules bool
	// ID is the client's id (ClientID); the process's heartbeat vouches
	// for it. Empty: River makes one up (clients that run no jobs).
	ID string
	// StaleAfter is how long a process may be silent before its running
	// jobs are taken back; zero means StaleAfter.
	StaleAfter time.Duration
}

// Client is the River client Trellis uses.
type Client = river.Client[pgx.Tx]

// uniqueLive keeps one live job per record: a job for the same arguments
// is not inserted again while one is waiting or running (the reconciler
// re-queues freely), but may be once the last one ended.
var uniqueLive = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}

// ClientID names a process's job client uniquely (host, pid, and a random
// part so that a restart with the same pid is a new client): River
// records it on each job it runs, and the process's heartbeat vouches
// for it.
func ClientID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// NewClient builds the River client over pool. With cfg.Work it runs every
// worker on every queue, and periodic jobs on whichever process River
// elects leader.
func NewClient(pool *pgxpool.Pool, deps Deps, cfg Config) (*Client, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &SessionPruneWorker{deps: deps})
	river.AddWorker(workers, &BlobGCWorker{deps: deps})
	river.AddWorker(workers, &SnapshotWorker{deps: deps})
	river.AddWorker(workers, &ValidateWorker{deps: deps})
	river.AddWorker(workers, &TestRunWorker{deps: deps})
	river.AddWorker(workers, &DeployWorker{deps: deps})
	river.AddWorker(workers, &GitPushWorker{deps: deps})
	river.AddWorker(workers, &AnnounceWorker{deps: deps})
	river.AddWorker(workers, &BackupTickWorker{deps: deps})
	river.AddWorker(workers, &MonitorWorker{deps: deps})
	river.AddWorker(workers, &NotifyWorker{deps: deps})
	river.AddWorker(workers, &DataBackupWorker{deps: deps})
	river.AddWorker(workers, &DataRestoreWorker{deps: deps})
	river.AddWorker(workers, &WebhookDispatchWorker{deps: deps})
	river.AddWorker(workers, &WebhookDeliverWorker{deps: deps})
	river.AddWorker(workers, &TrackerDispatchWorker{deps: deps})
	river.AddWorker(workers, &TrackerSyncWorker{deps: deps})
	river.AddWorker(workers, &TrackerDeliverWorker{deps: deps})
	river.AddWorker(workers, &TrackerReconcileWorker{deps: deps})
	stale := cfg.StaleAfter
	if stale <= 0 {
		stale = StaleAfter
	}
	river.AddWorker(workers, &ReconcileWorker{deps: deps, stale: stale})
	if cfg.AddWorkers != nil {
		cfg.AddWorkers(workers)
	}
	rc := &river.Config{
		ID:                cfg.ID,
		Logger:            riverLogger(deps.Logger),
		Workers:           workers,
		JobTimeout:        10 * time.Minute,
		FetchPollInterval: cfg.FetchPollInterval,
		FetchCooldown:     cfg.FetchCooldown,
	}
	if cfg.Work {
		n := cfg.MaxWorkers
		if n <= 0 {
			n = 10
		}
		rc.Queues = map[string]river.QueueConfig{
			QueueDefault:  {MaxWorkers: n},
			QueueDeploy:   {MaxWorkers: n},
			QueueTest:     {MaxWorkers: n},
			QueueBackup:   {MaxWorkers: max(2, n/4)},
			QueueMonitor:  {MaxWorkers: max(2, n/4)},
			QueueNotify:   {MaxWorkers: n},
			QueueSnapshot: {MaxWorkers: max(1, n/2)},
		}
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return SessionPruneArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "session_prune"}),
			// Webhook events go out within seconds of the change.
			river.NewPeriodicJob(river.PeriodicInterval(2*time.Second), func() (river.JobArgs, *river.InsertOpts) {
				// Only when something waits, so the job list is not a
				// dispatch every two seconds.
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				if pending, err := deps.Store.PendingWebhookEvents(ctx); err != nil || !pending {
					return nil, nil
				}
				return WebhookDispatchArgs{}, nil
			}, &river.PeriodicJobOpts{ID: "webhook_dispatch"}),
			// Changes to linked records go to their trackers within seconds.
			river.NewPeriodicJob(river.PeriodicInterval(2*time.Second), func() (river.JobArgs, *river.InsertOpts) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				if pending, err := deps.Store.PendingTrackerEvents(ctx); err != nil || !pending {
					return nil, nil
				}
				return TrackerDispatchArgs{}, nil
			}, &river.PeriodicJobOpts{ID: "tracker_dispatch"}),
		}
		if !cfg.NoSchedules {
			rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return BackupTickArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "backup_tick"}),
				river.NewPeriodicJob(river.PeriodicInterval(max(time.Second, stale/3)),
					func() (river.JobArgs, *river.InsertOpts) { return ReconcileArgs{}, nil },
					&river.PeriodicJobOpts{RunOnStart: true, ID: "reconcile"}),
				// Anything a tracker's webhook missed is caught within minutes.
				river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute),
					func() (river.JobArgs, *river.InsertOpts) { return TrackerReconcileArgs{}, nil },
					&river.PeriodicJobOpts{ID: "tracker_reconcile"}),
				river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
					func() (river.JobArgs, *river.InsertOpts) { return BlobGCArgs{}, nil },
					&river.PeriodicJobOpts{RunOnStart: true, ID: "blob_gc"}))
		}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("job client: %w", err)
	}
	return c, nil
}

// Stop stops the client gracefully: no new jobs are fetched and running ones
// may finish until ctx ends; then they are cancelled, and River retries
// them later, so no job is lost.
func Stop(ctx context.Context, c *Client) error {
	err := c.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		hard, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return c.StopAndCancel(hard)
	}
	return err
}

// riverLogger quietens River's routine info lines (producer counts every
// few seconds) to warnings, unless Trellis logs at debug level.
func riverLogger(l *slog.Logger) *slog.Logger {
	if l == nil || l.Enabled(context.Background(), slog.LevelDebug) {
		return l
	}
	return slog.New(minLevel{Handler: l.Handler(), min: slog.LevelWarn})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// Heartbeats says, four times per staleAfter until ctx ends, that the process
// running client id is alive; the reconciler takes back the running jobs
// of a process that stops saying so. The first beat is sent before it
// returns, so no job of this process is ever taken for an orphan.
func Heartbeats(ctx context.Context, st *store.Store, id, kind string, staleAfter time.Duration, log *slog.Logger) error {
	every := StaleAfter / 4
	if staleAfter > 0 {
		every = staleAfter / 4
	}
	host, _ := os.Hostname()
	beat := func() error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return st.Heartbeat(ctx, id, kind, host, os.Getpid())
	}
	if err := beat(); err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				bye, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_ = st.Goodbye(bye, id)
				cancel()
				return
			case <-t.C:
				if err := beat(); err != nil && log != nil {
					log.Warn("heartbeat failed", slog.Any("err", err))
				}
			}
		}
	}()
	return nil
}
