package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// Inbox gathers what waits for user, oldest first within each kind and
// newest kinds mixed by age: approvals they can give, open questions on
// requirements they own or asked for, sign-offs owed on deployed
// promotions, their failed validations and deploys of the last two weeks,
// merges waiting on conflicts, open drift alerts and feedback to triage
// for those whose role handles them. Roles are the user's role in each
// project where they are a member.
func (s *Store) Inbox(ctx context.Context, u alm.User, limit int) ([]alm.InboxItem, error) {
	since := s.Now().Add(-14 * 24 * time.Hour)
	type q struct {
		kind, sql string
		args      []any
	}
	// role is the user's role in the project p.
	const role = `coalesce((SELECT pm.role FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = $1), $2)`
	queries := []q{
		{"approval", `SELECT 'Approve ' || coalesce(x.name, w.key, 'branch build') || ' #' || b.number || ' into ' || m.stage_name, m.stage_name || ' needs ' || st.approvals_required || CASE WHEN st.approvals_required = 1 THEN ' approval' ELSE ' approvals' END,
			'/promotions/' || m.id, p.key, m.created_at
			FROM promotions m JOIN projects p ON p.id = m.project_id JOIN release_builds b ON b.id = m.build_id
			LEFT JOIN releases x ON x.id = b.release_id LEFT JOIN work_items w ON w.id = b.work_item_id
			JOIN pipeline_stages st ON st.project_id = m.project_id AND lower(st.name) = lower(m.stage_name)
			WHERE m.status = 'open' AND m.git_state <> 'conflicts' AND st.approvals_required > 0 AND ` + role + ` = ANY (st.approver_roles)
			AND NOT EXISTS (SELECT 1 FROM promotion_decisions dd WHERE dd.promotion_id = m.id AND dd.user_id = $1 AND dd.build_id = m.build_id AND dd.reset_at IS NULL)
			AND (SELECT count(*) FROM promotion_decisions dd WHERE dd.promotion_id = m.id AND dd.build_id = m.build_id AND dd.decision = 'approved' AND dd.reset_at IS NULL) < st.approvals_required`,
			[]any{u.ID, string(u.Role)}},
		{"question", `SELECT r.key || ': ' || left(c.body, 120), r.title, '/requirements/' || r.key || '#comment-' || c.id, p.key, c.created_at
			FROM comments c JOIN requirements r ON r.id = c.requirement_id JOIN projects p ON p.id = r.project_id
			WHERE c.kind = 'question' AND c.state = 'open' AND c.parent_id IS NULL AND (r.owner_id = $1 OR r.requester_id = $1) AND c.author_id IS DISTINCT FROM $1`,
			[]any{u.ID}},
		{"signoff", `SELECT 'Sign off ' || string_agg(DISTINCT bc.work_item, ', ') || ' in ' || m.stage_name, 'deployed to ' || o.name,
			'/promotions/' || m.id, p.key, m.updated_at
			FROM promotions m JOIN projects p ON p.id = m.project_id JOIN orgs o ON o.id = m.org_id JOIN build_components bc ON bc.build_id = m.build_id AND bc.work_item <> ''
			WHERE m.status = 'deployed' AND m.updated_at > $3 AND m.stage_position < (SELECT max(position) FROM pipeline_stages WHERE project_id = m.project_id)
			AND ` + role + ` IN ('admin', 'release_manager', 'product_owner')
			AND NOT EXISTS (SELECT 1 FROM signoffs so WHERE so.promotion_id = m.id AND so.work_item = bc.work_item)
			GROUP BY m.id, m.stage_name, o.name, p.key, m.updated_at`,
			[]any{u.ID, string(u.Role), since}},
		{"failed_validation", `SELECT 'Validation #' || v.id || ' of build #' || b.number || ' failed', 'against ' || o.name, '/builds/' || v.build_id || '#validations',
			'', coalesce(v.finished_at, v.started_at)
			FROM validations v JOIN orgs o ON o.id = v.org_id JOIN release_builds b ON b.id = v.build_id
			WHERE v.status IN ('failed', 'error') AND v.started_label = $1 AND v.started_at > $2`,
			[]any{u.Email, since}},
		{"failed_deployment", `SELECT 'Deploy #' || d.id || ' to ' || o.name || ' failed', left(d.error, 160), coalesce('/promotions/' || d.promotion_id, '/deployments/' || d.id),
			'', coalesce(d.finished_at, d.started_at)
			FROM deployments d JOIN orgs o ON o.id = d.org_id
			WHERE d.status = 'failed' AND d.started_label = $1 AND d.started_at > $2
			AND NOT EXISTS (SELECT 1 FROM deployments later WHERE later.promotion_id = d.promotion_id AND later.id > d.id)`,
			[]any{u.Email, since}},
		{"conflicts", `SELECT 'Settle conflicts merging ' || m.git_from || ' into ' || m.git_into, (SELECT count(*) FROM merge_conflicts c WHERE c.promotion_id = m.id) || CASE WHEN (SELECT count(*) FROM merge_conflicts c WHERE c.promotion_id = m.id) = 1 THEN ' file' ELSE ' files' END,
			'/promotions/' || m.id || '/conflicts', p.key, m.created_at
			FROM promotions m JOIN projects p ON p.id = m.project_id
			WHERE m.status = 'open' AND m.git_state = 'conflicts' AND ` + role + ` IN ('admin', 'release_manager', 'developer')`,
			[]any{u.ID, string(u.Role)}},
	}
	if u.Role.Can(alm.PermManageAlerts) {
		queries = append(queries, q{"alert", `SELECT a.title, coalesce(o.name, ''), '/alerts/' || a.id, '', a.created_at
			FROM alerts a LEFT JOIN orgs o ON o.id = a.org_id WHERE a.status = 'open'`, nil})
	}
	if u.Role.Can(alm.PermTriageFeedback) {
		queries = append(queries, q{"feedback", `SELECT f.title, f.kind, '/feedback/' || f.id, p.key, f.created_at
			FROM feedback f JOIN projects p ON p.id = f.project_id WHERE f.status = 'new'`, nil})
	}
	var out []alm.InboxItem
	for _, qq := range queries {
		rows, err := s.pool.Query(ctx, qq.sql+` ORDER BY 5 LIMIT 50`, qq.args...)
		if err != nil {
			return nil, fmt.Errorf("inbox %s: %w", qq.kind, err)
		}
		items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.InboxItem, error) {
			it := alm.InboxItem{Kind: qq.kind}
			return it, r.Scan(&it.Title, &it.Detail, &it.Href, &it.Project, &it.Since)
		})
		if err != nil {
			return nil, fmt.Errorf("inbox %s: %w", qq.kind, err)
		}
		out = append(out, items...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
