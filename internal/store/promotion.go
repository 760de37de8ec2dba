package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const promotionCols = `m.id, m.project_id, p.key, coalesce(m.build_id, 0), coalesce(b.number, 0), coalesce(b.checksum, ''), b.release_id, coalesce(x.name, ''),
	coalesce(w.key, mw.key, ''), m.stage_position, m.stage_name, m.org_id, o.name, m.status, m.reason, m.created_label, m.created_at, m.updated_at, m.revision,
	m.git_into, m.git_from, m.git_base, m.git_commit, m.git_state, m.git_message, m.pr_url, m.pr_number,
	(SELECT count(*) FROM merge_conflicts c WHERE c.promotion_id = m.id)`

// A promotion made as a merge has no build while its conflicts wait.
const promotionFrom = ` FROM promotions m JOIN projects p ON p.id = m.project_id LEFT JOIN release_builds b ON b.id = m.build_id
	LEFT JOIN releases x ON x.id = b.release_id LEFT JOIN work_items w ON w.id = b.work_item_id LEFT JOIN work_items mw ON mw.id = m.work_item_id
	JOIN orgs o ON o.id = m.org_id`

func scanPromotion(row pgx.Row) (alm.Promotion, error) {
	var m alm.Promotion
	var g alm.PromotionGit
	err := row.Scan(&m.ID, &m.ProjectID, &m.ProjectKey, &m.BuildID, &m.BuildNumber, &m.Checksum, &m.ReleaseID, &m.ReleaseName, &m.WorkItem,
		&m.StagePosition, &m.StageName, &m.OrgID, &m.OrgName, &m.Status, &m.Reason, &m.CreatedBy, &m.CreatedAt, &m.UpdatedAt, &m.Revision,
		&g.Into, &g.From, &g.Base, &g.Commit, &g.State, &g.Message, &g.PRURL, &g.PRNum, &g.Conflicts)
	if g.State != "" {
		m.Git = &g
	}
	return m, err
}

// NewPromotion is a promotion to open.
type NewPromotion struct {
	ProjectID     int64
	BuildID       int64
	StagePosition int
	StageName     string
	OrgID         int64
}

// CreatePromotion opens a promotion; one build has at most one promotion
// under way per stage.
func (s *Store) CreatePromotion(ctx context.Context, n NewPromotion) (alm.Promotion, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('promotion'), $1::int)`, n.BuildID); err != nil {
			return err
		}
		var other int64
		err := tx.QueryRow(ctx, `SELECT id FROM promotions WHERE build_id = $1 AND stage_position = $2 AND status IN ('open', 'deploying', 'failed', 'canceled')`,
			n.BuildID, n.StagePosition).Scan(&other)
		if err == nil {
			return alm.Errorf(alm.CodeConflict, "Promotion #%d already moves this build into %s: carry on with it, or abandon it first.", other, n.StageName)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		a := alm.ActorFrom(ctx)
		now := s.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO promotions (project_id, build_id, stage_position, stage_name, org_id, created_by, created_label, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`, n.ProjectID, n.BuildID, n.StagePosition, n.StageName, n.OrgID, a.UserID, actorLabel(a), now).Scan(&id); err != nil {
			return fmt.Errorf("insert promotion: %w", err)
		}
		return s.record(ctx, tx, n.ProjectID, "promotion", id, "promotion.open", fmt.Sprintf("opened promotion #%d into %s", id, n.StageName))
	})
	if err != nil {
		return alm.Promotion{}, err
	}
	return s.PromotionByID(ctx, id)
}

// PromotionByID returns a promotion.
func (s *Store) PromotionByID(ctx context.Context, id int64) (alm.Promotion, error) {
	m, err := scanPromotion(s.pool.QueryRow(ctx, `SELECT `+promotionCols+promotionFrom+` WHERE m.id = $1`, id))
	return m, notFound(err, "That promotion")
}

// PromotionFilter narrows ListPromotions.
type PromotionFilter struct {
	ProjectID int64
	BuildID   int64
	ReleaseID int64
	// WorkItem: promotions made as merges of the work item's branch.
	WorkItemID int64
	Status     []string
	Limit      int
}

