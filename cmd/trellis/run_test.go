package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/blobstore/blobtest"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

// TestMain doubles as the trellis binary: with TRELLIS_RUN_MAIN=1 the test
// executable runs main, so tests can signal a real process.
func TestMain(m *testing.M) {
	if os.Getenv("TRELLIS_RUN_MAIN") == "1" {
		main()
		return
	}
	code := testdb.Run(m)
	blobtest.StopShared()
	os.Exit(code)
}

type result struct {
	out, err string
	e        error
}

func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	err := runWith(context.Background(), args, envOf(env), stdio{in: strings.NewReader(stdin), out: &out, err: &errb})
	return result{out: out.String(), err: errb.String(), e: err}
}

func dbEnv(t *testing.T) map[string]string {
	return map[string]string{"DATABASE_URL": testdb.NewURL(t), "TRELLIS_SECRET_KEY": goodKey, "TRELLIS_LOG_LEVEL": "warn"}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()

	t.Run("UsageMistakesExitWith2", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{nil, {"frobnicate"}, {"migrate"}, {"migrate", "sideways"}, {"admin", "create"}, {"token"}} {
			r := runCLI(t, map[string]string{}, "", args...)
			if r.e == nil || exitCode(r.e) != 2 {
				t.Errorf("%v: err = %v (exit %d), want a usage error", args, r.e, exitCode(r.e))
			}
		}
	})

	t.Run("CIExitCodes", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{{"ci"}, {"ci", "validate", "--build", "1", "--org", "UAT"}, {"ci", "deploy", "--server", "http://x", "--token", "t"}} {
			if r := runCLI(t, map[string]string{}, "", args...); exitCode(r.e) != 2 {
				t.Errorf("%v: exit %d (%v), want 2 for a usage mistake", args, exitCode(r.e), r.e)
			}
		}
		// Nothing listens on port 1: Trellis unreachable is exit 4, with why.
		r := runCLI(t, map[string]string{"TRELLIS_SERVER": "http://127.0.0.1:1", "TRELLIS_TOKEN": "trl_x"}, "", "ci", "status", "--deployment", "7")
		if exitCode(r.e) != 4 || !strings.Contains(r.e.Error(), "reach Trellis") {
			t.Errorf("unreachable: exit %d (%v), want 4", exitCode(r.e), r.e)
		}
	})

	t.Run("Version", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, nil, "", "version")
		if r.e != nil || !strings.HasPrefix(r.out, "trellis ") {
			t.Errorf("version: %q %v", r.out, r.e)
		}
	})

	t.Run("BadConfigurationNamesTheVariable", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, map[string]string{"TRELLIS_LOG_FORMAT": "xml"}, "", "migrate", "status")
		if r.e == nil || !strings.Contains(r.e.Error(), "TRELLIS_LOG_FORMAT") {
			t.Errorf("err = %v", r.e)
		}
	})

	t.Run("MigrateStatusDownUp", func(t *testing.T) {
		t.Parallel()
		env := dbEnv(t)
		r := runCLI(t, env, "", "migrate", "status")
		if r.e != nil || !strings.Contains(r.out, "up to date") {
			t.Fatalf("status: %q %v", r.out, r.e)
		}
		r = runCLI(t, env, "", "migrate", "down", "2")
		if r.e != nil || !strings.Contains(r.out, "2 migration(s) pending") {
			t.Fatalf("down: %q %v", r.out, r.e)
		}
		r = runCLI(t, env, "", "migrate", "up")
		if r.e != nil || !strings.Contains(r.out, "up to date") {
			t.Fatalf("up: %q %v", r.out, r.e)
		}
	})

	t.Run("AdminCreateAndTokenCreate", func(t *testing.T) {
		t.Parallel()
		env := dbEnv(t)
		r := runCLI(t, env, "correct horse battery\n", "admin", "create", "--email", "ops@example.com", "--name", "Ops Person", "--role", "release_manager")
		if r.e != nil || !strings.Contains(r.out, "created ops@example.com") {
			t.Fatalf("admin create: %q %v", r.out, r.e)
		}
		r = runCLI(t, env, "another passphrase\n", "admin", "create", "--email", "OPS@example.com", "--name", "Dup")
		if r.e == nil || !strings.Contains(r.e.Error(), "already exists") {
			t.Errorf("duplicate: %v", r.e)
		}
		r = runCLI(t, env, "short\n", "admin", "create", "--email", "x@example.com", "--name", "X")
		if r.e == nil || !strings.Contains(r.e.Error(), "12 characters") {
			t.Errorf("weak password: %v", r.e)
		}
		r = runCLI(t, env, "", "admin", "create", "--email", "x@example.com", "--name", "X")
		if r.e == nil || !strings.Contains(r.e.Error(), "standard input") {
			t.Errorf("no password: %v", r.e)
		}
		r = runCLI(t, env, "pw pw pw pw pw\n", "admin", "create", "--email", "x@example.com", "--name", "X", "--role", "owner")
		if r.e == nil || exitCode(r.e) != 2 {
			t.Errorf("bad role: %v", r.e)
		}
		r = runCLI(t, env, "", "token", "create", "--email", "ops@example.com", "--name", "CI")
		token := strings.TrimSpace(r.out)
		if r.e != nil || !strings.HasPrefix(token, "trl_") || strings.Count(r.out, "\n") != 1 {
			t.Fatalf("token create: %q %v", r.out, r.e)
		}
		r = runCLI(t, env, "", "token", "create", "--email", "nobody@example.com", "--name", "CI")
		if r.e == nil || !strings.Contains(r.e.Error(), "no user") {
			t.Errorf("unknown user: %v", r.e)
		}
	})
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveInBackground runs `trellis serve` in-process until the test ends.
func serveInBackground(t *testing.T, env map[string]string) (base string, stop func() error) {
	t.Helper()
	addr := freeAddr(t)
	env["TRELLIS_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runWith(ctx, []string{"serve"}, envOf(env), stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	}()
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(45 * time.Second):
				result = errors.New("serve did not stop within 45 s")
			}
		})
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + addr, stop
}

