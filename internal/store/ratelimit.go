package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TakeToken takes one token from the bucket named key, which holds at most
// burst tokens and gains one every interval, and reports whether there was
// one to take. Buckets live in the database, so every replica draws on the
// same one.
func (s *Store) TakeToken(ctx context.Context, key string, every time.Duration, burst int) (bool, error) {
	ok := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var tokens float64
		var at time.Time
		err := tx.QueryRow(ctx, `SELECT tokens, updated_at FROM rate_limits WHERE key = $1 FOR UPDATE`, key).Scan(&tokens, &at)
		if errors.Is(err, pgx.ErrNoRows) {
			tokens, at = float64(burst), now
			err = nil
		}
		if err != nil {
			return err
		}
		tokens = min(float64(burst), tokens+now.Sub(at).Seconds()/every.Seconds())
		if tokens >= 1 {
			tokens--
			ok = true
		}
		_, err = tx.Exec(ctx, `INSERT INTO rate_limits (key, tokens, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET tokens = EXCLUDED.tokens, updated_at = EXCLUDED.updated_at`, key, tokens, now)
		return err
	})
	if err != nil {
		return true, fmt.Errorf("rate limit: %w", err)
	}
	return ok, nil
}

// PruneRateLimits forgets buckets untouched for a day (full again by then).
func (s *Store) PruneRateLimits(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE updated_at < $1`, s.Now().Add(-24*time.Hour))
	return err
}
