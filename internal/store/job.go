package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Job inserts the background job that carries out a record's work, given
// the new record's id, inside the transaction that records it: the record
// and its job commit together or not at all, so a crash can never leave a
// record waiting for a job that does not exist. A nil Job inserts nothing
// (the caller runs the work itself, as tests and benchmarks do).
type Job func(ctx context.Context, tx pgx.Tx, id int64) error

func (j Job) insert(ctx context.Context, tx pgx.Tx, id int64) error {
	if j == nil {
		return nil
	}
	if err := j(ctx, tx, id); err != nil {
		return fmt.Errorf("queue its job: %w", err)
	}
	return nil
}

// JobCount is how many River jobs of a kind are in a state.
type JobCount struct {
	Kind  string
	State string
	Count int64
}

// JobCounts returns job counts by kind and state, for metrics.
func (s *Store) JobCounts(ctx context.Context) ([]JobCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.Count); err != nil {
			return nil, fmt.Errorf("scan job count: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
