package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const reqCols = `r.id, r.project_id, r.key, r.title, r.description, r.business_goal, r.priority, r.status,
	r.requester_id, coalesce(rq.name, ''), r.owner_id, coalesce(ow.name, ''), r.labels, r.target_release_id, coalesce(rel.name, ''),
	r.version, (SELECT count(*) FROM comments c WHERE c.requirement_id = r.id AND c.state = 'open' AND c.kind = 'question'),
	r.created_at, r.updated_at`

const reqFrom = ` FROM requirements r
	LEFT JOIN users rq ON rq.id = r.requester_id
	LEFT JOIN users ow ON ow.id = r.owner_id
	LEFT JOIN releases rel ON rel.id = r.target_release_id`

func scanRequirement(row pgx.Row, extra ...any) (alm.Requirement, error) {
	var r alm.Requirement
	var prio, status string
	dest := []any{&r.ID, &r.ProjectID, &r.Key, &r.Title, &r.Description, &r.BusinessGoal, &prio, &status,
		&r.RequesterID, &r.RequesterName, &r.OwnerID, &r.OwnerName, &r.Labels, &r.TargetReleaseID, &r.TargetRelease,
		&r.Version, &r.OpenQuestions, &r.CreatedAt, &r.UpdatedAt}
	err := row.Scan(append(dest, extra...)...)
	r.Priority, r.Status = alm.Priority(prio), alm.ReqStatus(status)
	if r.Labels == nil {
		r.Labels = []string{}
	}
	return r, err
}

// checkRefs turns the users and release a record points at into field
// errors when they do not exist or the release is another project's.
func checkRefs(ctx context.Context, tx pgx.Tx, projectID int64, users map[string]*int64, releaseField string, releaseID *int64) error {
	f := map[string]string{}
	for field, id := range users {
		if id == nil {
			continue
		}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND disabled_at IS NULL)`, *id).Scan(&ok); err != nil {
			return fmt.Errorf("check user: %w", err)
		}
		if !ok {
			f[field] = "There is no active user with that id."
		}
	}
	if releaseID != nil {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM releases WHERE id = $1 AND project_id = $2)`, *releaseID, projectID).Scan(&ok); err != nil {
			return fmt.Errorf("check release: %w", err)
		}
		if !ok {
			f[releaseField] = "That release is not in this project."
		}
	}
	if len(f) > 0 {
		return alm.Invalid(f)
	}
	return nil
}

// CreateRequirement adds a requirement to a project; its key is the
// project's key, REQ and the next number.
func (s *Store) CreateRequirement(ctx context.Context, projectID int64, in alm.RequirementInput) (alm.Requirement, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return alm.Requirement{}, err
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkRefs(ctx, tx, projectID, map[string]*int64{"owner_id": in.OwnerID, "requester_id": in.RequesterID}, "target_release_id", in.TargetReleaseID); err != nil {
			return err
		}
		var n int
		var pkey string
		if err := tx.QueryRow(ctx, `UPDATE projects SET req_seq = req_seq + 1 WHERE id = $1 RETURNING req_seq, key`, projectID).Scan(&n, &pkey); err != nil {
			return notFound(err, "That project")
		}
		key := fmt.Sprintf("%s-REQ-%d", pkey, n)
		now := s.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO requirements (project_id, number, key, title, description, business_goal, priority,
			requester_id, owner_id, labels, target_release_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id`,
			projectID, n, key, in.Title, in.Description, in.BusinessGoal, string(in.Priority), in.RequesterID, in.OwnerID,
			in.Labels, in.TargetReleaseID, now).Scan(&id); err != nil {
			return fmt.Errorf("insert requirement: %w", err)
		}
		if err := writeCriteria(ctx, tx, id, in.Criteria, nil); err != nil {
			return err
		}
		if err := s.addSpecVersion(ctx, tx, id, in, "created"); err != nil {
			return err
		}
		return s.record(ctx, tx, projectID, "requirement", id, "requirement.create", key+" created: "+in.Title)
	})
	if err != nil {
		return alm.Requirement{}, err
	}
	return s.requirementByID(ctx, id)
}

// writeCriteria replaces a requirement's criteria with texts, keeping the
// met mark of any criterion whose text is unchanged.
func writeCriteria(ctx context.Context, tx pgx.Tx, reqID int64, texts []string, old []alm.Criterion) error {
	if _, err := tx.Exec(ctx, `DELETE FROM acceptance_criteria WHERE requirement_id = $1`, reqID); err != nil {
		return fmt.Errorf("clear criteria: %w", err)
	}
	for i, t := range texts {
		met := false
		for _, o := range old {
			if o.Text == t && o.Met {
				met = true
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO acceptance_criteria (requirement_id, position, text, met) VALUES ($1, $2, $3, $4)`, reqID, i, t, met); err != nil {
			return fmt.Errorf("insert criterion: %w", err)
		}
	}
	return nil
}

