package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// DataBackupPolicy returns an org's data backup policy (off by default:
// data backups cost API calls, so someone turns them on).
func (s *Store) DataBackupPolicy(ctx context.Context, orgID int64) (alm.DataBackupPolicy, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO data_backup_policies (org_id, next_at, updated_at) SELECT id, $2, $2 FROM orgs WHERE id = $1
		ON CONFLICT (org_id) DO NOTHING`, orgID, s.Now()); err != nil {
		return alm.DataBackupPolicy{}, fmt.Errorf("data backup policy: %w", err)
	}
	var p alm.DataBackupPolicy
	var share, churn float32
	err := s.pool.QueryRow(ctx, `SELECT org_id, enabled, objects, api_share, churn_alert, every_hours, next_at, updated_at FROM data_backup_policies WHERE org_id = $1`, orgID).
		Scan(&p.OrgID, &p.Enabled, &p.Objects, &share, &churn, &p.EveryHours, &p.NextAt, &p.UpdatedAt)
	// real columns: round away float32 noise (0.1 reads as 0.100000001).
	p.APIShare, p.ChurnAlert = math.Round(float64(share)*1e4)/1e4, math.Round(float64(churn)*1e4)/1e4
	return p, notFound(err, "That org")
}

// SaveDataBackupPolicy changes an org's data backup policy.
func (s *Store) SaveDataBackupPolicy(ctx context.Context, p alm.DataBackupPolicy) (alm.DataBackupPolicy, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	if _, err := s.DataBackupPolicy(ctx, p.OrgID); err != nil {
		return p, err
	}
	if p.Objects == nil {
		p.Objects = []string{}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE data_backup_policies SET enabled = $2, objects = $3, api_share = $4, churn_alert = $5, every_hours = $6,
			next_at = least(next_at, $7::timestamptz + $6::int * interval '1 hour'), updated_at = $7 WHERE org_id = $1`,
			p.OrgID, p.Enabled, p.Objects, p.APIShare, p.ChurnAlert, p.EveryHours, s.Now()); err != nil {
			return fmt.Errorf("save data backup policy: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "org.data_backup_policy", "org", fmt.Sprint(p.OrgID), fmt.Sprintf("data backups on=%v objects=%v", p.Enabled, p.Objects)))
	})
	if err != nil {
		return p, err
	}
	return s.DataBackupPolicy(ctx, p.OrgID)
}

