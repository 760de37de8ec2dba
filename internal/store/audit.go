package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// insertAudit appends e to the audit log inside tx, so the record and the
// change it describes commit together.
func (s *Store) insertAudit(ctx context.Context, tx pgx.Tx, e alm.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.Now()
	}
	if e.ActorLabel == "" {
		e.ActorLabel = "system"
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (at, actor_id, actor_label, action, target_type, target_id, summary, request_id, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.At, e.ActorID, e.ActorLabel, e.Action, e.TargetType, e.TargetID, truncate(e.Summary, 2000), e.RequestID, e.IP)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// Audit appends e to the audit log on its own, for events that change no
// other record (a refused sign-in, an admin override).
func (s *Store) Audit(ctx context.Context, e alm.AuditEntry) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return s.insertAudit(ctx, tx, e) })
}

// AuditFilter narrows the audit log. Zero values match everything.
type AuditFilter struct {
	Actor    string // substring of the actor's label (email)
	Action   string // exact action, or a prefix ending in "." (e.g. "user.")
	Target   string // "type" or "type:id"
	From, To time.Time
	BeforeID int64 // cursor: entries older than this id
	Limit    int
}

// ListAudit returns audit entries matching f, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]alm.AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("actor_label ILIKE '%%' || $%d || '%%'", escapeLike(f.Actor))
	}
	if strings.HasSuffix(f.Action, ".") {
		add("action LIKE $%d || '%%'", escapeLike(f.Action))
	} else if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if typ, id, ok := strings.Cut(f.Target, ":"); ok {
		add("target_type = $%d", typ)
		add("target_id = $%d", id)
	} else if f.Target != "" {
		add("target_type = $%d", f.Target)
	}
	if !f.From.IsZero() {
		add("at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("at < $%d", f.To)
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT id, at, actor_id, actor_label, action, target_type, target_id, summary, request_id, ip FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var es []alm.AuditEntry
	for rows.Next() {
		var e alm.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorLabel, &e.Action, &e.TargetType, &e.TargetID, &e.Summary, &e.RequestID, &e.IP); err != nil {
			return nil, fmt.Errorf("scan audit entry: %w", err)
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// AuditActions returns the distinct actions in the log, for filter menus.
func (s *Store) AuditActions(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT action FROM audit_log ORDER BY action`)
	if err != nil {
		return nil, fmt.Errorf("list audit actions: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
