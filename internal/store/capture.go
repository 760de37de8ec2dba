package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// Capture is one component to capture onto a work item.
type Capture struct {
	Type, Name   string
	Change       string // new, changed or deleted
	Hash         string // "" for a deletion
	BaseHash     string // "" for a new component
	DependencyOf string
}

// CaptureComponents records components as a work item's change set,
// superseding what was captured of the same components before (kept as
// history), in one transaction.
func (s *Store) CaptureComponents(ctx context.Context, key string, from, to int64, caps []Capture) error {
	if len(caps) == 0 {
		return alm.Invalid(map[string]string{"components": "Select at least one component to capture."})
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var itemID, pid int64
		if err := tx.QueryRow(ctx, `SELECT id, project_id FROM work_items WHERE key = upper($1) FOR UPDATE`, key).Scan(&itemID, &pid); err != nil {
			return alm.Invalid(map[string]string{"work_item": "There is no work item " + strings.ToUpper(key) + "."})
		}
		a := alm.ActorFrom(ctx)
		now := s.Now()
		for _, c := range caps {
			if _, err := tx.Exec(ctx, `UPDATE work_item_components SET superseded_at = $4
				WHERE work_item_id = $1 AND type = $2 AND lower(name) = lower($3) AND superseded_at IS NULL`, itemID, c.Type, c.Name, now); err != nil {
				return fmt.Errorf("supersede capture: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO work_item_components (work_item_id, type, name, change, hash, base_hash, from_snapshot, to_snapshot,
				dependency_of, captured_by, captured_label, captured_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				itemID, c.Type, c.Name, c.Change, nullIfEmpty(c.Hash), nullIfEmpty(c.BaseHash), from, to, c.DependencyOf, a.UserID, actorLabel(a), now); err != nil {
				return fmt.Errorf("capture %s %s: %w", c.Type, c.Name, err)
			}
		}
		return s.record(ctx, tx, pid, "work_item", itemID, "work_item.capture", fmt.Sprintf("captured %s from snapshots #%d → #%d", alm.Count(len(caps), "component"), from, to))
	})
}

// CapturedComponents lists a work item's change set (current first, then
// the superseded history when history is set).
func (s *Store) CapturedComponents(ctx context.Context, key string, history bool) ([]alm.CapturedComponent, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id, w.key, c.type, c.name, c.change, coalesce(c.hash, ''), coalesce(c.base_hash, ''), c.from_snapshot, c.to_snapshot,
		c.dependency_of, c.captured_label, c.captured_at, c.superseded_at
		FROM work_item_components c JOIN work_items w ON w.id = c.work_item_id
		WHERE w.key = upper($1) AND ($2 OR c.superseded_at IS NULL)
		ORDER BY c.superseded_at IS NOT NULL, c.type, lower(c.name), c.captured_at DESC`, key, history)
	if err != nil {
		return nil, fmt.Errorf("captured components: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.CapturedComponent, error) {
		var c alm.CapturedComponent
		return c, r.Scan(&c.ID, &c.WorkItemKey, &c.Type, &c.Name, &c.Change, &c.Hash, &c.BaseHash, &c.FromSnapshot, &c.ToSnapshot,
			&c.DependencyOf, &c.CapturedBy, &c.CapturedAt, &c.Superseded)
	})
	if out == nil {
		out = []alm.CapturedComponent{}
	}
	return out, err
}