// ListPromotions lists promotions, newest first.
func (s *Store) ListPromotions(ctx context.Context, f PromotionFilter) ([]alm.Promotion, error) {
	where := []string{"true"}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.ProjectID != 0 {
		add("m.project_id = $%d", f.ProjectID)
	}
	if f.BuildID != 0 {
		add("m.build_id = $%d", f.BuildID)
	}
	if f.ReleaseID != 0 {
		add("b.release_id = $%d", f.ReleaseID)
	}
	if f.WorkItemID != 0 {
		add("m.work_item_id = $%d", f.WorkItemID)
	}
	if len(f.Status) > 0 {
		add("m.status = ANY($%d)", f.Status)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+promotionCols+promotionFrom+` WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY m.id DESC LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list promotions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Promotion, error) { return scanPromotion(r) })
	if out == nil {
		out = []alm.Promotion{}
	}
	return out, err
}

// lockPromotion locks a promotion row and checks the move is allowed.
func lockPromotion(ctx context.Context, tx pgx.Tx, id int64, a alm.PromotionAction) (pid, buildID int64, status alm.PromotionStatus, err error) {
	var gitState string
	err = tx.QueryRow(ctx, `SELECT project_id, coalesce(build_id, 0), status, git_state FROM promotions WHERE id = $1 FOR UPDATE`, id).Scan(&pid, &buildID, &status, &gitState)
	if err != nil {
		return 0, 0, "", notFound(err, "That promotion")
	}
	if gitState == alm.GitConflicts && (a == alm.ActApprove || a == alm.ActDeploy || a == alm.ActRetry) {
		return pid, buildID, status, alm.Errorf(alm.CodeConflict, "The merge has conflicts to settle first: open the conflicts, choose for each, and the promotion is built.")
	}
	return pid, buildID, status, alm.CheckMove(status, a)
}

func (s *Store) setPromotion(ctx context.Context, tx pgx.Tx, id int64, status alm.PromotionStatus, reason string) error {
	_, err := tx.Exec(ctx, `UPDATE promotions SET status = $2, reason = $3, updated_at = $4, revision = revision + 1 WHERE id = $1`, id, status, truncate(reason, 2000), s.Now())
	return err
}

// PromotionDecisions lists a promotion's approvals and rejections in order.
func (s *Store) PromotionDecisions(ctx context.Context, id int64) ([]alm.Decision, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, build_id, user_id, user_label, role, decision, note, created_at, expires_at, reset_at
		FROM promotion_decisions WHERE promotion_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Decision, error) {
		var d alm.Decision
		return d, r.Scan(&d.ID, &d.BuildID, &d.UserID, &d.User, &d.Role, &d.Decision, &d.Note, &d.CreatedAt, &d.ExpiresAt, &d.ResetAt)
	})
	if out == nil {
		out = []alm.Decision{}
	}
	return out, err
}

// Approve records an approval by user, once per person and build.
func (s *Store) Approve(ctx context.Context, id int64, u alm.User, role alm.Role, note string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		pid, buildID, _, err := lockPromotion(ctx, tx, id, alm.ActApprove)
		if err != nil {
			return err
		}
		now := s.Now()
		var dup bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM promotion_decisions WHERE promotion_id = $1 AND user_id = $2 AND build_id = $3
			AND decision = 'approved' AND reset_at IS NULL AND expires_at > $4)`, id, u.ID, buildID, now).Scan(&dup); err != nil {
			return err
		}
		if dup {
			return alm.Errorf(alm.CodeConflict, "You have already approved this build; a second approval from one person does not count twice.")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO promotion_decisions (promotion_id, build_id, user_id, user_label, role, decision, note, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, 'approved', $6, $7, $8)`, id, buildID, u.ID, actorLabel(alm.ActorFrom(ctx)), role, truncate(note, 2000), now, now.Add(alm.ApprovalTTL)); err != nil {
			return fmt.Errorf("approve: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE promotions SET updated_at = $2, revision = revision + 1 WHERE id = $1`, id, now); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", id, "promotion.approve", fmt.Sprintf("approved promotion #%d", id))
	})
}

// Reject records a rejection: the promotion ends and its work items go
// back to development flagged with the reason.
func (s *Store) Reject(ctx context.Context, id int64, u alm.User, role alm.Role, reason string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		pid, buildID, _, err := lockPromotion(ctx, tx, id, alm.ActReject)
		if err != nil {
			return err
		}
		now := s.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO promotion_decisions (promotion_id, build_id, user_id, user_label, role, decision, note, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, 'rejected', $6, $7, $7)`, id, buildID, u.ID, actorLabel(alm.ActorFrom(ctx)), role, truncate(reason, 2000), now); err != nil {
			return fmt.Errorf("reject: %w", err)
		}
		if err := s.setPromotion(ctx, tx, id, alm.PromoRejected, reason); err != nil {
			return err
		}
		keys, err := buildWorkItems(ctx, tx, buildID)
		if err != nil {
			return err
		}
		if err := s.returnWorkItems(ctx, tx, keys, fmt.Sprintf("Promotion #%d rejected: %s", id, reason)); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", id, "promotion.reject", fmt.Sprintf("rejected promotion #%d: %s", id, reason))
	})
}

func buildWorkItems(ctx context.Context, tx pgx.Tx, buildID int64) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT work_item FROM build_components WHERE build_id = $1 AND work_item <> '' ORDER BY 1`, buildID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// returnWorkItems sends work items back to In progress, flagged with why.
func (s *Store) returnWorkItems(ctx context.Context, tx pgx.Tx, keys []string, reason string) error {
	for _, k := range keys {
		var id, pid int64
		err := tx.QueryRow(ctx, `UPDATE work_items w SET status = 'in_progress', returned_reason = $2, updated_at = $3, version = version + 1,
			rank = coalesce((SELECT max(rank) FROM work_items o WHERE o.project_id = w.project_id AND o.status = 'in_progress'), 0) + 1024
			WHERE key = $1 RETURNING id, project_id`, k, truncate(reason, 1000), s.Now()).Scan(&id, &pid)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("return %s: %w", k, err)
		}
		if err := s.record(ctx, tx, pid, "work_item", id, "work_item.returned", k+" returned to development: "+reason); err != nil {
			return err
		}
	}
	return nil
}

