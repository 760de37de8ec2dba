// Package benchdb starts the private, migrated PostgreSQL that the
// benchmark commands run on, in a temporary directory removed on Close.
package benchdb

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trellis-alm/trellis/internal/pgembed"
	"github.com/trellis-alm/trellis/internal/store"
)

// DB is a running private database with a store over it.
type DB struct {
	Pool    *pgxpool.Pool
	Store   *store.Store
	cluster *pgembed.Cluster
	dir     string
}

// Start runs a private PostgreSQL named after the benchmark, migrates it
// and opens a pool with the production settings.
func Start(ctx context.Context, name string, log *slog.Logger) (*DB, error) {
	dir, err := os.MkdirTemp("", "trellis-"+name+"-")
	if err != nil {
		return nil, err
	}
	// The server may run as another user (postgres, when started as root).
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	db := &DB{dir: dir}
	if db.cluster, err = pgembed.Start(ctx, pgembed.Config{DataDir: filepath.Join(dir, "data"), Database: "trellis", Logger: log}); err != nil {
		db.Close()
		return nil, err
	}
	mg, err := store.NewMigrator(db.cluster.DatabaseURL(), log)
	if err != nil {
		db.Close()
		return nil, err
	}
	err = mg.Up()
	_ = mg.Close()
	if err != nil {
		db.Close()
		return nil, err
	}
	if db.Pool, err = store.OpenPool(ctx, db.cluster.DatabaseURL()); err != nil {
		db.Close()
		return nil, err
	}
	db.Store = store.New(db.Pool, time.Now)
	return db, nil
}

// Close closes the pool, stops the server and removes its files.
func (db *DB) Close() {
	if db.Pool != nil {
		db.Pool.Close()
	}
	if db.cluster != nil {
		_ = db.cluster.Stop(context.Background())
	}
	_ = os.RemoveAll(db.dir)
}
