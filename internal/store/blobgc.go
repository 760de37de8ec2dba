package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/blobstore"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// Garbage collection of stored content, in two phases so it is safe while
// snapshots, captures and backups write:
//
//   - a run first fixes its cutoff: now less the grace period, or earlier,
//     the start of the oldest snapshot still under way;
//   - then it finds what refers to content (every stored manifest, the
//     component rows of work items, builds and deployments; artifacts and
//     data chunks by key) and marks unreferenced content doomed, with the
//     time;
//   - and deletes content doomed before the cutoff and still unreferenced.
//
// A snapshot under way relies on blobs it found stored. Any it found
// doomed it revived (MissingBlobs), and any doomed after it found them
// carry a time after the snapshot began, which the cutoff excludes until
// the snapshot is finished and its manifest refers to them. Deleting an
// object holds its ledger row locked, and a writer claims that row before
// it relies on the object, so a writer never sees an object vanish.

// GCOptions tunes a collection.
type GCOptions struct {
	// Grace is how long content must have been found unreferenced before
	// it is deleted.
	Grace time.Duration
	// DryRun reports what a collection would do and changes nothing.
	DryRun bool
}

// GCReport says what a collection found and did.
type GCReport struct {
	Blobs        int   `json:"blobs"`         // blob rows looked at
	Referenced   int   `json:"referenced"`    // blobs something refers to
	Doomed       int   `json:"doomed"`        // newly found unreferenced (deleted by a later run)
	Revived      int   `json:"revived"`       // doomed before, referred to again
	Deleted      int   `json:"deleted"`       // blobs deleted
	DeletedBytes int64 `json:"deleted_bytes"` // their stored (compressed) bytes
	Objects      int   `json:"objects"`       // artifact and chunk objects deleted
	ObjectBytes  int64 `json:"object_bytes"`
	Orphans      int   `json:"orphans"` // objects no row named, adopted as doomed
	Waiting      int   `json:"waiting"` // doomed, to go once past the cutoff
}

func (r GCReport) String() string {
	return fmt.Sprintf("%d blobs, %d referenced; %d newly unreferenced, %d referenced again; deleted %d blobs (%d bytes) and %d objects (%d bytes); %d orphan objects adopted; %d waiting for the grace period",
		r.Blobs, r.Referenced, r.Doomed, r.Revived, r.Deleted, r.DeletedBytes, r.Objects, r.ObjectBytes, r.Orphans, r.Waiting)
}

// gcBatch bounds how many rows one sweep transaction locks (and how many
// objects it deletes while holding them).
const gcBatch = 500

// blobRefs are the foreign keys to blobs; a blob is deleted only when none
// of them names it.
var blobRefs = []struct{ table, column string }{
	{"work_item_components", "hash"}, {"work_item_components", "base_hash"},
	{"build_components", "hash"},
	{"deployment_components", "hash"}, {"deployment_components", "previous_hash"},
}

// objectRefs are the columns naming ledger objects.
const objectRefs = `(EXISTS (SELECT 1 FROM release_builds r WHERE r.artifact_key = o.key)
	OR EXISTS (SELECT 1 FROM deployments d WHERE d.artifact_key = o.key)
	OR EXISTS (SELECT 1 FROM data_backup_chunks c WHERE c.key = o.key))`

