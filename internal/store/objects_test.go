package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/blobstore"
	"github.com/trellis-alm/trellis/internal/blobstore/blobtest"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// objectStore gives the test its own bucket on the package's S3 server.
func objectStore(t *testing.T) (*blobstore.S3, string) {
	t.Helper()
	bucket := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(bucket) > 50 {
		bucket = bucket[len(bucket)-50:]
	}
	bucket = "t-" + strings.Trim(bucket, "-")
	o, err := blobstore.Open(blobtest.Shared(t).Bucket(t, bucket, "trellis"))
	require.NoError(t, err)
	return o, bucket
}

// keys lists the object keys under prefix, relative to the store.
func keys(t *testing.T, o *blobstore.S3, prefix string) []string {
	t.Helper()
	var out []string
	require.NoError(t, o.List(context.Background(), prefix, func(ob blobstore.Object) error {
		out = append(out, ob.Key)
		return nil
	}))
	return out
}

func blobOf(content string) store.Blob {
	h := sha256.Sum256([]byte(content))
	return store.Blob{Hash: hex.EncodeToString(h[:]), Data: []byte(content)}
}

// contentFixture is a release build, an org with a data backup run, and a
// few blobs: one of each kind of content that can move.
type contentFixture struct {
	build  alm.Build
	run    int64
	blobs  []store.Blob
	zip    []byte
	chunks [][]byte
}

func (b *testBundle) content(t *testing.T, blobs int) contentFixture {
	t.Helper()
	var f contentFixture
	for i := range blobs {
		f.blobs = append(f.blobs, blobOf(fmt.Sprintf("<CustomField><fullName>F%05d__c</fullName></CustomField>", i)))
	}
	if blobs > 0 {
		// A snapshot refers to them, so collections keep them.
		sn, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "fixture"})
		require.NoError(t, err)
		_, err = b.store.PutNewBlobs(b.ctx, f.blobs)
		require.NoError(t, err)
		var m snapshot.Manifest
		for i, bl := range f.blobs {
			m = append(m, snapshot.Entry{Type: "CustomField", Name: fmt.Sprintf("Account.F%05d__c", i), Hash: bl.Hash})
		}
		m.Sort()
		require.NoError(t, b.store.FinishSnapshot(b.ctx, sn.ID, m, 0, nil))
	}
	p := b.project(t, fmt.Sprintf("OBJ%d", rand.IntN(1e6)))
	rel, err := b.store.CreateRelease(b.ctx, p.ID, alm.ReleaseInput{Name: "Spring"})
	require.NoError(t, err)
	f.zip = bytes.Repeat([]byte("PK zip bytes "), 5000)
	comp := alm.BuildComponent{Type: "CustomField", Name: "Account.F00000__c", Change: "changed"}
	if blobs > 0 {
		comp.Hash = f.blobs[0].Hash
	}
	f.build, err = b.store.CreateBuild(b.ctx, store.NewBuild{ReleaseID: rel.ID, APIVersion: "62.0", Checksum: strings.Repeat("ab", 32), Artifact: f.zip,
		Components: []alm.BuildComponent{comp}})
	require.NoError(t, err)
	org, err := b.store.CreateOrg(b.ctx, alm.NewOrg{Name: fmt.Sprintf("Prod %d", rand.IntN(1e6)), Kind: alm.OrgProduction, LoginURL: "https://login.salesforce.com"},
		store.OrgAuth{AuthKind: "jwt"}, func(int64) (string, error) { return "", nil })
	require.NoError(t, err)
	run, err := b.store.CreateDataBackupRun(b.ctx, org.ID, nil)
	require.NoError(t, err)
	f.run = run.ID
	for seq := range 3 {
		chunk := []byte(fmt.Sprintf("Id,Name\n001%012d,Acme %d\n", seq, seq))
		f.chunks = append(f.chunks, chunk)
		require.NoError(t, b.store.PutDataChunk(b.ctx, run.ID, "Account", seq, 1, chunk))
	}
	return f
}

// check reads every piece back.
func (f contentFixture) check(t *testing.T, b *testBundle) {
	t.Helper()
	for _, bl := range f.blobs {
		got, err := b.store.BlobData(b.ctx, bl.Hash)
		require.NoError(t, err)
		require.Equal(t, bl.Data, got)
	}
	z, err := b.store.BuildArtifact(b.ctx, f.build.ID)
	require.NoError(t, err)
	require.Equal(t, f.zip, z)
	var got [][]byte
	require.NoError(t, b.store.DataChunks(b.ctx, []int64{f.run}, "Account", func(_ int64, d []byte) error {
		got = append(got, d)
		return nil
	}))
	require.Equal(t, f.chunks, got)
}

