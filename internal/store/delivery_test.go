package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
)

// TestRequirementFollowsDelivery: a requirement goes In delivery when the
// first of its work items starts and Delivered when all of them are done,
// with timeline entries saying why; a work item taken back out of Done
// takes it back into delivery. Draft requirements are left alone.
func TestRequirementFollowsDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.project(t, "DLV")
	r := b.requirement(t, p, "Renewals", "Renewal dates shown")
	draft := b.requirement(t, p, "Someday")
	_, err := b.store.Pool().Exec(b.ctx, `UPDATE requirements SET status = 'accepted' WHERE id = $1`, r.ID)
	require.NoError(t, err)
	one := b.item(t, p, "Renewal field", r.Key, draft.Key)
	two := b.item(t, p, "Renewal flow", r.Key)
	rel, err := b.store.CreateRelease(b.ctx, p.ID, alm.ReleaseInput{Name: "Spring"})
	require.NoError(t, err)
	for _, w := range []alm.WorkItem{one, two} {
		_, err := b.store.SetWorkItemRelease(b.ctx, w.Key, &rel.ID)
		require.NoError(t, err)
	}
	status := func(key string) alm.ReqStatus {
		got, err := b.store.RequirementByKey(b.ctx, key)
		require.NoError(t, err)
		return got.Status
	}
	move := func(w alm.WorkItem, path ...alm.WorkStatus) {
		for _, to := range path {
			_, err := b.store.MoveWorkItem(b.ctx, w.Key, to, "")
			require.NoError(t, err)
		}
	}
	move(one, alm.WorkReady)
	require.Equal(t, alm.ReqAccepted, status(r.Key), "ready is not started")
	move(one, alm.WorkInProgress)
	require.Equal(t, alm.ReqInDelivery, status(r.Key))
	require.Equal(t, alm.ReqDraft, status(draft.Key), "a draft is left alone")
	all := []alm.WorkStatus{alm.WorkReady, alm.WorkInProgress, alm.WorkInReview, alm.WorkReadyToPromote, alm.WorkInRelease, alm.WorkDone}
	move(one, all[2:]...)
	require.Equal(t, alm.ReqInDelivery, status(r.Key), "one of two done")
	move(two, all...)
	require.Equal(t, alm.ReqDelivered, status(r.Key))
	events, err := b.store.Timeline(b.ctx, "requirement", r.ID, 20)
	require.NoError(t, err)
	var summaries []string
	for _, e := range events {
		summaries = append(summaries, e.Summary)
	}
	require.Contains(t, summaries, "delivered: 2 work items done in the last stage ("+two.Key+" moved to Done)")
	require.Contains(t, summaries, "moved to In delivery: "+one.Key+" moved to In progress")
	move(two, alm.WorkInRelease)
	require.Equal(t, alm.ReqInDelivery, status(r.Key), "taken back out of Done")
}