func (s *Store) addSpecVersion(ctx context.Context, tx pgx.Tx, reqID int64, in alm.RequirementInput, reason string) error {
	a := alm.ActorFrom(ctx)
	crit := in.Criteria
	if crit == nil {
		crit = []string{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO requirement_versions (requirement_id, version, title, description, business_goal, criteria, edited_by, edited_by_label, reason, at)
		VALUES ($1, (SELECT coalesce(max(version), 0) + 1 FROM requirement_versions WHERE requirement_id = $1), $2, $3, $4, $5, $6, $7, $8, $9)`,
		reqID, in.Title, in.Description, in.BusinessGoal, crit, a.UserID, actorLabel(a), reason, s.Now())
	if err != nil {
		return fmt.Errorf("insert spec version: %w", err)
	}
	return nil
}

func (s *Store) requirementByID(ctx context.Context, id int64) (alm.Requirement, error) {
	r, err := scanRequirement(s.pool.QueryRow(ctx, `SELECT `+reqCols+reqFrom+` WHERE r.id = $1`, id))
	if err != nil {
		return r, notFound(err, "That requirement")
	}
	r.Criteria, err = s.criteria(ctx, s.pool, id)
	return r, err
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) criteria(ctx context.Context, q querier, reqID int64) ([]alm.Criterion, error) {
	rows, err := q.Query(ctx, `SELECT id, text, met FROM acceptance_criteria WHERE requirement_id = $1 ORDER BY position`, reqID)
	if err != nil {
		return nil, fmt.Errorf("criteria: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Criterion, error) {
		var c alm.Criterion
		return c, r.Scan(&c.ID, &c.Text, &c.Met)
	})
	if out == nil {
		out = []alm.Criterion{}
	}
	return out, err
}

// RequirementByKey returns a requirement with its criteria.
func (s *Store) RequirementByKey(ctx context.Context, key string) (alm.Requirement, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM requirements WHERE key = upper($1)`, key).Scan(&id); err != nil {
		return alm.Requirement{}, notFound(err, "Requirement "+key)
	}
	return s.requirementByID(ctx, id)
}

// ProjectOfKey returns the project a requirement, work item (by key) or
// release (by id) belongs to, for access checks.
func (s *Store) ProjectOfKey(ctx context.Context, kind, key string) (alm.Project, error) {
	var q string
	switch kind {
	case "requirement":
		q = `SELECT p.id, p.key, p.name, p.description, p.created_at FROM projects p JOIN requirements x ON x.project_id = p.id WHERE x.key = upper($1)`
	case "work_item":
		q = `SELECT p.id, p.key, p.name, p.description, p.created_at FROM projects p JOIN work_items x ON x.project_id = p.id WHERE x.key = upper($1)`
	default:
		return alm.Project{}, fmt.Errorf("unknown kind %q", kind)
	}
	p, err := scanProject(s.pool.QueryRow(ctx, q, key))
	return p, notFound(err, strings.ReplaceAll(kind, "_", " ")+" "+key)
}

// UpdateRequirement saves an edit made against revision version. If the
// requirement moved on since, it answers CodeConflict and changes nothing.
// An edit to the spec (title, description, goal, criteria) adds a spec
// version.
func (s *Store) UpdateRequirement(ctx context.Context, key string, version int, in alm.RequirementInput) (alm.Requirement, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return alm.Requirement{}, err
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanRequirement(tx.QueryRow(ctx, `SELECT `+reqCols+reqFrom+` WHERE r.key = upper($1) FOR UPDATE OF r`, key))
		if err != nil {
			return notFound(err, "Requirement "+key)
		}
		id = cur.ID
		if version != cur.Version {
			return conflict(cur.Key, version, cur.Version)
		}
		if cur.Criteria, err = s.criteria(ctx, tx, cur.ID); err != nil {
			return err
		}
		if err := checkRefs(ctx, tx, cur.ProjectID, map[string]*int64{"owner_id": in.OwnerID, "requester_id": in.RequesterID}, "target_release_id", in.TargetReleaseID); err != nil {
			return err
		}
		changed := requirementChanges(cur, in)
		if len(changed) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE requirements SET title = $2, description = $3, business_goal = $4, priority = $5, requester_id = $6,
			owner_id = $7, labels = $8, target_release_id = $9, version = version + 1, updated_at = $10 WHERE id = $1`,
			cur.ID, in.Title, in.Description, in.BusinessGoal, string(in.Priority), in.RequesterID, in.OwnerID, in.Labels, in.TargetReleaseID, s.Now()); err != nil {
			return fmt.Errorf("update requirement: %w", err)
		}
		if specChanged(cur, in) {
			if err := writeCriteria(ctx, tx, cur.ID, in.Criteria, cur.Criteria); err != nil {
				return err
			}
			if err := s.addSpecVersion(ctx, tx, cur.ID, in, "edited"); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, cur.ProjectID, "requirement", cur.ID, "requirement.update", "changed "+strings.Join(changed, ", "))
	})
	if err != nil {
		return alm.Requirement{}, err
	}
	return s.requirementByID(ctx, id)
}

func specChanged(cur alm.Requirement, in alm.RequirementInput) bool {
	return cur.Title != in.Title || cur.Description != in.Description || cur.BusinessGoal != in.BusinessGoal ||
		!slices.Equal(alm.CriteriaTexts(cur.Criteria), in.Criteria)
}

func requirementChanges(cur alm.Requirement, in alm.RequirementInput) []string {
	var c []string
	add := func(changed bool, name string) {
		if changed {
			c = append(c, name)
		}
	}
	add(cur.Title != in.Title, "title")
	add(cur.Description != in.Description, "description")
	add(cur.BusinessGoal != in.BusinessGoal, "business goal")
	add(!slices.Equal(alm.CriteriaTexts(cur.Criteria), in.Criteria), "acceptance criteria")
	add(cur.Priority != in.Priority, "priority")
	add(!eqID(cur.RequesterID, in.RequesterID), "requester")
	add(!eqID(cur.OwnerID, in.OwnerID), "owner")
	add(!slices.Equal(cur.Labels, in.Labels) && !(len(cur.Labels) == 0 && len(in.Labels) == 0), "labels")
	add(!eqID(cur.TargetReleaseID, in.TargetReleaseID), "target release")
	return c
}

// MoveRequirement changes a requirement's status if role may make the move.
func (s *Store) MoveRequirement(ctx context.Context, key string, role alm.Role, to alm.ReqStatus) (alm.Requirement, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var from string
		var pid int64
		if err := tx.QueryRow(ctx, `SELECT id, project_id, status FROM requirements WHERE key = upper($1) FOR UPDATE`, key).Scan(&id, &pid, &from); err != nil {
			return notFound(err, "Requirement "+key)
		}
		if !slices.Contains(alm.ReqStatuses, to) {
			return alm.Invalid(map[string]string{"status": fmt.Sprintf("There is no %q status.", to)})
		}
		if err := alm.CanMoveRequirement(role, alm.ReqStatus(from), to); err != nil {
			return err
		}
		if from == string(to) {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE requirements SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1`, id, string(to), s.Now()); err != nil {
			return fmt.Errorf("move requirement: %w", err)
		}
		return s.record(ctx, tx, pid, "requirement", id, "requirement.status", fmt.Sprintf("moved from %s to %s", alm.ReqStatus(from).Label(), to.Label()))
	})
	if err != nil {
		return alm.Requirement{}, err
	}
	return s.requirementByID(ctx, id)
}