// CollectGarbage runs one collection.
func (s *Store) CollectGarbage(ctx context.Context, o GCOptions) (GCReport, error) {
	var r GCReport
	now := s.Now()
	cutoff := now.Add(-o.Grace)
	var oldest *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT min(started_at) FROM snapshots WHERE status IN ('queued', 'running')`).Scan(&oldest); err != nil {
		return r, fmt.Errorf("oldest running snapshot: %w", err)
	}
	if oldest != nil && oldest.Before(cutoff) {
		cutoff = *oldest
	}
	if s.objects != nil {
		if err := s.adoptOrphans(ctx, cutoff, o.DryRun, &r); err != nil {
			return r, err
		}
	}
	live, err := s.referencedBlobs(ctx)
	if err != nil {
		return r, err
	}
	var doom, revive, sweep []string
	rows, err := s.pool.Query(ctx, `SELECT hash, doomed_at, created_at FROM blobs`)
	if err != nil {
		return r, fmt.Errorf("list blobs: %w", err)
	}
	for rows.Next() {
		var h string
		var doomed *time.Time
		var created time.Time
		if err := rows.Scan(&h, &doomed, &created); err != nil {
			rows.Close()
			return r, err
		}
		r.Blobs++
		_, ref := live[h]
		switch {
		case ref:
			r.Referenced++
			if doomed != nil {
				revive = append(revive, h)
			}
		case doomed == nil && created.Before(cutoff):
			doom = append(doom, h)
		case doomed != nil && doomed.Before(cutoff):
			sweep = append(sweep, h)
		case doomed != nil:
			r.Waiting++
		}
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("list blobs: %w", err)
	}
	r.Doomed, r.Revived = len(doom), len(revive)
	if o.DryRun {
		r.Deleted = len(sweep)
		return r, nil
	}
	for part := range slices.Chunk(revive, 5000) {
		if _, err := s.pool.Exec(ctx, `UPDATE blobs SET doomed_at = NULL WHERE hash = ANY($1)`, part); err != nil {
			return r, fmt.Errorf("revive blobs: %w", err)
		}
	}
	for part := range slices.Chunk(doom, 5000) {
		if _, err := s.pool.Exec(ctx, `UPDATE blobs SET doomed_at = $2 WHERE hash = ANY($1) AND doomed_at IS NULL`, part, now); err != nil {
			return r, fmt.Errorf("doom blobs: %w", err)
		}
	}
	for part := range slices.Chunk(sweep, gcBatch) {
		if err := s.sweepBlobs(ctx, part, cutoff, &r); err != nil {
			return r, err
		}
	}
	return r, s.collectObjects(ctx, now, cutoff, &r)
}

// referencedBlobs is every blob hash a stored manifest or a component row
// names. Each snapshot's own stored list (a full manifest, or a delta's
// additions) is enough: a manifest rebuilt from a chain takes its hashes
// from those.
func (s *Store) referencedBlobs(ctx context.Context) (map[string]struct{}, error) {
	live := map[string]struct{}{}
	ids, err := s.column(ctx, `SELECT id FROM snapshots WHERE manifest IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	for _, id := range ids {
		var data []byte
		err := s.pool.QueryRow(ctx, `SELECT manifest FROM snapshots WHERE id = $1`, id).Scan(&data)
		if err == pgx.ErrNoRows || data == nil {
			continue // deleted meanwhile (its blobs are doomed no earlier than now)
		}
		if err != nil {
			return nil, err
		}
		d, _, err := snapshot.Decode(data)
		if err != nil {
			// An unreadable manifest must not make its blobs look unused.
			return nil, fmt.Errorf("snapshot %d: %w; nothing was collected", id, err)
		}
		for _, e := range d.Put {
			live[e.Hash] = struct{}{}
		}
	}
	var q []string
	for _, ref := range blobRefs {
		q = append(q, fmt.Sprintf(`SELECT %[2]s FROM %[1]s WHERE %[2]s IS NOT NULL`, ref.table, ref.column))
	}
	rows, err := s.pool.Query(ctx, strings.Join(q, " UNION "))
	if err != nil {
		return nil, fmt.Errorf("blob references: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		live[h] = struct{}{}
	}
	return live, rows.Err()
}

func (s *Store) column(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// sweepBlobs deletes doomed blobs still unreferenced, and their objects,
// holding their rows while it does. Without an object store, blobs kept in
// one stay.
func (s *Store) sweepBlobs(ctx context.Context, hashes []string, cutoff time.Time, r *GCReport) error {
	var unref []string
	for _, ref := range blobRefs {
		unref = append(unref, fmt.Sprintf(`NOT EXISTS (SELECT 1 FROM %[1]s x WHERE x.%[2]s = b.hash)`, ref.table, ref.column))
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM blobs b WHERE hash = ANY($1) AND doomed_at < $2 AND (data IS NOT NULL OR $3) AND `+strings.Join(unref, " AND ")+`
			RETURNING hash, data IS NULL, coalesce(octet_length(data), object_bytes, 0)`, hashes, cutoff, s.objects != nil)
		if err != nil {
			return fmt.Errorf("delete blobs: %w", err)
		}
		var keys []string
		for rows.Next() {
			var h string
			var inObjects bool
			var n int64
			if err := rows.Scan(&h, &inObjects, &n); err != nil {
				rows.Close()
				return err
			}
			r.Deleted++
			r.DeletedBytes += n
			if inObjects {
				keys = append(keys, blobKey(h))
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("delete blobs: %w", err)
		}
		if len(keys) > 0 {
			return s.objects.Delete(ctx, keys...)
		}
		return nil
	})
}

// collectObjects does the same for artifacts and data chunks, whose
// references are all in SQL.
func (s *Store) collectObjects(ctx context.Context, now, cutoff time.Time, r *GCReport) error {
	if _, err := s.pool.Exec(ctx, `UPDATE objects o SET doomed_at = NULL WHERE doomed_at IS NOT NULL AND `+objectRefs); err != nil {
		return fmt.Errorf("revive objects: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE objects o SET doomed_at = $1 WHERE doomed_at IS NULL AND created_at < $2 AND NOT `+objectRefs, now, cutoff); err != nil {
		return fmt.Errorf("doom objects: %w", err)
	}
	if s.objects == nil {
		return nil
	}
	for {
		n := 0
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `DELETE FROM objects WHERE key IN (
				SELECT key FROM objects o WHERE doomed_at < $1 AND NOT `+objectRefs+` ORDER BY key LIMIT $2 FOR UPDATE SKIP LOCKED)
				RETURNING key, size`, cutoff, gcBatch)
			if err != nil {
				return fmt.Errorf("delete objects: %w", err)
			}
			var keys []string
			for rows.Next() {
				var k string
				var size int64
				if err := rows.Scan(&k, &size); err != nil {
					rows.Close()
					return err
				}
				keys = append(keys, k)
				r.ObjectBytes += size
			}
			if err := rows.Err(); err != nil {
				return err
			}
			n = len(keys)
			r.Objects += n
			if n == 0 {
				return nil
			}
			return s.objects.Delete(ctx, keys...)
		})
		if err != nil || n < gcBatch {
			return err
		}
	}
}

