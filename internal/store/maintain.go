package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// ClaimDueBackups moves every due, enabled schedule on by its interval and
// returns the orgs whose backup is due now. Claiming and moving on happen in
// one statement, so two schedulers never start the same backup twice.
func (s *Store) ClaimDueBackups(ctx context.Context) ([]int64, error) {
	now := s.Now()
	if _, err := s.pool.Exec(ctx, `INSERT INTO backup_policies (org_id, next_at, updated_at) SELECT id, $1, $1 FROM orgs
		ON CONFLICT (org_id) DO NOTHING`, now); err != nil {
		return nil, fmt.Errorf("default backup policies: %w", err)
	}
	rows, err := s.pool.Query(ctx, `UPDATE backup_policies SET next_at = $1::timestamptz + every_hours * interval '1 hour'
		WHERE enabled AND next_at <= $1 AND org_id IN (SELECT id FROM orgs WHERE status <> 'disconnected') RETURNING org_id`, now)
	if err != nil {
		return nil, fmt.Errorf("claim backups: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// CreateBackupSnapshot queues a scheduled backup of an org.
func (s *Store) CreateBackupSnapshot(ctx context.Context, orgID int64) (alm.Snapshot, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO snapshots (source, org_id, label, backup, started_at)
		VALUES ('org', $1, 'Scheduled backup', true, $2) RETURNING id`, orgID, s.Now()).Scan(&id); err != nil {
		return alm.Snapshot{}, fmt.Errorf("create backup: %w", err)
	}
	return s.SnapshotByID(ctx, id)
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

// DeployedBetween returns the components ("Type\x00lowercase name") that
// Trellis deployments into an org changed between two times: the
// changes a snapshot comparison may show that are not drift.
func (s *Store) DeployedBetween(ctx context.Context, orgID int64, from, to time.Time) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT c.type, lower(c.name) FROM deployment_components c JOIN deployments d ON d.id = c.deployment_id
		WHERE d.org_id = $1 AND d.status IN ('succeeded', 'failed', 'canceled') AND d.started_at <= $3 AND coalesce(d.finished_at, $3) >= $2`, orgID, from, to)
	if err != nil {
		return nil, fmt.Errorf("deployed components: %w", err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var t, n string
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t+"\x00"+n] = true
	}
	return out, rows.Err()
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

// NewAlert is an alert to raise.
type NewAlert struct {
	Kind       string
	Severity   alm.Severity
	OrgID      int64
	Title      string
	Body       string
	Drift      []alm.DriftEntry
	SnapshotID int64
	PreviousID int64
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateAlert raises an alert.
func (s *Store) CreateAlert(ctx context.Context, n NewAlert) (alm.Alert, error) {
	details, _ := json.Marshal(map[string]any{"drift": n.Drift})
	var id int64
	now := s.Now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO alerts (kind, severity, org_id, title, body, details, snapshot_id, previous_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`, n.Kind, string(n.Severity), nullID(n.OrgID), truncate(n.Title, 300), truncate(n.Body, 4000),
			details, nullID(n.SnapshotID), nullID(n.PreviousID), now).Scan(&id); err != nil {
			return fmt.Errorf("create alert: %w", err)
		}
		return s.emitEvent(ctx, tx, "alert."+n.Kind, 0, "alert", id, fmt.Sprintf("[%s] %s", n.Severity, n.Title))
	})
	if err != nil {
		return alm.Alert{}, err
	}
	return s.AlertByID(ctx, id)
}

const alertCols = `a.id, a.kind, a.severity, a.org_id, coalesce(o.name, ''), a.title, a.body, a.details, a.snapshot_id, a.previous_id, a.status,
	coalesce(w.key, ''), a.resolved_label, a.created_at, a.updated_at,
	(SELECT count(*) FROM alert_deliveries d WHERE d.alert_id = a.id AND d.status = 'sent'),
	(SELECT count(*) FROM alert_deliveries d WHERE d.alert_id = a.id AND d.status <> 'sent')`

const alertFrom = ` FROM alerts a LEFT JOIN orgs o ON o.id = a.org_id LEFT JOIN work_items w ON w.id = a.work_item_id`

func scanAlert(r pgx.Row) (alm.Alert, error) {
	var a alm.Alert
	var sev string
	var details []byte
	err := r.Scan(&a.ID, &a.Kind, &sev, &a.OrgID, &a.OrgName, &a.Title, &a.Body, &details, &a.SnapshotID, &a.PreviousID, &a.Status,
		&a.WorkItem, &a.ResolvedBy, &a.CreatedAt, &a.UpdatedAt, &a.Deliveries, &a.Undelivered)
	a.Severity = alm.Severity(sev)
	if err == nil {
		var d struct {
			Drift []alm.DriftEntry `json:"drift"`
		}
		_ = json.Unmarshal(details, &d)
		a.Drift = d.Drift
	}
	return a, err
}

// AlertByID returns one alert.
func (s *Store) AlertByID(ctx context.Context, id int64) (alm.Alert, error) {
	a, err := scanAlert(s.pool.QueryRow(ctx, `SELECT `+alertCols+alertFrom+` WHERE a.id = $1`, id))
	return a, notFound(err, "That alert")
}

// AlertFilter narrows the alert list.
type AlertFilter struct {
	Status string // "" for open and acknowledged
	Kind   string
	OrgID  int64
	Limit  int
}

// ListAlerts lists alerts, newest first.
func (s *Store) ListAlerts(ctx context.Context, f AlertFilter) ([]alm.Alert, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	switch f.Status {
	case "", "unresolved":
		where = append(where, "a.status <> 'resolved'")
	case "all":
	default:
		add("a.status = $%d", f.Status)
	}
	if f.Kind != "" {
		add("a.kind = $%d", f.Kind)
	}
	if f.OrgID != 0 {
		add("a.org_id = $%d", f.OrgID)
	}
	q := `SELECT ` + alertCols + alertFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	rows, err := s.pool.Query(ctx, q+fmt.Sprintf(" ORDER BY a.id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Alert, error) { return scanAlert(r) })
	if out == nil {
		out = []alm.Alert{}
	}
	return out, err
}

// CountOpenAlerts counts unresolved alerts, for the navigation badge.
func (s *Store) CountOpenAlerts(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE status = 'open'`).Scan(&n)
	return n, err
}

// SetAlertStatus acknowledges or resolves an alert.
func (s *Store) SetAlertStatus(ctx context.Context, id int64, status string) (alm.Alert, error) {
	if status != "open" && status != "acknowledged" && status != "resolved" {
		return alm.Alert{}, alm.Invalid(map[string]string{"status": "Choose open, acknowledged or resolved."})
	}
	a := alm.ActorFrom(ctx)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE alerts SET status = $2, resolved_label = $3, updated_at = $4 WHERE id = $1`, id, status, actorLabel(a), s.Now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return alm.Errorf(alm.CodeNotFound, "That alert was not found.")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "alert."+status, "alert", fmt.Sprint(id), "alert "+status))
	})
	if err != nil {
		return alm.Alert{}, err
	}
	return s.AlertByID(ctx, id)
}

// LinkAlertWorkItem records the work item an alert's drift was captured
// onto, and resolves the alert.
func (s *Store) LinkAlertWorkItem(ctx context.Context, id int64, key string) error {
	a := alm.ActorFrom(ctx)
	tag, err := s.pool.Exec(ctx, `UPDATE alerts SET work_item_id = (SELECT id FROM work_items WHERE key = upper($2)), status = 'resolved',
		resolved_label = $3, updated_at = $4 WHERE id = $1`, id, key, actorLabel(a), s.Now())
	if err == nil && tag.RowsAffected() == 0 {
		err = alm.Errorf(alm.CodeNotFound, "That alert was not found.")
	}
	return err
}

// AlertRoute is a route with its sealed target, for the notifier.
type AlertRoute struct {
	alm.AlertRoute
	Sealed string
}

// ListAlertRoutes lists where alerts go.
func (s *Store) ListAlertRoutes(ctx context.Context) ([]AlertRoute, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, min_severity, channel, target_hint, target, created_label, created_at FROM alert_routes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("alert routes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlertRoute, error) {
		var x AlertRoute
		var sev string
		err := r.Scan(&x.ID, &x.Kind, &sev, &x.Channel, &x.TargetHint, &x.Sealed, &x.CreatedBy, &x.CreatedAt)
		x.MinSeverity = alm.Severity(sev)
		return x, err
	})
	if out == nil {
		out = []AlertRoute{}
	}
	return out, err
}

// AddAlertRoute adds a route; sealed is the target sealed by the caller,
// hint what pages may show of it.
func (s *Store) AddAlertRoute(ctx context.Context, r alm.AlertRoute, sealed string) (alm.AlertRoute, error) {
	a := alm.ActorFrom(ctx)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO alert_routes (kind, min_severity, channel, target, target_hint, created_label, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_label, created_at`, r.Kind, string(r.MinSeverity), r.Channel, sealed, r.TargetHint,
			actorLabel(a), s.Now()).Scan(&r.ID, &r.CreatedBy, &r.CreatedAt); err != nil {
			return fmt.Errorf("add alert route: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "alert_route.add", "alert_route", fmt.Sprint(r.ID), fmt.Sprintf("%s alerts (%s and up) to %s %s", r.Kind, r.MinSeverity, r.Channel, r.TargetHint)))
	})
	return r, err
}

// DeleteAlertRoute removes a route.
func (s *Store) DeleteAlertRoute(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM alert_routes WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return alm.Errorf(alm.CodeNotFound, "That alert route was not found.")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "alert_route.delete", "alert_route", fmt.Sprint(id), "alert route removed"))
	})
}

