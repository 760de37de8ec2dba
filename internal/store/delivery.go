package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// followDelivery moves the requirements a work item delivers along with
// their work: to In delivery when the first of their work items starts,
// to Delivered when every one of them is done (deployed to the last
// stage), each with a timeline entry saying why. Requirements people set
// further (closed, rejected) or not yet agreed (draft) are left alone.
func (s *Store) followDelivery(ctx context.Context, tx pgx.Tx, workItemID int64, why string) error {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM requirements WHERE id IN (SELECT requirement_id FROM work_item_requirements WHERE work_item_id = $1)
		ORDER BY id FOR UPDATE`, workItemID); err != nil {
		return fmt.Errorf("lock requirements: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT r.id, r.project_id, r.key, r.status,
			count(*) FILTER (WHERE w.status NOT IN ('backlog', 'ready')), count(*) FILTER (WHERE w.status = 'done'), count(*)
		FROM requirements r JOIN work_item_requirements l ON l.requirement_id = r.id JOIN work_items w ON w.id = l.work_item_id
		WHERE r.id IN (SELECT requirement_id FROM work_item_requirements WHERE work_item_id = $1)
		GROUP BY r.id ORDER BY r.id`, workItemID)
	if err != nil {
		return fmt.Errorf("requirements delivered: %w", err)
	}
	type req struct {
		id, project          int64
		key, status          string
		started, done, total int
	}
	var reqs []req
	for rows.Next() {
		var r req
		if err := rows.Scan(&r.id, &r.project, &r.key, &r.status, &r.started, &r.done, &r.total); err != nil {
			rows.Close()
			return err
		}
		reqs = append(reqs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range reqs {
		to, summary := "", ""
		switch {
		case r.done == r.total && (r.status == string(alm.ReqProposed) || r.status == string(alm.ReqAccepted) || r.status == string(alm.ReqInDelivery)):
			to = string(alm.ReqDelivered)
			summary = fmt.Sprintf("delivered: %s done in the last stage (%s)", alm.Count(r.total, "work item"), why)
		case r.started > 0 && (r.status == string(alm.ReqProposed) || r.status == string(alm.ReqAccepted)):
			to = string(alm.ReqInDelivery)
			summary = "moved to In delivery: " + why
		case r.done < r.total && r.status == string(alm.ReqDelivered):
			// A rolled-back or reopened work item takes it back.
			to = string(alm.ReqInDelivery)
			summary = "back to In delivery: " + why
		}
		if to == "" {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE requirements SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1`, r.id, to, s.Now()); err != nil {
			return fmt.Errorf("requirement status: %w", err)
		}
		if err := s.record(ctx, tx, r.project, "requirement", r.id, "requirement.status", summary); err != nil {
			return err
		}
	}
	return nil
}