func waitStatus(t *testing.T, url string, want int, limit time.Duration) {
	t.Helper()
	if last, ok := awaitStatus(url, want, limit); !ok {
		t.Fatalf("%s: status %d, want %d within %s", url, last, want, limit)
	}
}

// awaitStatus polls url until it answers want or limit passes, and returns
// the last status seen (0 for no answer).
func awaitStatus(url string, want int, limit time.Duration) (last int, ok bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			last = res.StatusCode
			res.Body.Close()
			if last == want {
				return last, true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last, false
}

func TestServeWithDatabaseURL(t *testing.T) {
	t.Parallel()
	env := dbEnv(t)
	base, stop := serveInBackground(t, env)
	waitStatus(t, base+"/readyz", http.StatusOK, 30*time.Second)
	waitStatus(t, base+"/setup", http.StatusOK, time.Second)
	r := runCLI(t, env, "", "healthcheck")
	if r.e != nil || strings.TrimSpace(r.out) != "ok" {
		t.Errorf("healthcheck against a ready server: %q %v", r.out, r.e)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v on SIGTERM-like cancel", err)
	}
	if r := runCLI(t, env, "", "healthcheck", "--live"); r.e == nil {
		t.Error("healthcheck must fail once the server is gone")
	}
}

// TestServeWaitsForAnUnreachableDatabase starts serve while the database
// refuses connections: it answers /healthz and a 503 /readyz instead of
// exiting, and becomes ready once the database is back.
func TestServeWaitsForAnUnreachableDatabase(t *testing.T) {
	t.Parallel()
	target := testdb.NewURL(t)
	proxy := newFlakyProxy(t, target)
	env := map[string]string{"DATABASE_URL": proxy.url, "TRELLIS_SECRET_KEY": goodKey, "TRELLIS_LOG_LEVEL": "error"}
	base, stop := serveInBackground(t, env)
	waitStatus(t, base+"/healthz", http.StatusOK, 10*time.Second)
	waitStatus(t, base+"/readyz", http.StatusServiceUnavailable, time.Second)
	time.Sleep(time.Second)
	waitStatus(t, base+"/readyz", http.StatusServiceUnavailable, time.Second)
	proxy.setUp(true)
	waitStatus(t, base+"/readyz", http.StatusOK, 30*time.Second)

	// The database goes away again: readiness drops, the process stays.
	proxy.setUp(false)
	waitStatus(t, base+"/readyz", http.StatusServiceUnavailable, 20*time.Second)
	waitStatus(t, base+"/healthz", http.StatusOK, time.Second)
	proxy.setUp(true)
	waitStatus(t, base+"/readyz", http.StatusOK, 30*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestServeWithPrivatePostgres is the default mode: no DATABASE_URL, the
// cluster lives in the data directory, and `admin create` works beside a
// running serve.
func TestServeWithPrivatePostgres(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	env := map[string]string{"TRELLIS_DATA_DIR": filepath.Join(dir, "data"), "TRELLIS_LOG_LEVEL": "warn"}
	base, stop := serveInBackground(t, env)
	waitStatus(t, base+"/readyz", http.StatusOK, 60*time.Second)

	r := runCLI(t, env, "correct horse battery\n", "admin", "create", "--email", "a@example.com", "--name", "A")
	if r.e != nil {
		t.Fatalf("admin create beside serve: %v", r.e)
	}
	res, err := http.Get(base + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/login" {
		t.Errorf("after admin create the setup page should lead to sign-in, got %s", res.Request.URL.Path)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "secret.key")); err != nil {
		t.Errorf("the key file should be created: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Data survives a restart.
	base, stop = serveInBackground(t, env)
	waitStatus(t, base+"/readyz", http.StatusOK, 60*time.Second)
	waitStatus(t, base+"/setup", http.StatusOK, time.Second) // redirects to /login, which is 200
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "", "migrate", "status")
	if r.e != nil || !strings.Contains(r.out, "up to date") {
		t.Fatalf("migrate status after serve stopped (starts the cluster briefly): %q %v", r.out, r.e)
	}
}

// tempDir returns a fresh directory that the PostgreSQL user can enter
// (t.TempDir is 0700, which would move the cluster elsewhere under root).
func tempDir(t *testing.T) string {
	t.Helper()
	base := os.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "trellis-cmd-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// flakyProxy forwards TCP connections to a Postgres unix socket while up,
// and refuses them while down, so tests can cut the database off.
type flakyProxy struct {
	url    string
	socket string
	mu     sync.Mutex
	up     bool
	conns  []net.Conn
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	socket := filepath.Join(q.Get("host"), ".s.PGSQL."+q.Get("port"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &flakyProxy{socket: socket}
	p.url = "postgres://" + u.User.String() + "@" + ln.Addr().String() + u.Path + "?sslmode=disable&connect_timeout=2"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
	return p
}

func (p *flakyProxy) setUp(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if !up {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func (p *flakyProxy) handle(c net.Conn) {
	p.mu.Lock()
	up := p.up
	if up {
		p.conns = append(p.conns, c)
	}
	p.mu.Unlock()
	if !up {
		c.Close()
		return
	}
	back, err := net.Dial("unix", p.socket)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, back)
	p.mu.Unlock()
	go func() { io.Copy(back, c); back.Close() }()
	io.Copy(c, back)
	c.Close()
}

func TestSecretsRotate(t *testing.T) {
	t.Parallel()
	env := dbEnv(t)
	oldKey, _ := secret.ParseKey(goodKey)
	oldRing, err := secret.New(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := must(store.OpenPool(context.Background(), env["DATABASE_URL"]))
	defer pool.Close()
	st := store.New(pool, nil)
	org, err := st.CreateOrg(context.Background(), alm.NewOrg{Name: "UAT", Kind: alm.OrgFullSandbox, LoginURL: "https://test.salesforce.com"},
		store.OrgAuth{AuthKind: "oauth"}, func(id int64) (string, error) {
			return oldRing.Seal([]byte(`{"refresh_token":"r"}`), fmt.Sprintf("org:%d:credentials", id))
		})
	if err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, env, "", "secrets", "rotate")
	if r.e == nil || exitCode(r.e) != 2 || !strings.Contains(r.e.Error(), "TRELLIS_SECRET_KEY_PREVIOUS") {
		t.Fatalf("rotate without the old key: %v", r.e)
	}
	newKey := secret.GenerateKey()
	env["TRELLIS_SECRET_KEY"], env["TRELLIS_SECRET_KEY_PREVIOUS"] = newKey, goodKey
	r = runCLI(t, env, "", "secrets", "rotate")
	if r.e != nil || !strings.Contains(r.out, "re-sealed 1 org credentials") {
		t.Fatalf("rotate: %q %v", r.out, r.e)
	}
	sealed, err := st.OrgCredentials(context.Background(), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	nk, _ := secret.ParseKey(newKey)
	newRing, _ := secret.New(nk)
	if _, err := newRing.Open(sealed, fmt.Sprintf("org:%d:credentials", org.ID)); err != nil {
		t.Fatalf("the new key alone should open the credentials: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
