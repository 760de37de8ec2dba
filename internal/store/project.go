package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// record writes an event to the audit log and to the record's timeline in
// tx: the change and its history commit together.
func (s *Store) record(ctx context.Context, tx pgx.Tx, projectID int64, entityType string, entityID int64, action, summary string) error {
	a := alm.ActorFrom(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO timeline (project_id, entity_type, entity_id, at, actor_id, actor_label, kind, summary)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, projectID, entityType, entityID, s.Now(), a.UserID, actorLabel(a), action, truncate(summary, 2000)); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	if err := s.emitEvent(ctx, tx, action, projectID, entityType, entityID, summary); err != nil {
		return err
	}
	return s.insertAudit(ctx, tx, alm.Audit(ctx, action, entityType, strconv.FormatInt(entityID, 10), summary))
}

const projectCols = `id, key, name, description, created_at`

func scanProject(row pgx.Row) (alm.Project, error) {
	var p alm.Project
	err := row.Scan(&p.ID, &p.Key, &p.Name, &p.Description, &p.CreatedAt)
	return p, err
}

// CreateProject adds a project; its creator becomes a member with their
// global role.
func (s *Store) CreateProject(ctx context.Context, n alm.NewProject) (alm.Project, error) {
	n.Normalize()
	if err := n.Validate(); err != nil {
		return alm.Project{}, err
	}
	var p alm.Project
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var err error
		p, err = scanProject(tx.QueryRow(ctx, `INSERT INTO projects (key, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
			RETURNING `+projectCols, n.Key, n.Name, n.Description, now))
		if isUniqueViolation(err, "projects_key_key") {
			return alm.Invalid(map[string]string{"key": "Another project uses " + n.Key + "."})
		}
		if err != nil {
			return fmt.Errorf("insert project: %w", err)
		}
		if a := alm.ActorFrom(ctx); a.UserID != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO project_members (project_id, user_id, role, added_at)
				SELECT $1, id, role, $3 FROM users WHERE id = $2`, p.ID, *a.UserID, now); err != nil {
				return fmt.Errorf("add creator: %w", err)
			}
		}
		return s.record(ctx, tx, p.ID, "project", p.ID, "project.create", fmt.Sprintf("created project %s (%s)", p.Key, p.Name))
	})
	return p, err
}

// ProjectSummary is a project with its counts, for lists.
type ProjectSummary struct {
	alm.Project
	Requirements int
	WorkItems    int
	OpenItems    int
	Releases     int
	MemberRole   *alm.Role // the viewer's membership, if any
}

// ListProjects lists every project with counts and the user's membership.
func (s *Store) ListProjects(ctx context.Context, userID int64) ([]ProjectSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT p.id, p.key, p.name, p.description, p.created_at,
		(SELECT count(*) FROM requirements r WHERE r.project_id = p.id),
		(SELECT count(*) FROM work_items w WHERE w.project_id = p.id),
		(SELECT count(*) FROM work_items w WHERE w.project_id = p.id AND w.status <> 'done'),
		(SELECT count(*) FROM releases x WHERE x.project_id = p.id),
		m.role
		FROM projects p LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $1
		ORDER BY p.name`, userID)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProjectSummary, error) {
		var ps ProjectSummary
		var role *string
		err := r.Scan(&ps.ID, &ps.Key, &ps.Name, &ps.Description, &ps.CreatedAt, &ps.Requirements, &ps.WorkItems, &ps.OpenItems, &ps.Releases, &role)
		if role != nil {
			rr := alm.Role(*role)
			ps.MemberRole = &rr
		}
		return ps, err
	})
}

// ProjectByKey returns the project with key (any case).
func (s *Store) ProjectByKey(ctx context.Context, key string) (alm.Project, error) {
	p, err := scanProject(s.pool.QueryRow(ctx, `SELECT `+projectCols+` FROM projects WHERE key = upper($1)`, key))
	return p, notFound(err, "Project "+key)
}

