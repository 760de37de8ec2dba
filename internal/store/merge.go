package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// NewMergePromotion is a promotion made as a merge: with a build when the
// merge was clean, without one while Conflicts wait for people.
type NewMergePromotion struct {
	ProjectID     int64
	WorkItemID    int64 // 0 for deploying a stage branch as it is
	BuildID       int64 // 0 while conflicts wait
	StagePosition int
	StageName     string
	OrgID         int64
	Git           alm.PromotionGit
	Conflicts     []alm.MergeConflict
}

// CreateMergePromotion opens a promotion made as a merge; a work item has
// at most one under way per stage.
func (s *Store) CreateMergePromotion(ctx context.Context, n NewMergePromotion) (alm.Promotion, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('promotion-merge'), $1::int)`, n.ProjectID); err != nil {
			return err
		}
		var other int64
		err := tx.QueryRow(ctx, `SELECT id FROM promotions WHERE project_id = $1 AND stage_position = $2 AND git_state <> ''
			AND coalesce(work_item_id, 0) = $3 AND status IN ('open', 'deploying', 'failed', 'canceled')`,
			n.ProjectID, n.StagePosition, n.WorkItemID).Scan(&other)
		if err == nil {
			return alm.Errorf(alm.CodeConflict, "Promotion #%d already merges this into %s: carry on with it, or abandon it first.", other, n.StageName)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		a := alm.ActorFrom(ctx)
		now := s.Now()
		g := n.Git
		if err := tx.QueryRow(ctx, `INSERT INTO promotions (project_id, build_id, work_item_id, stage_position, stage_name, org_id, created_by, created_label, created_at, updated_at,
			git_into, git_from, git_base, git_commit, git_state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14) RETURNING id`,
			n.ProjectID, nullID(n.BuildID), nullID(n.WorkItemID), n.StagePosition, n.StageName, n.OrgID, a.UserID, actorLabel(a), now,
			g.Into, g.From, g.Base, g.Commit, g.State).Scan(&id); err != nil {
			return fmt.Errorf("insert promotion: %w", err)
		}
		for _, c := range n.Conflicts {
			el, _ := json.Marshal(orEmpty(c.Elements))
			if _, err := tx.Exec(ctx, `INSERT INTO merge_conflicts (promotion_id, path, elements, base, ours, theirs, marked) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				id, c.Path, el, c.Base, c.Ours, c.Theirs, c.Marked); err != nil {
				return fmt.Errorf("insert conflict: %w", err)
			}
		}
		what := fmt.Sprintf("merged %s into %s", g.From, g.Into)
		if g.From == "" {
			what = fmt.Sprintf("deploys %s at %.8s", g.Into, g.Commit)
		}
		if len(n.Conflicts) > 0 {
			what = fmt.Sprintf("merging %s into %s stopped on %s", g.From, g.Into, alm.Count(len(n.Conflicts), "conflicting file"))
		}
		return s.record(ctx, tx, n.ProjectID, "promotion", id, "promotion.open", fmt.Sprintf("opened promotion #%d into %s: %s", id, n.StageName, what))
	})
	if err != nil {
		return alm.Promotion{}, err
	}
	return s.PromotionByID(ctx, id)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MergeConflicts lists a promotion's conflicting files, by path.
