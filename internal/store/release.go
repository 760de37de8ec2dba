package store

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const releaseCols = `x.id, x.project_id, x.name, x.version, x.target_date, x.status, x.notes, x.notes_edited,
	(SELECT count(*) FROM work_items w WHERE w.release_id = x.id), x.rev, x.created_at, x.updated_at`

func scanRelease(row pgx.Row) (alm.Release, error) {
	var r alm.Release
	var st string
	err := row.Scan(&r.ID, &r.ProjectID, &r.Name, &r.Version, &r.TargetDate, &st, &r.Notes, &r.NotesEdited, &r.Items, &r.Rev, &r.CreatedAt, &r.UpdatedAt)
	r.Status = alm.RelStatus(st)
	return r, err
}

func releaseNameTaken(err error, name string) error {
	if isUniqueViolation(err, "releases_project_id_name_key") {
		return alm.Invalid(map[string]string{"name": "This project already has a release called " + name + "."})
	}
	return err
}

// CreateRelease adds a release in planning.
func (s *Store) CreateRelease(ctx context.Context, projectID int64, in alm.ReleaseInput) (alm.Release, error) {
	if err := in.Validate(); err != nil {
		return alm.Release{}, err
	}
	var r alm.Release
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO releases (project_id, name, version, target_date, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`,
			projectID, in.Name, in.Version, in.TargetDate, now).Scan(&id)
		if err != nil {
			if e := releaseNameTaken(err, in.Name); e != err {
				return e
			}
			return fmt.Errorf("insert release: %w", err)
		}
		if r, err = scanRelease(tx.QueryRow(ctx, `SELECT `+releaseCols+` FROM releases x WHERE x.id = $1`, id)); err != nil {
			return err
		}
		return s.record(ctx, tx, projectID, "release", id, "release.create", "created release "+in.Name)
	})
	return r, err
}

// ReleaseByID returns a release of a project.
func (s *Store) ReleaseByID(ctx context.Context, projectID, id int64) (alm.Release, error) {
	r, err := scanRelease(s.pool.QueryRow(ctx, `SELECT `+releaseCols+` FROM releases x WHERE x.id = $1 AND x.project_id = $2`, id, projectID))
	return r, notFound(err, "That release")
}

// ListReleases lists a project's releases, open ones first by target date.
func (s *Store) ListReleases(ctx context.Context, projectID int64) ([]alm.Release, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+releaseCols+` FROM releases x WHERE x.project_id = $1
		ORDER BY x.status IN ('released', 'abandoned'), x.target_date NULLS LAST, x.id DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Release, error) { return scanRelease(r) })
	if out == nil {
		out = []alm.Release{}
	}
	return out, err
}

// UpdateRelease changes a release's name, version and date, and its notes
// when notes is not nil (an empty string goes back to generated notes).
// It answers CodeConflict if the release moved on since revision rev.
func (s *Store) UpdateRelease(ctx context.Context, projectID, id int64, rev int, in alm.ReleaseInput, notes *string) (alm.Release, error) {
	if err := in.Validate(); err != nil {
		return alm.Release{}, err
	}
	if notes != nil && utf8.RuneCountInString(*notes) > 100000 {
		return alm.Release{}, alm.Invalid(map[string]string{"notes": "Keep the notes under 100,000 characters."})
	}
	var r alm.Release
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanRelease(tx.QueryRow(ctx, `SELECT `+releaseCols+` FROM releases x WHERE x.id = $1 AND x.project_id = $2 FOR UPDATE`, id, projectID))
		if err != nil {
			return notFound(err, "That release")
		}
		if cur.Rev != rev {
			return conflict(cur.Name, rev, cur.Rev)
		}
		text, edited := cur.Notes, cur.NotesEdited
		if notes != nil {
			text = strings.TrimSpace(*notes)
			edited = text != ""
		}
		_, err = tx.Exec(ctx, `UPDATE releases SET name = $2, version = $3, target_date = $4, notes = $5, notes_edited = $6, rev = rev + 1, updated_at = $7 WHERE id = $1`,
			id, in.Name, in.Version, in.TargetDate, text, edited, s.Now())
		if err != nil {
			if e := releaseNameTaken(err, in.Name); e != err {
				return e
			}
			return fmt.Errorf("update release: %w", err)
		}
		summary := "edited the release"
		if notes != nil && text != cur.Notes {
			summary = "edited the release notes"
			if !edited {
				summary = "went back to generated release notes"
			}
		}
		if r, err = scanRelease(tx.QueryRow(ctx, `SELECT `+releaseCols+` FROM releases x WHERE x.id = $1`, id)); err != nil {
			return err
		}
		return s.record(ctx, tx, projectID, "release", id, "release.update", summary)
	})
	return r, err
}

// MoveRelease changes a release's status if role may.
func (s *Store) MoveRelease(ctx context.Context, projectID, id int64, role alm.Role, to alm.RelStatus) (alm.Release, error) {
	var r alm.Release
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanRelease(tx.QueryRow(ctx, `SELECT `+releaseCols+` FROM releases x WHERE x.id = $1 AND x.project_id = $2 FOR UPDATE`, id, projectID))
		if err != nil {
			return notFound(err, "That release")
		}
		if err := alm.CanMoveRelease(role, cur.Status, to); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE releases SET status = $2, rev = rev + 1, updated_at = $3 WHERE id = $1`, id, string(to), s.Now()); err != nil {
			return fmt.Errorf("move release: %w", err)
		}
		if r, err = scanRelease(tx.QueryRow(ctx, `SELECT `+releaseCols+` FROM releases x WHERE x.id = $1`, id)); err != nil {
			return err
		}
		return s.record(ctx, tx, projectID, "release", id, "release.status", fmt.Sprintf("moved from %s to %s", cur.Status.Label(), to.Label()))
	})
	return r, err
}

// ReleaseNoteItems lists a release's work items with the requirements
// they deliver, for its notes.
func (s *Store) ReleaseNoteItems(ctx context.Context, releaseID int64) ([]alm.NoteItem, error) {
	rows, err := s.pool.Query(ctx, `SELECT w.key, w.kind, w.title,
		coalesce(array_agg(r.key ORDER BY r.number) FILTER (WHERE r.id IS NOT NULL), '{}'),
		coalesce(array_agg(r.title ORDER BY r.number) FILTER (WHERE r.id IS NOT NULL), '{}'),
		coalesce(array_agg(r.business_goal ORDER BY r.number) FILTER (WHERE r.id IS NOT NULL), '{}')
		FROM work_items w LEFT JOIN work_item_requirements l ON l.work_item_id = w.id LEFT JOIN requirements r ON r.id = l.requirement_id
		WHERE w.release_id = $1 GROUP BY w.id ORDER BY w.number`, releaseID)
	if err != nil {
		return nil, fmt.Errorf("release items: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (alm.NoteItem, error) {
		var it alm.NoteItem
		var kind string
		var keys, titles, goals []string
		err := row.Scan(&it.Key, &kind, &it.Title, &keys, &titles, &goals)
		it.Kind = alm.WorkKind(kind)
		for i := range keys {
			it.Requirements = append(it.Requirements, alm.NoteRequirement{Key: keys[i], Title: titles[i], BusinessGoal: goals[i]})
		}
		return it, err
	})
}

// ReleaseNotes returns a release's notes: the edited text, or notes
// generated now from its work items.
func (s *Store) ReleaseNotes(ctx context.Context, r alm.Release) (string, error) {
	if r.NotesEdited {
		return r.Notes, nil
	}
	items, err := s.ReleaseNoteItems(ctx, r.ID)
	if err != nil {
		return "", err
	}
	return alm.ReleaseNotes(r, items), nil
}

// ReleaseChoices lists a project's releases for pickers: like
// ListReleases, without counting their work items.
func (s *Store) ReleaseChoices(ctx context.Context, projectID int64) ([]alm.Release, error) {
	rows, err := s.pool.Query(ctx, `SELECT x.id, x.project_id, x.name, x.version, x.target_date, x.status, '', x.notes_edited, 0, x.rev, x.created_at, x.updated_at
		FROM releases x WHERE x.project_id = $1 ORDER BY x.status IN ('released', 'abandoned'), x.target_date NULLS LAST, x.id DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("release choices: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Release, error) { return scanRelease(r) })
}
