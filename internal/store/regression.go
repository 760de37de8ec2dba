package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// RegressionPolicy returns an org's regression test schedule (off, but
// on after Salesforce upgrades, by default).
func (s *Store) RegressionPolicy(ctx context.Context, orgID int64) (alm.RegressionPolicy, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO regression_policies (org_id, next_at, updated_at) SELECT id, $2, $2 FROM orgs WHERE id = $1
		ON CONFLICT (org_id) DO NOTHING`, orgID, s.Now()); err != nil {
		return alm.RegressionPolicy{}, fmt.Errorf("regression policy: %w", err)
	}
	var p alm.RegressionPolicy
	err := s.pool.QueryRow(ctx, `SELECT org_id, enabled, every_hours, on_upgrade, last_api_version, next_at FROM regression_policies WHERE org_id = $1`, orgID).
		Scan(&p.OrgID, &p.Enabled, &p.EveryHours, &p.OnUpgrade, &p.LastAPIVersion, &p.NextAt)
	p.EveryDays = alm.DaysOf(p.EveryHours)
	return p, notFound(err, "That org")
}

// SaveRegressionPolicy sets an org's regression schedule; switching it on
// schedules the first run one interval from now.
func (s *Store) SaveRegressionPolicy(ctx context.Context, p alm.RegressionPolicy) (alm.RegressionPolicy, error) {
	cur, err := s.RegressionPolicy(ctx, p.OrgID)
	if err != nil {
		return p, err
	}
	if p.EveryHours == cur.EveryHours && p.EveryDays != cur.EveryDays {
		// An older client changed the interval in days.
		if p.EveryDays < 1 || p.EveryDays > 90 {
			return p, alm.Invalid(map[string]string{"every_days": "Run between every day and every 90 days."})
		}
		p.EveryHours = p.EveryDays * 24
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE regression_policies SET enabled = $2, every_hours = $3, on_upgrade = $4,
			next_at = CASE WHEN enabled THEN least(next_at, $5::timestamptz + $3::int * interval '1 hour') ELSE $5::timestamptz + $3::int * interval '1 hour' END,
			updated_at = $5 WHERE org_id = $1`, p.OrgID, p.Enabled, p.EveryHours, p.OnUpgrade, s.Now()); err != nil {
			return fmt.Errorf("save regression policy: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "org.regression_policy", "org", fmt.Sprint(p.OrgID),
			fmt.Sprintf("regression runs on=%v every %d hours, after upgrades=%v", p.Enabled, p.EveryHours, p.OnUpgrade)))
	})
	if err != nil {
		return p, err
	}
	return s.RegressionPolicy(ctx, p.OrgID)
}

// ClaimDueRegressions moves due regression schedules on and, in the same
// transaction, records a run of each org's local tests with its job; it
// returns the runs.
func (s *Store) ClaimDueRegressions(ctx context.Context, job Job) ([]int64, error) {
	var runs []int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE regression_policies SET next_at = $1::timestamptz + every_hours * interval '1 hour'
			WHERE enabled AND next_at <= $1 AND org_id IN (SELECT id FROM orgs WHERE status <> 'disconnected') RETURNING org_id`, s.Now())
		if err != nil {
			return fmt.Errorf("claim regressions: %w", err)
		}
		orgs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, org := range orgs {
			t, err := s.createTestRun(ctx, tx, org, nil, nil, "RunLocalTests", job)
			if err != nil {
				return err
			}
			runs = append(runs, t.ID)
		}
		return nil
	})
	return runs, err
}

// NoteAPIVersion records the org's newest API version and returns the one
// seen before ("" the first time) and whether upgrades trigger a run.
func (s *Store) NoteAPIVersion(ctx context.Context, orgID int64, version string) (before string, onUpgrade bool, err error) {
	p, err := s.RegressionPolicy(ctx, orgID)
	if err != nil {
		return "", false, err
	}
	if p.LastAPIVersion != version {
		if _, err := s.pool.Exec(ctx, `UPDATE regression_policies SET last_api_version = $2 WHERE org_id = $1`, orgID, version); err != nil {
			return "", false, err
		}
	}
	return p.LastAPIVersion, p.OnUpgrade, nil
}

// PreviousLocalRun returns the org's last finished local-tests run before
// id (ok false when there is none).
func (s *Store) PreviousLocalRun(ctx context.Context, orgID, id int64) (alm.TestRun, bool, error) {
	t, err := scanTestRun(s.pool.QueryRow(ctx, `SELECT `+testRunCols+` FROM test_runs WHERE org_id = $1 AND id < $2 AND test_level = 'RunLocalTests'
		AND status IN ('passed', 'failed') ORDER BY id DESC LIMIT 1`, orgID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	return t, err == nil, err
}

// TestHistory returns the results of an org's last n finished runs,
// oldest first, for flaky-test detection.
func (s *Store) TestHistory(ctx context.Context, orgID int64, n int) ([][]alm.TestResult, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+testRunCols+` FROM (SELECT * FROM test_runs WHERE org_id = $1 AND status IN ('passed', 'failed')
		ORDER BY id DESC LIMIT $2) x ORDER BY id`, orgID, n)
	if err != nil {
		return nil, err
	}
	runs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.TestRun, error) { return scanTestRun(r) })
	out := make([][]alm.TestResult, len(runs))
	for i, r := range runs {
		out[i] = r.Results
	}
	return out, err
}

// HealthSample is one reading of an org's health.
type HealthSample struct {
	At         time.Time `json:"at"`
	APIUsed    int       `json:"api_used"`
	APIMax     int       `json:"api_max"`
	Coverage   *int      `json:"coverage"`
	APIVersion string    `json:"api_version"`
}

// AddHealthSample keeps a reading.
func (s *Store) AddHealthSample(ctx context.Context, orgID int64, h HealthSample) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO org_health_samples (org_id, at, api_used, api_max, coverage, api_version) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (org_id, at) DO NOTHING`, orgID, h.At, h.APIUsed, h.APIMax, h.Coverage, h.APIVersion)
	return err
}

// HealthSamples returns an org's readings since a time, oldest first.
func (s *Store) HealthSamples(ctx context.Context, orgID int64, since time.Time) ([]HealthSample, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, api_used, api_max, coverage, api_version FROM org_health_samples WHERE org_id = $1 AND at >= $2 ORDER BY at`, orgID, since)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HealthSample, error) {
		var h HealthSample
		return h, r.Scan(&h.At, &h.APIUsed, &h.APIMax, &h.Coverage, &h.APIVersion)
	})
	if out == nil {
		out = []HealthSample{}
	}
	return out, err
}

// DeployOutcomes returns, per deployment into an org since a time, when it
// ended and whether it failed.
func (s *Store) DeployOutcomes(ctx context.Context, orgID int64, since time.Time) ([]time.Time, []bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT finished_at, status = 'failed' FROM deployments WHERE org_id = $1 AND finished_at >= $2
		AND status IN ('succeeded', 'failed') ORDER BY finished_at`, orgID, since)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var at []time.Time
	var failed []bool
	for rows.Next() {
		var t time.Time
		var f bool
		if err := rows.Scan(&t, &f); err != nil {
			return nil, nil, err
		}
		at, failed = append(at, t), append(failed, f)
	}
	return at, failed, rows.Err()
}