// SetCriterionMet marks an acceptance criterion met or not.
func (s *Store) SetCriterionMet(ctx context.Context, key string, criterionID int64, met bool) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var reqID, pid int64
		var text string
		a := alm.ActorFrom(ctx)
		var at any
		if met {
			at = s.Now()
		}
		err := tx.QueryRow(ctx, `UPDATE acceptance_criteria c SET met = $3, met_by = CASE WHEN $3 THEN $4::bigint END, met_at = $5
			FROM requirements r WHERE c.id = $2 AND c.requirement_id = r.id AND r.key = upper($1)
			RETURNING r.id, r.project_id, c.text`, key, criterionID, met, a.UserID, at).Scan(&reqID, &pid, &text)
		if err != nil {
			return notFound(err, "That acceptance criterion")
		}
		word := "met"
		if !met {
			word = "not met"
		}
		return s.record(ctx, tx, pid, "requirement", reqID, "requirement.criterion", fmt.Sprintf("marked %q %s", text, word))
	})
}

// ReqFilter selects requirements for lists.
type ReqFilter struct {
	Status    []alm.ReqStatus
	OwnerID   *int64
	Label     string
	ReleaseID *int64
	Q         string
	Sort      string // newest (default), oldest, updated, priority, title
	After     string
	Limit     int
}