// ClaimDueDataBackups moves due data backup schedules on and, in the same
// transaction, starts a run (and its job) for each: a crash cannot lose a
// scheduled run between the two. It returns the runs started.
func (s *Store) ClaimDueDataBackups(ctx context.Context, job Job) ([]int64, error) {
	var runs []int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE data_backup_policies SET next_at = $1::timestamptz + every_hours * interval '1 hour'
			WHERE enabled AND next_at <= $1 AND org_id IN (SELECT id FROM orgs WHERE status <> 'disconnected') RETURNING org_id`, s.Now())
		if err != nil {
			return fmt.Errorf("claim data backups: %w", err)
		}
		orgs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, org := range orgs {
			id, err := s.createDataBackupRun(ctx, tx, org, job)
			if alm.ErrorCode(err) == alm.CodeConflict {
				continue // the last one is still going
			}
			if err != nil {
				return err
			}
			runs = append(runs, id)
		}
		return nil
	})
	return runs, err
}

// CreateDataBackupRun queues a run: full when the org has none finished,
// incremental after.
func (s *Store) CreateDataBackupRun(ctx context.Context, orgID int64, job Job) (alm.DataBackupRun, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = s.createDataBackupRun(ctx, tx, orgID, job)
		return err
	})
	if err != nil {
		return alm.DataBackupRun{}, err
	}
	return s.DataBackupRun(ctx, id)
}

func (s *Store) createDataBackupRun(ctx context.Context, tx pgx.Tx, orgID int64, job Job) (int64, error) {
	a := alm.ActorFrom(ctx)
	var id int64
	err := func() error {
		var active int64
		err := tx.QueryRow(ctx, `SELECT id FROM data_backup_runs WHERE org_id = $1 AND finished_at IS NULL LIMIT 1`, orgID).Scan(&active)
		if err == nil {
			return alm.Errorf(alm.CodeConflict, "Data backup run #%d of this org is still under way.", active)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		kind := "incremental"
		var full bool
		if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM data_backup_state WHERE org_id = $1)`, orgID).Scan(&full); err != nil {
			return err
		}
		if full {
			kind = "full"
		}
		if err := tx.QueryRow(ctx, `INSERT INTO data_backup_runs (org_id, kind, started_label, started_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			orgID, kind, actorLabel(a), s.Now()).Scan(&id); err != nil {
			return err
		}
		return job.insert(ctx, tx, id)
	}()
	return id, err
}

const dataRunCols = `id, org_id, kind, status, phase, objects, records, changed, deleted, bytes, api_calls, error, started_label, started_at, finished_at`

func scanDataRun(r pgx.Row) (alm.DataBackupRun, error) {
	var x alm.DataBackupRun
	var objs []byte
	err := r.Scan(&x.ID, &x.OrgID, &x.Kind, &x.Status, &x.Phase, &objs, &x.Records, &x.Changed, &x.Deleted, &x.Bytes, &x.APICalls, &x.Error, &x.StartedBy, &x.StartedAt, &x.Finished)
	if err == nil {
		err = json.Unmarshal(objs, &x.Objects)
	}
	if x.Objects == nil {
		x.Objects = []alm.DataObjectCount{}
	}
	return x, err
}

// DataBackupRun returns one run.
func (s *Store) DataBackupRun(ctx context.Context, id int64) (alm.DataBackupRun, error) {
	x, err := scanDataRun(s.pool.QueryRow(ctx, `SELECT `+dataRunCols+` FROM data_backup_runs WHERE id = $1`, id))
	return x, notFound(err, "That data backup run")
}

// DataBackupRuns lists an org's runs, newest first.
func (s *Store) DataBackupRuns(ctx context.Context, orgID int64, limit int) ([]alm.DataBackupRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+dataRunCols+` FROM data_backup_runs WHERE org_id = $1 ORDER BY id DESC LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("data backup runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.DataBackupRun, error) { return scanDataRun(r) })
	if out == nil {
		out = []alm.DataBackupRun{}
	}
	return out, err
}

// DataRunProgress records a running run's phase and counts so far.
func (s *Store) DataRunProgress(ctx context.Context, id int64, phase string, objs []alm.DataObjectCount, apiCalls int) error {
	b, _ := json.Marshal(objs)
	var rec, chg, del, by int64
	for _, o := range objs {
		rec, chg, del, by = rec+o.Records, chg+o.Changed, del+o.Deleted, by+o.Bytes
	}
	_, err := s.pool.Exec(ctx, `UPDATE data_backup_runs SET status = 'running', phase = $2, objects = $3, records = $4, changed = $5, deleted = $6, bytes = $7, api_calls = $8
		WHERE id = $1 AND finished_at IS NULL`, id, phase, b, rec, chg, del, by, apiCalls)
	return err
}

// FinishDataRun ends a run (done, partial or failed) with the reason.
func (s *Store) FinishDataRun(ctx context.Context, id int64, status, errMsg string) error {
	_, err := s.pool.Exec(ctx, `UPDATE data_backup_runs SET status = $2, error = $3, phase = '', finished_at = $4 WHERE id = $1 AND finished_at IS NULL`,
		id, status, truncate(errMsg, 2000), s.Now())
	return err
}

// DeleteDataChunks drops what a run stored of an object, before the object
// is read again (a run taken up after its process died).
func (s *Store) DeleteDataChunks(ctx context.Context, runID int64, object string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM data_backup_chunks WHERE run_id = $1 AND object = $2`, runID, object)
	return err
}

// PutDataChunk stores one page of an object's records (gzip'd CSV).
func (s *Store) PutDataChunk(ctx context.Context, runID int64, object string, seq, records int, data []byte) error {
	kept, key, err := s.keepContent(ctx, "data", data)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO data_backup_chunks (run_id, object, seq, records, data, key) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (run_id, object, seq) DO UPDATE SET records = excluded.records, data = excluded.data, key = excluded.key`, runID, object, seq, records, kept, key)
	return err
}

// DataChunks calls fn with each stored page of an object, run by run
// (oldest first) for the runs given, one page in memory at a time.
func (s *Store) DataChunks(ctx context.Context, runIDs []int64, object string, fn func(runID int64, data []byte) error) error {
	for _, run := range runIDs {
		var seqs []int
		rows, err := s.pool.Query(ctx, `SELECT seq FROM data_backup_chunks WHERE run_id = $1 AND object = $2 ORDER BY seq`, run, object)
		if err != nil {
			return err
		}
		if seqs, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
			return err
		}
		for _, seq := range seqs {
			var data []byte
			var key *string
			if err := s.pool.QueryRow(ctx, `SELECT data, key FROM data_backup_chunks WHERE run_id = $1 AND object = $2 AND seq = $3`, run, object, seq).Scan(&data, &key); err != nil {
				return err
			}
			if data, err = s.content(ctx, data, key); err != nil {
				return err
			}
			if err := fn(run, data); err != nil {
				return err
			}
		}
	}
	return nil
}

// DataWatermark is where an object's next incremental run starts.
type DataWatermark struct {
	At      time.Time
	Records int64
}

// DataWatermarks returns each backed-up object's watermark.
func (s *Store) DataWatermarks(ctx context.Context, orgID int64) (map[string]DataWatermark, error) {
	rows, err := s.pool.Query(ctx, `SELECT object, watermark, records FROM data_backup_state WHERE org_id = $1`, orgID)
	if err != nil {
		return nil, err
	}
	out := map[string]DataWatermark{}
	for rows.Next() {
		var o string
		var w DataWatermark
		if err := rows.Scan(&o, &w.At, &w.Records); err != nil {
			return nil, err
		}
		out[o] = w
	}
	return out, rows.Err()
}

