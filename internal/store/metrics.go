// Delivery metrics: production deployments over time.

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trellis-alm/trellis/internal/alm"
)

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