// where turns the filter into conditions on requirements r. The matrix
// counts a requirement as in a release when its target release is that
// one or any of its work items is in it (byItems).
func (f ReqFilter) where(projectID int64, byItems bool) *where {
	w := &where{}
	w.add("r.project_id = ?", projectID)
	if len(f.Status) > 0 {
		st := make([]string, len(f.Status))
		for i, x := range f.Status {
			st[i] = string(x)
		}
		w.add("r.status = ANY(?)", st)
	}
	if f.OwnerID != nil {
		w.add("r.owner_id = ?", *f.OwnerID)
	}
	if f.Label != "" {
		w.add("r.labels @> ARRAY[?]::text[]", strings.ToLower(f.Label))
	}
	switch {
	case f.ReleaseID != nil && byItems:
		w.add(`(r.target_release_id = ? OR EXISTS (SELECT 1 FROM work_item_requirements l JOIN work_items wi ON wi.id = l.work_item_id
			WHERE l.requirement_id = r.id AND wi.release_id = ?))`, *f.ReleaseID, *f.ReleaseID)
	case f.ReleaseID != nil:
		w.add("r.target_release_id = ?", *f.ReleaseID)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		w.add("r.search @@ websearch_to_tsquery('english', ?)", q)
	}
	return w
}

var reqSorts = map[string]sortKey{
	"newest":   {expr: "r.number", desc: true, cast: "int"},
	"oldest":   {expr: "r.number", cast: "int"},
	"updated":  {expr: "r.updated_at", desc: true, cast: "timestamptz"},
	"priority": {expr: "(CASE r.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END)", cast: "int"},
	"title":    {expr: "lower(r.title)", cast: "text"},
}

// ReqSorts lists the sort names ListRequirements accepts.
func ReqSorts() []string { return []string{"newest", "oldest", "updated", "priority", "title"} }

