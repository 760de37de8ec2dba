package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sort"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/trellis-alm/trellis/internal/blobstore"
	"github.com/trellis-alm/trellis/internal/blobstore/blobtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	blobtest.StopShared()
	os.Exit(code)
}

// store opens a store in bucket under prefix on the package's S3 server.
func store(t *testing.T, bucket, prefix string) *blobstore.S3 {
	t.Helper()
	s, err := blobstore.Open(blobtest.Shared(t).Bucket(t, bucket, prefix))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpenRefusesBadAddresses(t *testing.T) {
	for _, s := range []blobstore.Settings{
		{URL: "bucket/prefix"},
		{URL: "https://bucket/prefix"},
		{URL: "s3:///prefix"},
		{URL: "s3://bucket/p", Endpoint: "ftp://host"},
		{URL: "s3://bucket/p", Endpoint: "not a url"},
	} {
		if _, err := blobstore.Open(s); err == nil {
			t.Errorf("%+v was accepted", s)
		}
	}
	if _, err := blobstore.Open(blobstore.Settings{URL: "s3://bucket/a/b/", Region: "eu-west-1"}); err != nil {
		t.Errorf("an AWS bucket: %v", err)
	}
}

func TestPutGetListDelete(t *testing.T) {
	ctx := context.Background()
	s := store(t, "roundtrip", "trellis/")
	other := store(t, "roundtrip", "elsewhere")
	data := bytes.Repeat([]byte("component content "), 1000)
	if err := s.Put(ctx, "blobs/ab/abc", data); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "blobs/ab/abc", data); err != nil {
		t.Fatalf("writing the same content again: %v", err)
	}
	if err := s.Put(ctx, "artifacts/x", []byte("zip")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "blobs/ab/abc")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := other.Get(ctx, "blobs/ab/abc"); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("another prefix sees the blob: %v", err)
	}
	var keys []string
	if err := s.List(ctx, "", func(o blobstore.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	if len(keys) != 2 || keys[0] != "artifacts/x" || keys[1] != "blobs/ab/abc" {
		t.Errorf("listed %v", keys)
	}
	if err := s.Delete(ctx, "blobs/ab/abc", "never/there"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "blobs/ab/abc"); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("a deleted blob reads as %v", err)
	}
}

// TestCorruptObjectsAreRefused overwrites an object behind the store's back,
// as a faulty disk or a hand edit would, and expects an error, not content.
func TestCorruptObjectsAreRefused(t *testing.T) {
	ctx := context.Background()
	s := store(t, "corrupt", "p")
	if err := s.Put(ctx, "k", []byte("the real content")); err != nil {
		t.Fatal(err)
	}
	c := blobtest.Shared(t).Client(t)
	for name, opts := range map[string]minio.PutObjectOptions{
		"other bytes, old checksum": {UserMetadata: map[string]string{"Sha256": blobstore.Sum([]byte("the real content"))}},
		"no checksum":               {},
	} {
		bad := []byte("tampered content")
		if _, err := c.PutObject(ctx, "corrupt", "p/k", bytes.NewReader(bad), int64(len(bad)), opts); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "k"); !errors.Is(err, blobstore.ErrCorrupt) {
			t.Errorf("%s: read as %v", name, err)
		}
	}
}
