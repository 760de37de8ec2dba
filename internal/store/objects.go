package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/blobstore"
)

// Objects is an S3-compatible object store (blobstore.S3) holding the
// content that grows: snapshot blobs, build and rollback artifacts, data
// backup chunks. Without one, PostgreSQL keeps them.
type Objects interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, keys ...string) error
	List(ctx context.Context, prefix string, fn func(blobstore.Object) error) error
	String() string
}

// UseObjects makes new content go to o (set once, before the store is
// used); content already in PostgreSQL stays there until `trellis blobs
// migrate` moves it.
func (s *Store) UseObjects(o Objects) { s.objects = o }

// ObjectStore returns the object store in use, or nil.
func (s *Store) ObjectStore() Objects { return s.objects }

// putParallel bounds how many objects one writer sends at once.
const putParallel = 8

// blobKey is where a blob's compressed content lives in the object store;
// the two-character fan-out keeps listings of one "directory" short.
func blobKey(hash string) string {
	if len(hash) < 2 {
		return "blobs/" + hash
	}
	return "blobs/" + hash[:2] + "/" + hash
}

// contentKey addresses an artifact or a data chunk by its bytes, so a
// second build or backup of the same bytes shares the object.
func contentKey(kind string, data []byte) string { return kind + "/" + blobstore.Sum(data) }

// storedObject is content on its way to the object store.
type storedObject struct {
	key  string
	data []byte
}

// putObjects stores content in the object store through the objects
// ledger: claim each key (reviving a doomed one, so a collection running
// now keeps it), put the ones not stored yet, then mark them stored. The
// ledger row comes first so a collection that deletes an object holds
// that row locked while it does: a writer either waits and claims anew,
// or has claimed before and the collection leaves the object alone.
func (s *Store) putObjects(ctx context.Context, items []storedObject) error {
	if s.objects == nil {
		return errors.New("no object store is configured")
	}
	byKey := map[string][]byte{}
	var keys []string
	var sizes []int64
	for _, it := range items {
		if _, dup := byKey[it.key]; dup {
			continue
		}
		byKey[it.key] = it.data
		keys = append(keys, it.key)
		sizes = append(sizes, int64(len(it.data)))
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys) // one lock order for every writer
	for i, k := range keys {
		sizes[i] = int64(len(byKey[k]))
	}
	// A revived row is put again: a collection that died between deleting
	// its object and forgetting the row leaves a row whose object is gone.
	rows, err := s.pool.Query(ctx, `INSERT INTO objects (key, size, created_at)
		SELECT k, n, $3 FROM unnest($1::text[], $2::bigint[]) AS u(k, n)
		ON CONFLICT (key) DO UPDATE SET doomed_at = NULL, stored = objects.stored AND objects.doomed_at IS NULL
		RETURNING key, stored`, keys, sizes, s.Now())
	if err != nil {
		return fmt.Errorf("claim objects: %w", err)
	}
	var todo []string
	for rows.Next() {
		var k string
		var stored bool
		if err := rows.Scan(&k, &stored); err != nil {
			rows.Close()
			return err
		}
		if !stored {
			todo = append(todo, k)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("claim objects: %w", err)
	}
	if err := s.sendObjects(ctx, todo, func(k string) []byte { return byKey[k] }); err != nil {
		return err
	}
	if len(todo) > 0 {
		if _, err := s.pool.Exec(ctx, `UPDATE objects SET stored = true WHERE key = ANY($1)`, todo); err != nil {
			return fmt.Errorf("mark objects stored: %w", err)
		}
	}
	return nil
}

// sendObjects puts keys in parallel.
func (s *Store) sendObjects(ctx context.Context, keys []string, data func(string) []byte) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(putParallel)
	for _, k := range keys {
		g.Go(func() error {
			if err := s.objects.Put(gctx, k, data(k)); err != nil {
				return fmt.Errorf("store object %s: %w", k, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// getObject reads content kept in the object store; a missing or damaged
// object is an error naming it, never empty content.
func (s *Store) getObject(ctx context.Context, key string) ([]byte, error) {
	if s.objects == nil {
		return nil, alm.Errorf(alm.CodeUnavailable, "This content (%s) is kept in object storage, and TRELLIS_BLOB_URL is not set on this process.", key)
	}
	data, err := s.objects.Get(ctx, key)
	switch {
	case errors.Is(err, blobstore.ErrNotFound):
		return nil, fmt.Errorf("object %s is missing from %s", key, s.objects)
	case errors.Is(err, blobstore.ErrCorrupt):
		return nil, fmt.Errorf("object %s in %s is damaged: %w", key, s.objects, err)
	case err != nil:
		return nil, fmt.Errorf("read object %s: %w", key, err)
	}
	return data, nil
}

// keepContent returns what a row stores for content: the bytes themselves
// (key empty) without an object store, else the object's key once the
// content is in the object store (bytes nil).
func (s *Store) keepContent(ctx context.Context, kind string, data []byte) ([]byte, *string, error) {
	if s.objects == nil || data == nil {
		return data, nil, nil
	}
	key := contentKey(kind, data)
	if err := s.putObjects(ctx, []storedObject{{key, data}}); err != nil {
		return nil, nil, err
	}
	return nil, &key, nil
}

// content returns a row's bytes: its own, or its object's.
func (s *Store) content(ctx context.Context, data []byte, key *string) ([]byte, error) {
	if data != nil || key == nil {
		return data, nil
	}
	return s.getObject(ctx, *key)
}
