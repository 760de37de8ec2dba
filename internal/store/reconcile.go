package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trellis-alm/trellis/internal/alm"
)

// Heartbeat records that a process (by its job client's id) is alive.
func (s *Store) Heartbeat(ctx context.Context, clientID, kind, host string, pid int) error {
	now := s.Now()
	_, err := s.pool.Exec(ctx, `INSERT INTO trellis_processes (client_id, kind, host, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (client_id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at`, clientID, kind, host, pid, now)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// Goodbye removes a process that stops cleanly.
func (s *Store) Goodbye(ctx context.Context, clientID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM trellis_processes WHERE client_id = $1`, clientID)
	return err
}

// RescueOrphanedJobs makes running jobs whose process has not beaten for
// staleAfter available again (or discards them at their last attempt), the
// way River's rescuer does, but by liveness rather than by age: a job is
// resumed within a heartbeat or two of its process dying. It returns the
// jobs taken back. Processes that stopped beating long ago are forgotten.
func (s *Store) RescueOrphanedJobs(ctx context.Context, staleAfter time.Duration) ([]int64, error) {
	var ids []int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		cut := now.Add(-staleAfter)
		rows, err := tx.Query(ctx, `UPDATE river_job SET
				state = CASE WHEN attempt >= max_attempts THEN 'discarded'::river_job_state ELSE 'available'::river_job_state END,
				finalized_at = CASE WHEN attempt >= max_attempts THEN $1::timestamptz END,
				scheduled_at = $1,
				errors = coalesce(errors, '{}') || jsonb_build_object('at', $1::timestamptz, 'attempt', attempt,
					'error', 'the process running this job stopped (no heartbeat from ' || coalesce(attempted_by[array_upper(attempted_by, 1)], 'it') || '); taken back',
					'trace', '')
			WHERE state = 'running' AND attempted_at < $2
			AND NOT EXISTS (SELECT 1 FROM trellis_processes p WHERE p.client_id = attempted_by[array_upper(attempted_by, 1)] AND p.heartbeat_at >= $2)
			RETURNING id`, now, cut)
		if err != nil {
			return fmt.Errorf("rescue orphaned jobs: %w", err)
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM trellis_processes WHERE heartbeat_at < $1`, now.Add(-24*time.Hour))
		return err
	})
	return ids, err
}

// Orphan is a record whose work no live job carries: its job is missing,
// or ended (completed, cancelled in the jobs UI, discarded) without
// settling the record.
type Orphan struct {
	Kind     string // the job kind: deploy, snapshot, validate, apex_tests, data_backup, data_restore
	ID       int64  // the record's id
	JobState string // the newest job's state; "" when the record never had one
	JobError string // that job's last error
}

// orphanQueries finds, per kind of work, the unsettled records (older than
// $1) and the newest job for each.
var orphanQueries = []struct{ kind, table, arg string }{
	{"deploy", "deployments", "deployment_id"},
	{"snapshot", "snapshots", "snapshot_id"},
	{"validate", "validations", "validation_id"},
	{"apex_tests", "test_runs", "test_run_id"},
	{"data_backup", "data_backup_runs", "run_id"},
	{"data_restore", "data_restores", "restore_id"},
}

// OrphanedWork lists records started more than olderThan ago whose work
// no live job carries.
func (s *Store) OrphanedWork(ctx context.Context, olderThan time.Duration) ([]Orphan, error) {
	var out []Orphan
	for _, q := range orphanQueries {
		rows, err := s.pool.Query(ctx, `SELECT x.id, coalesce(j.state::text, ''), coalesce(j.errors[array_upper(j.errors, 1)]->>'error', '')
			FROM `+q.table+` x
			LEFT JOIN LATERAL (SELECT state, errors FROM river_job WHERE kind = $2 AND args->>'`+q.arg+`' = x.id::text ORDER BY id DESC LIMIT 1) j ON true
			WHERE x.finished_at IS NULL AND x.started_at < $1
			AND (j.state IS NULL OR j.state IN ('completed', 'cancelled', 'discarded'))
			ORDER BY x.id LIMIT 200`, s.Now().Add(-olderThan), q.kind)
		if err != nil {
			return nil, fmt.Errorf("orphaned %s: %w", q.table, err)
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Orphan, error) {
			o := Orphan{Kind: q.kind}
			return o, r.Scan(&o.ID, &o.JobState, &o.JobError)
		})
		if err != nil {
			return nil, fmt.Errorf("orphaned %s: %w", q.table, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// DataRestoreRequest returns the request a data restore was made with, as
// stored (JSON).
func (s *Store) DataRestoreRequest(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT request FROM data_restores WHERE id = $1`, id).Scan(&b)
	return b, notFound(err, "That data restore")
}

// NoteReconciled records what reconciliation did with a record: on its
// promotion's timeline when it is a promotion's deployment, and in the
// audit log always.
func (s *Store) NoteReconciled(ctx context.Context, kind string, id int64, summary string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if kind == "deploy" {
			var pid, promo *int64
			if err := tx.QueryRow(ctx, `SELECT p.project_id, p.id FROM deployments d LEFT JOIN promotions p ON p.id = d.promotion_id WHERE d.id = $1`, id).Scan(&pid, &promo); err != nil {
				return notFound(err, "That deployment")
			}
			if promo != nil {
				return s.record(ctx, tx, *pid, "promotion", *promo, "promotion.reconciled", summary)
			}
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "job.reconciled", kind, strconv.FormatInt(id, 10), summary))
	})
}
