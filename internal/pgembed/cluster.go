package pgembed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Config says where the cluster lives and how to run it.
type Config struct {
	// DataDir is the Trellis data directory; the cluster is DataDir/postgres.
	DataDir string
	// BinDir holds initdb and postgres; empty means search the usual places.
	BinDir string
	// User is the system user that runs the server when Trellis runs as
	// root; empty means "postgres", else "nobody".
	User string
	// Database is created on first start; empty means "trellis".
	Database string
	// Exclusive makes Start insist on owning the server: when another
	// process owns it, Start waits up to OwnerWait for it to finish (a brief
	// `trellis admin` run, say) and then fails. Without Exclusive, Start
	// attaches to a server another process runs.
	Exclusive bool
	OwnerWait time.Duration
	// Settings are extra server settings (name → value), e.g. fsync=off for
	// throwaway test clusters.
	Settings map[string]string
	// ClusterRoot, when set, holds clusters whose data directory the server
	// user cannot reach (a 0700 home when running as root). Empty means
	// /var/lib/trellis.
	ClusterRoot string
	Logger      *slog.Logger
}

// superuser is the cluster's bootstrap role; connections come only through
// the private socket, so it needs no password.
const superuser = "trellis"

// port names the socket file (.s.PGSQL.<port>); no TCP port is opened.
const port = 5432

// Cluster is a running private PostgreSQL server, owned or attached to.
type Cluster struct {
	cfg       Config
	dir       string
	socketDir string
	owner     bool
	lock      *os.File
	cmd       *exec.Cmd
	exited    chan struct{}
	logPath   string
}

// Start starts the cluster in cfg.DataDir, creating it on first use, or
// attaches to the server another Trellis process already runs there. It
// returns ErrNoBinaries (wrapped) when PostgreSQL is not installed, and an
// error quoting the server's log when the server does not come up.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Database == "" {
		cfg.Database = "trellis"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OwnerWait == 0 {
		cfg.OwnerWait = 20 * time.Second
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data directory %q: %w", cfg.DataDir, err)
	}
	cfg.DataDir = abs
	bin, err := FindBinDir(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	u, err := serverUser(cfg.User)
	if err != nil {
		return nil, err
	}
	// When the server runs as another user it must be able to pass through
	// the data directory (0711: enter, not list); the secrets inside are 0600.
	mode := os.FileMode(0o700)
	if u.switched {
		mode = 0o711
	}
	if err := os.MkdirAll(abs, mode); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	dir, err := clusterDir(cfg, u)
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, dir: dir, socketDir: socketDir(dir), exited: make(chan struct{}), logPath: filepath.Join(abs, "postgres.log")}
	owner, lock, err := acquire(ctx, filepath.Join(abs, "postgres.lock"), cfg)
	if err != nil {
		return nil, err
	}
	if !owner {
		cfg.Logger.DebugContext(ctx, "attaching to the private PostgreSQL another Trellis process runs", slog.String("dir", dir))
		return c, c.waitReady(ctx, 60*time.Second)
	}
	c.owner, c.lock = true, lock
	if err := c.start(ctx, bin, u); err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, bin string, u runAs) error {
	log := c.cfg.Logger
	if err := c.initIfNeeded(ctx, bin, u); err != nil {
		return err
	}
	if err := checkVersion(c.dir, bin); err != nil {
		return err
	}
	if err := clearStalePID(ctx, c.dir, log); err != nil {
		return err
	}
	if err := os.MkdirAll(c.socketDir, 0o700); err != nil {
		return fmt.Errorf("create socket directory: %w", err)
	}
	if err := u.chown(c.socketDir); err != nil {
		return fmt.Errorf("hand socket directory to the server user: %w", err)
	}
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	args := []string{"-D", c.dir, "-k", c.socketDir, "-p", strconv.Itoa(port), "-c", "listen_addresses=", "-c", "unix_socket_permissions=0700"}
	for k, v := range c.cfg.Settings {
		args = append(args, "-c", k+"="+v)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = u.sysProcAttr()
	cmd.Dir = "/"
	started := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	c.cmd = cmd
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(c.exited)
	}()
	if err := c.waitReady(ctx, 60*time.Second); err != nil {
		_ = c.stopServer(5 * time.Second)
		return err
	}
	log.InfoContext(ctx, "private PostgreSQL started", slog.String("dir", c.dir), slog.Duration("took", time.Since(started)))
	return c.createDatabase(ctx)
}