// inPostgres counts content whose bytes PostgreSQL holds.
func (b *testBundle) inPostgres(t *testing.T) (blobs, artifacts, chunks int) {
	t.Helper()
	require.NoError(t, b.store.Pool().QueryRow(b.ctx, `SELECT (SELECT count(*) FROM blobs WHERE data IS NOT NULL),
		(SELECT count(*) FROM release_builds WHERE artifact IS NOT NULL), (SELECT count(*) FROM data_backup_chunks WHERE data IS NOT NULL)`).Scan(&blobs, &artifacts, &chunks))
	return
}

// TestObjectStorageHoldsContent stores each kind of content with an
// object store configured: PostgreSQL keeps the rows and no bytes, the
// bucket holds content-addressed objects, everything reads back, and a
// damaged or missing object is an error, never content.
func TestObjectStorageHoldsContent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, bucket := objectStore(t)
	b.store.UseObjects(o)
	f := b.content(t, 20)
	f.check(t, b)
	blobs, arts, chunks := b.inPostgres(t)
	require.Zero(t, blobs+arts+chunks, "no bytes in PostgreSQL")
	require.Len(t, keys(t, o, "blobs/"), 20)
	require.Equal(t, []string{"artifacts/" + blobstore.Sum(f.zip)}, keys(t, o, "artifacts/"))
	require.Len(t, keys(t, o, "data/"), 3)
	require.Contains(t, keys(t, o, "blobs/"), "blobs/"+f.blobs[0].Hash[:2]+"/"+f.blobs[0].Hash)

	use, err := b.store.SnapshotStorage(b.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 20, use.Blobs)
	require.Positive(t, use.BlobBytes, "object-stored blobs still count")

	// The same content again adds nothing.
	added, err := b.store.PutNewBlobs(b.ctx, f.blobs)
	require.NoError(t, err)
	require.Zero(t, added)

	// Damaged behind Trellis's back: refused.
	raw := blobtest.Shared(t).Client(t)
	key := "trellis/blobs/" + f.blobs[1].Hash[:2] + "/" + f.blobs[1].Hash
	_, err = raw.PutObject(b.ctx, bucket, key, strings.NewReader("garbage"), 7, minio.PutObjectOptions{UserMetadata: map[string]string{"Sha256": blobstore.Sum([]byte("gzip of the real thing"))}})
	require.NoError(t, err)
	_, err = b.store.BlobData(b.ctx, f.blobs[1].Hash)
	require.ErrorContains(t, err, "damaged")
	require.NoError(t, raw.RemoveObject(b.ctx, bucket, key, minio.RemoveObjectOptions{}))
	_, err = b.store.BlobData(b.ctx, f.blobs[1].Hash)
	require.ErrorContains(t, err, "missing")

	// A process without the object store says what it lacks.
	other := store.New(b.store.Pool(), nil)
	_, err = other.BuildArtifact(b.ctx, f.build.ID)
	require.ErrorContains(t, err, "TRELLIS_BLOB_URL")
}

