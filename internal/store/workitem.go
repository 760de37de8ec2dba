package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const itemCols = `w.id, w.project_id, w.key, w.kind, w.title, w.description, w.status, w.assignee_id, coalesce(asg.name, ''),
	w.estimate, w.labels, w.approach, w.maintenance_note, w.release_id, coalesce(rel.name, ''),
	w.requirement_keys,
	w.rank, w.version, w.created_at, w.updated_at, w.returned_reason,
	w.found_in_release_id, coalesce((SELECT fr.name FROM releases fr WHERE fr.id = w.found_in_release_id), '')`

const itemFrom = ` FROM work_items w
	LEFT JOIN users asg ON asg.id = w.assignee_id
	LEFT JOIN releases rel ON rel.id = w.release_id`

func scanItem(row pgx.Row, extra ...any) (alm.WorkItem, error) {
	var w alm.WorkItem
	var kind, status, approach string
	dest := []any{&w.ID, &w.ProjectID, &w.Key, &kind, &w.Title, &w.Description, &status, &w.AssigneeID, &w.AssigneeName,
		&w.Estimate, &w.Labels, &approach, &w.MaintenanceNote, &w.ReleaseID, &w.ReleaseName, &w.Requirements,
		&w.Rank, &w.Version, &w.CreatedAt, &w.UpdatedAt, &w.ReturnedReason, &w.FoundInID, &w.FoundInName}
	err := row.Scan(append(dest, extra...)...)
	w.Kind, w.Status, w.Approach = alm.WorkKind(kind), alm.WorkStatus(status), alm.Approach(approach)
	if w.Labels == nil {
		w.Labels = []string{}
	}
	return w, err
}

// requirementIDs resolves requirement keys within a project; unknown keys
// are a field error naming them.
func requirementIDs(ctx context.Context, tx pgx.Tx, projectID int64, keys []string) ([]int64, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT key, id FROM requirements WHERE project_id = $1 AND key = ANY($2)`, projectID, keys)
	if err != nil {
		return nil, fmt.Errorf("resolve requirements: %w", err)
	}
	found := map[string]int64{}
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return nil, err
		}
		found[k] = id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var ids []int64
	var missing []string
	for _, k := range keys {
		if id, ok := found[k]; ok {
			ids = append(ids, id)
		} else {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, alm.Invalid(map[string]string{"requirements": "No requirement " + strings.Join(missing, ", ") + " in this project."})
	}
	return ids, nil
}

func linkRequirements(ctx context.Context, tx pgx.Tx, itemID int64, reqIDs []int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM work_item_requirements WHERE work_item_id = $1`, itemID); err != nil {
		return fmt.Errorf("unlink requirements: %w", err)
	}
	if len(reqIDs) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO work_item_requirements (work_item_id, requirement_id) SELECT $1, unnest($2::bigint[])`, itemID, reqIDs); err != nil {
			return fmt.Errorf("link requirements: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE work_items SET requirement_keys = ARRAY(SELECT r.key FROM work_item_requirements l
		JOIN requirements r ON r.id = l.requirement_id WHERE l.work_item_id = $1 ORDER BY r.number) WHERE id = $1`, itemID); err != nil {
		return fmt.Errorf("keep requirement keys: %w", err)
	}
	return nil
}