// adoptOrphans gives a ledger row, doomed, to every object older than the
// cutoff that no row names (left by a writer that died between putting an
// object and recording it), so the usual two phases delete it with the
// usual locks.
func (s *Store) adoptOrphans(ctx context.Context, cutoff time.Time, dryRun bool, r *GCReport) error {
	type orphan struct {
		key  string
		size int64
	}
	var batch []blobstore.Object
	flush := func(prefix string) error {
		if len(batch) == 0 {
			return nil
		}
		q := `SELECT key FROM objects WHERE key = ANY($1)`
		keys := make([]string, len(batch))
		for i, o := range batch {
			keys[i] = o.Key
			if prefix == "blobs/" {
				q = `SELECT hash FROM blobs WHERE hash = ANY($1)`
				keys[i] = hashOfKey(o.Key)
			}
		}
		rows, err := s.pool.Query(ctx, q, keys)
		if err != nil {
			return err
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		known := make(map[string]bool, len(found))
		for _, k := range found {
			known[k] = true
		}
		var orphans []orphan
		for i, o := range batch {
			if !known[keys[i]] {
				orphans = append(orphans, orphan{o.Key, o.Size})
			}
		}
		batch = batch[:0]
		r.Orphans += len(orphans)
		if dryRun {
			return nil
		}
		for _, o := range orphans {
			if prefix == "blobs/" {
				_, err = s.pool.Exec(ctx, `INSERT INTO blobs (hash, size, object_bytes, stored, doomed_at, created_at) VALUES ($1, 0, $2, true, $3, $3) ON CONFLICT (hash) DO NOTHING`,
					hashOfKey(o.key), o.size, cutoff.Add(-time.Microsecond))
			} else {
				_, err = s.pool.Exec(ctx, `INSERT INTO objects (key, size, stored, doomed_at, created_at) VALUES ($1, $2, true, $3, $3) ON CONFLICT (key) DO NOTHING`,
					o.key, o.size, cutoff.Add(-time.Microsecond))
			}
			if err != nil {
				return fmt.Errorf("adopt object %s: %w", o.key, err)
			}
		}
		return nil
	}
	for _, prefix := range []string{"blobs/", "artifacts/", "data/"} {
		err := s.objects.List(ctx, prefix, func(o blobstore.Object) error {
			if !o.Modified.Before(cutoff) {
				return nil
			}
			batch = append(batch, o)
			if len(batch) == 1000 {
				return flush(prefix)
			}
			return nil
		})
		if err == nil {
			err = flush(prefix)
		}
		if err != nil {
			return fmt.Errorf("look for orphan objects: %w", err)
		}
	}
	return nil
}

// hashOfKey is the blob hash a blobKey names.
func hashOfKey(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }
