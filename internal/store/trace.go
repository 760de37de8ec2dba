package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// matrixSQL wraps a query selecting the page's requirements ("page":
// r.* rows) with their counts. The counts are aggregated for the whole
// page at once (hash joins over the page's ids) rather than by
// subqueries per row.
func matrixSQL(page, order string) string {
	return `WITH page AS (` + page + `),
	crit AS (SELECT requirement_id AS id, count(*) FILTER (WHERE met) AS met, count(*) AS total
		FROM acceptance_criteria WHERE requirement_id IN (SELECT id FROM page) GROUP BY 1),
	asks AS (SELECT requirement_id AS id, count(*) AS open FROM comments
		WHERE requirement_id IN (SELECT id FROM page) AND kind = 'question' AND state = 'open' GROUP BY 1),
	work AS (SELECT l.requirement_id AS id,
		ARRAY[count(*) FILTER (WHERE w.status = 'backlog'), count(*) FILTER (WHERE w.status = 'ready'),
			count(*) FILTER (WHERE w.status = 'in_progress'), count(*) FILTER (WHERE w.status = 'in_review'),
			count(*) FILTER (WHERE w.status = 'ready_to_promote'), count(*) FILTER (WHERE w.status = 'in_release'),
			count(*) FILTER (WHERE w.status = 'done')] AS by_status,
		coalesce(array_agg(DISTINCT w.release_id) FILTER (WHERE w.release_id IS NOT NULL), '{}') AS releases
		FROM work_item_requirements l JOIN work_items w ON w.id = l.work_item_id
		WHERE l.requirement_id IN (SELECT id FROM page) GROUP BY 1)
	SELECT p.key, p.title, p.status, p.priority, coalesce(ow.name, ''), coalesce(crit.met, 0), coalesce(crit.total, 0), coalesce(asks.open, 0),
		coalesce(work.by_status, ARRAY[0,0,0,0,0,0,0]::bigint[]), coalesce(work.releases, '{}'), p.number
	FROM page p LEFT JOIN users ow ON ow.id = p.owner_id LEFT JOIN crit ON crit.id = p.id LEFT JOIN asks ON asks.id = p.id
	LEFT JOIN work ON work.id = p.id ` + order
}

// Matrix returns a page of the traceability matrix, newest requirements
// first.
func (s *Store) Matrix(ctx context.Context, projectID int64, f ReqFilter) (alm.Page[alm.MatrixRow], error) {
	w := f.where(projectID, true)
	limit := clampLimit(f.Limit)
	order, err := w.page(sortKey{expr: "r.number", desc: true, cast: "int"}, "r.number", f.After, limit)
	if err != nil {
		return alm.Page[alm.MatrixRow]{}, err
	}
	var rows []alm.MatrixRow
	var nums []int
	err = s.matrixQuery(ctx, projectID, matrixSQL(`SELECT r.* FROM requirements r WHERE `+w.sql()+` `+order, `ORDER BY p.number DESC`), w.args, func(m alm.MatrixRow, n int) error {
		rows, nums = append(rows, m), append(nums, n)
		return nil
	})
	if err != nil {
		return alm.Page[alm.MatrixRow]{}, err
	}
	p := alm.Page[alm.MatrixRow]{Items: rows}
	if len(rows) > limit {
		p.Items = rows[:limit]
		p.Next = encodeCursor(fmt.Sprint(nums[limit-1]), nums[limit-1])
	}
	if p.Items == nil {
		p.Items = []alm.MatrixRow{}
	}
	return p, nil
}

// EachMatrixRow streams the whole filtered matrix, for CSV export.
func (s *Store) EachMatrixRow(ctx context.Context, projectID int64, f ReqFilter, fn func(alm.MatrixRow) error) error {
	w := f.where(projectID, true)
	return s.matrixQuery(ctx, projectID, matrixSQL(`SELECT r.* FROM requirements r WHERE `+w.sql(), `ORDER BY p.number`), w.args, func(m alm.MatrixRow, _ int) error { return fn(m) })
}

func (s *Store) matrixQuery(ctx context.Context, projectID int64, sql string, args []any, fn func(alm.MatrixRow, int) error) error {
	releases, err := s.ReleaseChoices(ctx, projectID)
	if err != nil {
		return err
	}
	byID := map[int64]alm.Release{}
	for _, r := range releases {
		byID[r.ID] = r
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("matrix: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m alm.MatrixRow
		var st, prio string
		var rels []int64
		var n int
		if err := rows.Scan(&m.Key, &m.Title, &st, &prio, &m.Owner, &m.CriteriaMet, &m.CriteriaTotal, &m.OpenQuestions, &m.ByStatus, &rels, &n); err != nil {
			return fmt.Errorf("matrix row: %w", err)
		}
		m.Status, m.Priority = alm.ReqStatus(st), alm.Priority(prio)
		m.Releases = []alm.MatrixRelease{}
		for _, id := range rels {
			if r, ok := byID[id]; ok {
				m.Releases = append(m.Releases, alm.MatrixRelease{ID: r.ID, Name: r.Name, Status: r.Status})
			}
		}
		if err := fn(m, n); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Search finds requirements and work items by full text (websearch
// syntax: words, "phrases", -exclusions, or), best matches first, in one
// project or (projectID 0) all of them.
func (s *Store) Search(ctx context.Context, projectID int64, q string, limit int) ([]alm.SearchHit, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return []alm.SearchHit{}, nil
	}
	limit = clampLimit(limit)
	rows, err := s.pool.Query(ctx, `WITH q AS (SELECT websearch_to_tsquery('english', $2) AS q)
		(SELECT 'requirement' AS kind, r.key AS rkey, r.title, r.status, p.key AS pkey, ts_rank(r.search, q.q) AS rank
			FROM requirements r JOIN projects p ON p.id = r.project_id, q
			WHERE r.search @@ q.q AND ($1 = 0 OR r.project_id = $1))
		UNION ALL
		(SELECT 'work_item', w.key, w.title, w.status, p.key, ts_rank(w.search, q.q)
			FROM work_items w JOIN projects p ON p.id = w.project_id, q
			WHERE w.search @@ q.q AND ($1 = 0 OR w.project_id = $1))
		ORDER BY rank DESC, rkey LIMIT $3`, projectID, q, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.SearchHit, error) {
		var h alm.SearchHit
		return h, r.Scan(&h.Kind, &h.Key, &h.Title, &h.Status, &h.Project, &h.Rank)
	})
	if out == nil {
		out = []alm.SearchHit{}
	}
	return out, err
}

// RequirementLineage follows a requirement down the chain.
func (s *Store) RequirementLineage(ctx context.Context, key string) (alm.Lineage, error) {
	var l alm.Lineage
	var reqID int64
	var st string
	err := s.pool.QueryRow(ctx, `SELECT r.id, r.key, r.title, r.status, p.key FROM requirements r JOIN projects p ON p.id = r.project_id WHERE r.key = upper($1)`, key).
		Scan(&reqID, &l.Requirement.Key, &l.Requirement.Title, &st, &l.Requirement.Project)
	if err != nil {
		return l, notFound(err, "Requirement "+key)
	}
	l.Requirement.Status = alm.ReqStatus(st)
	rows, err := s.pool.Query(ctx, `SELECT w.key, w.title, w.kind, w.status, coalesce(u.name, ''), w.release_id, rel.name, rel.version, rel.status
		FROM work_item_requirements x JOIN work_items w ON w.id = x.work_item_id LEFT JOIN users u ON u.id = w.assignee_id
		LEFT JOIN releases rel ON rel.id = w.release_id WHERE x.requirement_id = $1 ORDER BY w.number`, reqID)
	if err != nil {
		return l, fmt.Errorf("lineage: %w", err)
	}
	defer rows.Close()
	l.WorkItems, l.Releases = []alm.LineageItem{}, []alm.LineageRelease{}
	relAt := map[int64]int{}
	for rows.Next() {
		var it alm.LineageItem
		var kind, status string
		var relName, relVersion, relStatus *string
		if err := rows.Scan(&it.Key, &it.Title, &kind, &status, &it.Assignee, &it.ReleaseID, &relName, &relVersion, &relStatus); err != nil {
			return l, fmt.Errorf("lineage row: %w", err)
		}
		it.Kind, it.Status, it.ComponentChanges = alm.WorkKind(kind), alm.WorkStatus(status), []alm.LineageComponent{}
		l.WorkItems = append(l.WorkItems, it)
		if it.ReleaseID != nil {
			i, ok := relAt[*it.ReleaseID]
			if !ok {
				i = len(l.Releases)
				relAt[*it.ReleaseID] = i
				l.Releases = append(l.Releases, alm.LineageRelease{ID: *it.ReleaseID, Name: *relName, Version: *relVersion,
					Status: alm.RelStatus(*relStatus), WorkItems: []string{}, Builds: []any{}, Deployments: []any{}})
			}
			l.Releases[i].WorkItems = append(l.Releases[i].WorkItems, it.Key)
		}
	}
	if err := rows.Err(); err != nil {
		return l, err
	}
	rows.Close()
	// Each release's builds and where they were deployed.
	for i := range l.Releases {
		bl, err := s.ListBuilds(ctx, l.Releases[i].ID)
		if err != nil {
			return l, err
		}
		for _, b := range bl {
			l.Releases[i].Builds = append(l.Releases[i].Builds, map[string]any{"id": b.ID, "number": b.Number, "checksum": b.Checksum, "created_at": b.CreatedAt})
		}
		drows, err := s.pool.Query(ctx, `SELECT d.id, d.build_id, coalesce(m.stage_name, ''), o.name, d.kind, d.status, d.finished_at
			FROM deployments d JOIN release_builds b ON b.id = coalesce(d.build_id, (SELECT build_id FROM deployments WHERE id = d.rollback_of))
			JOIN orgs o ON o.id = d.org_id LEFT JOIN promotions m ON m.id = d.promotion_id
			WHERE b.release_id = $1 ORDER BY d.id`, l.Releases[i].ID)
		if err != nil {
			return l, fmt.Errorf("lineage deployments: %w", err)
		}
		for drows.Next() {
			var id int64
			var buildID *int64
			var stage, org, kind, status string
			var fin *time.Time
			if err := drows.Scan(&id, &buildID, &stage, &org, &kind, &status, &fin); err != nil {
				drows.Close()
				return l, err
			}
			l.Releases[i].Deployments = append(l.Releases[i].Deployments, map[string]any{"id": id, "build_id": buildID, "stage": stage, "org": org,
				"kind": kind, "status": status, "finished_at": fin})
		}
		drows.Close()
		if err := drows.Err(); err != nil {
			return l, err
		}
	}
	// Each work item's captured components: the next link of the chain.
	crows, err := s.pool.Query(ctx, `SELECT w.key, c.type, c.name, c.change, coalesce(c.hash, '')
		FROM work_item_components c JOIN work_items w ON w.id = c.work_item_id
		JOIN work_item_requirements x ON x.work_item_id = w.id
		WHERE x.requirement_id = $1 AND c.superseded_at IS NULL ORDER BY w.number, c.type, c.name`, reqID)
	if err != nil {
		return l, fmt.Errorf("lineage components: %w", err)
	}
	defer crows.Close()
	at := map[string]int{}
	for i, it := range l.WorkItems {
		at[it.Key] = i
	}
	for crows.Next() {
		var key string
		var c alm.LineageComponent
		if err := crows.Scan(&key, &c.Type, &c.Name, &c.Change, &c.Hash); err != nil {
			return l, err
		}
		if i, ok := at[key]; ok {
			l.WorkItems[i].ComponentChanges = append(l.WorkItems[i].ComponentChanges, c)
		}
	}
	return l, crows.Err()
}
