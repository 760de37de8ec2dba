package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// RequirementBundle is everything a requirement's page shows.
type RequirementBundle struct {
	Requirement alm.Requirement
	Comments    []alm.Comment
	Items       []alm.WorkItem
	Releases    []alm.Release // the project's releases, for their statuses
	Versions    []alm.SpecVersion
	Timeline    []alm.Event
}

// RequirementPage loads a requirement's page in one round trip: a batch
// of queries that each find the requirement by key, so none waits for
// another.
func (s *Store) RequirementPage(ctx context.Context, key string) (RequirementBundle, error) {
	var b RequirementBundle
	found := false
	const id = `(SELECT id FROM requirements WHERE key = upper($1))`
	batch := &pgx.Batch{}
	batch.Queue(`SELECT `+reqCols+reqFrom+` WHERE r.key = upper($1)`, key).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var err error
			if b.Requirement, err = scanRequirement(rows); err != nil {
				return err
			}
			found = true
		}
		return rows.Err()
	})
	batch.Queue(`SELECT id, text, met FROM acceptance_criteria WHERE requirement_id = `+id+` ORDER BY position`, key).Query(func(rows pgx.Rows) error {
		var err error
		b.Requirement.Criteria, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Criterion, error) {
			var c alm.Criterion
			return c, r.Scan(&c.ID, &c.Text, &c.Met)
		})
		return err
	})
	batch.Queue(`SELECT `+commentCols+` FROM comments c WHERE c.requirement_id = `+id+` ORDER BY c.created_at, c.id`, key).Query(func(rows pgx.Rows) error {
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Comment, error) { return scanComment(r) })
		b.Comments = threads(all)
		return err
	})
	batch.Queue(`SELECT `+itemCols+itemFrom+` WHERE w.id IN (SELECT work_item_id FROM work_item_requirements WHERE requirement_id = `+id+`)
		ORDER BY w.number LIMIT 200`, key).Query(func(rows pgx.Rows) error {
		var err error
		b.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.WorkItem, error) { return scanItem(r) })
		return err
	})
	batch.Queue(`SELECT x.id, x.project_id, x.name, x.version, x.target_date, x.status, '', x.notes_edited, 0, x.rev, x.created_at, x.updated_at
		FROM releases x WHERE x.project_id = (SELECT project_id FROM requirements WHERE key = upper($1))`, key).Query(func(rows pgx.Rows) error {
		var err error
		b.Releases, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Release, error) { return scanRelease(r) })
		return err
	})
	batch.Queue(`SELECT version, title, description, business_goal, criteria, edited_by_label, reason, at
		FROM requirement_versions WHERE requirement_id = `+id+` ORDER BY version DESC`, key).Query(func(rows pgx.Rows) error {
		var err error
		b.Versions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.SpecVersion, error) {
			var v alm.SpecVersion
			return v, r.Scan(&v.Version, &v.Title, &v.Description, &v.BusinessGoal, &v.Criteria, &v.EditedBy, &v.Reason, &v.At)
		})
		return err
	})
	batch.Queue(`SELECT at, actor_label, kind, summary FROM timeline WHERE entity_type = 'requirement' AND entity_id = `+id+`
		ORDER BY at DESC, id DESC LIMIT 50`, key).Query(func(rows pgx.Rows) error {
		var err error
		b.Timeline, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Event, error) {
			var e alm.Event
			return e, r.Scan(&e.At, &e.Actor, &e.Kind, &e.Summary)
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return b, fmt.Errorf("requirement page: %w", err)
	}
	if !found {
		return b, alm.Errorf(alm.CodeNotFound, "Requirement %s was not found.", key)
	}
	if b.Requirement.Criteria == nil {
		b.Requirement.Criteria = []alm.Criterion{}
	}
	return b, nil
}