// UpdateProject changes a project's name and description.
func (s *Store) UpdateProject(ctx context.Context, id int64, name, description string) (alm.Project, error) {
	n := alm.NewProject{Key: "XX", Name: name, Description: description}
	n.Normalize()
	if err := n.Validate(); err != nil {
		return alm.Project{}, err
	}
	var p alm.Project
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanProject(tx.QueryRow(ctx, `UPDATE projects SET name = $2, description = $3, updated_at = $4 WHERE id = $1 RETURNING `+projectCols,
			id, n.Name, n.Description, s.Now()))
		if err != nil {
			return notFound(err, "That project")
		}
		return s.record(ctx, tx, p.ID, "project", p.ID, "project.update", "renamed to "+p.Name)
	})
	return p, err
}

// MemberRole returns the user's role in a project; not found for
// non-members.
func (s *Store) MemberRole(ctx context.Context, projectID, userID int64) (*alm.Role, error) {
	var role string
	err := s.pool.QueryRow(ctx, `SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, userID).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(err, "That membership")
	}
	if err != nil {
		return nil, fmt.Errorf("member role: %w", err)
	}
	r := alm.Role(role)
	return &r, nil
}

// ListMembers lists a project's members.
func (s *Store) ListMembers(ctx context.Context, projectID int64) ([]alm.Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.project_id, m.user_id, u.name, u.email, m.role, m.added_at
		FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.name`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Member, error) {
		var m alm.Member
		var role string
		err := r.Scan(&m.ProjectID, &m.UserID, &m.Name, &m.Email, &role, &m.AddedAt)
		m.Role = alm.Role(role)
		return m, err
	})
}

// SetMember adds a user to a project or changes their role there.
func (s *Store) SetMember(ctx context.Context, projectID, userID int64, role alm.Role) error {
	if _, err := alm.ParseRole(string(role)); err != nil {
		return alm.Invalid(map[string]string{"role": alm.ErrorMessage(err)})
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var email string
		if err := tx.QueryRow(ctx, `SELECT email FROM users WHERE id = $1`, userID).Scan(&email); err != nil {
			return alm.Invalid(map[string]string{"user": "There is no such user."})
		}
		if _, err := tx.Exec(ctx, `INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role`, projectID, userID, string(role), s.Now()); err != nil {
			return fmt.Errorf("set member: %w", err)
		}
		return s.record(ctx, tx, projectID, "project", projectID, "project.member", fmt.Sprintf("%s is %s in the project", email, role.Label()))
	})
}

// RemoveMember takes a user out of a project.
func (s *Store) RemoveMember(ctx context.Context, projectID, userID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var email string
		err := tx.QueryRow(ctx, `DELETE FROM project_members m USING users u WHERE m.project_id = $1 AND m.user_id = $2 AND u.id = m.user_id RETURNING u.email`,
			projectID, userID).Scan(&email)
		if err != nil {
			return notFound(err, "That member")
		}
		return s.record(ctx, tx, projectID, "project", projectID, "project.member_remove", email+" left the project")
	})
}

// actorName is who did a timeline event as people know them: the user's
// name, else the recorded label (a token, the system).
const actorName = `coalesce((SELECT u.name FROM users u WHERE u.id = t.actor_id AND u.name <> ''), t.actor_label)`

