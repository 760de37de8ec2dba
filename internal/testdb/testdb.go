// Package testdb gives each test a fresh, fully migrated Postgres database,
// cloned in milliseconds from a template migrated once per cluster.
//
// The cluster is the one named by TRELLIS_TEST_DATABASE_URL (an admin URL;
// `make test` starts one cluster for the whole run with the withdb command),
// or else a throwaway private cluster this test process starts with pgembed
// on first use and stops in Run.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trellis-alm/trellis/internal/pgembed"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/migrations"
)

// EnvURL names the variable holding an admin URL of a test cluster.
const EnvURL = "TRELLIS_TEST_DATABASE_URL"

var (
	once     sync.Once
	adminURL string
	template string
	setupErr error
	cluster  *pgembed.Cluster
	dataDir  string
)

// Run runs the package's tests and then stops the cluster this process
// started, if any. Use it from TestMain: os.Exit(testdb.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		_ = cluster.Stop(context.Background())
		_ = os.RemoveAll(dataDir)
	}
	return code
}

// StartCluster starts a throwaway cluster in a fresh directory, tuned for
// speed over durability, and returns it with its directory.
func StartCluster(ctx context.Context) (*pgembed.Cluster, string, error) {
	base := "/dev/shm"
	if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "trellis-test-")
	if err != nil {
		return nil, "", err
	}
	// The server may run as another user (tests as root) who must enter it.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, "", err
	}
	c, err := pgembed.Start(ctx, pgembed.Config{
		DataDir:  filepath.Join(dir, "data"),
		Database: "postgres",
		Settings: map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300"},
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	return c, dir, nil
}

func setup() {
	ctx := context.Background()
	adminURL = os.Getenv(EnvURL)
	if adminURL == "" {
		cluster, dataDir, setupErr = StartCluster(ctx)
		if setupErr != nil {
			return
		}
		adminURL = cluster.URL("postgres")
	}
	template, setupErr = ensureTemplate(ctx)
}

// ensureTemplate creates the migrated template database once per cluster.
// Its name carries a hash of the migrations, so a changed migration gets a
// new template; an advisory lock serialises test processes racing to make it.
func ensureTemplate(ctx context.Context) (string, error) {
	name := "trellis_tmpl_" + migrationsHash()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect to test cluster: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return "", err
	}
	defer conn.Exec(ctx, `SELECT pg_advisory_unlock(727274)`)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+building); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return "", err
	}
	mg, err := store.NewMigrator(withDB(adminURL, building), slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	err = mg.Up()
	mg.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS, p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// withDB returns u with its database replaced by db.
func withDB(u, db string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		panic(fmt.Sprintf("test database URL must be a URL: %v", err))
	}
	parsed.Path = "/" + db
	return parsed.String()
}

// NewURL creates a fresh migrated database for t and returns its URL. The
// database is dropped when t ends.
func NewURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, true)
}

// NewEmptyURL creates a fresh database with no schema at all, for tests of
// the migrations themselves.
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, false)
}

func newDatabase(t testing.TB, migrated bool) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("test database: %v", setupErr)
	}
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("connect to test cluster: %v", err)
	}
	defer conn.Close(ctx)
	create := `CREATE DATABASE ` + name + ` TEMPLATE template0`
	if migrated {
		create = `CREATE DATABASE ` + name + ` TEMPLATE ` + template
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	return withDB(adminURL, name)
}

// New creates a fresh migrated database for t and returns a pool on it,
// closed when t ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := store.OpenPool(context.Background(), NewURL(t))
	if err != nil {
		t.Fatalf("open test pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
