// Scheduled metadata backups: policies, due schedules, history and retention.

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// BackupPolicy returns an org's backup schedule, creating the default
// (daily, 14 daily and 8 weekly kept) the first time it is asked for.
func (s *Store) BackupPolicy(ctx context.Context, orgID int64) (alm.BackupPolicy, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO backup_policies (org_id, next_at, updated_at) SELECT id, $2, $2 FROM orgs WHERE id = $1
		ON CONFLICT (org_id) DO NOTHING`, orgID, s.Now()); err != nil {
		return alm.BackupPolicy{}, fmt.Errorf("backup policy: %w", err)
	}
	var p alm.BackupPolicy
	err := s.pool.QueryRow(ctx, `SELECT org_id, enabled, every_hours, keep_daily, keep_weekly, next_at, updated_at FROM backup_policies WHERE org_id = $1`, orgID).
		Scan(&p.OrgID, &p.Enabled, &p.EveryHours, &p.KeepDaily, &p.KeepWeekly, &p.NextAt, &p.UpdatedAt)
	return p, notFound(err, "That org")
}

// SaveBackupPolicy changes an org's schedule; the next backup comes no
// later than one interval from now.
func (s *Store) SaveBackupPolicy(ctx context.Context, p alm.BackupPolicy) (alm.BackupPolicy, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	if _, err := s.BackupPolicy(ctx, p.OrgID); err != nil {
		return p, err
	}
	now := s.Now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE backup_policies SET enabled = $2, every_hours = $3, keep_daily = $4, keep_weekly = $5,
			next_at = least(next_at, $6::timestamptz + $3::int * interval '1 hour'), updated_at = $6 WHERE org_id = $1`,
			p.OrgID, p.Enabled, p.EveryHours, p.KeepDaily, p.KeepWeekly, now); err != nil {
			return fmt.Errorf("save backup policy: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "org.backup_policy", "org", fmt.Sprint(p.OrgID),
			fmt.Sprintf("backups %s every %dh, keep %d daily and %d weekly", map[bool]string{true: "on", false: "off"}[p.Enabled], p.EveryHours, p.KeepDaily, p.KeepWeekly)))
	})
	if err != nil {
		return p, err
	}
	return s.BackupPolicy(ctx, p.OrgID)
}

// ClaimDueBackups moves due backup schedules on and, in the same
// transaction, records a backup snapshot (and its job) for each, so that
// a crash cannot lose a scheduled backup between the two. It returns the
// snapshots. Claiming and moving on happen in one statement, so two
// schedulers never start the same backup twice.
func (s *Store) ClaimDueBackups(ctx context.Context, job Job) ([]int64, error) {
	now := s.Now()
	if _, err := s.pool.Exec(ctx, `INSERT INTO backup_policies (org_id, next_at, updated_at) SELECT id, $1, $1 FROM orgs
		ON CONFLICT (org_id) DO NOTHING`, now); err != nil {
		return nil, fmt.Errorf("default backup policies: %w", err)
	}
	var snaps []int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE backup_policies SET next_at = $1::timestamptz + every_hours * interval '1 hour'
			WHERE enabled AND next_at <= $1 AND org_id IN (SELECT id FROM orgs WHERE status <> 'disconnected') RETURNING org_id`, now)
		if err != nil {
			return fmt.Errorf("claim backups: %w", err)
		}
		orgs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, org := range orgs {
			id, err := s.createBackupSnapshot(ctx, tx, org, job)
			if err != nil {
				return err
			}
			snaps = append(snaps, id)
		}
		return nil
	})
	return snaps, err
}

// CreateBackupSnapshot queues a scheduled backup of an org.
func (s *Store) CreateBackupSnapshot(ctx context.Context, orgID int64, job Job) (alm.Snapshot, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = s.createBackupSnapshot(ctx, tx, orgID, job)
		return err
	})
	if err != nil {
		return alm.Snapshot{}, err
	}
	return s.SnapshotByID(ctx, id)
}

func (s *Store) createBackupSnapshot(ctx context.Context, tx pgx.Tx, orgID int64, job Job) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO snapshots (source, org_id, label, backup, started_at)
		VALUES ('org', $1, 'Scheduled backup', true, $2) RETURNING id`, orgID, s.Now()).Scan(&id); err != nil {
		return 0, fmt.Errorf("create backup: %w", err)
	}
	return id, job.insert(ctx, tx, id)
}