// Timeline lists a record's events, newest first.
func (s *Store) Timeline(ctx context.Context, entityType string, entityID int64, limit int) ([]alm.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT at, `+actorName+`, kind, summary FROM timeline t WHERE entity_type = $1 AND entity_id = $2
		ORDER BY at DESC, id DESC LIMIT $3`, entityType, entityID, limit)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Event, error) {
		var e alm.Event
		err := r.Scan(&e.At, &e.Actor, &e.Kind, &e.Summary)
		return e, err
	})
}

// ProjectActivity lists the newest events of everything in a project.
func (s *Store) ProjectActivity(ctx context.Context, projectID int64, limit int) ([]alm.Event, error) {
	// Links recorded on both ends (a work item planned for a requirement,
	// added to a release) are shown once, from the work item's side.
	rows, err := s.pool.Query(ctx, `SELECT t.at, `+actorName+`, t.kind, t.summary,
		coalesce(CASE t.entity_type WHEN 'requirement' THEN (SELECT key FROM requirements WHERE id = t.entity_id)
			WHEN 'work_item' THEN (SELECT key FROM work_items WHERE id = t.entity_id)
			WHEN 'release' THEN (SELECT name FROM releases WHERE id = t.entity_id) END, '')
		FROM timeline t WHERE t.project_id = $1 AND t.kind NOT IN ('requirement.work_item', 'release.add_item', 'release.remove_item')
		ORDER BY t.at DESC, t.id DESC LIMIT $2`, projectID, limit)
	if err != nil {
		return nil, fmt.Errorf("project activity: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Event, error) {
		var e alm.Event
		err := r.Scan(&e.At, &e.Actor, &e.Kind, &e.Summary, &e.Subject)
		return e, err
	})
}

// RequirementCounts counts a project's requirements by status.
func (s *Store) RequirementCounts(ctx context.Context, projectID int64) (map[alm.ReqStatus]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM requirements WHERE project_id = $1 GROUP BY status`, projectID)
	if err != nil {
		return nil, fmt.Errorf("requirement counts: %w", err)
	}
	defer rows.Close()
	out := map[alm.ReqStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[alm.ReqStatus(st)] = n
	}
	return out, rows.Err()
}

// ProjectAccess finds the project a route names — by its key, or by the
// key of a requirement or work item in it — with the user's membership
// role there (nil for non-members), in one query.
func (s *Store) ProjectAccess(ctx context.Context, projectKey, recordKind, recordKey string, userID int64) (alm.Project, *alm.Role, error) {
	var q, arg, what string
	switch recordKind {
	case "requirement":
		q, arg, what = `JOIN requirements x ON x.project_id = p.id WHERE x.key = upper($1)`, recordKey, "Requirement "+strings.ToUpper(recordKey)
	case "work_item":
		q, arg, what = `JOIN work_items x ON x.project_id = p.id WHERE x.key = upper($1)`, recordKey, "Work item "+strings.ToUpper(recordKey)
	default:
		q, arg, what = `WHERE p.key = upper($1)`, projectKey, "Project "+strings.ToUpper(projectKey)
	}
	var p alm.Project
	var role *string
	err := s.pool.QueryRow(ctx, `SELECT p.id, p.key, p.name, p.description, p.created_at, m.role FROM projects p
		LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $2 `+q, arg, userID).
		Scan(&p.ID, &p.Key, &p.Name, &p.Description, &p.CreatedAt, &role)
	if err != nil {
		return p, nil, notFound(err, what)
	}
	if role == nil {
		return p, nil, nil
	}
	r := alm.Role(*role)
	return p, &r, nil
}

// RecordProject returns the key of the project a record belongs to, for
// access checks on routes that name the record by id: kind is release,
// build, promotion, deployment or feedback. A deployment made outside a
// promotion (an org restore, or its rollback) belongs to no project: the
// key is then "". A missing record is a not-found error.
func (s *Store) RecordProject(ctx context.Context, kind string, id int64) (string, error) {
	var q, what string
	switch kind {
	case "release":
		q, what = `SELECT p.key FROM releases x JOIN projects p ON p.id = x.project_id WHERE x.id = $1`, "That release"
	case "build":
		q, what = `SELECT p.key FROM release_builds b LEFT JOIN releases x ON x.id = b.release_id LEFT JOIN work_items w ON w.id = b.work_item_id
			JOIN projects p ON p.id = coalesce(x.project_id, w.project_id, b.project_id) WHERE b.id = $1`, "That build"
	case "promotion":
		q, what = `SELECT p.key FROM promotions x JOIN projects p ON p.id = x.project_id WHERE x.id = $1`, "That promotion"
	case "deployment":
		q, what = `SELECT coalesce(p.key, '') FROM deployments d LEFT JOIN promotions x ON x.id = d.promotion_id
			LEFT JOIN projects p ON p.id = x.project_id WHERE d.id = $1`, "That deployment"
	case "feedback":
		q, what = `SELECT p.key FROM feedback x JOIN projects p ON p.id = x.project_id WHERE x.id = $1`, "That feedback"
	default:
		return "", fmt.Errorf("record project: unknown kind %q", kind)
	}
	var key string
	err := s.pool.QueryRow(ctx, q, id).Scan(&key)
	return key, notFound(err, what)
}

