package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// Where content can be kept.
const (
	ToObjects  = "s3"
	ToPostgres = "db"
)

// MoveReport counts what a move carried.
type MoveReport struct {
	Blobs     int   `json:"blobs"`
	Artifacts int   `json:"artifacts"`
	Chunks    int   `json:"chunks"`
	Bytes     int64 `json:"bytes"`
}

func (r MoveReport) String() string {
	return fmt.Sprintf("%d blobs, %d artifacts, %d data chunks (%d bytes)", r.Blobs, r.Artifacts, r.Chunks, r.Bytes)
}

// moveBatch bounds one transaction of a move: rows stay locked while their
// objects travel, and a move stopped half way keeps every batch it
// committed.
const (
	moveBlobBatch  = 500
	moveLargeBatch = 20
)

// MoveContent moves stored content to the object store (to = ToObjects)
// or back into PostgreSQL (ToPostgres), in committed batches: stopped at
// any point, it is run again and goes on where it was. progress, when
// set, hears the running totals after every batch.
func (s *Store) MoveContent(ctx context.Context, to string, progress func(MoveReport)) (MoveReport, error) {
	var r MoveReport
	if s.objects == nil {
		return r, errors.New("no object store is configured: set TRELLIS_BLOB_URL (and its endpoint and credentials)")
	}
	if to != ToObjects && to != ToPostgres {
		return r, fmt.Errorf("move to %q: want %s or %s", to, ToObjects, ToPostgres)
	}
	report := func() {
		if progress != nil {
			progress(r)
		}
	}
	steps := []func(context.Context, *MoveReport) (int, error){s.blobsToObjects, s.largeToObjects(buildArtifacts), s.largeToObjects(rollbackArtifacts), s.largeToObjects(dataChunks)}
	if to == ToPostgres {
		steps = []func(context.Context, *MoveReport) (int, error){s.blobsToPostgres, s.largeToPostgres(buildArtifacts), s.largeToPostgres(rollbackArtifacts), s.largeToPostgres(dataChunks)}
	}
	for _, step := range steps {
		for {
			n, err := step(ctx, &r)
			if err != nil {
				return r, err
			}
			if n == 0 {
				break
			}
			report()
		}
	}
	return r, nil
}

func (s *Store) blobsToObjects(ctx context.Context, r *MoveReport) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT hash, data FROM blobs WHERE data IS NOT NULL AND stored ORDER BY hash LIMIT $1 FOR UPDATE SKIP LOCKED`, moveBlobBatch)
		if err != nil {
			return err
		}
		data := map[string][]byte{}
		var hashes, keys []string
		for rows.Next() {
			var h string
			var d []byte
			if err := rows.Scan(&h, &d); err != nil {
				rows.Close()
				return err
			}
			hashes, keys = append(hashes, h), append(keys, blobKey(h))
			data[blobKey(h)] = d
			r.Bytes += int64(len(d))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := s.sendObjects(ctx, keys, func(k string) []byte { return data[k] }); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE blobs SET object_bytes = octet_length(data), data = NULL WHERE hash = ANY($1)`, hashes); err != nil {
			return err
		}
		n = len(hashes)
		return nil
	})
	r.Blobs += n
	return n, err
}

