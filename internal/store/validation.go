package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const validationCols = `v.id, v.build_id, coalesce((SELECT number FROM release_builds WHERE id = v.build_id), 0), v.org_id, o.name, v.test_level, v.status, v.deploy_id, v.result, v.error, v.started_label, v.started_at, v.finished_at`

func scanValidation(row pgx.Row) (alm.Validation, error) {
	var v alm.Validation
	var res []byte
	err := row.Scan(&v.ID, &v.BuildID, &v.BuildNumber, &v.OrgID, &v.OrgName, &v.TestLevel, &v.Status, &v.DeployID, &res, &v.Error, &v.StartedBy, &v.StartedAt, &v.Finished)
	if err == nil {
		err = json.Unmarshal(res, &v.Result)
	}
	return v, err
}

// CreateValidation records a queued validation.
func (s *Store) CreateValidation(ctx context.Context, buildID, orgID int64, testLevel string, job Job) (alm.Validation, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO validations (build_id, org_id, test_level, started_label, started_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			buildID, orgID, testLevel, actorLabel(alm.ActorFrom(ctx)), s.Now()).Scan(&id); err != nil {
			return fmt.Errorf("create validation: %w", err)
		}
		return job.insert(ctx, tx, id)
	})
	if err != nil {
		return alm.Validation{}, err
	}
	return s.ValidationByID(ctx, id)
}

// ValidationByID returns a validation.
func (s *Store) ValidationByID(ctx context.Context, id int64) (alm.Validation, error) {
	v, err := scanValidation(s.pool.QueryRow(ctx, `SELECT `+validationCols+` FROM validations v JOIN orgs o ON o.id = v.org_id WHERE v.id = $1`, id))
	return v, notFound(err, "That validation")
}

// ListValidations lists a build's validations, newest first.
func (s *Store) ListValidations(ctx context.Context, buildID int64) ([]alm.Validation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+validationCols+` FROM validations v JOIN orgs o ON o.id = v.org_id WHERE v.build_id = $1 ORDER BY v.id DESC`, buildID)
	if err != nil {
		return nil, fmt.Errorf("list validations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Validation, error) { return scanValidation(r) })
	if out == nil {
		out = []alm.Validation{}
	}
	return out, err
}

// StartValidation records the org's deploy id before anything waits on it.
func (s *Store) StartValidation(ctx context.Context, id int64, deployID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE validations SET status = 'running', deploy_id = $2 WHERE id = $1`, id, deployID)
	return err
}

// FinishValidation records a validation's outcome.
func (s *Store) FinishValidation(ctx context.Context, id int64, status string, res alm.ValidationResult, errMsg string) error {
	b, _ := json.Marshal(res)
	_, err := s.pool.Exec(ctx, `UPDATE validations SET status = $2, result = $3, error = $4, finished_at = $5 WHERE id = $1`,
		id, status, b, truncate(errMsg, 2000), s.Now())
	return err
}

// WorkItemValidations lists the validations of builds that carry a work
// item's components, newest first.
func (s *Store) WorkItemValidations(ctx context.Context, key string) ([]alm.Validation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+validationCols+` FROM validations v JOIN orgs o ON o.id = v.org_id
		WHERE v.build_id IN (SELECT build_id FROM build_components WHERE work_item = upper($1)) ORDER BY v.id DESC LIMIT 20`, key)
	if err != nil {
		return nil, fmt.Errorf("work item validations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Validation, error) { return scanValidation(r) })
	if out == nil {
		out = []alm.Validation{}
	}
	return out, err
}
