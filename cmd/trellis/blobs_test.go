package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trellis-alm/trellis/internal/blobstore/blobtest"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// TestBlobsCommand moves a database's snapshot content to a real S3 server
// and back with `trellis blobs migrate`, collects with `trellis blobs gc`,
// and checks the usage mistakes and a server start against a bucket that
// does not exist.
func TestBlobsCommand(t *testing.T) {
	t.Parallel()
	srv := blobtest.Shared(t)
	s3 := srv.Bucket(t, "cli", "trellis")
	env := dbEnv(t)
	blobEnv := func(url string) map[string]string {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		e["TRELLIS_BLOB_URL"], e["AWS_ENDPOINT_URL_S3"], e["AWS_REGION"] = url, s3.Endpoint, s3.Region
		e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"] = s3.AccessKey, s3.SecretKey
		return e
	}
	withBlobs := blobEnv(s3.URL)

	// Content in PostgreSQL: one snapshot of 30 components, 10 loose blobs.
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool, nil)
	var m snapshot.Manifest
	var blobs []store.Blob
	for i := range 40 {
		data := []byte(fmt.Sprintf("<ApexClass>%d</ApexClass>", i))
		h := sha256.Sum256(data)
		blobs = append(blobs, store.Blob{Hash: hex.EncodeToString(h[:]), Data: data})
		if i < 30 {
			m = append(m, snapshot.Entry{Type: "ApexClass", Name: fmt.Sprint("C", i), Hash: blobs[i].Hash})
		}
	}
	m.Sort()
	sn, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutNewBlobs(ctx, blobs); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishSnapshot(ctx, sn.ID, m, 0, nil); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{env, []string{"blobs", "migrate", "--to", "s3"}, "TRELLIS_BLOB_URL"},
		{withBlobs, []string{"blobs", "migrate", "--to", "glacier"}, "use s3 or db"},
		{withBlobs, []string{"blobs", "shred"}, "migrate, gc"},
		{withBlobs, []string{"blobs", "gc", "--grace", "-1h"}, "negative"},
	} {
		if r := runCLI(t, c.env, "", c.args...); exitCode(r.e) != 2 || !strings.Contains(r.e.Error(), c.want) {
			t.Errorf("%v: exit %d (%v), want a usage error saying %q", c.args, exitCode(r.e), r.e, c.want)
		}
	}
	bad := blobEnv("s3://no-such-bucket/x")
	if r := runCLI(t, bad, "", "blobs", "gc"); r.e == nil || !strings.Contains(r.e.Error(), "no-such-bucket") {
		t.Errorf("gc with a missing bucket: %v, want it named", r.e)
	}
	bad["TRELLIS_ADDR"] = "127.0.0.1:0"
	if r := runCLI(t, bad, "", "serve"); r.e == nil || !strings.Contains(r.e.Error(), "TRELLIS_BLOB_URL") {
		t.Errorf("serve with a missing bucket: %v, want it to stop naming TRELLIS_BLOB_URL", r.e)
	}

	r := runCLI(t, withBlobs, "", "blobs", "migrate", "--to", "s3", "--json")
	var moved store.MoveReport
	if r.e != nil || json.Unmarshal([]byte(r.out), &moved) != nil || moved.Blobs != 40 {
		t.Fatalf("migrate to s3: %v %s %s", r.e, r.out, r.err)
	}
	var inDB int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM blobs WHERE data IS NOT NULL`).Scan(&inDB); err != nil || inDB != 0 {
		t.Fatalf("%d blobs still in PostgreSQL (%v)", inDB, err)
	}
	objects := store.New(pool, nil)
	o := openTestObjects(t, withBlobs)
	objects.UseObjects(o)
	for _, b := range blobs {
		got, err := objects.BlobData(ctx, b.Hash)
		if err != nil || string(got) != string(b.Data) {
			t.Fatalf("blob %s after the move: %q %v", b.Hash, got, err)
		}
	}

	// Two collections: the 10 loose blobs are found, then deleted.
	var gc store.GCReport
	for i := range 2 {
		r = runCLI(t, withBlobs, "", "blobs", "gc", "--grace", "0s", "--json")
		if r.e != nil || json.Unmarshal([]byte(r.out), &gc) != nil {
			t.Fatalf("gc %d: %v %s", i, r.e, r.out)
		}
	}
	if gc.Deleted != 10 || gc.Referenced != 30 {
		t.Fatalf("gc: %+v, want 10 deleted and 30 kept", gc)
	}
	r = runCLI(t, withBlobs, "", "blobs", "migrate", "--to", "db")
	if r.e != nil || !strings.Contains(r.out, "moved 30 blobs") {
		t.Fatalf("migrate to db: %v %q %s", r.e, r.out, r.err)
	}
	got, err := store.New(pool, nil).SnapshotManifest(ctx, sn.ID)
	if err != nil || len(got) != 30 {
		t.Fatal(err)
	}
	for _, e := range got {
		if _, err := store.New(pool, nil).BlobData(ctx, e.Hash); err != nil {
			t.Fatalf("%s back in PostgreSQL: %v", e.Name, err)
		}
	}
}

func openTestObjects(t *testing.T, env map[string]string) store.Objects {
	t.Helper()
	cfg, err := parseConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStore(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.ObjectStore()
}