func (c *Cluster) initIfNeeded(ctx context.Context, bin string, u runAs) error {
	if _, err := os.Stat(filepath.Join(c.dir, "PG_VERSION")); err == nil {
		return nil
	}
	if entries, _ := os.ReadDir(c.dir); len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away and start again", c.dir)
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	if err := u.chown(c.dir); err != nil {
		return fmt.Errorf("hand cluster directory to the server user: %w", err)
	}
	c.cfg.Logger.InfoContext(ctx, "initialising the private PostgreSQL cluster (first start)", slog.String("dir", c.dir))
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", c.dir, "-U", superuser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = u.sysProcAttr()
	cmd.Dir = "/"
	if err := cmd.Run(); err != nil {
		entries, _ := os.ReadDir(c.dir)
		for _, e := range entries {
			_ = os.RemoveAll(filepath.Join(c.dir, e.Name()))
		}
		return fmt.Errorf("initdb failed: %w\n%s", err, tail(out.String(), 15))
	}
	return nil
}

// checkVersion refuses to start a cluster made by another major version,
// which postgres would refuse with a less helpful message.
func checkVersion(dir, bin string) error {
	b, err := os.ReadFile(filepath.Join(dir, "PG_VERSION"))
	if err != nil {
		return fmt.Errorf("read cluster version: %w", err)
	}
	have := strings.TrimSpace(string(b))
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return fmt.Errorf("postgres --version: %w", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return nil
	}
	major := strings.SplitN(fields[len(fields)-1], ".", 2)[0]
	if major != have {
		return fmt.Errorf("the cluster in %s was made by PostgreSQL %s but %s is PostgreSQL %s: upgrade it with pg_upgrade, or point TRELLIS_PG_BINDIR at PostgreSQL %s binaries", dir, have, bin, major, have)
	}
	return nil
}

func (c *Cluster) createDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to private PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, c.cfg.Database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", c.cfg.Database, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.cfg.Database}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", c.cfg.Database, err)
	}
	return nil
}

// waitReady polls the socket until the server accepts connections.
func (c *Cluster) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited during start-up; its log (%s) ends:\n%s", c.logPath, c.logTail())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(pctx, c.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		lastErr = err
		time.Sleep(40 * time.Millisecond)
	}
	return fmt.Errorf("private PostgreSQL did not accept connections within %s (%w); its log (%s) ends:\n%s", limit, lastErr, c.logPath, c.logTail())
}

// URL returns a connection URL for database db over the private socket.
func (c *Cluster) URL(db string) string {
	q := url.Values{"host": {c.socketDir}, "port": {strconv.Itoa(port)}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/" + db, RawQuery: q.Encode()}).String()
}

// DatabaseURL returns the URL of the configured database.
func (c *Cluster) DatabaseURL() string { return c.URL(c.cfg.Database) }

// Owner reports whether this process started the server (and stops it).
func (c *Cluster) Owner() bool { return c.owner }

// Dir returns the cluster's data directory.
func (c *Cluster) Dir() string { return c.dir }

// Exited is closed when an owned server exits, expectedly or not. It is never
// closed for an attached cluster.
func (c *Cluster) Exited() <-chan struct{} { return c.exited }

// Stop shuts an owned server down (fast shutdown: open transactions roll
// back, clients are disconnected, a checkpoint is written) and releases the
// ownership lock. For an attached cluster it does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.owner {
		return nil
	}
	defer c.release()
	limit := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		limit = time.Until(d)
	}
	return c.stopServer(limit)
}

func (c *Cluster) stopServer(limit time.Duration) error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
		return nil
	case <-time.After(limit):
	}
	// Immediate shutdown: crash recovery runs on the next start.
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.exited:
		return fmt.Errorf("postgres did not stop within %s; sent an immediate shutdown", limit)
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		return errors.New("postgres did not stop; killed it")
	}
}

func (c *Cluster) release() {
	if c.lock != nil {
		_ = syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
		_ = c.lock.Close()
		c.lock = nil
	}
}

func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return "(no log)"
	}
	return tail(string(b), 15)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// clusterDir returns where the cluster lives: DataDir/postgres, or, when the