// Backups lists an org's snapshots newest first, with what changed since
// the one before each.
func (s *Store) Backups(ctx context.Context, orgID int64, limit int) ([]alm.Backup, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+snapCols+`, x.diff_new, x.diff_changed, x.diff_deleted
		FROM snapshots x LEFT JOIN orgs o ON o.id = x.org_id LEFT JOIN repositories rp ON rp.id = x.repo_id
		WHERE x.org_id = $1 ORDER BY x.id DESC LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("backups: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Backup, error) {
		var b alm.Backup
		var status string
		var warnings []byte
		err := r.Scan(&b.ID, &b.Source, &b.OrgID, &b.RepoID, &b.OrgName, &b.Ref, &b.Label, &status, &b.Phase, &b.Done, &b.Total, &warnings, &b.Error,
			&b.Components, &b.ManifestBytes, &b.NewBlobBytes, &b.StartedAt, &b.FinishedAt, &b.Backup, &b.DiffNew, &b.DiffChanged, &b.DiffDeleted)
		b.Status = alm.SnapshotStatus(status)
		b.Warnings = []string{}
		if err == nil {
			_ = json.Unmarshal(warnings, &b.Warnings)
		}
		return b, err
	})
	if out == nil {
		out = []alm.Backup{}
	}
	return out, err
}

// PruneBackups applies an org's retention to its scheduled backups and
// returns how many it removed. A snapshot something still points at (a
// capture, a drift alert's diff) stays; a delta snapshot built on a
// removed one is rewritten in full first, so no manifest chain breaks.
func (s *Store) PruneBackups(ctx context.Context, orgID int64) (int, error) {
	p, err := s.BackupPolicy(ctx, orgID)
	if err != nil {
		return 0, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, started_at FROM snapshots WHERE org_id = $1 AND backup AND status = 'done' ORDER BY id DESC`, orgID)
	if err != nil {
		return 0, fmt.Errorf("list backups: %w", err)
	}
	type row struct {
		id int64
		at time.Time
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.at)
	})
	if err != nil {
		return 0, err
	}
	at := make([]time.Time, len(list))
	for i, x := range list {
		at[i] = x.at
	}
	keep := alm.Retain(at, s.Now(), p.KeepDaily, p.KeepWeekly)
	removed := 0
	for i, x := range list {
		if keep[i] {
			continue
		}
		ok, err := s.removeSnapshot(ctx, x.id)
		if err != nil {
			return removed, err
		}
		if ok {
			removed++
		}
	}
	return removed, nil
}

// removeSnapshot deletes one snapshot unless something refers to it.
func (s *Store) removeSnapshot(ctx context.Context, id int64) (bool, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		kids, err := tx.Query(ctx, `SELECT id FROM snapshots WHERE base_id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(kids, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, k := range ids {
			m, err := s.manifest(ctx, tx, k)
			if err != nil {
				return err
			}
			full := snapshot.EncodeFull(m)
			if _, err := tx.Exec(ctx, `UPDATE snapshots SET base_id = NULL, depth = 0, manifest = $2, manifest_bytes = $3 WHERE id = $1`, k, full, len(full)); err != nil {
				return fmt.Errorf("rebase snapshot %d: %w", k, err)
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM snapshots WHERE id = $1`, id)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return false, nil // a capture or comparison still uses it
	}
	return err == nil, err
}

// OrgRestores lists an org's restore deployments, newest first.
func (s *Store) OrgRestores(ctx context.Context, orgID int64, limit int) ([]alm.Deployment, error) {
	return s.deployments(ctx, `d.org_id = $1 AND d.kind = 'restore' ORDER BY d.id DESC LIMIT $2`, orgID, limit)
}
