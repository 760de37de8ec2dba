package store

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/trellis-alm/trellis/migrations"
)

// MigrationStatus is where a database's schema stands.
type MigrationStatus struct {
	Version uint // 0 when nothing is applied
	Dirty   bool // a migration failed half-way and needs a human
	Latest  uint // the version this build needs
}

// Current reports whether the schema is exactly what this build needs.
func (m MigrationStatus) Current() bool { return !m.Dirty && m.Version == m.Latest }

// Migrator applies the embedded migrations to one database.
type Migrator struct {
	m   *migrate.Migrate
	log *slog.Logger
}

// NewMigrator connects to the database at url for migrations. Close it when
// done: an open migrator keeps a connection that blocks pool shutdown.
func NewMigrator(url string, log *slog.Logger) (*Migrator, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", redactParseError(err))
	}
	db := stdlib.OpenDB(*cfg)
	driver, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connect for migrations: %w", err)
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		return nil, fmt.Errorf("prepare migrations: %w", err)
	}
	m.Log = migrateLogger{log}
	return &Migrator{m: m, log: log}, nil
}

// Close releases the migrator's connection.
func (mg *Migrator) Close() error {
	srcErr, dbErr := mg.m.Close()
	return errors.Join(srcErr, dbErr)
}

// Up applies every pending migration. It waits for another process
// migrating the same database (the schema reads dirty while that runs), so
// it only reports a dirty schema left by a migration that failed.
func (mg *Migrator) Up() error {
	err := mg.m.Up()
	var dirty migrate.ErrDirty
	switch {
	case err == nil || errors.Is(err, migrate.ErrNoChange):
		return nil
	case errors.As(err, &dirty):
		return fmt.Errorf("the database schema is dirty at version %d: a migration failed half-way. Fix it by hand, then run `trellis migrate up`", dirty.Version)
	}
	return fmt.Errorf("migrate up: %w", err)
}

// Down reverts the newest n migrations (n ≥ 1).
func (mg *Migrator) Down(n int) error {
	if n < 1 {
		return fmt.Errorf("migrate down needs a positive number of steps, got %d", n)
	}
	if err := mg.m.Steps(-n); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Status returns the schema version applied to the database.
func (mg *Migrator) Status() (MigrationStatus, error) {
	st := MigrationStatus{Latest: migrations.Latest()}
	v, dirty, err := mg.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read schema version: %w", err)
	}
	st.Version, st.Dirty = v, dirty
	return st, nil
}

type migrateLogger struct{ log *slog.Logger }

func (l migrateLogger) Printf(format string, v ...any) {
	if l.log != nil {
		l.log.Info(strings.TrimSpace(fmt.Sprintf(format, v...)))
	}
}

func (l migrateLogger) Verbose() bool { return false }
