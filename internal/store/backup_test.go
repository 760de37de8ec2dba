package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// TestPruneBackupsKeepsChainsReadable takes forty daily backups stored as
// deltas, applies a 7-day / 2-week policy, and checks that what is left is
// what the policy keeps, that every kept snapshot still reads back exactly
// (deltas on pruned bases were rewritten), and that a snapshot a capture
// uses survives.
func TestPruneBackupsKeepsChainsReadable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	org, err := b.store.CreateOrg(b.ctx, alm.NewOrg{Name: "Prod", Kind: alm.OrgProduction, LoginURL: "https://login.salesforce.com"},
		store.OrgAuth{AuthKind: "jwt"}, func(int64) (string, error) { return "", nil })
	require.NoError(t, err)
	p, err := b.store.BackupPolicy(b.ctx, org.ID)
	require.NoError(t, err)
	require.True(t, p.Enabled)
	require.Equal(t, 24, p.EveryHours)
	p.KeepDaily, p.KeepWeekly = 7, 2
	_, err = b.store.SaveBackupPolicy(b.ctx, p)
	require.NoError(t, err)
	p.EveryHours = 0
	_, err = b.store.SaveBackupPolicy(b.ctx, p)
	require.Equal(t, alm.CodeInvalid, alm.ErrorCode(err))

	var ids []int64
	want := map[int64]snapshot.Manifest{}
	var m snapshot.Manifest
	for day := range 40 {
		m = append(m, snapshot.Entry{Type: "CustomField", Name: fmt.Sprintf("Account.F%02d__c", day), Hash: fmt.Sprintf("h%02d", day)})
		m.Sort()
		sn, err := b.store.CreateBackupSnapshot(b.ctx, org.ID, nil)
		require.NoError(t, err)
		require.NoError(t, b.store.FinishSnapshot(b.ctx, sn.ID, append(snapshot.Manifest(nil), m...), 0, nil))
		ids = append(ids, sn.ID)
		want[sn.ID] = append(snapshot.Manifest(nil), m...)
		b.clock.advance(24 * time.Hour)
	}
	// A developer captured from day 3's backup: it must stay.
	pr, err := b.store.CreateProject(b.ctx, alm.NewProject{Key: "OPS", Name: "Ops"})
	require.NoError(t, err)
	it, err := b.store.CreateWorkItem(b.ctx, pr.ID, alm.WorkItemInput{Title: "Keep"})
	require.NoError(t, err)
	_, err = b.store.PutBlobs(b.ctx, []store.Blob{{Hash: "h03", Data: []byte("x")}})
	require.NoError(t, err)
	require.NoError(t, b.store.CaptureComponents(b.ctx, it.Key, ids[2], ids[3], []store.Capture{{Type: "CustomField", Name: "Account.F03__c", Change: "new", Hash: "h03"}}))

	removed, err := b.store.PruneBackups(b.ctx, org.ID)
	require.NoError(t, err)
	left, err := b.store.Backups(b.ctx, org.ID, 100)
	require.NoError(t, err)
	require.Equal(t, 40-removed, len(left))
	kept := map[int64]bool{}
	for _, x := range left {
		kept[x.ID] = true
		got, err := b.store.SnapshotManifest(b.ctx, x.ID)
		require.NoError(t, err, "snapshot %d reads back", x.ID)
		require.Equal(t, want[x.ID], got, "snapshot %d", x.ID)
	}
	require.True(t, kept[ids[39]], "the newest")
	for d := 33; d <= 39; d++ {
		require.True(t, kept[ids[d]], "daily: day %d", d)
	}
	require.True(t, kept[ids[3]] && kept[ids[2]], "pinned by a capture")
	require.False(t, kept[ids[10]], "older than two weeks")
	require.Less(t, len(left), 16, "at most 7 daily, 2 or 3 weekly, 2 pinned and the newest: %d", len(left))

	// Pruning again changes nothing.
	again, err := b.store.PruneBackups(b.ctx, org.ID)
	require.NoError(t, err)
	require.Zero(t, again)
}
