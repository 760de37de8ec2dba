package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// Screenshot is an image attached to feedback (type already checked).
type Screenshot struct {
	Data []byte
	Type string
}

// CreateFeedback files a report in a project.
func (s *Store) CreateFeedback(ctx context.Context, projectID int64, n alm.NewFeedback, shot *Screenshot) (alm.Feedback, error) {
	if err := n.Validate(); err != nil {
		return alm.Feedback{}, err
	}
	a := alm.ActorFrom(ctx)
	var data []byte
	var typ string
	if shot != nil {
		data, typ = shot.Data, shot.Type
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO feedback (project_id, kind, title, body, where_seen, component_type, component_name, screenshot, screenshot_type,
			submitted_by, submitted_label, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id`,
			projectID, n.Kind, n.Title, n.Body, truncate(n.WhereSeen, 500), n.ComponentType, n.ComponentName, data, typ, a.UserID, actorLabel(a), s.Now()).Scan(&id); err != nil {
			return fmt.Errorf("file feedback: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "feedback.create", "feedback", fmt.Sprint(id), n.Kind+": "+n.Title))
	})
	if err != nil {
		return alm.Feedback{}, err
	}
	return s.FeedbackByID(ctx, id)
}

const feedbackCols = `f.id, f.project_id, p.key, f.kind, f.title, f.body, f.where_seen, f.component_type, f.component_name, f.screenshot IS NOT NULL,
	f.status, f.triage_note, coalesce(rq.key, ''), coalesce(w.key, ''), f.release_id, coalesce(rl.name, ''), f.submitted_label, f.created_at, f.updated_at`

const feedbackFrom = ` FROM feedback f JOIN projects p ON p.id = f.project_id LEFT JOIN requirements rq ON rq.id = f.requirement_id
	LEFT JOIN work_items w ON w.id = f.work_item_id LEFT JOIN releases rl ON rl.id = f.release_id`

func scanFeedback(r pgx.Row) (alm.Feedback, error) {
	var f alm.Feedback
	return f, r.Scan(&f.ID, &f.ProjectID, &f.ProjectKey, &f.Kind, &f.Title, &f.Body, &f.WhereSeen, &f.ComponentType, &f.ComponentName, &f.HasScreenshot,
		&f.Status, &f.TriageNote, &f.Requirement, &f.WorkItem, &f.ReleaseID, &f.ReleaseName, &f.SubmittedBy, &f.CreatedAt, &f.UpdatedAt)
}

// FeedbackByID returns one report.
func (s *Store) FeedbackByID(ctx context.Context, id int64) (alm.Feedback, error) {
	f, err := scanFeedback(s.pool.QueryRow(ctx, `SELECT `+feedbackCols+feedbackFrom+` WHERE f.id = $1`, id))
	return f, notFound(err, "That feedback")
}

// ListFeedback lists a project's feedback (projectID 0: every project's;
// status "" for all), newest first.
func (s *Store) ListFeedback(ctx context.Context, projectID int64, status string, limit int) ([]alm.Feedback, error) {
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	rows, err := s.pool.Query(ctx, `SELECT `+feedbackCols+feedbackFrom+` WHERE ($1 = 0 OR f.project_id = $1) AND ($2 = '' OR f.status = $2) ORDER BY f.id DESC LIMIT $3`,
		projectID, status, limit)
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Feedback, error) { return scanFeedback(r) })
	if out == nil {
		out = []alm.Feedback{}
	}
	return out, err
}

// FeedbackCounts counts a project's feedback by status.
func (s *Store) FeedbackCounts(ctx context.Context, projectID int64) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM feedback WHERE project_id = $1 GROUP BY status`, projectID)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// FeedbackScreenshot returns a report's image.
func (s *Store) FeedbackScreenshot(ctx context.Context, id int64) (Screenshot, error) {
	var sh Screenshot
	err := s.pool.QueryRow(ctx, `SELECT screenshot, screenshot_type FROM feedback WHERE id = $1 AND screenshot IS NOT NULL`, id).Scan(&sh.Data, &sh.Type)
	return sh, notFound(err, "That screenshot")
}

// ReleaseThatChanged finds the release whose build last deployed a
// component (into any org), for linking a report about it; not found when
// no release ever deployed it.
func (s *Store) ReleaseThatChanged(ctx context.Context, typ, name string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT b.release_id FROM deployment_components c JOIN deployments d ON d.id = c.deployment_id
		JOIN release_builds b ON b.id = d.build_id
		WHERE c.type = $1 AND lower(c.name) = lower($2) AND d.status = 'succeeded' AND b.release_id IS NOT NULL
		ORDER BY d.finished_at DESC LIMIT 1`, typ, name).Scan(&id)
	return id, notFound(err, "A release that changed "+typ+" "+name)
}

// ConvertedFeedback links a report to the requirement or work item made
// from it (and the release that last changed its component), closing it.
func (s *Store) ConvertedFeedback(ctx context.Context, id int64, requirementID, workItemID, releaseID *int64, note string) (alm.Feedback, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE feedback SET status = 'converted', requirement_id = $2, work_item_id = $3, release_id = $4, triage_note = $5, updated_at = $6
			WHERE id = $1 AND status = 'new'`, id, requirementID, workItemID, releaseID, truncate(note, 2000), s.Now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return alm.Errorf(alm.CodeConflict, "That feedback was already triaged.")
		}
		if workItemID != nil && releaseID != nil {
			if _, err := tx.Exec(ctx, `UPDATE work_items SET found_in_release_id = $2 WHERE id = $1`, *workItemID, *releaseID); err != nil {
				return fmt.Errorf("found in release: %w", err)
			}
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "feedback.convert", "feedback", fmt.Sprint(id), note))
	})
	if err != nil {
		return alm.Feedback{}, err
	}
	return s.FeedbackByID(ctx, id)
}

// DeclineFeedback closes a report with the reason.
func (s *Store) DeclineFeedback(ctx context.Context, id int64, note string) (alm.Feedback, error) {
	if note == "" {
		return alm.Feedback{}, alm.Invalid(map[string]string{"note": "Say why, so whoever filed it knows."})
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE feedback SET status = 'declined', triage_note = $2, updated_at = $3 WHERE id = $1 AND status = 'new'`, id, truncate(note, 2000), s.Now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return alm.Errorf(alm.CodeConflict, "That feedback was already triaged.")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "feedback.decline", "feedback", fmt.Sprint(id), note))
	})
	if err != nil {
		return alm.Feedback{}, err
	}
	return s.FeedbackByID(ctx, id)
}