func (s *Store) MergeConflicts(ctx context.Context, promotionID int64) ([]alm.MergeConflict, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, path, elements, base, ours, theirs, marked, resolution, resolved, resolved_label, resolved_at
		FROM merge_conflicts WHERE promotion_id = $1 ORDER BY path`, promotionID)
	if err != nil {
		return nil, fmt.Errorf("merge conflicts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.MergeConflict, error) {
		var c alm.MergeConflict
		var el []byte
		err := r.Scan(&c.ID, &c.Path, &el, &c.Base, &c.Ours, &c.Theirs, &c.Marked, &c.Resolution, &c.Resolved, &c.By, &c.At)
		if err == nil {
			err = json.Unmarshal(el, &c.Elements)
		}
		return c, err
	})
}

// ResolveConflicts records how each conflicting file was settled (path →
// resolution and content, nil content: the file goes), for the promotion
// whose merge then becomes commit with build, in one transaction.
func (s *Store) ResolveConflicts(ctx context.Context, promotionID int64, res map[string]alm.MergeConflict, buildID int64, commit, base string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		var state string
		if err := tx.QueryRow(ctx, `SELECT project_id, git_state FROM promotions WHERE id = $1 FOR UPDATE`, promotionID).Scan(&pid, &state); err != nil {
			return notFound(err, "That promotion")
		}
		if state != alm.GitConflicts {
			return alm.Errorf(alm.CodeConflict, "This promotion's merge has no conflicts waiting (someone settled them already).")
		}
		label := actorLabel(alm.ActorFrom(ctx))
		for path, c := range res {
			tag, err := tx.Exec(ctx, `UPDATE merge_conflicts SET resolution = $3, resolved = $4, resolved_label = $5, resolved_at = $6 WHERE promotion_id = $1 AND path = $2`,
				promotionID, path, c.Resolution, c.Resolved, label, s.Now())
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return alm.Errorf(alm.CodeInvalid, "%s is not one of this merge's conflicts.", path)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE promotions SET build_id = $2, git_commit = $3, git_base = $4, git_state = 'merged', updated_at = $5, revision = revision + 1 WHERE id = $1`,
			promotionID, buildID, commit, base, s.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", promotionID, "promotion.resolve",
			fmt.Sprintf("settled %s; merge commit %.8s built", alm.Count(len(res), "conflicting file"), commit))
	})
}

// SetPromotionGit moves a merge promotion's git state (pushing, pushed,
// push_failed), with message saying why, and the commit now on the
// branch when pushed.
func (s *Store) SetPromotionGit(ctx context.Context, promotionID int64, state, message string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		// A refusal met by a push that already succeeded (two pushes of
		// one merge) changes nothing.
		err := tx.QueryRow(ctx, `UPDATE promotions SET git_state = $2, git_message = $3, updated_at = $4, revision = revision + 1
			WHERE id = $1 AND NOT (git_state = 'pushed' AND $2 = 'push_failed') RETURNING project_id`,
			promotionID, state, truncate(message, 2000), s.Now()).Scan(&pid)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		summary := "git: " + state
		if message != "" {
			summary += ": " + message
		}
		return s.record(ctx, tx, pid, "promotion", promotionID, "promotion.git", summary)
	})
}

// SetPromotionPR links a promotion to its pull request on the git host.
func (s *Store) SetPromotionPR(ctx context.Context, promotionID int64, url string, number int) error {
	_, err := s.pool.Exec(ctx, `UPDATE promotions SET pr_url = $2, pr_number = $3 WHERE id = $1`, promotionID, url, number)
	return err
}

// StageCommits maps each stage (by name, lower case) to the commit its
// org last received from git.
func (s *Store) StageCommits(ctx context.Context, projectID int64) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT lower(stage_name), commit FROM stage_commits WHERE project_id = $1`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// SetStageCommit records that stage's org now holds commit (from
// promotion, or 0 for the baseline taken when the project was connected
// to git).
func (s *Store) SetStageCommit(ctx context.Context, projectID int64, stage, commit string, promotionID int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO stage_commits (project_id, stage_name, commit, promotion_id, updated_at) VALUES ($1, lower($2), $3, $4, $5)
		ON CONFLICT (project_id, stage_name) DO UPDATE SET commit = $3, promotion_id = $4, updated_at = $5`, projectID, stage, commit, nullID(promotionID), s.Now())
	return err
}

