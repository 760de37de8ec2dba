package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// LargeSeed sizes a generated project for load tests.
type LargeSeed struct {
	Key          string
	Requirements int
	WorkItems    int
	Releases     int
}

// SeedLarge fills a new project with generated requirements (with
// acceptance criteria, a spec version and some open questions), work items
// linked to them across every board column, and releases, in a few set
// statements so that 10,000 requirements and 50,000 work items take
// seconds. The text is drawn from a Salesforce-flavoured vocabulary, so
// full-text search has realistic selectivity.
func (s *Store) SeedLarge(ctx context.Context, in LargeSeed) (alm.Project, error) {
	if in.Releases <= 0 {
		in.Releases = 24
	}
	p, err := s.CreateProject(ctx, alm.NewProject{Key: in.Key, Name: in.Key + " (generated for load tests)",
		Description: fmt.Sprintf("%d generated requirements and %d work items.", in.Requirements, in.WorkItems)})
	if err != nil {
		return p, err
	}
	now := s.Now()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		steps := []struct {
			what string
			sql  string
			args []any
		}{
			{"words", `CREATE TEMP TABLE seed_words ON COMMIT DROP AS SELECT row_number() OVER () AS i, w FROM unnest($1::text[]) AS w`, []any{seedVocabulary}},
			{"releases", `INSERT INTO releases (project_id, name, version, target_date, status, created_at, updated_at)
				SELECT $1, 'Release ' || g, '1.' || g || '.0', ($3::timestamptz)::date + g * 14,
					(ARRAY['released','released','approved','in_test','building','planning'])[1 + (g * 6 / ($2 + 1))], $3, $3
				FROM generate_series(1, $2) g`, []any{p.ID, in.Releases, now}},
			{"requirements", `INSERT INTO requirements (project_id, number, key, title, description, business_goal, priority, status, labels, created_at, updated_at)
				SELECT $1, g, $2 || '-REQ-' || g,
					initcap(w1.w) || ' ' || w2.w || ' for ' || w3.w || ' ' || w4.w,
					'As a ' || w5.w || ' user I need ' || w1.w || ' ' || w2.w || ' so that ' || w3.w || ' ' || w6.w || ' works with **' || w4.w || '**.',
					'Improve ' || w6.w || ' ' || w3.w,
					(ARRAY['critical','high','medium','medium','low'])[1 + g % 5],
					(ARRAY['draft','proposed','accepted','in_delivery','in_delivery','in_delivery','delivered','closed','rejected','accepted'])[1 + (g * 7) % 10],
					ARRAY[w3.w, w5.w], $4::timestamptz - (g || ' minutes')::interval, $4::timestamptz - (g || ' minutes')::interval
				FROM generate_series(1, $3) g
				JOIN seed_words w1 ON w1.i = 1 + (g * 7) % $5
				JOIN seed_words w2 ON w2.i = 1 + (g * 13 + 3) % $5
				JOIN seed_words w3 ON w3.i = 1 + (g * 29 + 5) % $5
				JOIN seed_words w4 ON w4.i = 1 + (g * 31 + 11) % $5
				JOIN seed_words w5 ON w5.i = 1 + (g / 7) % $5
				JOIN seed_words w6 ON w6.i = 1 + (g * 17 + 1) % $5`, []any{p.ID, p.Key, in.Requirements, now, len(seedVocabulary)}},
			{"criteria", `INSERT INTO acceptance_criteria (requirement_id, position, text, met)
				SELECT r.id, c, 'Criterion ' || c || ' of ' || r.key || ': ' || lower(r.title) || ' is checked', (r.number + c) % 3 = 0
				FROM requirements r, generate_series(0, 2) c WHERE r.project_id = $1`, []any{p.ID}},
			{"spec versions", `INSERT INTO requirement_versions (requirement_id, version, title, description, business_goal, criteria, edited_by_label, reason, at)
				SELECT r.id, 1, r.title, r.description, r.business_goal, ARRAY(SELECT text FROM acceptance_criteria c WHERE c.requirement_id = r.id ORDER BY position),
					'seed', 'created', r.created_at FROM requirements r WHERE r.project_id = $1`, []any{p.ID}},
			{"questions", `INSERT INTO comments (requirement_id, kind, state, body, author_label, created_at)
				SELECT r.id, 'question', CASE WHEN r.number % 3 = 0 THEN 'open' ELSE 'answered' END,
					'Does ' || lower(r.title) || ' also cover mobile?', 'seed', r.created_at
				FROM requirements r WHERE r.project_id = $1 AND r.number % 4 = 0`, []any{p.ID}},
			{"work items", `INSERT INTO work_items (project_id, number, key, kind, title, description, status, estimate, labels, approach, maintenance_note,
					release_id, rank, created_at, updated_at)
				SELECT $1, g, $2 || '-' || g,
					(ARRAY['story','story','story','bug','task','chore'])[1 + g % 6],
					initcap(w1.w) || ' ' || w2.w || ' ' || w3.w,
					'Build ' || w1.w || ' ' || w2.w || ' using ' || w4.w || '.',
					st.s, 1 + g % 8, ARRAY[w4.w],
					CASE WHEN st.s IN ('backlog','ready') THEN '' ELSE (ARRAY['declarative','code','both'])[1 + g % 3] END,
					CASE WHEN st.s IN ('backlog','ready') THEN '' ELSE 'Owned by the ' || w4.w || ' team.' END,
					CASE WHEN st.s IN ('in_release','done') THEN (SELECT id FROM releases WHERE project_id = $1 ORDER BY id LIMIT 1 OFFSET g % $6) END,
					g * 1024, $5::timestamptz - (g || ' seconds')::interval, $5::timestamptz - (g || ' seconds')::interval
				FROM generate_series(1, $3) g
				CROSS JOIN LATERAL (SELECT (ARRAY['backlog','backlog','ready','in_progress','in_review','ready_to_promote','in_release',
					'done','done','done','done','done'])[1 + (g * 5) % 12] AS s) st
				JOIN seed_words w1 ON w1.i = 1 + (g * 11) % $4
				JOIN seed_words w2 ON w2.i = 1 + (g * 19 + 7) % $4
				JOIN seed_words w3 ON w3.i = 1 + (g * 23 + 2) % $4
				JOIN seed_words w4 ON w4.i = 1 + (g / 11) % $4`, []any{p.ID, p.Key, in.WorkItems, len(seedVocabulary), now, in.Releases}},
			{"links", `INSERT INTO work_item_requirements (work_item_id, requirement_id)
				SELECT w.id, r.id FROM work_items w JOIN requirements r ON r.project_id = w.project_id AND r.number = 1 + (w.number * 7919) % $2
				WHERE w.project_id = $1`, []any{p.ID, in.Requirements}},
			{"link keys", `UPDATE work_items w SET requirement_keys = k.keys FROM (SELECT l.work_item_id, array_agg(r.key ORDER BY r.number) AS keys
				FROM work_item_requirements l JOIN requirements r ON r.id = l.requirement_id WHERE r.project_id = $1 GROUP BY 1) k
				WHERE w.id = k.work_item_id`, []any{p.ID}},
			{"sequences", `UPDATE projects SET req_seq = $2, item_seq = $3 WHERE id = $1`, []any{p.ID, in.Requirements, in.WorkItems}},
		}
		for _, st := range steps {
			if in.Requirements == 0 && (st.what == "links" || st.what == "link keys") {
				continue
			}
			if _, err := tx.Exec(ctx, st.sql, st.args...); err != nil {
				return fmt.Errorf("seed %s: %w", st.what, err)
			}
		}
		return s.record(ctx, tx, p.ID, "project", p.ID, "project.seed", fmt.Sprintf("generated %d requirements and %d work items", in.Requirements, in.WorkItems))
	})
	if err != nil {
		return p, err
	}
	// Fresh statistics and visibility maps keep the planner and index-only
	// scans honest from the first request.
	for _, t := range []string{"requirements", "work_items", "work_item_requirements", "acceptance_criteria", "comments", "releases"} {
		if _, err := s.pool.Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			return p, fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	return p, nil
}

var seedVocabulary = []string{
	"account", "opportunity", "quote", "approval", "discount", "territory", "forecast", "lead", "scoring", "campaign",
	"contact", "case", "escalation", "entitlement", "milestone", "knowledge", "article", "service", "console", "omnichannel",
	"routing", "queue", "flow", "trigger", "validation", "rule", "layout", "lightning", "component", "dashboard",
	"report", "pipeline", "renewal", "contract", "order", "invoice", "payment", "billing", "product", "pricebook",
	"catalog", "inventory", "shipment", "partner", "portal", "community", "experience", "chatter", "notification", "email",
	"template", "sms", "mobile", "offline", "sync", "integration", "api", "webhook", "platform", "event",
	"batch", "schedule", "export", "import", "dedupe", "matching", "merge", "hierarchy", "sharing", "permission",
	"profile", "role", "audit", "history", "tracking", "compliance", "consent", "privacy", "gdpr", "retention",
	"archive", "search", "filter", "list", "view", "kanban", "calendar", "task", "activity", "meeting",
	"call", "logging", "survey", "feedback", "nps", "loyalty", "reward", "onboarding", "training", "handover",
}
