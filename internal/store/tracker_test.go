package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// TestTrackerLinkLease: one sync of a link at a time; a second worker is
// told the link is busy; a lease whose worker died lapses; a change a
// tracker sync makes is not sent back to it.
func TestTrackerLinkLease(t *testing.T) {
	b := setup(t)
	p, err := b.store.CreateProject(b.ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	require.NoError(t, err)
	it, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Tiers"})
	require.NoError(t, err)
	c, err := b.store.SaveTrackerConnection(b.ctx, alm.TrackerConnection{ProjectID: p.ID, Kind: "github", BaseURL: "https://api.github.com", Scope: "acme/crm", ImportAs: "work_item"}, "sealed-token", "sealed-secret")
	require.NoError(t, err)
	l, err := b.store.CreateTrackerLink(b.ctx, c.ID, "work_item", it.ID, "7", "https://github.com/acme/crm/issues/7", "GitHub Issues #7")
	require.NoError(t, err)
	_, err = b.store.CreateTrackerLink(b.ctx, c.ID, "work_item", it.ID, "8", "", "GitHub Issues #8")
	require.Equal(t, alm.CodeInvalid, alm.ErrorCode(err), "one issue per record")

	ran := 0
	require.NoError(t, b.store.WithLinkLock(b.ctx, l.ID, 1, func(ctx context.Context) error {
		ran++
		err := b.store.WithLinkLock(ctx, l.ID, 2, func(context.Context) error { ran++; return nil })
		require.True(t, errors.Is(err, store.ErrLinkBusy), "%v", err)
		return nil
	}))
	require.Equal(t, 1, ran)
	require.NoError(t, b.store.WithLinkLock(b.ctx, l.ID, 1, func(context.Context) error { ran++; return nil }), "released after")
	require.Equal(t, 2, ran)

	// A worker that died holding the lease: it lapses after five minutes.
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE tracker_links SET lease_until = $2, lease_owner = 9 WHERE id = $1`, l.ID, b.clock.now().Add(5*time.Minute))
	require.NoError(t, err)
	require.ErrorIs(t, b.store.WithLinkLock(b.ctx, l.ID, 1, func(context.Context) error { return nil }), store.ErrLinkBusy)
	require.NoError(t, b.store.WithLinkLock(b.ctx, l.ID, 9, func(context.Context) error { ran++; return nil }), "the same job, rescued, takes it back")
	ran--
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE tracker_links SET lease_until = $2, lease_owner = 9 WHERE id = $1`, l.ID, b.clock.now().Add(5*time.Minute))
	require.NoError(t, err)
	b.clock.advance(6 * time.Minute)
	require.NoError(t, b.store.WithLinkLock(b.ctx, l.ID, 1, func(context.Context) error { ran++; return nil }))
	require.Equal(t, 3, ran)

	// No echo: the tracker's own change is not dispatched back; a
	// person's is, to the link's sync.
	drain := func(context.Context, pgx.Tx, store.TrackerEvent) error { return nil }
	_, err = b.store.DispatchTrackerEvents(b.ctx, 100, func(string, string) bool { return false }, drain) // the link's own event
	require.NoError(t, err)
	title := "Tiers (from GitHub)"
	require.NoError(t, b.store.ApplyTrackerChange(b.ctx, "work_item", it.ID, "GitHub Issues", store.TrackerChange{Title: &title}))
	var seen []store.TrackerEvent
	_, err = b.store.DispatchTrackerEvents(b.ctx, 100, func(string, string) bool { return false }, func(_ context.Context, _ pgx.Tx, e store.TrackerEvent) error {
		seen = append(seen, e)
		return nil
	})
	require.NoError(t, err)
	require.Empty(t, seen, "the tracker's change is not sent back")
	got, err := b.store.WorkItemByKey(b.ctx, it.Key)
	require.NoError(t, err)
	_, err = b.store.UpdateWorkItem(b.ctx, it.Key, got.Version, alm.WorkItemInput{Kind: got.Kind, Title: "Tiers (from Trellis)"})
	require.NoError(t, err)
	_, err = b.store.DispatchTrackerEvents(b.ctx, 100, func(string, string) bool { return false }, func(_ context.Context, _ pgx.Tx, e store.TrackerEvent) error {
		seen = append(seen, e)
		return nil
	})
	require.NoError(t, err)
	require.Len(t, seen, 1)
	require.Equal(t, []int64{l.ID}, seen[0].Links)
}
