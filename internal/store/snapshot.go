package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// maxDepth bounds a snapshot's chain of manifest deltas: reading one
// decodes at most this many (small) deltas on top of a full manifest,
// applied in one pass. A quarter of daily snapshots share one full list.
const maxDepth = 90

// Blob is component content addressed by its canonical hash.
type Blob struct {
	Hash string
	Data []byte
}

// MissingBlobs returns which of hashes are not stored yet, so a snapshot
// sends only content no snapshot of any org has had. A blob garbage
// collection had doomed counts as stored again from here on (the caller
// is about to refer to it); one whose object may be gone counts as
// missing, so the caller puts it back.
func (s *Store) MissingBlobs(ctx context.Context, hashes []string) (map[string]bool, error) {
	// Two statements on purpose: the second sees a collection's delete that
	// the revival waited for, and reports that blob missing.
	if _, err := s.pool.Exec(ctx, `UPDATE blobs SET doomed_at = NULL, stored = stored AND data IS NOT NULL
		WHERE hash = ANY($1) AND doomed_at IS NOT NULL`, hashes); err != nil {
		return nil, fmt.Errorf("revive blobs: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT h FROM unnest($1::text[]) AS h WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.hash = h AND b.stored)`, hashes)
	if err != nil {
		return nil, fmt.Errorf("missing blobs: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out[h] = true
	}
	return out, rows.Err()
}

// PutBlobs stores blobs not stored yet, gzip-compressed (in the object
// store when there is one), and returns how many compressed bytes were
// added.
func (s *Store) PutBlobs(ctx context.Context, blobs []Blob) (int64, error) {
	seen := make(map[string]bool, len(blobs))
	var hashes []string
	var sizes, zsizes []int32
	var datas [][]byte
	for _, b := range blobs {
		if seen[b.Hash] {
			continue
		}
		seen[b.Hash] = true
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b.Data)
		zw.Close()
		hashes, sizes, datas = append(hashes, b.Hash), append(sizes, int32(len(b.Data))), append(datas, buf.Bytes())
		zsizes = append(zsizes, int32(buf.Len()))
	}
	if len(hashes) == 0 {
		return 0, nil
	}
	if s.objects != nil {
		return s.putObjectBlobs(ctx, hashes, sizes, zsizes, datas)
	}
	// A row left pending by an object-store writer takes the bytes here.
	var added int64
	err := s.pool.QueryRow(ctx, `WITH ins AS (
		INSERT INTO blobs (hash, size, data, created_at)
		SELECT * FROM unnest($1::text[], $2::int[], $3::bytea[], array_fill($4::timestamptz, ARRAY[cardinality($1::text[])]))
		ON CONFLICT (hash) DO UPDATE SET doomed_at = NULL,
			data = CASE WHEN blobs.stored THEN blobs.data ELSE excluded.data END,
			object_bytes = CASE WHEN blobs.stored THEN blobs.object_bytes END,
			stored = true
		RETURNING CASE WHEN xmax = 0 THEN octet_length(data) ELSE 0 END AS n)
		SELECT coalesce(sum(n), 0) FROM ins`, hashes, sizes, datas, s.Now()).Scan(&added)
	if err != nil {
		return 0, fmt.Errorf("put blobs: %w", err)
	}
	return added, nil
}

// putObjectBlobs records blobs as pending, puts the ones not stored yet in
// the object store and marks them stored: the same ledger order as
// putObjects, with the blobs table as the ledger.
func (s *Store) putObjectBlobs(ctx context.Context, hashes []string, sizes, zsizes []int32, datas [][]byte) (int64, error) {
	byHash := make(map[string][]byte, len(hashes))
	for i, h := range hashes {
		byHash[h] = datas[i]
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO blobs (hash, size, object_bytes, stored, created_at)
		SELECT h, n, z, false, $4 FROM unnest($1::text[], $2::int[], $3::int[]) AS u(h, n, z) ORDER BY h
		ON CONFLICT (hash) DO UPDATE SET doomed_at = NULL,
			stored = blobs.data IS NOT NULL OR (blobs.stored AND blobs.doomed_at IS NULL)
		RETURNING hash, stored`, hashes, sizes, zsizes, s.Now())
	if err != nil {
		return 0, fmt.Errorf("put blobs: %w", err)
	}
	var todo []string
	for rows.Next() {
		var h string
		var stored bool
		if err := rows.Scan(&h, &stored); err != nil {
			rows.Close()
			return 0, err
		}
		if !stored {
			todo = append(todo, h)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("put blobs: %w", err)
	}
	keyed := make(map[string][]byte, len(todo))
	keys := make([]string, len(todo))
	var added int64
	for i, h := range todo {
		keys[i] = blobKey(h)
		keyed[keys[i]] = byHash[h]
		added += int64(len(byHash[h]))
	}
	if err := s.sendObjects(ctx, keys, func(k string) []byte { return keyed[k] }); err != nil {
		return 0, err
	}
	if len(todo) > 0 {
		if _, err := s.pool.Exec(ctx, `UPDATE blobs SET stored = true WHERE hash = ANY($1) AND data IS NULL`, todo); err != nil {
			return 0, fmt.Errorf("mark blobs stored: %w", err)
		}
	}
	return added, nil
}

// PutNewBlobs stores the blobs no snapshot has stored yet (once each) and
// returns how many compressed bytes that added.
func (s *Store) PutNewBlobs(ctx context.Context, blobs []Blob) (int64, error) {
	hashes := make([]string, len(blobs))
	for i, b := range blobs {
		hashes[i] = b.Hash
	}
	missing, err := s.MissingBlobs(ctx, hashes)
	if err != nil {
		return 0, err
	}
	var fresh []Blob
	for _, b := range blobs {
		if missing[b.Hash] {
			fresh = append(fresh, b)
			delete(missing, b.Hash)
		}
	}
	return s.PutBlobs(ctx, fresh)
}

// BlobData returns a blob's content.
func (s *Store) BlobData(ctx context.Context, hash string) ([]byte, error) {
	var data []byte
	if err := s.pool.QueryRow(ctx, `SELECT data FROM blobs WHERE hash = $1`, hash).Scan(&data); err != nil {
		return nil, notFound(err, "That content")
	}
	if data == nil {
		var err error
		if data, err = s.getObject(ctx, blobKey(hash)); err != nil {
			return nil, err
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", hash, err)
	}
	return io.ReadAll(io.LimitReader(zr, 256<<20))
}

const snapCols = `x.id, x.source, x.org_id, x.repo_id, coalesce(o.name, rp.name, ''), x.ref, x.label, x.status, x.phase, x.done, x.total, x.warnings, x.error,
	x.components, x.manifest_bytes, x.new_blob_bytes, x.started_at, x.finished_at, x.backup`

func scanSnapshot(row pgx.Row) (alm.Snapshot, error) {
	var sn alm.Snapshot
	var status string
	var warnings []byte
	err := row.Scan(&sn.ID, &sn.Source, &sn.OrgID, &sn.RepoID, &sn.OrgName, &sn.Ref, &sn.Label, &status, &sn.Phase, &sn.Done, &sn.Total, &warnings, &sn.Error,
		&sn.Components, &sn.ManifestBytes, &sn.NewBlobBytes, &sn.StartedAt, &sn.FinishedAt, &sn.Backup)
	sn.Status = alm.SnapshotStatus(status)
	if err == nil {
		err = json.Unmarshal(warnings, &sn.Warnings)
	}
	if sn.Warnings == nil {
		sn.Warnings = []string{}
	}
	return sn, err
}

// NewSnapshot is what starting a snapshot takes.
type NewSnapshot struct {
	Source string // org or git
	OrgID  *int64
	RepoID *int64
	Ref    string
	Label  string
	Job    Job // the snapshot job, queued with the record
}

// CreateSnapshot records a queued snapshot.
func (s *Store) CreateSnapshot(ctx context.Context, n NewSnapshot) (alm.Snapshot, error) {
	a := alm.ActorFrom(ctx)
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO snapshots (source, org_id, repo_id, ref, label, started_by, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			n.Source, n.OrgID, n.RepoID, n.Ref, n.Label, a.UserID, s.Now()).Scan(&id); err != nil {
			return fmt.Errorf("create snapshot: %w", err)
		}
		return n.Job.insert(ctx, tx, id)
	})
	if err != nil {
		return alm.Snapshot{}, err
	}
	return s.SnapshotByID(ctx, id)
}

// SnapshotByID returns a snapshot (without its manifest).
func (s *Store) SnapshotByID(ctx context.Context, id int64) (alm.Snapshot, error) {
	sn, err := scanSnapshot(s.pool.QueryRow(ctx, `SELECT `+snapCols+` FROM snapshots x LEFT JOIN orgs o ON o.id = x.org_id LEFT JOIN repositories rp ON rp.id = x.repo_id WHERE x.id = $1`, id))
	return sn, notFound(err, "That snapshot")
}

// SnapshotProgress records how far a running snapshot has got.
func (s *Store) SnapshotProgress(ctx context.Context, id int64, phase string, done, total int, warnings []string) error {
	w, _ := json.Marshal(warnings)
	if warnings == nil {
		w = []byte("[]")
	}
	_, err := s.pool.Exec(ctx, `UPDATE snapshots SET status = 'running', phase = $2, done = $3, total = $4, warnings = $5 WHERE id = $1 AND status IN ('queued', 'running')`,
		id, phase, done, total, w)
	return err
}

// FinishSnapshot stores a snapshot's manifest: as a delta against the
// newest finished snapshot of the same org or ref when that chain is
// short, else in full; then queues the work that follows (the drift check
// of an org snapshot) in the same transaction.
func (s *Store) FinishSnapshot(ctx context.Context, id int64, m snapshot.Manifest, newBlobBytes int64, then Job) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var orgID, repoID *int64
		var source, ref, status string
		if err := tx.QueryRow(ctx, `SELECT org_id, repo_id, source, ref, status FROM snapshots WHERE id = $1 FOR UPDATE`, id).Scan(&orgID, &repoID, &source, &ref, &status); err != nil {
			return notFound(err, "That snapshot")
		}
		if alm.SnapshotStatus(status).Finished() {
			return alm.Errorf(alm.CodeConflict, "That snapshot already ended (%s).", status)
		}
		var baseID *int64
		var depth int
		err := tx.QueryRow(ctx, `SELECT id, depth FROM snapshots WHERE status = 'done' AND source = $1 AND org_id IS NOT DISTINCT FROM $2
			AND repo_id IS NOT DISTINCT FROM $5 AND ($1 <> 'git' OR ref = $3) AND id <> $4 ORDER BY id DESC LIMIT 1`, source, orgID, ref, id, repoID).Scan(&baseID, &depth)
		if err != nil && err != pgx.ErrNoRows {
			return fmt.Errorf("find base snapshot: %w", err)
		}
		encoded, kind := snapshot.EncodeFull(m), "full"
		if baseID != nil && depth < maxDepth {
			base, err := s.manifest(ctx, tx, *baseID)
			if err != nil {
				return err
			}
			d := snapshot.DeltaOf(base, m)
			// A delta touching most components is no cheaper than the list.
			if d.Size() < len(m)/2 {
				encoded, kind = snapshot.EncodeDelta(d), "delta"
			}
		}
		if kind == "full" {
			baseID, depth = nil, -1
		}
		_, err = tx.Exec(ctx, `UPDATE snapshots SET status = 'done', phase = 'done', manifest = $2, manifest_bytes = $3, base_id = $4, depth = $5,
			components = $6, done = greatest(done, total), new_blob_bytes = $7, finished_at = $8 WHERE id = $1`,
			id, encoded, len(encoded), baseID, depth+1, len(m), newBlobBytes, s.Now())
		if err != nil {
			return err
		}
		return then.insert(ctx, tx, id)
	})
}

// EndSnapshot marks a snapshot failed or canceled with the reason.
func (s *Store) EndSnapshot(ctx context.Context, id int64, status alm.SnapshotStatus, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE snapshots SET status = $2, error = $3, finished_at = $4 WHERE id = $1 AND status IN ('queued', 'running')`,
		id, string(status), truncate(reason, 2000), s.Now())
	return err
}

// SnapshotManifest returns a finished snapshot's manifest.
func (s *Store) SnapshotManifest(ctx context.Context, id int64) (snapshot.Manifest, error) {
	return s.manifest(ctx, s.pool, id)
}

// manifest rebuilds a manifest from its full base and the deltas on top,
// reading the whole chain in one query.
func (s *Store) manifest(ctx context.Context, q querier, id int64) (snapshot.Manifest, error) {
	rows, err := q.Query(ctx, `WITH RECURSIVE chain AS (
		SELECT id, base_id, manifest, status, 0 AS n FROM snapshots WHERE id = $1
		UNION ALL
		SELECT s.id, s.base_id, s.manifest, s.status, c.n + 1 FROM snapshots s JOIN chain c ON s.id = c.base_id WHERE c.n < $2)
		SELECT manifest, status FROM chain ORDER BY n DESC`, id, maxDepth+1)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer rows.Close()
	var base snapshot.Manifest
	var deltas []snapshot.Delta
	n := 0
	for rows.Next() {
		var data []byte
		var status string
		if err := rows.Scan(&data, &status); err != nil {
			return nil, err
		}
		if data == nil {
			return nil, alm.Errorf(alm.CodeConflict, "That snapshot has not finished (%s).", status)
		}
		d, isDelta, err := snapshot.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("snapshot manifest: %w", err)
		}
		if n == 0 && isDelta {
			return nil, fmt.Errorf("snapshot %d: its manifest chain does not start with a full manifest", id)
		}
		if isDelta {
			deltas = append(deltas, d)
		} else {
			base = d.Put
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	m := snapshot.ApplyAll(base, deltas)
	if n == 0 {
		return nil, alm.Errorf(alm.CodeNotFound, "That snapshot was not found.")
	}
	return m, nil
}

// StorageUse is how many bytes snapshots take.
type StorageUse struct {
	BlobBytes     int64 `json:"blob_bytes"`
	ManifestBytes int64 `json:"manifest_bytes"`
	Blobs         int64 `json:"blobs"`
}

// SnapshotStorage totals the stored blob and manifest bytes.
func (s *Store) SnapshotStorage(ctx context.Context) (StorageUse, error) {
	var u StorageUse
	err := s.pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(coalesce(octet_length(data), object_bytes)), 0) FROM blobs), (SELECT count(*) FROM blobs),
		(SELECT coalesce(sum(manifest_bytes), 0) FROM snapshots)`).Scan(&u.BlobBytes, &u.Blobs, &u.ManifestBytes)
	return u, err
}

// LatestSnapshot returns an org's newest finished snapshot.
func (s *Store) LatestSnapshot(ctx context.Context, orgID int64) (alm.Snapshot, error) {
	sn, err := scanSnapshot(s.pool.QueryRow(ctx, `SELECT `+snapCols+` FROM snapshots x LEFT JOIN orgs o ON o.id = x.org_id LEFT JOIN repositories rp ON rp.id = x.repo_id
		WHERE x.org_id = $1 AND x.status = 'done' ORDER BY x.id DESC LIMIT 1`, orgID))
	if err != nil {
		return sn, alm.Errorf(alm.CodeConflict, "That org has no finished snapshot yet: take one to check against it.")
	}
	return sn, nil
}

// PreviousSnapshot returns the org's newest finished snapshot before id
// (ok false when id is the first).
func (s *Store) PreviousSnapshot(ctx context.Context, id int64) (alm.Snapshot, bool, error) {
	sn, err := scanSnapshot(s.pool.QueryRow(ctx, `SELECT `+snapCols+` FROM snapshots x LEFT JOIN orgs o ON o.id = x.org_id LEFT JOIN repositories rp ON rp.id = x.repo_id
		WHERE x.status = 'done' AND x.id < $1 AND x.org_id = (SELECT org_id FROM snapshots WHERE id = $1) ORDER BY x.id DESC LIMIT 1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sn, false, nil
	}
	return sn, err == nil, err
}

// RecordSnapshotDiff keeps how a snapshot differs from the one before it
// and marks it checked for drift.
func (s *Store) RecordSnapshotDiff(ctx context.Context, id int64, added, changed, deleted int) error {
	_, err := s.pool.Exec(ctx, `UPDATE snapshots SET diff_new = $2, diff_changed = $3, diff_deleted = $4, drift_checked_at = $5 WHERE id = $1`,
		id, added, changed, deleted, s.Now())
	return err
}
