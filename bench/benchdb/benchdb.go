// Package benchdb starts the private, migrated PostgreSQL that the
// benchmark commands run on, in a temporary directory removed on Close.
package benchdb

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trellis-alm/trellis/internal/blobstore"
	"github.com/trellis-alm/trellis/internal/blobstore/blobtest"
	"github.com/trellis-alm/trellis/internal/pgembed"
	"github.com/trellis-alm/trellis/internal/store"
)

// DB is a running private database with a store over it.
type DB struct {
	Pool    *pgxpool.Pool
	Store   *store.Store
	cluster *pgembed.Cluster
	dir     string
	stops   []func()
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
	for _, stop := range db.stops {
		stop()
	}
	if db.Pool != nil {
		db.Pool.Close()
	}
	if db.cluster != nil {
		_ = db.cluster.Stop(context.Background())
	}
	_ = os.RemoveAll(db.dir)
}

// UseObjects points the store at an object store, as TRELLIS_BLOB_URL does:
// where is "" (none: PostgreSQL keeps content), "weed" (a SeaweedFS server
// started here, its binary from TRELLIS_TEST_WEED or the PATH, stopped on
// Close), or an s3:// URL read with the AWS_* variables.
func (db *DB) UseObjects(ctx context.Context, where string) (string, error) {
	var set blobstore.Settings
	switch where {
	case "":
		return "PostgreSQL", nil
	case "weed":
		bin := blobtest.Binary()
		if bin == "" {
			return "", errors.New("no weed binary: set TRELLIS_TEST_WEED (make test builds one into ~/.cache/trellis-ci)")
		}
		dir := filepath.Join(db.dir, "weed")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", err
		}
		srv, stop, err := blobtest.Run(bin, dir)
		if err != nil {
			return "", err
		}
		db.stops = append(db.stops, stop)
		if set, err = srv.MakeBucket("bench", "trellis"); err != nil {
			return "", err
		}
	default:
		set = blobstore.FromEnv(where, os.Getenv)
	}
	o, err := blobstore.Open(set)
	if err != nil {
		return "", err
	}
	if err := o.Check(ctx); err != nil {
		return "", err
	}
	db.Store.UseObjects(o)
	return o.String(), nil
}

// HeapPeak samples the heap in use every 10 ms until the returned function
// is called, which reports the peak.
func HeapPeak() func() uint64 {
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}
