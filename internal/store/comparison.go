package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const comparisonCols = `c.id, c.a_snapshot, c.b_snapshot,
	coalesce(oa.name, ra.name, '') || ' #' || c.a_snapshot, coalesce(ob.name, rb.name, '') || ' #' || c.b_snapshot,
	c.new, c.changed, c.deleted, c.unchanged, c.created_label, c.created_at`

const comparisonFrom = ` FROM comparisons c
	JOIN snapshots sa ON sa.id = c.a_snapshot LEFT JOIN orgs oa ON oa.id = sa.org_id LEFT JOIN repositories ra ON ra.id = sa.repo_id
	JOIN snapshots sb ON sb.id = c.b_snapshot LEFT JOIN orgs ob ON ob.id = sb.org_id LEFT JOIN repositories rb ON rb.id = sb.repo_id`

func scanComparison(row pgx.Row) (alm.Comparison, error) {
	var c alm.Comparison
	err := row.Scan(&c.ID, &c.A, &c.B, &c.AName, &c.BName, &c.New, &c.Changed, &c.Deleted, &c.Unchanged, &c.By, &c.At)
	return c, err
}

// KeepComparison records (or refreshes) a comparison of a with b.
func (s *Store) KeepComparison(ctx context.Context, a, b int64, newN, changed, deleted, unchanged int) (alm.Comparison, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO comparisons (a_snapshot, b_snapshot, new, changed, deleted, unchanged, created_label, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (a_snapshot, b_snapshot) DO UPDATE SET created_at = EXCLUDED.created_at RETURNING id`,
		a, b, newN, changed, deleted, unchanged, actorLabel(alm.ActorFrom(ctx)), s.Now()).Scan(&id)
	if err != nil {
		return alm.Comparison{}, fmt.Errorf("keep comparison: %w", err)
	}
	return s.ComparisonByID(ctx, id)
}

// ComparisonByID returns a kept comparison.
func (s *Store) ComparisonByID(ctx context.Context, id int64) (alm.Comparison, error) {
	c, err := scanComparison(s.pool.QueryRow(ctx, `SELECT `+comparisonCols+comparisonFrom+` WHERE c.id = $1`, id))
	return c, notFound(err, "That comparison")
}

// RecentComparisons lists the latest comparisons.
func (s *Store) RecentComparisons(ctx context.Context, limit int) ([]alm.Comparison, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+comparisonCols+comparisonFrom+` ORDER BY c.created_at DESC, c.id DESC LIMIT $1`, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("recent comparisons: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Comparison, error) { return scanComparison(r) })
	if out == nil {
		out = []alm.Comparison{}
	}
	return out, err
}