func (s *Store) blobsToPostgres(ctx context.Context, r *MoveReport) (int, error) {
	var keys []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		hashes, err := collectStrings(tx.Query(ctx, `SELECT hash FROM blobs WHERE data IS NULL AND stored ORDER BY hash LIMIT $1 FOR UPDATE SKIP LOCKED`, moveBlobBatch))
		if err != nil {
			return err
		}
		datas := make([][]byte, len(hashes))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(putParallel)
		for i, h := range hashes {
			g.Go(func() (err error) {
				datas[i], err = s.getObject(gctx, blobKey(h))
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE blobs b SET data = u.d, object_bytes = NULL FROM unnest($1::text[], $2::bytea[]) AS u(h, d) WHERE b.hash = u.h`, hashes, datas); err != nil {
			return err
		}
		for i, h := range hashes {
			keys = append(keys, blobKey(h))
			r.Bytes += int64(len(datas[i]))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	r.Blobs += len(keys)
	// A blob object is named by its row alone, which now holds the bytes.
	return len(keys), s.objects.Delete(ctx, keys...)
}

// largeTable is a table whose rows hold one artifact or chunk each, in a
// bytea column or under an object key.
type largeTable struct {
	table, id, data, key, size string // id: the row's key as text, over alias x; size: a column keeping the byte count, if any
	kind                       string
	count                      func(*MoveReport) *int
}

var (
	buildArtifacts    = largeTable{"release_builds", "x.id::text", "artifact", "artifact_key", "artifact_bytes", "artifacts", func(r *MoveReport) *int { return &r.Artifacts }}
	rollbackArtifacts = largeTable{"deployments", "x.id::text", "artifact", "artifact_key", "", "artifacts", func(r *MoveReport) *int { return &r.Artifacts }}
	dataChunks        = largeTable{"data_backup_chunks", "x.run_id || '/' || x.object || '/' || x.seq", "data", "key", "", "data", func(r *MoveReport) *int { return &r.Chunks }}
)

func (s *Store) largeToObjects(t largeTable) func(context.Context, *MoveReport) (int, error) {
	return func(ctx context.Context, r *MoveReport) (int, error) {
		n := 0
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s x WHERE %s IS NOT NULL LIMIT $1 FOR UPDATE SKIP LOCKED`, t.id, t.data, t.table, t.data), moveLargeBatch)
			if err != nil {
				return err
			}
			var ids, keys []string
			var items []storedObject
			for rows.Next() {
				var id string
				var d []byte
				if err := rows.Scan(&id, &d); err != nil {
					rows.Close()
					return err
				}
				k := contentKey(t.kind, d)
				ids, keys = append(ids, id), append(keys, k)
				items = append(items, storedObject{k, d})
				r.Bytes += int64(len(d))
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if err := s.putObjects(ctx, items); err != nil {
				return err
			}
			set := fmt.Sprintf(`%s = u.k, %s = NULL`, t.key, t.data)
			if t.size != "" {
				set = fmt.Sprintf(`%s = octet_length(%s), `, t.size, t.data) + set
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE %s x SET %s FROM unnest($1::text[], $2::text[]) AS u(id, k) WHERE %s = u.id`, t.table, set, t.id), ids, keys); err != nil {
				return err
			}
			n = len(ids)
			return nil
		})
		*t.count(r) += n
		return n, err
	}
}

func (s *Store) largeToPostgres(t largeTable) func(context.Context, *MoveReport) (int, error) {
	return func(ctx context.Context, r *MoveReport) (int, error) {
		n := 0
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s x WHERE %s IS NULL AND %s IS NOT NULL LIMIT $1 FOR UPDATE SKIP LOCKED`, t.id, t.key, t.table, t.data, t.key), moveLargeBatch)
			if err != nil {
				return err
			}
			var ids, keys []string
			for rows.Next() {
				var id, k string
				if err := rows.Scan(&id, &k); err != nil {
					rows.Close()
					return err
				}
				ids, keys = append(ids, id), append(keys, k)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			datas := make([][]byte, len(keys))
			for i, k := range keys {
				if datas[i], err = s.getObject(ctx, k); err != nil {
					return err
				}
				r.Bytes += int64(len(datas[i]))
			}
			// The objects stay named in the ledger, unreferenced now: the
			// next collections delete them.
			if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE %s x SET %s = u.d, %s = NULL FROM unnest($1::text[], $2::bytea[]) AS u(id, d) WHERE %s = u.id`, t.table, t.data, t.key, t.id), ids, datas); err != nil {
				return err
			}
			n = len(ids)
			return nil
		})
		*t.count(r) += n
		return n, err
	}
}

func collectStrings(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
