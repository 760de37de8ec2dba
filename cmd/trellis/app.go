package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trellis-alm/trellis/internal/pgembed"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
)

func newLogger(cfg config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadKeyring returns the master key: TRELLIS_SECRET_KEY, or the key file in
// the data directory, created on first start with a loud warning.
func loadKeyring(cfg config, log *slog.Logger) (*secret.Keyring, error) {
	if cfg.SecretKey != nil {
		return secret.New(cfg.SecretKey, cfg.PreviousKeys...)
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	key, created, err := secret.LoadOrCreateFile(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created a new secret key; it encrypts org credentials and tokens at rest. BACK IT UP with the database: without it, stored credentials cannot be read. Set TRELLIS_SECRET_KEY to manage it yourself.",
			slog.String("file", path))
	}
	prev := cfg.PreviousKeys
	if old, err := os.ReadFile(path + ".previous"); err == nil {
		// Left by `trellis secrets rotate` until every replica restarted.
		if k, err := secret.ParseKey(string(old)); err == nil {
			prev = append(prev, k)
		}
	}
	return secret.New(key, prev...)
}

// database is an open connection to Trellis's database, private or not.
type database struct {
	url     string
	pool    *pgxpool.Pool
	cluster *pgembed.Cluster // nil with DATABASE_URL
}

// openDatabase connects to DATABASE_URL, or starts (or attaches to) the
// private cluster in the data directory. exclusive is for serve, which must
// own the private cluster rather than lean on a short-lived command's.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger, exclusive bool) (*database, error) {
	db := &database{url: cfg.DatabaseURL}
	if db.url == "" {
		c, err := pgembed.Start(ctx, pgembed.Config{DataDir: cfg.DataDir, BinDir: cfg.PGBinDir, Exclusive: exclusive, Logger: log})
		if err != nil {
			return nil, err
		}
		db.cluster, db.url = c, c.DatabaseURL()
	}
	pool, err := store.OpenPool(ctx, db.url)
	if err != nil {
		db.close(context.Background())
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	db.pool = pool
	return db, nil
}

func (db *database) close(ctx context.Context) {
	if db.pool != nil {
		db.pool.Close()
	}
	if db.cluster != nil {
		if err := db.cluster.Stop(ctx); err != nil {
			fmt.Println("stopping private PostgreSQL:", err)
		}
	}
}

// waitForDatabase retries until the database answers, so that a database
// that is down at start-up delays Trellis instead of crash-looping it.
func waitForDatabase(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, onWait func(error)) error {
	delay := 500 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pool.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return ctx.Err()
		}
		if onWait != nil {
			onWait(err)
		}
		log.WarnContext(ctx, "database not reachable yet; retrying", slog.Any("err", err), slog.Duration("retry_in", delay))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 15*time.Second)
	}
}

// migrateUp applies pending migrations.
func migrateUp(url string, log *slog.Logger) error {
	mg, err := store.NewMigrator(url, log)
	if err != nil {
		return err
	}
	defer mg.Close()
	// Read before the migration lock, for the log line only: another
	// replica may be migrating right now.
	before, err := mg.Status()
	if err != nil {
		return err
	}
	if err := mg.Up(); err != nil {
		return err
	}
	if before.Version != before.Latest {
		log.Info("database migrated", slog.Uint64("from", uint64(before.Version)), slog.Uint64("to", uint64(before.Latest)))
	}
	return nil
}
