package jobs_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// slowArgs is a test job that works until released or cancelled.
type slowArgs struct{}

func (slowArgs) Kind() string { return "test_slow" }

type slowWorker struct {
	river.WorkerDefaults[slowArgs]
	started chan struct{}
	release chan struct{}
}

func (w *slowWorker) Work(ctx context.Context, job *river.Job[slowArgs]) error {
	w.started <- struct{}{}
	select {
	case <-w.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type testBundle struct {
	ctx    context.Context
	store  *store.Store
	client *jobs.Client
	worker *slowWorker
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	st := store.New(testdb.New(t), nil)
	w := &slowWorker{started: make(chan struct{}, 1), release: make(chan struct{})}
	return &testBundle{ctx: context.Background(), store: st, client: newClient(t, st, w), worker: w}
}

// newClient is a working client that picks jobs up quickly, with w added.
func newClient(t *testing.T, st *store.Store, w *slowWorker) *jobs.Client {
	t.Helper()
	c, err := jobs.NewClient(st.Pool(), jobs.Deps{Store: st, SessionIdle: time.Hour}, jobs.Config{
		Work: true, FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 20 * time.Millisecond,
		AddWorkers: func(ws *river.Workers) { river.AddWorker(ws, w) },
	})
	require.NoError(t, err)
	return c
}

func (b *testBundle) jobState(t *testing.T, id int64) (rivertype.JobState, int) {
	t.Helper()
	j, err := b.client.JobGet(b.ctx, id)
	require.NoError(t, err)
	return j.State, j.Attempt
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()

	t.Run("RunningJobsFinishBeforeStop", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.client.Start(b.ctx))
		res, err := b.client.Insert(b.ctx, slowArgs{}, nil)
		require.NoError(t, err)
		<-b.worker.started
		go func() {
			time.Sleep(200 * time.Millisecond)
			close(b.worker.release)
		}()
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer cancel()
		require.NoError(t, jobs.Stop(ctx, b.client))
		state, _ := b.jobState(t, res.Job.ID)
		require.Equal(t, rivertype.JobStateCompleted, state)
	})

	t.Run("JobsStillRunningAtTheDeadlineAreRetriedNotLost", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.client.Start(b.ctx))
		res, err := b.client.Insert(b.ctx, slowArgs{}, nil)
		require.NoError(t, err)
		<-b.worker.started
		ctx, cancel := context.WithTimeout(b.ctx, 300*time.Millisecond)
		defer cancel()
		_ = jobs.Stop(ctx, b.client)
		state, _ := b.jobState(t, res.Job.ID)
		require.Contains(t, []rivertype.JobState{rivertype.JobStateRetryable, rivertype.JobStateAvailable}, state, "a cancelled job goes back to the queue")

		// The next worker process picks it up and finishes it.
		done := &slowWorker{started: make(chan struct{}, 1), release: make(chan struct{})}
		close(done.release)
		next := newClient(t, b.store, done)
		events, unsubscribe := next.Subscribe(river.EventKindJobCompleted)
		defer unsubscribe()
		_, err = next.JobRetry(b.ctx, res.Job.ID) // skip any retry back-off
		require.NoError(t, err)
		require.NoError(t, next.Start(b.ctx))
		defer jobs.Stop(b.ctx, next)
		for {
			select {
			case ev := <-events:
				if ev.Job.ID == res.Job.ID {
					return
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the returned job never completed")
			}
		}
	})
}

func TestSessionPrune(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := alm.WithActor(b.ctx, alm.SystemActor)
	u, err := b.store.CreateUser(ctx, alm.NewUser{Email: "p@example.com", Name: "P", Role: alm.RoleViewer}, "h", false)
	require.NoError(t, err)
	old := time.Now().Add(-48 * time.Hour)
	require.NoError(t, b.store.CreateSession(ctx, alm.Session{IDHash: []byte("old"), UserID: u.ID, CreatedAt: old, ExpiresAt: old.Add(time.Hour)}, "test"))
	require.NoError(t, b.store.CreateSession(ctx, alm.Session{IDHash: []byte("new"), UserID: u.ID, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}, "test"))

	events, cancel := b.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	require.NoError(t, b.client.Start(b.ctx)) // the periodic prune runs on start
	defer jobs.Stop(b.ctx, b.client)
	deadline := time.After(15 * time.Second)
	for waiting := true; waiting; {
		select {
		case ev := <-events:
			if ev.Job.Kind != "session_prune" {
				continue // the other periodic jobs also run on start
			}
			require.Equal(t, river.EventKindJobCompleted, ev.Kind)
			waiting = false
		case <-deadline:
			t.Fatal("session_prune did not run")
		}
	}
	n, err := b.store.CountUserSessions(b.ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the live session remains")
}

func TestPruneIsUniqueWhilePending(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, err := b.client.Insert(b.ctx, jobs.SessionPruneArgs{}, nil)
	require.NoError(t, err)
	second, err := b.client.Insert(b.ctx, jobs.SessionPruneArgs{}, nil)
	require.NoError(t, err)
	require.True(t, second.UniqueSkippedAsDuplicate)
	require.Equal(t, first.Job.ID, second.Job.ID)
}