// CreateWorkItem adds a work item to the bottom of the project's backlog.
func (s *Store) CreateWorkItem(ctx context.Context, projectID int64, in alm.WorkItemInput) (alm.WorkItem, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return alm.WorkItem{}, err
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkRefs(ctx, tx, projectID, map[string]*int64{"assignee_id": in.AssigneeID}, "", nil); err != nil {
			return err
		}
		reqIDs, err := requirementIDs(ctx, tx, projectID, in.Requirements)
		if err != nil {
			return err
		}
		var n int
		var pkey string
		if err := tx.QueryRow(ctx, `UPDATE projects SET item_seq = item_seq + 1 WHERE id = $1 RETURNING item_seq, key`, projectID).Scan(&n, &pkey); err != nil {
			return notFound(err, "That project")
		}
		key := fmt.Sprintf("%s-%d", pkey, n)
		now := s.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO work_items (project_id, number, key, kind, title, description, assignee_id, estimate, labels,
			approach, maintenance_note, rank, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
			(SELECT coalesce(max(rank), 0) + 1024 FROM work_items WHERE project_id = $1 AND status = 'backlog'), $12, $12) RETURNING id`,
			projectID, n, key, string(in.Kind), in.Title, in.Description, in.AssigneeID, in.Estimate, in.Labels,
			string(in.Approach), in.MaintenanceNote, now).Scan(&id); err != nil {
			return fmt.Errorf("insert work item: %w", err)
		}
		if err := linkRequirements(ctx, tx, id, reqIDs); err != nil {
			return err
		}
		summary := key + " created: " + in.Title
		for _, rid := range reqIDs {
			if err := s.record(ctx, tx, projectID, "requirement", rid, "requirement.work_item", key+" ("+in.Title+") was planned for it"); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, projectID, "work_item", id, "work_item.create", summary)
	})
	if err != nil {
		return alm.WorkItem{}, err
	}
	return s.itemByID(ctx, id)
}

func (s *Store) itemByID(ctx context.Context, id int64) (alm.WorkItem, error) {
	w, err := scanItem(s.pool.QueryRow(ctx, `SELECT `+itemCols+itemFrom+` WHERE w.id = $1`, id))
	return w, notFound(err, "That work item")
}

// WorkItemByKey returns a work item.
func (s *Store) WorkItemByKey(ctx context.Context, key string) (alm.WorkItem, error) {
	w, err := scanItem(s.pool.QueryRow(ctx, `SELECT `+itemCols+itemFrom+` WHERE w.key = upper($1)`, key))
	return w, notFound(err, "Work item "+key)
}

func lockItem(ctx context.Context, tx pgx.Tx, key string) (alm.WorkItem, error) {
	w, err := scanItem(tx.QueryRow(ctx, `SELECT `+itemCols+itemFrom+` WHERE w.key = upper($1) FOR UPDATE OF w`, key))
	return w, notFound(err, "Work item "+key)
}

// UpdateWorkItem saves an edit made against revision version; a newer
// revision answers CodeConflict and changes nothing.
func (s *Store) UpdateWorkItem(ctx context.Context, key string, version int, in alm.WorkItemInput) (alm.WorkItem, error) {
	in.Normalize()
	if err := in.Validate(); err != nil {
		return alm.WorkItem{}, err
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := lockItem(ctx, tx, key)
		if err != nil {
			return err
		}
		id = cur.ID
		if version != cur.Version {
			return conflict(cur.Key, version, cur.Version)
		}
		if err := checkRefs(ctx, tx, cur.ProjectID, map[string]*int64{"assignee_id": in.AssigneeID}, "", nil); err != nil {
			return err
		}
		reqIDs, err := requirementIDs(ctx, tx, cur.ProjectID, in.Requirements)
		if err != nil {
			return err
		}
		if cur.Status != alm.WorkBacklog && cur.Status != alm.WorkReady && (in.Approach == "" || in.MaintenanceNote == "") {
			return alm.Invalid(map[string]string{"approach": cur.Key + " is under way: keep its approach and maintenance note."})
		}
		changed := itemChanges(cur, in)
		if len(changed) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE work_items SET kind = $2, title = $3, description = $4, assignee_id = $5, estimate = $6, labels = $7,
			approach = $8, maintenance_note = $9, version = version + 1, updated_at = $10 WHERE id = $1`,
			cur.ID, string(in.Kind), in.Title, in.Description, in.AssigneeID, in.Estimate, in.Labels, string(in.Approach), in.MaintenanceNote, s.Now()); err != nil {
			return fmt.Errorf("update work item: %w", err)
		}
		if !slices.Equal(cur.Requirements, in.Requirements) {
			if err := linkRequirements(ctx, tx, cur.ID, reqIDs); err != nil {
				return err
			}
			for _, rid := range reqIDs {
				if err := s.record(ctx, tx, cur.ProjectID, "requirement", rid, "requirement.work_item", cur.Key+" ("+in.Title+") is linked to it"); err != nil {
					return err
				}
			}
		}
		return s.record(ctx, tx, cur.ProjectID, "work_item", cur.ID, "work_item.update", "changed "+strings.Join(changed, ", "))
	})
	if err != nil {
		return alm.WorkItem{}, err
	}
	return s.itemByID(ctx, id)
}

