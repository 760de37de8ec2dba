package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trellis-alm/trellis/migrations"
)

// SchemaStatus reads the applied schema version through the pool, without
// taking the migration lock, for readiness checks.
func (s *Store) SchemaStatus(ctx context.Context) (MigrationStatus, error) {
	st := MigrationStatus{Latest: migrations.Latest()}
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&v, &st.Dirty)
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pe) && pe.Code == "42P01":
		return st, nil
	case err != nil:
		return st, fmt.Errorf("read schema version: %w", err)
	}
	st.Version = uint(v)
	return st, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }
