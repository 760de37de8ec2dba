package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// LineageRoot names the record a lineage graph is drawn around: a
// requirement, a work item, a release, or a component in an org.
type LineageRoot struct {
	Requirement string
	WorkItem    string
	ReleaseID   int64
	OrgID       int64
	Type, Name  string
}

// lineageCap bounds each column, so a release of hundreds of components
// stays a picture.
const lineageCap = 60

// LineageGraph draws the chain requirement → work items → components →
// builds → promotions → deployments → orgs around root, following links
// both ways: from a component in an org back to the requirements that put
// it there, from a requirement forward to the orgs its work reached.
func (s *Store) LineageGraph(ctx context.Context, root LineageRoot) (alm.Graph, error) {
	g := alm.Graph{Nodes: []alm.GraphNode{}, Edges: []alm.GraphEdge{}}
	seen := map[string]bool{}
	perCol := map[int]int{}
	node := func(n alm.GraphNode) bool {
		if seen[n.ID] {
			return true
		}
		if perCol[n.Column] >= lineageCap {
			return false
		}
		perCol[n.Column]++
		seen[n.ID] = true
		g.Nodes = append(g.Nodes, n)
		return true
	}
	edgeSeen := map[[2]string]bool{}
	edge := func(from, to string) {
		k := [2]string{from, to}
		if seen[from] && seen[to] && !edgeSeen[k] {
			edgeSeen[k] = true
			g.Edges = append(g.Edges, alm.GraphEdge{From: from, To: to})
		}
	}
	q := func(sql string, args []any, scan func(pgx.Rows) error) error {
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("lineage: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}

	// The work items at the heart of the graph.
	var itemIDs []int64
	var onlyType, onlyName string
	switch {
	case root.Requirement != "":
		var id int64
		if err := s.pool.QueryRow(ctx, `SELECT id FROM requirements WHERE key = upper($1)`, root.Requirement).Scan(&id); err != nil {
			return g, notFound(err, "Requirement "+root.Requirement)
		}
		g.Root = "req:" + strings.ToUpper(root.Requirement)
		var err error
		if itemIDs, err = s.ids(ctx, `SELECT work_item_id FROM work_item_requirements WHERE requirement_id = $1`, []any{id}...); err != nil {
			return g, err
		}
		if err := s.lineageRequirements(ctx, g.Root, []int64{id}, node); err != nil {
			return g, err
		}
	case root.WorkItem != "":
		var id int64
		if err := s.pool.QueryRow(ctx, `SELECT id FROM work_items WHERE key = upper($1)`, root.WorkItem).Scan(&id); err != nil {
			return g, notFound(err, "Work item "+root.WorkItem)
		}
		g.Root, itemIDs = "item:"+strings.ToUpper(root.WorkItem), []int64{id}
	case root.ReleaseID != 0:
		var name string
		if err := s.pool.QueryRow(ctx, `SELECT name FROM releases WHERE id = $1`, root.ReleaseID).Scan(&name); err != nil {
			return g, notFound(err, "That release")
		}
		g.Root = fmt.Sprintf("release:%d", root.ReleaseID)
		var err error
		if itemIDs, err = s.ids(ctx, `SELECT id FROM work_items WHERE release_id = $1 ORDER BY number`, []any{root.ReleaseID}...); err != nil {
			return g, err
		}
	case root.OrgID != 0:
		onlyType, onlyName = root.Type, root.Name
		g.Root = "comp:" + root.Type + "/" + strings.ToLower(root.Name)
		var err error
		if itemIDs, err = s.ids(ctx, `SELECT DISTINCT w.id FROM deployment_components c JOIN deployments d ON d.id = c.deployment_id
			JOIN build_components bc ON bc.build_id = coalesce(d.build_id, (SELECT build_id FROM deployments WHERE id = d.rollback_of))
				AND bc.type = c.type AND lower(bc.name) = lower(c.name)
			JOIN work_items w ON w.key = bc.work_item
			WHERE d.org_id = $1 AND c.type = $2 AND lower(c.name) = lower($3)`, []any{root.OrgID, root.Type, root.Name}...); err != nil {
			return g, err
		}
	default:
		return g, alm.Errorf(alm.CodeInvalid, "Say what to draw the lineage of.")
	}

	// Requirements of the items (the root's own already placed).
	var keys []string
	if err := q(`SELECT w.key, w.title, w.status, coalesce(array_agg(r.key ORDER BY r.key) FILTER (WHERE r.key IS NOT NULL), '{}'),
			coalesce(array_agg(r.title ORDER BY r.key) FILTER (WHERE r.key IS NOT NULL), '{}'), coalesce(array_agg(r.status ORDER BY r.key) FILTER (WHERE r.key IS NOT NULL), '{}')
		FROM work_items w LEFT JOIN work_item_requirements x ON x.work_item_id = w.id LEFT JOIN requirements r ON r.id = x.requirement_id
		WHERE w.id = ANY($1) GROUP BY w.id ORDER BY w.id`, []any{itemIDs}, func(r pgx.Rows) error {
		var key, title, status string
		var rk, rt, rs []string
		if err := r.Scan(&key, &title, &status, &rk, &rt, &rs); err != nil {
			return err
		}
		id := "item:" + key
		if !node(alm.GraphNode{ID: id, Column: alm.ColWorkItem, Label: key, Detail: title, Status: alm.WorkStatus(status).Label(), Href: "/work-items/" + key}) {
			return nil
		}
		keys = append(keys, key)
		for i := range rk {
			node(alm.GraphNode{ID: "req:" + rk[i], Column: alm.ColRequirement, Label: rk[i], Detail: rt[i], Status: alm.ReqStatus(rs[i]).Label(), Href: "/requirements/" + rk[i]})
			edge("req:"+rk[i], id)
		}
		return nil
	}); err != nil {
		return g, err
	}

	// Components each item changed (its captures, and what its builds
	// carried for it).
	compFilter := ""
	args := []any{keys}
	if onlyType != "" {
		compFilter = ` AND type = $2 AND lower(name) = lower($3)`
		args = append(args, onlyType, onlyName)
	}
	if err := q(`SELECT DISTINCT work_item, type, name FROM (
			SELECT w.key AS work_item, c.type, c.name FROM work_item_components c JOIN work_items w ON w.id = c.work_item_id WHERE c.superseded_at IS NULL
			UNION SELECT bc.work_item, bc.type, bc.name FROM build_components bc) x
		WHERE work_item = ANY($1)`+compFilter+` ORDER BY 1, 2, 3`, args, func(r pgx.Rows) error {
		var key, typ, name string
		if err := r.Scan(&key, &typ, &name); err != nil {
			return err
		}
		id := "comp:" + typ + "/" + strings.ToLower(name)
		if node(alm.GraphNode{ID: id, Column: alm.ColComponent, Label: name, Detail: typ, Href: "/work-items/" + key + "#components"}) {
			edge("item:"+key, id)
		}
		return nil
	}); err != nil {
		return g, err
	}

	// Builds carrying those components for those items, their promotions,
	// deployments and orgs.
	if err := q(`SELECT b.id, b.number, coalesce(x.name, w.key, 'branch'), bc.type, bc.name, bc.work_item
		FROM build_components bc JOIN release_builds b ON b.id = bc.build_id
		LEFT JOIN releases x ON x.id = b.release_id LEFT JOIN work_items w ON w.id = b.work_item_id
		WHERE bc.work_item = ANY($1)`+strings.ReplaceAll(strings.ReplaceAll(compFilter, "type", "bc.type"), "lower(name)", "lower(bc.name)")+` ORDER BY b.id DESC`, args, func(r pgx.Rows) error {
		var id int64
		var number int
		var owner, typ, name, key string
		if err := r.Scan(&id, &number, &owner, &typ, &name, &key); err != nil {
			return err
		}
		bid := fmt.Sprintf("build:%d", id)
		if node(alm.GraphNode{ID: bid, Column: alm.ColBuild, Label: fmt.Sprintf("%s #%d", owner, number), Href: fmt.Sprintf("/builds/%d", id)}) {
			edge("comp:"+typ+"/"+strings.ToLower(name), bid)
		}
		return nil
	}); err != nil {
		return g, err
	}
	var buildIDs []int64
	for _, n := range g.Nodes {
		var id int64
		if _, err := fmt.Sscanf(n.ID, "build:%d", &id); err == nil {
			buildIDs = append(buildIDs, id)
		}
	}
	if err := q(`SELECT m.id, m.build_id, m.stage_name, m.status, d.id, d.kind, d.status, o.id, o.name
		FROM promotions m JOIN orgs o ON o.id = m.org_id LEFT JOIN deployments d ON d.promotion_id = m.id
		WHERE m.build_id = ANY($1) ORDER BY m.id DESC, d.id DESC`, []any{buildIDs}, func(r pgx.Rows) error {
		var pid, bid, oid int64
		var stage, pstatus, oname string
		var did *int64
		var dkind, dstatus *string
		if err := r.Scan(&pid, &bid, &stage, &pstatus, &did, &dkind, &dstatus, &oid, &oname); err != nil {
			return err
		}
		pn := fmt.Sprintf("promo:%d", pid)
		if node(alm.GraphNode{ID: pn, Column: alm.ColPromotion, Label: fmt.Sprintf("#%d → %s", pid, stage), Status: alm.PromotionStatus(pstatus).Label(), Href: fmt.Sprintf("/promotions/%d", pid)}) {
			edge(fmt.Sprintf("build:%d", bid), pn)
		}
		if did == nil {
			return nil
		}
		dn := fmt.Sprintf("deploy:%d", *did)
		if node(alm.GraphNode{ID: dn, Column: alm.ColDeployment, Label: fmt.Sprintf("%s #%d", *dkind, *did), Status: *dstatus, Href: fmt.Sprintf("/deployments/%d", *did)}) {
			edge(pn, dn)
		}
		on := fmt.Sprintf("org:%d", oid)
		if node(alm.GraphNode{ID: on, Column: alm.ColOrg, Label: oname, Href: fmt.Sprintf("/orgs/%d", oid)}) {
			edge(dn, on)
		}
		return nil
	}); err != nil {
		return g, err
	}
	// A component in an org links to its history there.
	if root.OrgID != 0 {
		for i := range g.Nodes {
			if g.Nodes[i].ID == g.Root {
				g.Nodes[i].Href = fmt.Sprintf("/orgs/%d/components/%s/%s/history", root.OrgID, url.PathEscape(root.Type), url.PathEscape(root.Name))
			}
		}
	}
	return g, nil
}

// lineageRequirements places requirements as nodes.
func (s *Store) lineageRequirements(ctx context.Context, rootID string, ids []int64, node func(alm.GraphNode) bool) error {
	rows, err := s.pool.Query(ctx, `SELECT key, title, status FROM requirements WHERE id = ANY($1)`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key, title, status string
		if err := rows.Scan(&key, &title, &status); err != nil {
			return err
		}
		node(alm.GraphNode{ID: "req:" + key, Column: alm.ColRequirement, Label: key, Detail: title, Status: alm.ReqStatus(status).Label(), Href: "/requirements/" + key})
	}
	return rows.Err()
}

// RequirementComponents lists the components a requirement's work items
// change, with the orgs each is deployed in by a successful deployment
// that carried it.
func (s *Store) RequirementComponents(ctx context.Context, reqKey string) ([]alm.ReqComponent, error) {
	rows, err := s.pool.Query(ctx, `WITH items AS (
			SELECT w.key FROM work_items w JOIN work_item_requirements x ON x.work_item_id = w.id JOIN requirements r ON r.id = x.requirement_id
			WHERE r.key = upper($1)),
		comps AS (
			SELECT DISTINCT w.key AS work_item, c.type, c.name FROM work_item_components c JOIN work_items w ON w.id = c.work_item_id
			WHERE c.superseded_at IS NULL AND w.key IN (SELECT key FROM items)
			UNION SELECT bc.work_item, bc.type, bc.name FROM build_components bc WHERE bc.work_item IN (SELECT key FROM items))
		SELECT c.work_item, c.type, c.name,
			coalesce((SELECT array_agg(DISTINCT o.name ORDER BY o.name) FROM deployment_components dc JOIN deployments d ON d.id = dc.deployment_id
				JOIN orgs o ON o.id = d.org_id
				WHERE d.status = 'succeeded' AND d.kind <> 'rollback' AND dc.type = c.type AND lower(dc.name) = lower(c.name) AND dc.work_item = c.work_item), '{}'),
			coalesce((SELECT min(o.id) FROM deployment_components dc JOIN deployments d ON d.id = dc.deployment_id JOIN orgs o ON o.id = d.org_id
				WHERE d.status = 'succeeded' AND dc.type = c.type AND lower(dc.name) = lower(c.name) AND dc.work_item = c.work_item), 0)
		FROM comps c ORDER BY c.type, c.name, c.work_item LIMIT 500`, reqKey)
	if err != nil {
		return nil, fmt.Errorf("requirement components: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.ReqComponent, error) {
		var c alm.ReqComponent
		return c, r.Scan(&c.WorkItem, &c.Type, &c.Name, &c.Orgs, &c.OrgID)
	})
}

// ids runs a query of one bigint column.
func (s *Store) ids(ctx context.Context, sql string, args ...any) ([]int64, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("lineage: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