// TestMoveContentBothWays fills PostgreSQL, moves everything to the object
// store with a stop half way (then again to finish), and back, reading
// everything after each step.
func TestMoveContentBothWays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o, _ := objectStore(t)
	f := b.content(t, 1200)
	f.check(t, b)
	b.store.UseObjects(o)

	ctx, cancel := context.WithCancel(b.ctx)
	batches := 0
	_, err := b.store.MoveContent(ctx, store.ToObjects, func(store.MoveReport) {
		if batches++; batches == 1 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	blobs, _, _ := b.inPostgres(t)
	require.Equal(t, 700, blobs, "the first batch of 500 was committed, the rest waits")
	f.check(t, b)

	r, err := b.store.MoveContent(b.ctx, store.ToObjects, nil)
	require.NoError(t, err)
	require.Equal(t, store.MoveReport{Blobs: 700, Artifacts: 1, Chunks: 3, Bytes: r.Bytes}, r)
	blobs, arts, chunks := b.inPostgres(t)
	require.Zero(t, blobs+arts+chunks)
	require.Len(t, keys(t, o, "blobs/"), 1200)
	f.check(t, b)
	r, err = b.store.MoveContent(b.ctx, store.ToObjects, nil)
	require.NoError(t, err)
	require.Equal(t, store.MoveReport{}, r, "nothing left to move")

	r, err = b.store.MoveContent(b.ctx, store.ToPostgres, nil)
	require.NoError(t, err)
	require.Equal(t, 1200, r.Blobs)
	blobs, arts, chunks = b.inPostgres(t)
	require.Equal(t, []int{1200, 1, 3}, []int{blobs, arts, chunks})
	require.Empty(t, keys(t, o, "blobs/"), "blob objects go as their bytes come back")
	f.check(t, b)
	// The artifact and chunk objects are no longer named: two collections
	// (find, then delete) clear them.
	for range 2 {
		b.clock.advance(time.Second)
		_, err = b.store.CollectGarbage(b.ctx, store.GCOptions{})
		require.NoError(t, err)
	}
	require.Empty(t, keys(t, o, "artifacts/"))
	require.Empty(t, keys(t, o, "data/"))
	f.check(t, b)
}

// TestGarbageCollection runs the two phases in both storage modes: what a
// snapshot or a build refers to stays, the rest goes on the second
// collection, and content a snapshot under way relies on survives until
// that snapshot refers to it.
func TestGarbageCollection(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"postgres", "s3"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var o *blobstore.S3
			if mode == "s3" {
				o, _ = objectStore(t)
				b.store.UseObjects(o)
			}
			ctx := b.ctx
			blob := map[int]store.Blob{}
			for i := range 12 {
				blob[i] = blobOf(fmt.Sprintf("content %d", i))
			}
			snap := func(ids ...int) int64 {
				t.Helper()
				sn, err := b.store.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", Ref: "main"})
				require.NoError(t, err)
				var m snapshot.Manifest
				var bl []store.Blob
				for _, i := range ids {
					m = append(m, snapshot.Entry{Type: "ApexClass", Name: fmt.Sprint("C", i), Hash: blob[i].Hash})
					bl = append(bl, blob[i])
				}
				m.Sort()
				_, err = b.store.PutNewBlobs(ctx, bl)
				require.NoError(t, err)
				require.NoError(t, b.store.FinishSnapshot(ctx, sn.ID, m, 0, nil))
				return sn.ID
			}
			gc := func() store.GCReport {
				t.Helper()
				b.clock.advance(time.Second)
				r, err := b.store.CollectGarbage(ctx, store.GCOptions{})
				require.NoError(t, err)
				return r
			}
			readable := func(want bool, ids ...int) {
				t.Helper()
				for _, i := range ids {
					got, err := b.store.BlobData(ctx, blob[i].Hash)
					if want {
						require.NoError(t, err, "blob %d", i)
						require.Equal(t, blob[i].Data, got)
					} else {
						require.Equal(t, alm.CodeNotFound, alm.ErrorCode(err), "blob %d: %v", i, err)
					}
				}
			}

			a := snap(1, 2, 3)
			snap(3, 4)
			f := b.content(t, 0)
			_, err := b.store.PutNewBlobs(ctx, []store.Blob{blob[5], blob[6]})
			require.NoError(t, err)
			_, err = b.store.Pool().Exec(ctx, `UPDATE build_components SET hash = $1 WHERE build_id = $2`, blob[5].Hash, f.build.ID)
			require.NoError(t, err)
			_, err = b.store.Pool().Exec(ctx, `DELETE FROM snapshots WHERE id = $1`, a)
			require.NoError(t, err)

			r := gc()
			require.Equal(t, 3, r.Doomed, "1, 2 and 6: %s", r)
			require.Zero(t, r.Deleted)
			readable(true, 1, 2, 3, 4, 5, 6)
			r = gc()
			require.Equal(t, 3, r.Deleted, "%s", r)
			readable(false, 1, 2, 6)
			readable(true, 3, 4, 5)
			f.check(t, b)
			if o != nil {
				require.Len(t, keys(t, o, "blobs/"), 3)
			}

			// A snapshot under way: blob 7 was doomed before it began and
			// is needed again; blob 8 it found stored and undoomed, and a
			// collection dooms it meanwhile.
			_, err = b.store.PutNewBlobs(ctx, []store.Blob{blob[7], blob[8]})
			require.NoError(t, err)
			require.Equal(t, 2, gc().Doomed)
			_, err = b.store.Pool().Exec(ctx, `UPDATE blobs SET doomed_at = NULL WHERE hash = $1`, blob[8].Hash)
			require.NoError(t, err)
			b.clock.advance(time.Second)
			running, err := b.store.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", Ref: "main"})
			require.NoError(t, err)
			missing, err := b.store.MissingBlobs(ctx, []string{blob[7].Hash, blob[8].Hash, blob[9].Hash})
			require.NoError(t, err)
			require.True(t, missing[blob[9].Hash])
			require.False(t, missing[blob[8].Hash])
			var fresh []store.Blob
			for _, i := range []int{7, 9} {
				if missing[blob[i].Hash] {
					fresh = append(fresh, blob[i])
				}
			}
			_, err = b.store.PutBlobs(ctx, fresh)
			require.NoError(t, err)
			for range 3 {
				r = gc()
				require.Zero(t, r.Deleted, "nothing the running snapshot relies on goes: %s", r)
			}
			m := snapshot.Manifest{{Type: "ApexClass", Name: "C7", Hash: blob[7].Hash}, {Type: "ApexClass", Name: "C8", Hash: blob[8].Hash}, {Type: "ApexClass", Name: "C9", Hash: blob[9].Hash}}
			require.NoError(t, b.store.FinishSnapshot(ctx, running.ID, m, 0, nil))
			r = gc()
			require.Zero(t, r.Deleted)
			require.Positive(t, r.Revived)
			readable(true, 3, 4, 5, 7, 8, 9)

			if o == nil {
				return
			}
			// Objects no row names (a writer died before recording them)
			// are adopted and go.
			for _, k := range []string{"blobs/zz/zzzz", "data/orphan", "artifacts/orphan"} {
				require.NoError(t, o.Put(ctx, k, []byte("left behind")))
			}
			b.clock.t = time.Now().Add(time.Hour) // objects carry the real clock's time
			r = gc()
			require.Equal(t, 3, r.Orphans, "%s", r)
			require.NotContains(t, keys(t, o, ""), "data/orphan")
			require.NotContains(t, keys(t, o, ""), "blobs/zz/zzzz")
			readable(true, 3, 4, 5, 7, 8, 9)
			f.check(t, b)
		})
	}
}