func itemChanges(cur alm.WorkItem, in alm.WorkItemInput) []string {
	var c []string
	add := func(changed bool, name string) {
		if changed {
			c = append(c, name)
		}
	}
	eqInt := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	add(cur.Kind != in.Kind, "kind")
	add(cur.Title != in.Title, "title")
	add(cur.Description != in.Description, "description")
	add(!eqID(cur.AssigneeID, in.AssigneeID), "assignee")
	add(!eqInt(cur.Estimate, in.Estimate), "estimate")
	add(!slices.Equal(cur.Labels, in.Labels) && !(len(cur.Labels) == 0 && len(in.Labels) == 0), "labels")
	add(cur.Approach != in.Approach, "approach")
	add(cur.MaintenanceNote != in.MaintenanceNote, "maintenance note")
	add(!slices.Equal(cur.Requirements, in.Requirements) && !(len(cur.Requirements) == 0 && len(in.Requirements) == 0), "requirements")
	return c
}

// MoveWorkItem moves a work item to column to, placed just before the
// item keyed before (or at the bottom when before is empty), if the board
// rules allow the move.
func (s *Store) MoveWorkItem(ctx context.Context, key string, to alm.WorkStatus, before string) (alm.WorkItem, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := lockItem(ctx, tx, key)
		if err != nil {
			return err
		}
		id = cur.ID
		if err := alm.CanMoveWorkItem(cur, to); err != nil {
			return err
		}
		rank, err := rankBefore(ctx, tx, cur, to, before)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE work_items SET status = $2, rank = $3, version = version + 1, updated_at = $4 WHERE id = $1`,
			cur.ID, string(to), rank, s.Now()); err != nil {
			return fmt.Errorf("move work item: %w", err)
		}
		if cur.Status == to {
			return nil
		}
		if err := s.record(ctx, tx, cur.ProjectID, "work_item", cur.ID, "work_item.status", fmt.Sprintf("moved from %s to %s", cur.Status.Label(), to.Label())); err != nil {
			return err
		}
		return s.followDelivery(ctx, tx, cur.ID, fmt.Sprintf("%s moved to %s", cur.Key, to.Label()))
	})
	if err != nil {
		return alm.WorkItem{}, err
	}
	return s.itemByID(ctx, id)
}

// rankBefore finds a rank between the item keyed before and the one above
// it in column to. Ranks are floats spaced 1024 apart, so halving leaves
// room for about fifty moves into one gap before ranks need spreading
// out, which this does when the gap gets too small.
func rankBefore(ctx context.Context, tx pgx.Tx, cur alm.WorkItem, to alm.WorkStatus, before string) (float64, error) {
	if before == "" || strings.EqualFold(before, cur.Key) {
		if before != "" && cur.Status == to {
			return cur.Rank, nil
		}
		var r float64
		err := tx.QueryRow(ctx, `SELECT coalesce(max(rank), 0) + 1024 FROM work_items WHERE project_id = $1 AND status = $2 AND id <> $3`,
			cur.ProjectID, string(to), cur.ID).Scan(&r)
		return r, err
	}
	var next float64
	var nextStatus string
	if err := tx.QueryRow(ctx, `SELECT rank, status FROM work_items WHERE key = upper($1) AND project_id = $2`, before, cur.ProjectID).Scan(&next, &nextStatus); err != nil {
		return 0, alm.Invalid(map[string]string{"before": "There is no work item " + before + " in this project."})
	}
	if nextStatus != string(to) {
		return 0, alm.Invalid(map[string]string{"before": before + " is not in the " + to.Label() + " column."})
	}
	var prev float64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(rank), $4 - 2048) FROM work_items WHERE project_id = $1 AND status = $2 AND rank < $4 AND id <> $3`,
		cur.ProjectID, string(to), cur.ID, next).Scan(&prev); err != nil {
		return 0, fmt.Errorf("rank: %w", err)
	}
	if next-prev > 1e-6 {
		return (prev + next) / 2, nil
	}
	// The gap is used up: respace the column and try again.
	if _, err := tx.Exec(ctx, `UPDATE work_items w SET rank = x.n * 1024 FROM
		(SELECT id, row_number() OVER (ORDER BY rank, number) AS n FROM work_items WHERE project_id = $1 AND status = $2) x
		WHERE w.id = x.id`, cur.ProjectID, string(to)); err != nil {
		return 0, fmt.Errorf("respace column: %w", err)
	}
	return rankBefore(ctx, tx, cur, to, before)
}

