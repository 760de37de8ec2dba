package pgembed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestMain doubles as a helper process: with PGEMBED_HELPER_DIR set, the test
// binary starts a cluster there, says "ready" and waits to be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("PGEMBED_HELPER_DIR"); dir != "" {
		c, err := Start(context.Background(), Config{DataDir: dir, Settings: fastSettings})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		exec1(c, `CREATE TABLE IF NOT EXISTS kept (v text); INSERT INTO kept VALUES ('before crash')`)
		fmt.Println("ready")
		select {}
	}
	os.Exit(m.Run())
}

var fastSettings = map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

func exec1(c *Cluster, sql string) {
	conn, err := pgx.Connect(context.Background(), c.DatabaseURL())
	if err != nil {
		panic(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		panic(err)
	}
}

// dataDir returns a fresh directory that an unprivileged server user can
// traverse (t.TempDir is 0700, which would force relocation under root).
func dataDir(t *testing.T) string {
	t.Helper()
	base := "/dev/shm"
	if _, err := os.Stat(base); err != nil {
		base = os.TempDir()
	}
	d, err := os.MkdirTemp(base, "pgembed-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "data")
}

func start(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	cfg.Settings = fastSettings
	c, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

func query(t *testing.T, c *Cluster, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DatabaseURL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestStartStopRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	c := start(t, Config{DataDir: dir})
	if !c.Owner() {
		t.Fatal("first start should own the server")
	}
	exec1(c, `CREATE TABLE notes (v text); INSERT INTO notes VALUES ('kept')`)
	if got := query(t, c, `SHOW listen_addresses`); got != "" {
		t.Errorf("listen_addresses = %q, want none (socket only)", got)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid should be gone after a clean stop: %v", err)
	}
	c2 := start(t, Config{DataDir: dir})
	if got := query(t, c2, `SELECT v FROM notes`); got != "kept" {
		t.Errorf("after restart notes = %q, want kept", got)
	}
}

func TestSecondProcessAttachesAsGuest(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	owner := start(t, Config{DataDir: dir})
	guest, err := Start(context.Background(), Config{DataDir: dir})
	if err != nil {
		t.Fatalf("guest Start: %v", err)
	}
	if guest.Owner() {
		t.Fatal("second Start should attach, not own")
	}
	if guest.DatabaseURL() != owner.DatabaseURL() {
		t.Errorf("guest URL %s differs from owner URL %s", guest.DatabaseURL(), owner.DatabaseURL())
	}
	if err := guest.Stop(context.Background()); err != nil {
		t.Fatalf("guest Stop: %v", err)
	}
	if got := query(t, owner, `SELECT 'still up'`); got != "still up" {
		t.Errorf("owner's server should survive a guest's Stop, got %q", got)
	}
}

func TestExclusiveStartRefusedWhileOwned(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	start(t, Config{DataDir: dir})
	_, err := Start(context.Background(), Config{DataDir: dir, Exclusive: true, OwnerWait: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "another Trellis process owns") {
		t.Fatalf("exclusive Start while owned: err = %v, want a message naming the other process", err)
	}
}

func TestRestartAfterKill9(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGEMBED_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		t.Fatalf("helper said %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	c := start(t, Config{DataDir: dir})
	if !c.Owner() {
		t.Fatal("after the owner was killed the next Start should own the server")
	}
	if got := query(t, c, `SELECT v FROM kept`); got != "before crash" {
		t.Errorf("data after kill -9 = %q, want %q", got, "before crash")
	}
}

func TestStalePIDFileIsCleared(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	c := start(t, Config{DataDir: dir})
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A pid that is surely not a postgres: our own test process.
	stale := fmt.Sprintf("%d\n%s\n", os.Getpid(), c.Dir())
	if err := os.WriteFile(filepath.Join(c.Dir(), "postmaster.pid"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, Config{DataDir: dir})
	if got := query(t, c2, `SELECT 'up'`); got != "up" {
		t.Errorf("got %q", got)
	}
}

func TestPrivateParentDirectory(t *testing.T) {
	t.Parallel()
	outer := filepath.Dir(dataDir(t))
	private := filepath.Join(outer, "home")
	if err := os.MkdirAll(private, 0o700); err != nil {
		t.Fatal(err)
	}
	clusterRoot := filepath.Join(outer, "clusters")
	c := start(t, Config{DataDir: filepath.Join(private, "trellis"), ClusterRoot: clusterRoot})
	link := filepath.Join(private, "trellis", "postgres")
	if os.Geteuid() == 0 {
		// Root runs the server as an unprivileged user that cannot enter a
		// 0700 directory, so the cluster moves and the data dir links to it.
		if !strings.HasPrefix(c.Dir(), clusterRoot) {
			t.Errorf("cluster at %s, want under %s", c.Dir(), clusterRoot)
		}
		if target, err := os.Readlink(link); err != nil || target != c.Dir() {
			t.Errorf("link %s -> %q (%v), want %s", link, target, err, c.Dir())
		}
	} else if c.Dir() != link {
		t.Errorf("as an ordinary user the cluster should stay at %s, got %s", link, c.Dir())
	}
	if got := query(t, c, `SELECT 'up'`); got != "up" {
		t.Errorf("got %q", got)
	}
}

func TestMissingBinariesExplainsWhatToDo(t *testing.T) {
	t.Parallel()
	_, err := FindBinDir(t.TempDir())
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	for _, want := range []string{"apt-get install postgresql", "DATABASE_URL", "TRELLIS_PG_BINDIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
}

func TestNewestFirst(t *testing.T) {
	t.Parallel()
	got := newestFirst([]string{"/usr/lib/postgresql/9/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"})
	want := "/usr/lib/postgresql/16/bin"
	if got[0] != want {
		t.Errorf("newest = %s, want %s", got[0], want)
	}
}