// TestCollectionWhileSnapshotsRun keeps taking snapshots (each sharing
// most content with the one before, old ones removed) while collections
// run back to back, and checks every finished snapshot's content is all
// there.
func TestCollectionWhileSnapshotsRun(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"postgres", "s3"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			st := store.New(b.store.Pool(), nil) // the real clock: two goroutines
			if mode == "s3" {
				o, _ := objectStore(t)
				st.UseObjects(o)
			}
			ctx := b.ctx
			var stop atomic.Bool
			var wg sync.WaitGroup
			var collections, deleted atomic.Int64
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					r, err := st.CollectGarbage(ctx, store.GCOptions{})
					if err != nil {
						t.Error(err)
						return
					}
					collections.Add(1)
					deleted.Add(int64(r.Deleted))
				}
			}()
			rng := rand.New(rand.NewPCG(3, 4))
			version := make([]int, 200)
			var ids []int64
			for round := range 25 {
				sn, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", Ref: "main"})
				require.NoError(t, err)
				for range 20 {
					version[rng.IntN(len(version))]++
				}
				var m snapshot.Manifest
				var bl []store.Blob
				for i, v := range version {
					x := blobOf(fmt.Sprintf("class %d version %d", i, v))
					m = append(m, snapshot.Entry{Type: "ApexClass", Name: fmt.Sprint("C", i), Hash: x.Hash})
					bl = append(bl, x)
				}
				m.Sort()
				_, err = st.PutNewBlobs(ctx, bl)
				require.NoError(t, err)
				time.Sleep(5 * time.Millisecond) // let a collection run mid-snapshot
				require.NoError(t, st.FinishSnapshot(ctx, sn.ID, m, 0, nil))
				ids = append(ids, sn.ID)
				if round >= 3 {
					// Keep three: the oldest goes, its children rebased.
					_, err = st.Pool().Exec(ctx, `UPDATE snapshots SET base_id = NULL, depth = 0, manifest = $2 WHERE base_id = $1`, ids[0], mustFull(t, st, ids[1]))
					require.NoError(t, err)
					_, err = st.Pool().Exec(ctx, `DELETE FROM snapshots WHERE id = $1`, ids[0])
					require.NoError(t, err)
					ids = ids[1:]
				}
			}
			stop.Store(true)
			wg.Wait()
			for _, id := range ids {
				m, err := st.SnapshotManifest(ctx, id)
				require.NoError(t, err)
				for _, e := range m {
					_, err := st.BlobData(ctx, e.Hash)
					require.NoError(t, err, "snapshot %d %s", id, e.Name)
				}
			}
			t.Logf("%s: %d collections ran beside 25 snapshots, %d blobs deleted, none a kept snapshot needs", mode, collections.Load(), deleted.Load())
			require.Positive(t, deleted.Load(), "old content was collected")
		})
	}
}

func mustFull(t *testing.T, st *store.Store, id int64) []byte {
	t.Helper()
	m, err := st.SnapshotManifest(context.Background(), id)
	require.NoError(t, err)
	return snapshot.EncodeFull(m)
}