// SetDataWatermark moves an object's watermark after a run stored it.
func (s *Store) SetDataWatermark(ctx context.Context, orgID int64, object string, w DataWatermark) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO data_backup_state (org_id, object, watermark, records) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, object) DO UPDATE SET watermark = excluded.watermark, records = excluded.records`, orgID, object, w.At, w.Records)
	return err
}

// RestoreRuns returns the runs a restore as of run asOf reads, oldest
// first: the last full run at or before it and the incremental runs
// after that, up to asOf.
func (s *Store) RestoreRuns(ctx context.Context, orgID, asOf int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM data_backup_runs WHERE org_id = $1 AND id <= $2 AND status IN ('done', 'partial')
		AND id >= coalesce((SELECT max(id) FROM data_backup_runs WHERE org_id = $1 AND id <= $2 AND kind = 'full' AND status IN ('done', 'partial')), 0)
		ORDER BY id`, orgID, asOf)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// CreateDataRestore records a restore request.
func (s *Store) CreateDataRestore(ctx context.Context, orgID, asOf int64, request any, job Job) (alm.DataRestore, error) {
	a := alm.ActorFrom(ctx)
	req, _ := json.Marshal(request)
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO data_restores (org_id, as_of_run, request, started_label, started_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			orgID, nullID(asOf), req, actorLabel(a), s.Now()).Scan(&id); err != nil {
			return err
		}
		if err := job.insert(ctx, tx, id); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "org.data_restore", "org", fmt.Sprint(orgID), string(req)))
	})
	if err != nil {
		return alm.DataRestore{}, err
	}
	return s.DataRestore(ctx, id)
}

// FinishDataRestore stores a restore's per-record results.
func (s *Store) FinishDataRestore(ctx context.Context, id int64, status string, results []alm.RecordResult, errMsg string) error {
	var created, updated, failed int
	for _, r := range results {
		switch {
		case r.Error != "":
			failed++
		case r.Action == "create":
			created++
		case r.Action == "update":
			updated++
		}
	}
	b, _ := json.Marshal(results)
	_, err := s.pool.Exec(ctx, `UPDATE data_restores SET status = $2, results = $3, created = $4, updated = $5, failed = $6, error = $7, finished_at = $8 WHERE id = $1`,
		id, status, b, created, updated, failed, truncate(errMsg, 2000), s.Now())
	return err
}

// DataRestore returns one restore.
func (s *Store) DataRestore(ctx context.Context, id int64) (alm.DataRestore, error) {
	var x alm.DataRestore
	var res []byte
	err := s.pool.QueryRow(ctx, `SELECT id, org_id, as_of_run, status, created, updated, failed, results, error, started_label, started_at, finished_at
		FROM data_restores WHERE id = $1`, id).Scan(&x.ID, &x.OrgID, &x.AsOfRun, &x.Status, &x.Created, &x.Updated, &x.Failed, &res, &x.Error, &x.StartedBy, &x.StartedAt, &x.Finished)
	if err == nil {
		err = json.Unmarshal(res, &x.Results)
	}
	if x.Results == nil {
		x.Results = []alm.RecordResult{}
	}
	return x, notFound(err, "That data restore")
}

// RestoredIDs returns the records restores have created again in an org:
// 15-character original id → the id the record has now.
func (s *Store) RestoredIDs(ctx context.Context, orgID int64) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT old_id, new_id FROM restored_records WHERE org_id = $1`, orgID)
	if err != nil {
		return nil, fmt.Errorf("restored ids: %w", err)
	}
	out := map[string]string{}
	var oldID, newID string
	_, err = pgx.ForEachRow(rows, []any{&oldID, &newID}, func() error {
		out[oldID] = newID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("restored ids: %w", err)
	}
	return out, nil
}

// RecordRestoredIDs remembers records a restore created again (original
// id → new id), replacing what an earlier restore recorded for them.
func (s *Store) RecordRestoredIDs(ctx context.Context, orgID, restoreID int64, object string, ids map[string]string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		for oldID, newID := range ids {
			if _, err := tx.Exec(ctx, `INSERT INTO restored_records (org_id, old_id, object, new_id, restore_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (org_id, old_id) DO UPDATE SET new_id = EXCLUDED.new_id, object = EXCLUDED.object, restore_id = EXCLUDED.restore_id, created_at = EXCLUDED.created_at`,
				orgID, oldID[:min(15, len(oldID))], object, newID, nullID(restoreID), s.Now()); err != nil {
				return fmt.Errorf("record restored id: %w", err)
			}
		}
		return nil
	})
}

// FinishedDataRuns lists an org's data backup runs that stored something
// (done or partial), oldest first.
func (s *Store) FinishedDataRuns(ctx context.Context, orgID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM data_backup_runs WHERE org_id = $1 AND status IN ('done', 'partial') ORDER BY id`, orgID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
