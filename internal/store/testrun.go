package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const testRunCols = `id, org_id, classes, suites, test_level, status, passed, failed, results, error, started_label, started_at, finished_at`

func scanTestRun(row pgx.Row) (alm.TestRun, error) {
	var t alm.TestRun
	var res []byte
	err := row.Scan(&t.ID, &t.OrgID, &t.Classes, &t.Suites, &t.TestLevel, &t.Status, &t.Passed, &t.Failed, &res, &t.Error, &t.StartedBy, &t.StartedAt, &t.Finished)
	if err == nil {
		err = json.Unmarshal(res, &t.Results)
	}
	return t, err
}

// CreateTestRun records a queued test run.
func (s *Store) CreateTestRun(ctx context.Context, orgID int64, classes, suites []string, level string, job Job) (alm.TestRun, error) {
	if classes == nil {
		classes = []string{}
	}
	if suites == nil {
		suites = []string{}
	}
	var t alm.TestRun
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = s.createTestRun(ctx, tx, orgID, classes, suites, level, job)
		return err
	})
	return t, err
}

func (s *Store) createTestRun(ctx context.Context, tx pgx.Tx, orgID int64, classes, suites []string, level string, job Job) (alm.TestRun, error) {
	if classes == nil {
		classes = []string{}
	}
	if suites == nil {
		suites = []string{}
	}
	t, err := scanTestRun(tx.QueryRow(ctx, `INSERT INTO test_runs (org_id, classes, suites, test_level, started_label, started_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+testRunCols, orgID, classes, suites, level, actorLabel(alm.ActorFrom(ctx)), s.Now()))
	if err != nil {
		return t, fmt.Errorf("create test run: %w", err)
	}
	return t, job.insert(ctx, tx, t.ID)
}

// TestRunByID returns a test run.
func (s *Store) TestRunByID(ctx context.Context, id int64) (alm.TestRun, error) {
	t, err := scanTestRun(s.pool.QueryRow(ctx, `SELECT `+testRunCols+` FROM test_runs WHERE id = $1`, id))
	return t, notFound(err, "That test run")
}

// AsyncTestRun returns the org's id for a run ("" before it started).
func (s *Store) AsyncTestRun(ctx context.Context, id int64) (string, error) {
	var a string
	err := s.pool.QueryRow(ctx, `SELECT async_id FROM test_runs WHERE id = $1`, id).Scan(&a)
	return a, notFound(err, "That test run")
}

// StartTestRun records the org's run id before anything waits on it.
func (s *Store) StartTestRun(ctx context.Context, id int64, asyncID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE test_runs SET status = 'running', async_id = $2 WHERE id = $1`, id, asyncID)
	return err
}

// FinishTestRun records a run's outcome.
func (s *Store) FinishTestRun(ctx context.Context, id int64, status string, results []alm.TestResult, errMsg string) error {
	passed, failed := 0, 0
	for _, r := range results {
		if r.Outcome == "Pass" {
			passed++
		} else if r.Outcome != "Skip" {
			failed++
		}
	}
	if results == nil {
		results = []alm.TestResult{}
	}
	b, _ := json.Marshal(results)
	_, err := s.pool.Exec(ctx, `UPDATE test_runs SET status = $2, passed = $3, failed = $4, results = $5, error = $6, finished_at = $7 WHERE id = $1`,
		id, status, passed, failed, b, truncate(errMsg, 2000), s.Now())
	return err
}

// ListTestRuns lists an org's test runs, newest first.
func (s *Store) ListTestRuns(ctx context.Context, orgID int64, limit int) ([]alm.TestRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+testRunCols+` FROM test_runs WHERE org_id = $1 ORDER BY id DESC LIMIT $2`, orgID, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list test runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.TestRun, error) { return scanTestRun(r) })
	if out == nil {
		out = []alm.TestRun{}
	}
	return out, err
}