// ProjectGit returns how a project uses version control.
func (s *Store) ProjectGit(ctx context.Context, projectID int64) (alm.ProjectGit, error) {
	var g alm.ProjectGit
	var name, branch *string
	err := s.pool.QueryRow(ctx, `SELECT p.repository_id, p.branching, p.back_propagate, r.name, r.default_branch FROM projects p LEFT JOIN repositories r ON r.id = p.repository_id WHERE p.id = $1`,
		projectID).Scan(&g.RepositoryID, &g.Branching, &g.BackPropagate, &name, &branch)
	if err != nil {
		return g, notFound(err, "That project")
	}
	if name != nil {
		g.RepositoryName, g.DefaultBranch = *name, *branch
	}
	return g, nil
}

// SetProjectGit backs a project with a repository (nil: none) and a
// branching model.
func (s *Store) SetProjectGit(ctx context.Context, projectID int64, repoID *int64, branching string, backPropagate bool) (alm.ProjectGit, error) {
	if branching != alm.BranchingEnvironment && branching != alm.BranchingTrunk {
		return alm.ProjectGit{}, alm.Invalid(map[string]string{"branching": "Choose environment branches or trunk-based."})
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if repoID != nil {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM repositories WHERE id = $1`, *repoID).Scan(&one); err != nil {
				if errors.Is(err, pgx.ErrNoRows) {
					return alm.Invalid(map[string]string{"repository_id": "That repository is not connected."})
				}
				return err
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE projects SET repository_id = $2, branching = $3, back_propagate = $5, updated_at = $4 WHERE id = $1`, projectID, repoID, branching, s.Now(), backPropagate)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return alm.Errorf(alm.CodeNotFound, "That project was not found.")
		}
		summary := "stopped keeping its metadata in git"
		if repoID != nil {
			summary = fmt.Sprintf("keeps its metadata in repository #%d (%s)", *repoID, branching)
		}
		return s.record(ctx, tx, projectID, "project", projectID, "project.git", summary)
	})
	if err != nil {
		return alm.ProjectGit{}, err
	}
	return s.ProjectGit(ctx, projectID)
}

// WorkItemBranch returns a work item's branch ("" when it has none).
func (s *Store) WorkItemBranch(ctx context.Context, workItemID int64) (alm.WorkBranch, error) {
	var b alm.WorkBranch
	err := s.pool.QueryRow(ctx, `SELECT branch, branch_base FROM work_items WHERE id = $1`, workItemID).Scan(&b.Name, &b.Base)
	return b, notFound(err, "That work item")
}

// SetWorkItemBranch records a work item's branch, with a timeline entry.
func (s *Store) SetWorkItemBranch(ctx context.Context, workItemID int64, b alm.WorkBranch) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		var key string
		if err := tx.QueryRow(ctx, `UPDATE work_items SET branch = $2, branch_base = $3 WHERE id = $1 RETURNING project_id, key`, workItemID, b.Name, b.Base).Scan(&pid, &key); err != nil {
			return notFound(err, "That work item")
		}
		return s.record(ctx, tx, pid, "work_item", workItemID, "work_item.branch", fmt.Sprintf("%s works on branch %s (from %s)", key, b.Name, b.Base))
	})
}