// BuildAuthors lists who worked on what a build holds: the assignees of
// its work items and whoever captured its components.
func (s *Store) BuildAuthors(ctx context.Context, buildID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT w.assignee_id FROM work_items w WHERE w.key IN (SELECT work_item FROM build_components WHERE build_id = $1) AND w.assignee_id IS NOT NULL
		UNION SELECT c.captured_by FROM work_item_components c JOIN work_items w ON w.id = c.work_item_id
		WHERE w.key IN (SELECT work_item FROM build_components WHERE build_id = $1) AND c.captured_by IS NOT NULL`, buildID)
	if err != nil {
		return nil, fmt.Errorf("build authors: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// ChangePromotionBuild moves an open promotion to a newer build of the same
// release; approvals given for the old build stop counting.
func (s *Store) ChangePromotionBuild(ctx context.Context, id, buildID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		pid, old, status, err := lockPromotion(ctx, tx, id, alm.ActApprove)
		if err != nil {
			return alm.Errorf(alm.CodeConflict, "Only an open promotion can take a new build (this one is %s).", strings.ToLower(status.Label()))
		}
		var same bool
		if err := tx.QueryRow(ctx, `SELECT a.release_id IS NOT DISTINCT FROM b.release_id AND a.work_item_id IS NOT DISTINCT FROM b.work_item_id
			FROM release_builds a, release_builds b WHERE a.id = $1 AND b.id = $2`, old, buildID).Scan(&same); err != nil {
			return notFound(err, "That build")
		}
		if !same {
			return alm.Errorf(alm.CodeInvalid, "Choose a build of the same release.")
		}
		now := s.Now()
		if _, err := tx.Exec(ctx, `UPDATE promotion_decisions SET reset_at = $2 WHERE promotion_id = $1 AND reset_at IS NULL`, id, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE promotions SET build_id = $2, updated_at = $3, revision = revision + 1 WHERE id = $1`, id, buildID, now); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", id, "promotion.rebuild", fmt.Sprintf("promotion #%d now carries build %d; approvals reset", id, buildID))
	})
}

// AbandonPromotion ends a promotion that will not be deployed.
func (s *Store) AbandonPromotion(ctx context.Context, id int64, reason string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		pid, _, _, err := lockPromotion(ctx, tx, id, alm.ActAbandon)
		if err != nil {
			return err
		}
		if err := s.setPromotion(ctx, tx, id, alm.PromoAbandoned, reason); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", id, "promotion.abandon", fmt.Sprintf("abandoned promotion #%d %s", id, reason))
	})
}