// PromotedIn reports whether a work item was deployed into stage by a
// promotion made as a merge.
func (s *Store) PromotedIn(ctx context.Context, workItemID int64, stage string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM promotions WHERE work_item_id = $1 AND lower(stage_name) = lower($2) AND status = 'deployed')`,
		workItemID, stage).Scan(&ok)
	return ok, err
}

// ItemMergeCommit is the commit that brought a work item into its
// pipeline's first branch (trunk-based: the later stages deploy it).
func (s *Store) ItemMergeCommit(ctx context.Context, workItemID int64) (string, error) {
	var c string
	err := s.pool.QueryRow(ctx, `SELECT git_commit FROM promotions WHERE work_item_id = $1 AND status = 'deployed' AND git_state = 'pushed'
		ORDER BY stage_position, id DESC LIMIT 1`, workItemID).Scan(&c)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", alm.Errorf(alm.CodeConflict, "Promote the work item into the first stage first: later stages deploy the commit that merged it.")
	}
	return c, err
}

// RequeuePush asks again for the push of a deployed merge the repository
// refused, queueing push with the state change.
func (s *Store) RequeuePush(ctx context.Context, promotionID int64, push Job) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		err := tx.QueryRow(ctx, `UPDATE promotions SET git_state = 'pushing', git_message = '', updated_at = $2 WHERE id = $1 AND status = 'deployed' AND git_state = 'push_failed'
			RETURNING project_id`, promotionID, s.Now()).Scan(&pid)
		if errors.Is(err, pgx.ErrNoRows) {
			return alm.Errorf(alm.CodeConflict, "Only a deployed promotion whose push failed is pushed again.")
		}
		if err != nil {
			return err
		}
		if err := push.insert(ctx, tx, promotionID); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", promotionID, "promotion.git", "push asked again")
	})
}

// Modified is who last changed a component in an org, and when.
type Modified struct {
	Type, Name, By string
	At             *time.Time
}

// RecordModified keeps an org snapshot's lastModifiedBy/Date per component.
func (s *Store) RecordModified(ctx context.Context, snapshotID int64, ms []Modified) error {
	if len(ms) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(ms))
	seen := map[string]bool{}
	for _, m := range ms {
		k := m.Type + "\x00" + strings.ToLower(m.Name)
		if seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, []any{snapshotID, m.Type, strings.ToLower(m.Name), m.By, m.At})
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		// A retried snapshot job lists the org again.
		if _, err := tx.Exec(ctx, `DELETE FROM snapshot_modified WHERE snapshot_id = $1`, snapshotID); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"snapshot_modified"}, []string{"snapshot_id", "type", "name", "by_name", "at"}, pgx.CopyFromRows(rows))
		return err
	})
}

// SnapshotModified maps "Type\x00lower(name)" to who last changed it.
func (s *Store) SnapshotModified(ctx context.Context, snapshotID int64) (map[string]Modified, error) {
	rows, err := s.pool.Query(ctx, `SELECT type, name, by_name, at FROM snapshot_modified WHERE snapshot_id = $1`, snapshotID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Modified{}
	for rows.Next() {
		var m Modified
		if err := rows.Scan(&m.Type, &m.Name, &m.By, &m.At); err != nil {
			return nil, err
		}
		out[m.Type+"\x00"+m.Name] = m
	}
	return out, rows.Err()
}

// MergesInto lists the promotions of a repository's projects that wait to
// merge a work item's branch into branch (merged in Trellis, not yet
// deployed and pushed).
func (s *Store) MergesInto(ctx context.Context, repoID int64, branch string) ([]alm.Promotion, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+promotionCols+promotionFrom+` WHERE p.repository_id = $1 AND m.git_into = $2 AND m.git_from <> ''
		AND m.git_state = 'merged' AND m.status IN ('open', 'failed', 'canceled') ORDER BY m.id`, repoID, branch)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Promotion, error) { return scanPromotion(r) })
}

// MergedOnHost records that the host merged a promotion's branch: it now
// deploys the stage branch's commit (nothing left to push) with a build
// made from it; approvals given to the old build no longer count.
func (s *Store) MergedOnHost(ctx context.Context, promotionID, buildID int64, commit, base string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		if err := tx.QueryRow(ctx, `UPDATE promotions SET build_id = $2, git_commit = $3, git_base = $4, git_message = 'Merged on the git host; the deploy carries the branch as the host merged it.',
			updated_at = $5, revision = revision + 1 WHERE id = $1 AND git_state = 'merged' RETURNING project_id`, promotionID, buildID, commit, base, s.Now()).Scan(&pid); err != nil {
			return notFound(err, "That promotion")
		}
		if _, err := tx.Exec(ctx, `UPDATE promotion_decisions SET reset_at = $2 WHERE promotion_id = $1 AND reset_at IS NULL`, promotionID, s.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, pid, "promotion", promotionID, "promotion.git", fmt.Sprintf("merged on the git host (%.8s); rebuilt from the branch", commit))
	})
}
