package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const commentCols = `c.id, c.requirement_id, c.parent_id, c.kind, c.state, c.body, c.proposed_title, c.proposed_description,
	c.author_id, c.author_label, c.resolved_by_label, c.resolved_at, c.created_at`

func scanComment(row pgx.Row) (alm.Comment, error) {
	var c alm.Comment
	var kind, state string
	err := row.Scan(&c.ID, &c.RequirementID, &c.ParentID, &kind, &state, &c.Body, &c.ProposedTitle, &c.ProposedDesc,
		&c.AuthorID, &c.AuthorName, &c.ResolvedByName, &c.ResolvedAt, &c.CreatedAt)
	c.Kind, c.State = alm.CommentKind(kind), alm.CommentState(state)
	return c, err
}

// AddComment posts to a requirement's discussion. Questions and change
// requests start open. A reply with answers set closes the open question
// it replies to; the caller decides who may answer.
func (s *Store) AddComment(ctx context.Context, key string, n alm.NewComment, answers bool) (alm.Comment, error) {
	if err := n.Validate(); err != nil {
		return alm.Comment{}, err
	}
	var c alm.Comment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var reqID, pid int64
		if err := tx.QueryRow(ctx, `SELECT id, project_id FROM requirements WHERE key = upper($1)`, key).Scan(&reqID, &pid); err != nil {
			return notFound(err, "Requirement "+key)
		}
		var parent alm.Comment
		if n.ParentID != nil {
			var err error
			parent, err = scanComment(tx.QueryRow(ctx, `SELECT `+commentCols+` FROM comments c WHERE c.id = $1 AND c.requirement_id = $2 FOR UPDATE`, *n.ParentID, reqID))
			if err != nil {
				return alm.Invalid(map[string]string{"parent_id": "That comment is not on " + key + "."})
			}
			if parent.ParentID != nil {
				// Threads are one level deep: a reply to a reply joins its thread.
				n.ParentID = parent.ParentID
			}
		}
		state := ""
		if n.Kind != alm.CommentNote {
			state = string(alm.StateOpen)
		}
		a := alm.ActorFrom(ctx)
		var err error
		c, err = scanComment(tx.QueryRow(ctx, `INSERT INTO comments (requirement_id, parent_id, kind, state, body, proposed_title, proposed_description, author_id, author_label, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+commentColsBare, reqID, n.ParentID, string(n.Kind), state, n.Body,
			n.ProposedTitle, n.ProposedDesc, a.UserID, actorLabel(a), s.Now()))
		if err != nil {
			return fmt.Errorf("insert comment: %w", err)
		}
		summary := map[alm.CommentKind]string{alm.CommentNote: "commented", alm.CommentQuestion: "asked a question", alm.CommentChangeRequest: "requested a change to the spec"}[n.Kind]
		if n.ParentID != nil {
			summary = "replied"
		}
		if err := s.record(ctx, tx, pid, "requirement", reqID, "requirement.comment", summary+": "+truncate(n.Body, 200)); err != nil {
			return err
		}
		if answers && n.ParentID != nil && parent.Kind == alm.CommentQuestion && parent.State == alm.StateOpen {
			return s.resolveComment(ctx, tx, pid, reqID, *n.ParentID, alm.StateAnswered, "answered the question: "+truncate(parent.Body, 200))
		}
		return nil
	})
	return c, err
}

// commentColsBare is commentCols for RETURNING, where there is no alias.
const commentColsBare = `id, requirement_id, parent_id, kind, state, body, proposed_title, proposed_description,
	author_id, author_label, resolved_by_label, resolved_at, created_at`

func (s *Store) resolveComment(ctx context.Context, tx pgx.Tx, pid, reqID, commentID int64, state alm.CommentState, summary string) error {
	a := alm.ActorFrom(ctx)
	if _, err := tx.Exec(ctx, `UPDATE comments SET state = $2, resolved_by = $3, resolved_by_label = $4, resolved_at = $5 WHERE id = $1`,
		commentID, string(state), a.UserID, actorLabel(a), s.Now()); err != nil {
		return fmt.Errorf("resolve comment: %w", err)
	}
	return s.record(ctx, tx, pid, "requirement", reqID, "requirement.comment_"+string(state), summary)
}

// MarkAnswered closes an open question without a reply (it was answered
// elsewhere, or the asker withdrew it).
func (s *Store) MarkAnswered(ctx context.Context, key string, commentID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		c, pid, err := s.openComment(ctx, tx, key, commentID, alm.CommentQuestion)
		if err != nil {
			return err
		}
		return s.resolveComment(ctx, tx, pid, c.RequirementID, c.ID, alm.StateAnswered, "marked the question answered: "+truncate(c.Body, 200))
	})
}

// CommentByID returns one comment of a requirement.
func (s *Store) CommentByID(ctx context.Context, key string, commentID int64) (alm.Comment, error) {
	c, err := scanComment(s.pool.QueryRow(ctx, `SELECT `+commentCols+` FROM comments c JOIN requirements r ON r.id = c.requirement_id
		WHERE c.id = $1 AND r.key = upper($2)`, commentID, key))
	return c, notFound(err, "That comment")
}

func (s *Store) openComment(ctx context.Context, tx pgx.Tx, key string, commentID int64, kind alm.CommentKind) (alm.Comment, int64, error) {
	var pid int64
	c, err := scanComment(tx.QueryRow(ctx, `SELECT `+commentCols+` FROM comments c JOIN requirements r ON r.id = c.requirement_id
		WHERE c.id = $1 AND r.key = upper($2) FOR UPDATE OF c`, commentID, key))
	if err != nil {
		return c, 0, notFound(err, "That comment")
	}
	if err := tx.QueryRow(ctx, `SELECT project_id FROM requirements WHERE id = $1`, c.RequirementID).Scan(&pid); err != nil {
		return c, 0, fmt.Errorf("requirement project: %w", err)
	}
	if c.Kind != kind {
		return c, 0, alm.Errorf(alm.CodeInvalid, "That comment is not a %s.", map[alm.CommentKind]string{alm.CommentQuestion: "question", alm.CommentChangeRequest: "change request"}[kind])
	}
	if c.State != alm.StateOpen {
		return c, 0, alm.Errorf(alm.CodeConflict, "That %s is already %s.", map[alm.CommentKind]string{alm.CommentQuestion: "question", alm.CommentChangeRequest: "change request"}[kind], c.State)
	}
	return c, pid, nil
}

// DecideChangeRequest accepts or declines an open change request.
// Accepting applies the proposed title and description to the spec as a
// new spec version.
func (s *Store) DecideChangeRequest(ctx context.Context, key string, commentID int64, accept bool) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		c, pid, err := s.openComment(ctx, tx, key, commentID, alm.CommentChangeRequest)
		if err != nil {
			return err
		}
		if !accept {
			return s.resolveComment(ctx, tx, pid, c.RequirementID, c.ID, alm.StateDeclined, "declined the change request: "+truncate(c.Body, 200))
		}
		cur, err := scanRequirement(tx.QueryRow(ctx, `SELECT `+reqCols+reqFrom+` WHERE r.id = $1 FOR UPDATE OF r`, c.RequirementID))
		if err != nil {
			return fmt.Errorf("load requirement: %w", err)
		}
		crit, err := s.criteria(ctx, tx, cur.ID)
		if err != nil {
			return err
		}
		in := alm.RequirementInput{Title: cur.Title, Description: cur.Description, BusinessGoal: cur.BusinessGoal, Criteria: alm.CriteriaTexts(crit)}
		if c.ProposedTitle != "" {
			in.Title = c.ProposedTitle
		}
		if c.ProposedDesc != "" {
			in.Description = c.ProposedDesc
		}
		if _, err := tx.Exec(ctx, `UPDATE requirements SET title = $2, description = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
			cur.ID, in.Title, in.Description, s.Now()); err != nil {
			return fmt.Errorf("apply change request: %w", err)
		}
		if err := s.addSpecVersion(ctx, tx, cur.ID, in, fmt.Sprintf("change request #%d by %s", c.ID, c.AuthorName)); err != nil {
			return err
		}
		return s.resolveComment(ctx, tx, pid, cur.ID, c.ID, alm.StateAccepted, "accepted the change request: "+truncate(c.Body, 200))
	})
}

// Comments lists a requirement's discussion as threads, oldest first.
func (s *Store) Comments(ctx context.Context, reqID int64) ([]alm.Comment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+commentCols+` FROM comments c WHERE c.requirement_id = $1 ORDER BY c.created_at, c.id`, reqID)
	if err != nil {
		return nil, fmt.Errorf("comments: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Comment, error) { return scanComment(r) })
	if err != nil {
		return nil, fmt.Errorf("comments: %w", err)
	}
	return threads(all), nil
}

// threads nests replies under their top-level comments.
func threads(all []alm.Comment) []alm.Comment {
	var top []alm.Comment
	index := map[int64]int{}
	for _, c := range all {
		if c.ParentID == nil {
			index[c.ID] = len(top)
			top = append(top, c)
		}
	}
	for _, c := range all {
		if c.ParentID != nil {
			if i, ok := index[*c.ParentID]; ok {
				top[i].Replies = append(top[i].Replies, c)
			}
		}
	}
	if top == nil {
		top = []alm.Comment{}
	}
	return top
}