// ListRequirements lists a project's requirements a page at a time.
func (s *Store) ListRequirements(ctx context.Context, projectID int64, f ReqFilter) (alm.Page[alm.ReqRow], error) {
	k, ok := reqSorts[f.Sort]
	if f.Sort == "" {
		k, ok = reqSorts["newest"], true
	}
	if !ok {
		return alm.Page[alm.ReqRow]{}, alm.Invalid(map[string]string{"sort": "Sort by " + strings.Join(ReqSorts(), ", ") + "."})
	}
	w := f.where(projectID, false)
	limit := clampLimit(f.Limit)
	order, err := w.page(k, "r.number", f.After, limit)
	if err != nil {
		return alm.Page[alm.ReqRow]{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+reqCols+`,
		(SELECT count(*) FROM work_item_requirements l WHERE l.requirement_id = r.id),
		(SELECT count(*) FROM work_item_requirements l JOIN work_items wi ON wi.id = l.work_item_id WHERE l.requirement_id = r.id AND wi.status = 'done'),
		`+k.expr+`::text, r.number`+reqFrom+` WHERE `+w.sql()+` `+order, w.args...)
	if err != nil {
		return alm.Page[alm.ReqRow]{}, fmt.Errorf("list requirements: %w", err)
	}
	return collectPage(rows, limit, func(row pgx.CollectableRow, sv *string, n *int) (alm.ReqRow, error) {
		var rr alm.ReqRow
		var err error
		rr.Requirement, err = scanRequirement(row, &rr.Items, &rr.ItemsDone, sv, n)
		return rr, err
	})
}

// SpecVersions lists a requirement's spec versions, newest first.
func (s *Store) SpecVersions(ctx context.Context, reqID int64) ([]alm.SpecVersion, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, title, description, business_goal, criteria, edited_by_label, reason, at
		FROM requirement_versions WHERE requirement_id = $1 ORDER BY version DESC`, reqID)
	if err != nil {
		return nil, fmt.Errorf("spec versions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.SpecVersion, error) {
		var v alm.SpecVersion
		return v, r.Scan(&v.Version, &v.Title, &v.Description, &v.BusinessGoal, &v.Criteria, &v.EditedBy, &v.Reason, &v.At)
	})
}

// RequirementChoice is a requirement in a picker.
type RequirementChoice struct {
	Key, Title string
}

// RequirementChoices lists requirements in the given statuses, newest
// first, for pickers.
func (s *Store) RequirementChoices(ctx context.Context, projectID int64, statuses []alm.ReqStatus, limit int) ([]RequirementChoice, error) {
	st := make([]string, len(statuses))
	for i, x := range statuses {
		st[i] = string(x)
	}
	rows, err := s.pool.Query(ctx, `SELECT key, title FROM requirements WHERE project_id = $1 AND status = ANY($2) ORDER BY number DESC LIMIT $3`, projectID, st, limit)
	if err != nil {
		return nil, fmt.Errorf("requirement choices: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RequirementChoice, error) {
		var c RequirementChoice
		return c, r.Scan(&c.Key, &c.Title)
	})
}

// CriteriaOfItems maps each work item to the acceptance criteria of the
// requirements it delivers.
func (s *Store) CriteriaOfItems(ctx context.Context, keys []string) (map[string][]alm.ItemCriterion, error) {
	rows, err := s.pool.Query(ctx, `SELECT w.key, c.id, r.key, c.text, c.met FROM work_items w
		JOIN work_item_requirements x ON x.work_item_id = w.id JOIN requirements r ON r.id = x.requirement_id
		JOIN acceptance_criteria c ON c.requirement_id = r.id WHERE w.key = ANY($1) ORDER BY w.key, r.key, c.position`, keys)
	if err != nil {
		return nil, fmt.Errorf("criteria of items: %w", err)
	}
	defer rows.Close()
	out := map[string][]alm.ItemCriterion{}
	for rows.Next() {
		var key string
		var c alm.ItemCriterion
		if err := rows.Scan(&key, &c.ID, &c.Requirement, &c.Text, &c.Met); err != nil {
			return nil, err
		}
		out[key] = append(out[key], c)
	}
	return out, rows.Err()
}
