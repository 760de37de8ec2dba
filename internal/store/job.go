package store

import (
	"context"
	"fmt"
)

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
