package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestRescueOrphanedJobs: a running job whose process stopped beating is
// made available again; one whose process beats is left alone, however
// long it has run.
func TestRescueOrphanedJobs(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t), nil)
	ctx := context.Background()
	insert := func(client string, attemptedAgo time.Duration, attempt, max int) int64 {
		var id int64
		require.NoError(t, st.Pool().QueryRow(ctx, `INSERT INTO river_job (args, attempt, attempted_at, attempted_by, kind, max_attempts, priority, queue, state, scheduled_at)
			VALUES ('{"snapshot_id": 1}', $1, now() - $2::interval, ARRAY[$3], 'snapshot', $4, 1, 'snapshot', 'running', now()) RETURNING id`,
			attempt, attemptedAgo.String(), client, max).Scan(&id))
		return id
	}
	dead := insert("dead-process", 2*time.Minute, 1, 3)
	lastTry := insert("dead-process", 2*time.Minute, 3, 3)
	alive := insert("live-process", 5*time.Hour, 1, 3)
	young := insert("starting-process", 5*time.Second, 1, 3)
	require.NoError(t, st.Heartbeat(ctx, "live-process", "serve", "host", 1))
	rescued, err := st.RescueOrphanedJobs(ctx, jobs.StaleAfter)
	require.NoError(t, err)
	require.ElementsMatch(t, []int64{dead, lastTry}, rescued)
	state := func(id int64) (s, lastErr string) {
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT state::text, coalesce(errors[array_upper(errors, 1)]->>'error', '') FROM river_job WHERE id = $1`, id).Scan(&s, &lastErr))
		return
	}
	s, e := state(dead)
	require.Equal(t, "available", s)
	require.Contains(t, e, "dead-process")
	s, _ = state(lastTry)
	require.Equal(t, "discarded", s, "at its last attempt it is discarded; the reconciler then settles its record")
	s, _ = state(alive)
	require.Equal(t, "running", s, "a long job of a live process is left alone")
	s, _ = state(young)
	require.Equal(t, "running", s, "a job just started is not judged yet")
}

// TestReconcileRequeuesAndSettles: a snapshot with no job is queued again;
// a deployment whose job was cancelled in the jobs UI is settled as
// canceled, saying why, and its promotion can be deployed again; a
// validation whose job gave up is settled with the job's error.
func TestReconcileRequeuesAndSettles(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Now().Add(-10 * time.Minute)}
	st := store.New(testdb.New(t), c.now)
	ctx := alm.WithActor(context.Background(), alm.SystemActor)
	client, err := jobs.NewClient(st.Pool(), jobs.Deps{Store: st, SessionIdle: time.Hour}, jobs.Config{})
	require.NoError(t, err)

	org, err := st.CreateOrg(ctx, alm.NewOrg{Name: "UAT", Kind: alm.OrgFullSandbox, LoginURL: "https://test.salesforce.com"},
		store.OrgAuth{AuthKind: "jwt"}, func(int64) (string, error) { return "", nil })
	require.NoError(t, err)
	lost, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "org", OrgID: &org.ID})
	require.NoError(t, err)

	p, err := st.CreateProject(ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	require.NoError(t, err)
	rel, err := st.CreateRelease(ctx, p.ID, alm.ReleaseInput{Name: "Spring"})
	require.NoError(t, err)
	b, err := st.CreateBuild(ctx, store.NewBuild{ReleaseID: rel.ID, APIVersion: "64.0", Checksum: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Artifact: []byte("PK")})
	require.NoError(t, err)
	promo, err := st.CreatePromotion(ctx, store.NewPromotion{ProjectID: p.ID, BuildID: b.ID, StagePosition: 1, StageName: "UAT", OrgID: org.ID})
	require.NoError(t, err)
	dep, err := st.CreateDeployment(ctx, store.NewDeployment{PromotionID: promo.ID, OrgID: org.ID, BuildID: b.ID, Kind: "deploy",
		TestLevel: "RunLocalTests", Checksum: b.Checksum, Action: alm.ActDeploy, Job: jobs.DeployJob(client)})
	require.NoError(t, err)
	v, err := st.CreateValidation(ctx, b.ID, org.ID, "RunLocalTests", jobs.ValidateJob(client))
	require.NoError(t, err)

	jobFor := func(kind, key string, id int64) int64 {
		var jid int64
		require.NoError(t, st.Pool().QueryRow(ctx, `SELECT id FROM river_job WHERE kind = $1 AND args->>'`+key+`' = $2 ORDER BY id DESC LIMIT 1`, kind, fmt.Sprint(id)).Scan(&jid))
		return jid
	}
	_, err = client.JobCancel(ctx, jobFor("deploy", "deployment_id", dep.ID)) // as the jobs UI does
	require.NoError(t, err)
	_, err = st.Pool().Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now(),
		errors = ARRAY[jsonb_build_object('at', now(), 'attempt', 5, 'error', 'org unreachable', 'trace', '')] WHERE id = $1`, jobFor("validate", "validation_id", v.ID))
	require.NoError(t, err)

	c.advance(10 * time.Minute)
	got, err := jobs.Reconcile(ctx, jobs.Deps{Store: st}, client, jobs.StaleAfter)
	require.NoError(t, err)
	require.Equal(t, 1, got.Requeued, "%+v", got)
	require.Equal(t, 2, got.Settled, "%+v", got)

	jobFor("snapshot", "snapshot_id", lost.ID) // queued again
	d, err := st.DeploymentByID(ctx, dep.ID)
	require.NoError(t, err)
	require.Equal(t, "canceled", d.Status)
	require.Contains(t, d.Error, "Its job was cancelled")
	pr, err := st.PromotionByID(ctx, promo.ID)
	require.NoError(t, err)
	require.True(t, pr.Status.Allows(alm.ActRetry) || pr.Status.Allows(alm.ActDeploy), "the promotion offers deploying again: %s", pr.Status)
	vv, err := st.ValidationByID(ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, "error", vv.Status)
	require.Contains(t, vv.Error, "org unreachable")

	// Nothing is left to do, and a second pass changes nothing.
	again, err := jobs.Reconcile(ctx, jobs.Deps{Store: st}, client, jobs.StaleAfter)
	require.NoError(t, err)
	require.Equal(t, jobs.Reconciled{}, again)
	var n int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'snapshot' AND args->>'snapshot_id' = $1`, fmt.Sprint(lost.ID)).Scan(&n))
	require.Equal(t, 1, n, "re-queued once, not twice")
}