// SetWorkItemRelease puts a work item into a release, or takes it out
// (releaseID nil). An item that is in a release's column cannot leave it.
func (s *Store) SetWorkItemRelease(ctx context.Context, key string, releaseID *int64) (alm.WorkItem, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := lockItem(ctx, tx, key)
		if err != nil {
			return err
		}
		id = cur.ID
		if eqID(cur.ReleaseID, releaseID) {
			return nil
		}
		if err := checkRefs(ctx, tx, cur.ProjectID, nil, "release_id", releaseID); err != nil {
			return err
		}
		if releaseID == nil && (cur.Status == alm.WorkInRelease || cur.Status == alm.WorkDone) {
			return alm.Errorf(alm.CodeInvalid, "%s is %s; move it back on the board before taking it out of %s.", cur.Key, strings.ToLower(cur.Status.Label()), cur.ReleaseName)
		}
		if cur.ReleaseID != nil {
			var curStatus string
			if err := tx.QueryRow(ctx, `SELECT status FROM releases WHERE id = $1`, *cur.ReleaseID).Scan(&curStatus); err != nil {
				return fmt.Errorf("release: %w", err)
			}
			if curStatus == string(alm.RelReleased) {
				return alm.Errorf(alm.CodeInvalid, "%s shipped in %s; a released release keeps its work items.", cur.Key, cur.ReleaseName)
			}
		}
		var relName, relStatus string
		if releaseID != nil {
			if err := tx.QueryRow(ctx, `SELECT name, status FROM releases WHERE id = $1`, *releaseID).Scan(&relName, &relStatus); err != nil {
				return fmt.Errorf("release: %w", err)
			}
			if relStatus == string(alm.RelReleased) || relStatus == string(alm.RelAbandoned) {
				return alm.Errorf(alm.CodeInvalid, "%s is %s; it takes no more work.", relName, alm.RelStatus(relStatus).Label())
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE work_items SET release_id = $2, version = version + 1, updated_at = $3 WHERE id = $1`, cur.ID, releaseID, s.Now()); err != nil {
			return fmt.Errorf("set release: %w", err)
		}
		summary := "added to release " + relName
		if releaseID == nil {
			summary = "taken out of release " + cur.ReleaseName
		}
		if cur.ReleaseID != nil && releaseID != nil {
			summary = "moved from release " + cur.ReleaseName + " to " + relName
		}
		if releaseID != nil {
			if err := s.record(ctx, tx, cur.ProjectID, "release", *releaseID, "release.add_item", cur.Key+" added: "+cur.Title); err != nil {
				return err
			}
		}
		if cur.ReleaseID != nil {
			if err := s.record(ctx, tx, cur.ProjectID, "release", *cur.ReleaseID, "release.remove_item", cur.Key+" taken out"); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, cur.ProjectID, "work_item", cur.ID, "work_item.release", summary)
	})
	if err != nil {
		return alm.WorkItem{}, err
	}
	return s.itemByID(ctx, id)
}

// ItemFilter selects work items for the board and lists.
type ItemFilter struct {
	AssigneeID    *int64
	Unassigned    bool
	RequirementID *int64
	Label         string
	ReleaseID     *int64
	Status        []alm.WorkStatus
	Kind          alm.WorkKind
	Q             string
	Sort          string // newest (default), oldest, updated, status, title, estimate
	After         string
	Limit         int
}

func (f ItemFilter) apply(w *where) {
	if f.AssigneeID != nil {
		w.add("w.assignee_id = ?", *f.AssigneeID)
	}
	if f.Unassigned {
		w.add("w.assignee_id IS NULL")
	}
	if f.RequirementID != nil {
		w.add("EXISTS (SELECT 1 FROM work_item_requirements l WHERE l.work_item_id = w.id AND l.requirement_id = ?)", *f.RequirementID)
	}
	if f.Label != "" {
		w.add("w.labels @> ARRAY[?]::text[]", strings.ToLower(f.Label))
	}
	if f.ReleaseID != nil {
		w.add("w.release_id = ?", *f.ReleaseID)
	}
	if len(f.Status) > 0 {
		st := make([]string, len(f.Status))
		for i, x := range f.Status {
			st[i] = string(x)
		}
		w.add("w.status = ANY(?)", st)
	}
	if f.Kind != "" {
		w.add("w.kind = ?", string(f.Kind))
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		w.add("w.search @@ websearch_to_tsquery('english', ?)", q)
	}
}

var itemSorts = map[string]sortKey{
	"newest":   {expr: "w.number", desc: true, cast: "int"},
	"oldest":   {expr: "w.number", cast: "int"},
	"updated":  {expr: "w.updated_at", desc: true, cast: "timestamptz"},
	"status":   {expr: "(array_position(ARRAY['backlog','ready','in_progress','in_review','ready_to_promote','in_release','done'], w.status))", cast: "int"},
	"title":    {expr: "lower(w.title)", cast: "text"},
	"estimate": {expr: "coalesce(w.estimate, -1)", desc: true, cast: "int"},
}

// ItemSorts lists the sort names ListWorkItems accepts.
func ItemSorts() []string {
	return []string{"newest", "oldest", "updated", "status", "title", "estimate"}
}

// ListWorkItems lists a project's work items a page at a time.
func (s *Store) ListWorkItems(ctx context.Context, projectID int64, f ItemFilter) (alm.Page[alm.WorkItem], error) {
	k, ok := itemSorts[f.Sort]
	if f.Sort == "" {
		k, ok = itemSorts["newest"], true
	}
	if !ok {
		return alm.Page[alm.WorkItem]{}, alm.Invalid(map[string]string{"sort": "Sort by " + strings.Join(ItemSorts(), ", ") + "."})
	}
	w := &where{}
	w.add("w.project_id = ?", projectID)
	f.apply(w)
	limit := clampLimit(f.Limit)
	order, err := w.page(k, "w.number", f.After, limit)
	if err != nil {
		return alm.Page[alm.WorkItem]{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+itemCols+`, `+k.expr+`::text, w.number`+itemFrom+` WHERE `+w.sql()+` `+order, w.args...)
	if err != nil {
		return alm.Page[alm.WorkItem]{}, fmt.Errorf("list work items: %w", err)
	}
	return collectPage(rows, limit, func(row pgx.CollectableRow, sv *string, n *int) (alm.WorkItem, error) {
		return scanItem(row, sv, n)
	})
}

// Board returns every column with at most perColumn cards, filtered.
func (s *Store) Board(ctx context.Context, projectID int64, f ItemFilter, perColumn int) ([]alm.Column, error) {
	batch := &pgx.Batch{}
	cols := queueBoard(batch, projectID, f, perColumn)
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	return cols, nil
}

// queueBoard adds the board's queries to batch; the columns it returns
// are filled when the batch runs.
func queueBoard(batch *pgx.Batch, projectID int64, f ItemFilter, perColumn int) []alm.Column {
	f.Status, f.Q = nil, strings.TrimSpace(f.Q)
	w := &where{}
	w.add("w.project_id = ?", projectID)
	f.apply(w)
	cols := make([]alm.Column, len(alm.WorkStatuses))
	at := map[alm.WorkStatus]int{}
	for i, st := range alm.WorkStatuses {
		cols[i] = alm.Column{Status: st, Items: []alm.WorkItem{}}
		at[st] = i
	}
	countSQL := `SELECT w.status, count(*), coalesce(sum(w.estimate), 0) FROM work_items w WHERE ` + w.sql() + ` GROUP BY w.status`
	countArgs := w.args
	if len(w.conds) == 1 {
		// Unfiltered: the trigger-kept counts, not a count of every item.
		countSQL, countArgs = `SELECT status, items, points FROM work_item_counts WHERE project_id = $1`, []any{projectID}
	}
	batch.Queue(countSQL, countArgs...).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var st string
				var n, pts int
				if err := rows.Scan(&st, &n, &pts); err != nil {
					return err
				}
				if i, ok := at[alm.WorkStatus(st)]; ok {
					cols[i].Count, cols[i].Points = n, pts
				}
			}
			return rows.Err()
		})
	statuses := make([]string, len(alm.WorkStatuses))
	for i, st := range alm.WorkStatuses {
		statuses[i] = string(st)
	}
	lim := w.arg(perColumn)
	sts := w.arg(statuses)
	batch.Queue(`SELECT x.* FROM unnest(`+sts+`::text[]) AS s(status) CROSS JOIN LATERAL (
		SELECT `+itemCols+itemFrom+` WHERE `+w.sql()+` AND w.status = s.status ORDER BY w.rank, w.number LIMIT `+lim+`) x`, w.args...).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				it, err := scanItem(rows)
				if err != nil {
					return err
				}
				if i, ok := at[it.Status]; ok {
					cols[i].Items = append(cols[i].Items, it)
				}
			}
			return rows.Err()
		})
	return cols
}

// BoardBundle is everything the board page shows: the columns and the
// choices of its filters.
type BoardBundle struct {
	Columns  []alm.Column
	Users    []alm.User // active users, for the assignee filter
	Releases []alm.Release
	Reqs     []RequirementChoice // requirements under way, for the filter
}

// BoardPage loads the board page in one round trip.
func (s *Store) BoardPage(ctx context.Context, projectID int64, f ItemFilter, perColumn int) (BoardBundle, error) {
	var b BoardBundle
	batch := &pgx.Batch{}
	b.Columns = queueBoard(batch, projectID, f, perColumn)
	batch.Queue(`SELECT ` + userColumns + ` FROM users WHERE disabled_at IS NULL ORDER BY lower(name)`).Query(func(rows pgx.Rows) error {
		var err error
		b.Users, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.User, error) { return scanUser(r) })
		return err
	})
	batch.Queue(`SELECT x.id, x.project_id, x.name, x.version, x.target_date, x.status, '', x.notes_edited, 0, x.rev, x.created_at, x.updated_at
		FROM releases x WHERE x.project_id = $1 ORDER BY x.status IN ('released', 'abandoned'), x.target_date NULLS LAST, x.id DESC`, projectID).Query(func(rows pgx.Rows) error {
		var err error
		b.Releases, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Release, error) { return scanRelease(r) })
		return err
	})
	batch.Queue(`SELECT key, title FROM requirements WHERE project_id = $1 AND status IN ('proposed', 'accepted', 'in_delivery')
		ORDER BY number DESC LIMIT 100`, projectID).Query(func(rows pgx.Rows) error {
		var err error
		b.Reqs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RequirementChoice, error) {
			var c RequirementChoice
			return c, r.Scan(&c.Key, &c.Title)
		})
		return err
	})
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return b, fmt.Errorf("board page: %w", err)
	}
	return b, nil
}

// OpenWorkItems lists work items not yet done across projects, newest
// first, as key and title: the choices of a capture picker.
func (s *Store) OpenWorkItems(ctx context.Context, limit int) ([]alm.WorkItem, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, title FROM work_items WHERE status <> 'done' ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("open work items: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.WorkItem, error) {
		var w alm.WorkItem
		return w, r.Scan(&w.Key, &w.Title)
	})
}
