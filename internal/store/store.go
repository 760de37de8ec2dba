package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trellis-alm/trellis/internal/alm"
)

// Store reads and writes Trellis's records.
type Store struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	objects Objects // nil: PostgreSQL keeps all content
}

// New returns a Store over pool. now is the clock (time.Now in production);
// tests inject a fixed one.
func New(pool *pgxpool.Pool, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{pool: pool, now: now}
}

// Pool returns the connection pool, for the job client and health checks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Now returns the store's clock reading, truncated to what Postgres keeps.
func (s *Store) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// OpenPool parses a database URL (or key=value DSN) and opens a pool. The
// pool connects lazily, so an unreachable database is not an error here.
func OpenPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", redactParseError(err))
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 15 * time.Second
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "trellis"
	// Time limits, unless the URL sets its own: no statement runs for ever,
	// none waits long on a lock, and no session idles inside a transaction
	// (a stalled client would hold its locks).
	for k, v := range map[string]string{"statement_timeout": "30s", "lock_timeout": "10s", "idle_in_transaction_session_timeout": "60s"} {
		if _, ok := cfg.ConnConfig.RuntimeParams[k]; !ok {
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// redactParseError drops pgx's echo of the connection string, which can
// carry a password.
func redactParseError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("the value is not a valid PostgreSQL URL or key=value string")
	}
	return err
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// notFound turns pgx.ErrNoRows into a CodeNotFound error about what.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return alm.Errorf(alm.CodeNotFound, "%s was not found.", what)
	}
	return err
}

// isUniqueViolation reports whether err is a unique-constraint failure on
// the named constraint or index ("" matches any).
func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func actorLabel(a alm.Actor) string {
	if a.Label == "" {
		return "system"
	}
	return a.Label
}

func conflict(what string, yours, theirs int) error {
	return alm.Errorf(alm.CodeConflict, "Someone else saved %s since you opened it (you had revision %d, it is now at %d). Nothing was overwritten: review their changes and apply yours again.", what, yours, theirs)
}

func eqID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