// AddPromotionComment adds a remark.
func (s *Store) AddPromotionComment(ctx context.Context, id int64, body string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		if err := tx.QueryRow(ctx, `SELECT project_id FROM promotions WHERE id = $1`, id).Scan(&pid); err != nil {
			return notFound(err, "That promotion")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO promotion_comments (promotion_id, user_label, body, created_at) VALUES ($1, $2, $3, $4)`,
			id, actorLabel(alm.ActorFrom(ctx)), body, s.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", id, "promotion.comment", truncate(body, 200))
	})
}

// PromotionComments lists a promotion's remarks in order.
func (s *Store) PromotionComments(ctx context.Context, id int64) ([]alm.PromotionComment, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, user_label, body, created_at FROM promotion_comments WHERE promotion_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.PromotionComment, error) {
		var c alm.PromotionComment
		return c, r.Scan(&c.ID, &c.User, &c.Body, &c.CreatedAt)
	})
	if out == nil {
		out = []alm.PromotionComment{}
	}
	return out, err
}

// AddSignoff records a tester's sign-off of a work item in a promotion's
// stage, or sends it back to development with a reason.
func (s *Store) AddSignoff(ctx context.Context, id int64, workItem, decision, note string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid, buildID int64
		var status alm.PromotionStatus
		if err := tx.QueryRow(ctx, `SELECT project_id, build_id, status FROM promotions WHERE id = $1 FOR UPDATE`, id).Scan(&pid, &buildID, &status); err != nil {
			return notFound(err, "That promotion")
		}
		if status != alm.PromoDeployed {
			return alm.Errorf(alm.CodeConflict, "Sign off once the promotion is deployed (it is %s).", strings.ToLower(status.Label()))
		}
		keys, err := buildWorkItems(ctx, tx, buildID)
		if err != nil {
			return err
		}
		workItem = strings.ToUpper(strings.TrimSpace(workItem))
		if !slices.Contains(keys, workItem) {
			return alm.Invalid(map[string]string{"work_item": "That work item is not in this promotion."})
		}
		if _, err := tx.Exec(ctx, `INSERT INTO signoffs (promotion_id, work_item, decision, note, user_label, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, workItem, decision, truncate(note, 2000), actorLabel(alm.ActorFrom(ctx)), s.Now()); err != nil {
			return err
		}
		if decision == "returned" {
			if err := s.returnWorkItems(ctx, tx, []string{workItem}, fmt.Sprintf("Returned from promotion #%d: %s", id, note)); err != nil {
				return err
			}
			return s.record(ctx, tx, pid, "promotion", id, "promotion.return", workItem+" returned to development: "+note)
		}
		if _, err := tx.Exec(ctx, `UPDATE work_items SET returned_reason = '' WHERE key = $1`, workItem); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", id, "promotion.signoff", workItem+" signed off")
	})
}

// Signoffs lists a promotion's sign-offs, newest first.
func (s *Store) Signoffs(ctx context.Context, id int64) ([]alm.Signoff, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, work_item, decision, note, user_label, created_at FROM signoffs WHERE promotion_id = $1 ORDER BY id DESC`, id)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Signoff, error) {
		var x alm.Signoff
		return x, r.Scan(&x.ID, &x.WorkItem, &x.Decision, &x.Note, &x.User, &x.CreatedAt)
	})
	if out == nil {
		out = []alm.Signoff{}
	}
	return out, err
}

// LatestValidation returns the newest validation of a build (or of the
// same artifact, by checksum) in an org; not found when there is none.
func (s *Store) LatestValidation(ctx context.Context, buildID, orgID int64) (*alm.Validation, error) {
	v, err := scanValidation(s.pool.QueryRow(ctx, `SELECT `+validationCols+` FROM validations v JOIN orgs o ON o.id = v.org_id
		WHERE v.org_id = $2 AND v.build_id IN (SELECT id FROM release_builds WHERE checksum = (SELECT checksum FROM release_builds WHERE id = $1))
		ORDER BY v.id DESC LIMIT 1`, buildID, orgID))
	if err != nil {
		return nil, notFound(err, "A validation of that build")
	}
	return &v, nil
}

// DeployedIn reports whether a build's artifact (by checksum) was
// deployed into an org and not rolled back.
func (s *Store) DeployedIn(ctx context.Context, buildID, orgID int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deployments d JOIN release_builds b ON b.id = d.build_id
		WHERE d.org_id = $2 AND d.kind <> 'rollback' AND d.status = 'succeeded'
		AND b.checksum = (SELECT checksum FROM release_builds WHERE id = $1)
		AND NOT EXISTS (SELECT 1 FROM deployments r WHERE r.rollback_of = d.id AND r.status = 'succeeded'))`, buildID, orgID).Scan(&ok)
	return ok, err
}

// StageOfWorkItems returns, per work item key, the furthest pipeline stage
// a build carrying it has been deployed into.
func (s *Store) StageOfWorkItems(ctx context.Context, keys []string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (c.work_item) c.work_item, m.stage_name
		FROM build_components c JOIN promotions m ON m.build_id = c.build_id
		WHERE c.work_item = ANY($1) AND m.status IN ('deployed')
		ORDER BY c.work_item, m.stage_position DESC`, keys)
	if err != nil {
		return nil, fmt.Errorf("stages of work items: %w", err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, st string
		if err := rows.Scan(&k, &st); err != nil {
			return nil, err
		}
		out[k] = st
	}
	return out, rows.Err()
}

// WorkItemTitles returns the titles of the work items with the given keys.
func (s *Store) WorkItemTitles(ctx context.Context, keys []string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, title FROM work_items WHERE key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("work item titles: %w", err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, t string
		if err := rows.Scan(&k, &t); err != nil {
			return nil, err
		}
		out[k] = t
	}
	return out, rows.Err()
}
