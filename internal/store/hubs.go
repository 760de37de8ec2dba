package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// HubFilter narrows the Build and Test hubs: a project (by key), a
// release, a stage (builds deployed or validated there; by name), an
// outcome, and how many rows.
type HubFilter struct {
	Project string
	Release int64
	Stage   string
	Outcome string // builds: validated, failed, unvalidated; validations and test runs: succeeded/passed, failed, running
	Limit   int
}

// HubBuilds lists builds across projects, newest first.
func (s *Store) HubBuilds(ctx context.Context, f HubFilter) ([]alm.BuildSummary, error) {
	where, args := []string{"true"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Project != "" {
		add("upper(p.key) = upper($%d)", f.Project)
	}
	if f.Release != 0 {
		add("b.release_id = $%d", f.Release)
	}
	if f.Stage != "" {
		add("EXISTS (SELECT 1 FROM promotions m WHERE m.build_id = b.id AND lower(m.stage_name) = lower($%d) AND m.status IN ('deployed', 'rolled_back'))", f.Stage)
	}
	switch f.Outcome {
	case "validated":
		where = append(where, "lv.status = 'succeeded'")
	case "failed":
		where = append(where, "lv.status IN ('failed', 'error')")
	case "unvalidated":
		where = append(where, "lv.status IS NULL")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT b.id, coalesce(b.release_id, 0), b.number, b.api_version, b.checksum, b.components, b.deletes,
			coalesce(octet_length(b.artifact), b.artifact_bytes), coalesce((SELECT u.name FROM users u WHERE u.id = b.created_by AND u.name <> ''), b.created_label), b.created_at, coalesce(w.key, ''),
			p.key, coalesce(x.name, w.key, 'branch ' || left(b.git_commit, 8)), coalesce(lv.status, ''), coalesce(lv.org, ''),
			coalesce((SELECT array_agg(DISTINCT m.stage_name) FROM promotions m WHERE m.build_id = b.id AND m.status = 'deployed'), '{}'),
			(SELECT max(d.finished_at) FROM deployments d WHERE d.build_id = b.id AND d.status = 'succeeded')
		FROM release_builds b LEFT JOIN releases x ON x.id = b.release_id LEFT JOIN work_items w ON w.id = b.work_item_id
		JOIN projects p ON p.id = coalesce(x.project_id, w.project_id, b.project_id)
		LEFT JOIN LATERAL (SELECT v.status, o.name AS org FROM validations v JOIN orgs o ON o.id = v.org_id WHERE v.build_id = b.id ORDER BY v.id DESC LIMIT 1) lv ON true
		WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY b.id DESC LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("hub builds: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.BuildSummary, error) {
		var h alm.BuildSummary
		err := r.Scan(&h.ID, &h.ReleaseID, &h.Number, &h.APIVersion, &h.Checksum, &h.Components, &h.Deletes, &h.Size, &h.CreatedBy, &h.CreatedAt, &h.WorkItem,
			&h.Project, &h.Owner, &h.Validation, &h.ValidOrg, &h.DeployedTo, &h.LastDeploy)
		return h, err
	})
}

// HubValidations lists validations across projects, newest first.
func (s *Store) HubValidations(ctx context.Context, f HubFilter) ([]alm.ValidationSummary, error) {
	where, args := []string{"true"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Project != "" {
		add("upper(p.key) = upper($%d)", f.Project)
	}
	if f.Release != 0 {
		add("b.release_id = $%d", f.Release)
	}
	if f.Stage != "" {
		add("v.org_id IN (SELECT org_id FROM pipeline_stages WHERE lower(name) = lower($%d))", f.Stage)
	}
	switch f.Outcome {
	case "succeeded", "passed":
		where = append(where, "v.status = 'succeeded'")
	case "failed":
		where = append(where, "v.status IN ('failed', 'error')")
	case "running":
		where = append(where, "v.status IN ('queued', 'running')")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	cols := strings.Replace(validationCols, "v.started_label", "coalesce((SELECT u.name FROM users u WHERE lower(u.email) = lower(v.started_label) AND u.name <> ''), v.started_label)", 1)
	rows, err := s.pool.Query(ctx, `SELECT `+cols+`, p.key, coalesce(x.name, w.key, 'branch ' || left(b.git_commit, 8))
		FROM validations v JOIN orgs o ON o.id = v.org_id JOIN release_builds b ON b.id = v.build_id
		LEFT JOIN releases x ON x.id = b.release_id LEFT JOIN work_items w ON w.id = b.work_item_id
		JOIN projects p ON p.id = coalesce(x.project_id, w.project_id, b.project_id)
		WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY v.id DESC LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("hub validations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.ValidationSummary, error) {
		var h alm.ValidationSummary
		var res []byte
		err := r.Scan(&h.ID, &h.BuildID, &h.BuildNumber, &h.OrgID, &h.OrgName, &h.TestLevel, &h.Status, &h.DeployID, &res, &h.Error, &h.StartedBy, &h.StartedAt, &h.Finished,
			&h.Project, &h.Owner)
		return h, err
	})
}

// HubTestRuns lists Apex test runs on every org (or a stage's), newest first.
func (s *Store) HubTestRuns(ctx context.Context, f HubFilter) ([]alm.TestRunSummary, error) {
	where, args := []string{"true"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Stage != "" {
		add("t.org_id IN (SELECT org_id FROM pipeline_stages WHERE lower(name) = lower($%d))", f.Stage)
	}
	if f.Project != "" {
		add("t.org_id IN (SELECT s.org_id FROM pipeline_stages s JOIN projects p ON p.id = s.project_id WHERE upper(p.key) = upper($%d))", f.Project)
	}
	switch f.Outcome {
	case "succeeded", "passed":
		where = append(where, "t.status = 'passed'")
	case "failed":
		where = append(where, "t.status IN ('failed', 'error')")
	case "running":
		where = append(where, "t.status IN ('queued', 'running')")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.org_id, t.classes, t.suites, t.test_level, t.status, t.passed, t.failed, '[]'::jsonb, t.error, coalesce((SELECT u.name FROM users u WHERE lower(u.email) = lower(t.started_label) AND u.name <> ''), t.started_label), t.started_at, t.finished_at, o.name
		FROM test_runs t JOIN orgs o ON o.id = t.org_id WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY t.id DESC LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("hub test runs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.TestRunSummary, error) {
		var h alm.TestRunSummary
		var res []byte
		err := r.Scan(&h.ID, &h.OrgID, &h.Classes, &h.Suites, &h.TestLevel, &h.Status, &h.Passed, &h.Failed, &res, &h.Error, &h.StartedBy, &h.StartedAt, &h.Finished, &h.OrgName)
		return h, err
	})
}