// RecordDelivery notes whether an alert reached a route.
func (s *Store) RecordDelivery(ctx context.Context, alertID, routeID int64, errMsg string) error {
	status := "sent"
	if errMsg != "" {
		status = "failed"
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO alert_deliveries (alert_id, route_id, status, error, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (alert_id, route_id) DO UPDATE SET status = excluded.status, error = excluded.error, at = excluded.at`,
		alertID, routeID, status, truncate(errMsg, 1000), s.Now())
	return err
}

// DeliveredRoutes returns the routes an alert has reached.
func (s *Store) DeliveredRoutes(ctx context.Context, alertID int64) (map[int64]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT route_id FROM alert_deliveries WHERE alert_id = $1 AND status = 'sent'`, alertID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// OrgRestores lists an org's restore deployments, newest first.
func (s *Store) OrgRestores(ctx context.Context, orgID int64, limit int) ([]alm.Deployment, error) {
	return s.deployments(ctx, `d.org_id = $1 AND d.kind = 'restore' ORDER BY d.id DESC LIMIT $2`, orgID, limit)
}

// ProductionDeployments lists a project's deployments into its last
// pipeline stage that ended in [from, to) (with a week before, so a
// hotfix or restore just inside the period finds what it fixed), with
// rollbacks, bug fixes and each work item's first captured change.
func (s *Store) ProductionDeployments(ctx context.Context, projectID int64, from, to time.Time) ([]alm.ProdDeployment, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.id, d.status, d.started_at, d.finished_at,
		(SELECT min(r.finished_at) FROM deployments r WHERE r.rollback_of = d.id AND r.status = 'succeeded'),
		EXISTS (SELECT 1 FROM build_components bc JOIN work_items w ON w.key = bc.work_item WHERE bc.build_id = d.build_id AND w.kind = 'bug'),
		coalesce((SELECT array_agg(f) FROM (SELECT min(c.captured_at) AS f FROM work_item_components c JOIN work_items w ON w.id = c.work_item_id
			WHERE w.key IN (SELECT work_item FROM build_components WHERE build_id = d.build_id) GROUP BY w.id) x), '{}')
		FROM deployments d JOIN promotions m ON m.id = d.promotion_id
		WHERE m.project_id = $1 AND d.kind IN ('deploy', 'quick_deploy') AND d.finished_at IS NOT NULL
		AND m.stage_position = (SELECT max(position) FROM pipeline_stages WHERE project_id = $1)
		AND d.finished_at >= $2::timestamptz - interval '7 days' AND d.finished_at < $3::timestamptz + interval '7 days'
		ORDER BY d.started_at`, projectID, from, to)
	if err != nil {
		return nil, fmt.Errorf("production deployments: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.ProdDeployment, error) {
		var d alm.ProdDeployment
		return d, r.Scan(&d.ID, &d.Status, &d.StartedAt, &d.FinishedAt, &d.RolledBackAt, &d.HasBugFix, &d.FirstChanges)
	})
}
