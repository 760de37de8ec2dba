package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/promote"
)

// TestCancelADeploy cancels one deploy before it reaches the org and one
// while the org runs it; both end canceled with a way out (retry).
func TestCancelADeploy(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"uat", "prod"}})
	f := newReleaseFixture(t, b, `{"stages":[{"name":"UAT","org_id":$UAT,"approvals_required":0,"approver_roles":[],"test_level":"NoTestRun"}]}`)
	admin := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
	ctx := alm.WithActor(b.ctx, alm.Actor{UserID: &admin.ID, Label: admin.Email})
	svc := promote.New(b.store, nil)
	p, err := svc.Open(ctx, f.build.ID, "UAT")
	require.NoError(t, err)

	// Before it is sent: nothing reaches the org.
	d, err := svc.Deploy(ctx, admin, admin.Role, p.ID, false, "")
	require.NoError(t, err)
	_, err = b.store.RequestCancel(ctx, d.ID)
	require.NoError(t, err)
	require.NoError(t, jobs.RunDeployment(b.ctx, b.jobDeps, d.ID))
	d, _ = b.store.DeploymentByID(b.ctx, d.ID)
	require.Equal(t, "canceled", d.Status)
	require.Empty(t, d.DeployID)
	require.Equal(t, 0, b.sim.Org("uat").DeployCount(false))
	p, _ = b.store.PromotionByID(b.ctx, p.ID)
	require.Equal(t, alm.PromoCanceled, p.Status)
	require.True(t, p.Status.Allows(alm.ActRetry))

	// While the org runs it: the org is asked to cancel.
	d, err = svc.Deploy(ctx, admin, admin.Role, p.ID, false, "")
	require.NoError(t, err, "retry after a cancel")
	done := make(chan error, 1)
	go func() { done <- jobs.RunDeployment(context.WithoutCancel(b.ctx), b.jobDeps, d.ID) }()
	require.Eventually(t, func() bool {
		x, _ := b.store.DeploymentByID(b.ctx, d.ID)
		return x.DeployID != ""
	}, 30*time.Second, 2*time.Millisecond)
	_, err = b.store.RequestCancel(ctx, d.ID)
	require.NoError(t, err)
	require.NoError(t, <-done)
	d, _ = b.store.DeploymentByID(b.ctx, d.ID)
	require.Contains(t, []string{"canceled", "succeeded"}, d.Status, "the org cancels unless it had already finished")
	p, _ = b.store.PromotionByID(b.ctx, p.ID)
	if d.Status == "canceled" {
		require.Equal(t, alm.PromoCanceled, p.Status)
	}
	require.Equal(t, 1, b.sim.Org("uat").DeployCount(false))
}

// TestDeployGivesUpAfterTheLastAttempt: an org that stays unreachable
// leaves the deployment running for River's next attempt, until the last
// one, which records why it stopped so the promotion can be retried.
func TestDeployGivesUpAfterTheLastAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"uat", "prod"}})
	f := newReleaseFixture(t, b, `{"stages":[{"name":"UAT","org_id":$UAT,"approvals_required":0,"approver_roles":[],"test_level":"NoTestRun"}]}`)
	admin := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
	ctx := alm.WithActor(b.ctx, alm.Actor{UserID: &admin.ID, Label: admin.Email})
	svc := promote.New(b.store, nil)
	p, err := svc.Open(ctx, f.build.ID, "UAT")
	require.NoError(t, err)
	d, err := svc.Deploy(ctx, admin, admin.Role, p.ID, false, "")
	require.NoError(t, err)
	b.sim.Org("uat").SetFaults(orgsim.Faults{FailNext: 100000})
	max := jobs.DeployArgs{}.InsertOpts().MaxAttempts
	require.Error(t, jobs.RunDeploymentAttempt(b.ctx, b.jobDeps, d.ID, max-1))
	d, _ = b.store.DeploymentByID(b.ctx, d.ID)
	require.Nil(t, d.Finished, "not the last attempt: River tries again")
	require.Error(t, jobs.RunDeploymentAttempt(b.ctx, b.jobDeps, d.ID, max))
	d, _ = b.store.DeploymentByID(b.ctx, d.ID)
	require.Equal(t, "failed", d.Status)
	p, _ = b.store.PromotionByID(b.ctx, p.ID)
	require.Equal(t, alm.PromoFailed, p.Status)
	require.True(t, p.Status.Allows(alm.ActRetry))
}