// server user cannot reach into the data directory (root running it as
// postgres under a 0700 home), a directory under ClusterRoot linked from
// DataDir/postgres so people still find it there.
func clusterDir(cfg Config, u runAs) (string, error) {
	want := filepath.Join(cfg.DataDir, "postgres")
	if target, err := os.Readlink(want); err == nil {
		return target, nil
	}
	if u.canTraverse(cfg.DataDir) {
		return want, nil
	}
	root := cfg.ClusterRoot
	if root == "" {
		root = "/var/lib/trellis"
	}
	sum := sha256.Sum256([]byte(cfg.DataDir))
	alt := filepath.Join(root, "postgres-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("the PostgreSQL user %s cannot reach %s (a parent directory is private), and %s cannot be created for the cluster instead: %w; set TRELLIS_DATA_DIR to a directory outside private homes", u.name, cfg.DataDir, root, err)
	}
	if !u.canTraverse(root) {
		return "", fmt.Errorf("the PostgreSQL user %s can reach neither %s nor %s; set TRELLIS_DATA_DIR to a directory it can reach", u.name, cfg.DataDir, root)
	}
	if err := os.Symlink(alt, want); err != nil {
		return "", fmt.Errorf("link %s to %s: %w", want, alt, err)
	}
	cfg.Logger.Warn("the PostgreSQL user cannot reach the data directory (a parent directory is private); the cluster lives elsewhere, linked from the data directory — back up both",
		slog.String("data_dir", cfg.DataDir), slog.String("cluster", alt))
	return alt, nil
}

// socketDir keeps the socket path under the kernel's 107-byte limit.
func socketDir(dir string) string {
	d := filepath.Join(dir, "run")
	if len(filepath.Join(d, ".s.PGSQL.5432")) < 100 {
		return d
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "trellis-pg-"+hex.EncodeToString(sum[:6]))
}

// acquire takes the ownership lock. It returns owner=false when another
// process owns the server and we may attach to it.
func acquire(ctx context.Context, path string, cfg Config) (bool, *os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false, nil, fmt.Errorf("open %s: %w", path, err)
	}
	deadline := time.Now().Add(cfg.OwnerWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(fmt.Sprintf("%d %s\n", os.Getpid(), strings.Join(os.Args, " "))), 0)
			return true, f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return false, nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !cfg.Exclusive {
			f.Close()
			return false, nil, nil
		}
		if time.Now().After(deadline) {
			holder, _ := io.ReadAll(io.LimitReader(f, 300))
			f.Close()
			return false, nil, fmt.Errorf("another Trellis process owns the private PostgreSQL in %s (pid and command: %s); stop it first, or give this one its own TRELLIS_DATA_DIR", cfg.DataDir, strings.TrimSpace(string(holder)))
		}
		select {
		case <-ctx.Done():
			f.Close()
			return false, nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// clearStalePID removes a postmaster.pid left by a server that is gone. A
// server that is still shutting down after its parent died is waited for.
func clearStalePID(ctx context.Context, dir string, log *slog.Logger) error {
	pidFile := filepath.Join(dir, "postmaster.pid")
	f, err := os.Open(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read %s: %w", pidFile, err)
	}
	sc := bufio.NewScanner(f)
	sc.Scan()
	pid, _ := strconv.Atoi(strings.TrimSpace(sc.Text()))
	f.Close()
	if pid > 0 && isPostgres(pid) {
		log.WarnContext(ctx, "a previous PostgreSQL server is still shutting down; waiting for it", slog.Int("pid", pid))
		deadline := time.Now().Add(30 * time.Second)
		for isPostgres(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGQUIT)
				time.Sleep(2 * time.Second)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if isPostgres(pid) {
			return fmt.Errorf("an orphaned PostgreSQL server (pid %d) still runs on %s; stop it and start again", pid, dir)
		}
	}
	log.InfoContext(ctx, "removing a stale postmaster.pid left by a crash", slog.String("file", pidFile))
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", pidFile, err)
	}
	return nil
}

// isPostgres reports whether pid is a live postgres process. A reused pid
// that belongs to another program does not count.
func isPostgres(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if fields := strings.Fields(string(stat)); len(fields) > 2 && fields[2] == "Z" {
		return false
	}
	return bytes.Contains(b, []byte("postgres"))
}
