// Alerts, the routes that send them on, and their deliveries.

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/trellis-alm/trellis/internal/alm"
)

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
	Notify     Job // the job that sends it along its routes, queued with it
}

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

// AlertFilter narrows the alert list.
type AlertFilter struct {
	Status string // "" for open and acknowledged
	Kind   string
	OrgID  int64
	Limit  int
}

// AlertRoute is a route with its sealed target, for the notifier.
type AlertRoute struct {
	alm.AlertRoute
	Sealed string
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
		if err := n.Notify.insert(ctx, tx, id); err != nil {
			return err
		}
		return s.emitEvent(ctx, tx, "alert."+n.Kind, 0, "alert", id, fmt.Sprintf("[%s] %s", n.Severity, n.Title))
	})
	if err != nil {
		return alm.Alert{}, err
	}
	return s.AlertByID(ctx, id)
}

// AlertByID returns one alert.
func (s *Store) AlertByID(ctx context.Context, id int64) (alm.Alert, error) {
	a, err := scanAlert(s.pool.QueryRow(ctx, `SELECT `+alertCols+alertFrom+` WHERE a.id = $1`, id))
	return a, notFound(err, "That alert")
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

const alertCols = `a.id, a.kind, a.severity, a.org_id, coalesce(o.name, ''), a.title, a.body, a.details, a.snapshot_id, a.previous_id, a.status,
	coalesce(w.key, ''), a.resolved_label, a.created_at, a.updated_at,
	(SELECT count(*) FROM alert_deliveries d WHERE d.alert_id = a.id AND d.status = 'sent'),
	(SELECT count(*) FROM alert_deliveries d WHERE d.alert_id = a.id AND d.status <> 'sent')`

const alertFrom = ` FROM alerts a LEFT JOIN orgs o ON o.id = a.org_id LEFT JOIN work_items w ON w.id = a.work_item_id`

// DriftKey names a component an open drift alert may list.
type DriftKey struct{ Type, Name string }

// AcknowledgeDrift marks the open drift alerts of an org that list one of
// keys as acknowledged and linked to the work item the change was
// captured or committed to: the change is now on its way through the
// pipeline rather than unexplained.
func (s *Store) AcknowledgeDrift(ctx context.Context, orgID int64, keys []DriftKey, workItem string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	types, names := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		types[i], names[i] = k.Type, strings.ToLower(k.Name)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE alerts a SET status = 'acknowledged', work_item_id = (SELECT id FROM work_items WHERE key = upper($4)),
			resolved_label = $5, updated_at = $6
		WHERE a.kind = 'drift' AND a.status = 'open' AND a.org_id = $1 AND EXISTS (
			SELECT 1 FROM jsonb_array_elements(coalesce(a.details->'drift', '[]'::jsonb)) e
			JOIN unnest($2::text[], $3::text[]) AS k(type, name) ON e->>'type' = k.type AND lower(e->>'name') = k.name)`,
		orgID, types, names, workItem, actorLabel(alm.ActorFrom(ctx))+" (captured onto "+strings.ToUpper(workItem)+")", s.Now())
	if err != nil {
		return 0, fmt.Errorf("acknowledge drift: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
