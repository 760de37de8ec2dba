package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// fieldXML is a custom field's metadata as an org returns it, varied by
// name and version so that content compresses like the real thing.
func fieldXML(name string, version int) []byte {
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>%s</fullName>
    <description>Tracks %s for reporting (revision %d).</description>
    <externalId>false</externalId>
    <inlineHelpText>Set by the %s integration; see the runbook before editing.</inlineHelpText>
    <label>%s</label>
    <length>%d</length>
    <required>false</required>
    <trackHistory>%t</trackHistory>
    <type>Text</type>
    <unique>false</unique>
</CustomField>
`, name, name, version, name, name, 80+version%50, version%2 == 0)
}

// orgDay builds an org's components for one day: n components, of which
// the ones changed by day d carry a newer version.
type orgSim struct {
	version map[string]int
	names   []string
}

func newOrgSim(n int) *orgSim {
	o := &orgSim{version: map[string]int{}}
	for i := range n {
		name := fmt.Sprintf("Account.Field_%05d__c", i)
		o.names = append(o.names, name)
		o.version[name] = 1
	}
	return o
}

func (o *orgSim) change(frac float64, r *rand.Rand) {
	for range int(float64(len(o.names)) * frac) {
		o.version[o.names[r.IntN(len(o.names))]]++
	}
}

func (o *orgSim) snapshot() (snapshot.Manifest, []store.Blob) {
	var m snapshot.Manifest
	var blobs []store.Blob
	for _, name := range o.names {
		data := fieldXML(name, o.version[name])
		h := sha256.Sum256(data)
		hash := hex.EncodeToString(h[:])
		m = append(m, snapshot.Entry{Type: "CustomField", Name: name, Hash: hash})
		blobs = append(blobs, store.Blob{Hash: hash, Data: data})
	}
	m.Sort()
	return m, blobs
}

func TestDailySnapshotsShareStorage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := rand.New(rand.NewPCG(7, 8))
	o := newOrgSim(3000)
	var firstFull int64
	var ids []int64
	var manifests []snapshot.Manifest
	for day := range 30 {
		if day > 0 {
			o.change(.01, r)
		}
		m, blobs := o.snapshot()
		sn, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "main", Label: fmt.Sprint("day ", day)})
		require.NoError(t, err)
		var hashes []string
		for _, bl := range blobs {
			hashes = append(hashes, bl.Hash)
		}
		missing, err := b.store.MissingBlobs(b.ctx, hashes)
		require.NoError(t, err)
		var fresh []store.Blob
		for _, bl := range blobs {
			if missing[bl.Hash] {
				fresh = append(fresh, bl)
			}
		}
		added, err := b.store.PutBlobs(b.ctx, fresh)
		require.NoError(t, err)
		require.NoError(t, b.store.FinishSnapshot(b.ctx, sn.ID, m, added, nil))
		if day == 0 {
			use, err := b.store.SnapshotStorage(b.ctx)
			require.NoError(t, err)
			firstFull = use.BlobBytes + use.ManifestBytes
		}
		ids, manifests = append(ids, sn.ID), append(manifests, m)
	}
	use, err := b.store.SnapshotStorage(b.ctx)
	require.NoError(t, err)
	total := use.BlobBytes + use.ManifestBytes
	t.Logf("one snapshot %d bytes, thirty %d bytes (%.2f×)", firstFull, total, float64(total)/float64(firstFull))
	require.LessOrEqual(t, float64(total), 1.5*float64(firstFull))

	// Every snapshot reads back as it was written, through its delta chain.
	for _, i := range []int{0, 9, 10, 11, 29} {
		got, err := b.store.SnapshotManifest(b.ctx, ids[i])
		require.NoError(t, err)
		require.Equal(t, manifests[i], got, "snapshot of day %d", i)
	}
	res := snapshot.Compare(manifests[0], manifests[29])
	require.Positive(t, res.Totals.Changed)
	data, err := b.store.BlobData(b.ctx, manifests[29][0].Hash)
	require.NoError(t, err)
	require.Contains(t, string(data), "<CustomField")

	sn, err := b.store.SnapshotByID(b.ctx, ids[29])
	require.NoError(t, err)
	require.Equal(t, alm.SnapDone, sn.Status)
	require.Equal(t, 3000, sn.Components)
	require.Error(t, b.store.FinishSnapshot(b.ctx, ids[29], manifests[29], 0, nil), "a finished snapshot stays as it is")

	running, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "main"})
	require.NoError(t, err)
	_, err = b.store.SnapshotManifest(b.ctx, running.ID)
	require.Equal(t, alm.CodeConflict, alm.ErrorCode(err))
	require.NoError(t, b.store.EndSnapshot(b.ctx, running.ID, alm.SnapFailed, "INVALID_SESSION_ID: Session expired"))
	failed, err := b.store.SnapshotByID(b.ctx, running.ID)
	require.NoError(t, err)
	require.Equal(t, alm.SnapFailed, failed.Status)
	require.Contains(t, failed.Error, "Session expired")
}
