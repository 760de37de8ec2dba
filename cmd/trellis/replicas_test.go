package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/testdb"
)

// replica is one more `trellis serve` or `trellis worker` process beside
// the harness's own.
type replica struct {
	cmd  *exec.Cmd
	addr string
	logs *lockedBuffer
}

func startReplica(t *testing.T, env map[string]string, mode string) *replica {
	t.Helper()
	r := &replica{addr: freeAddr(t), logs: &lockedBuffer{}}
	r.cmd = exec.Command(os.Args[0], mode)
	r.cmd.Env = append(os.Environ(), "TRELLIS_RUN_MAIN=1", "TRELLIS_ADDR="+r.addr, "TRELLIS_WORKER_ADDR="+r.addr)
	for k, v := range env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() })
	return r
}

// waitReady waits for /readyz to answer 200, and shows the replica's logs
// when it does not.
func (r *replica) waitReady(t *testing.T, limit time.Duration) {
	t.Helper()
	if last, ok := awaitStatus("http://"+r.addr+"/readyz", http.StatusOK, limit); !ok {
		t.Fatalf("replica on %s not ready within %s (last status %d); logs:\n%s", r.addr, limit, last, r.logs.String())
	}
}

// TestTwoReplicasOneDatabase runs two `trellis serve` processes and a
// `trellis worker` on one PostgreSQL with nothing in front of them: they
// migrate once when started together; a sign-in, its session, the form
// tokens and the sign-in rate limit work across both; a promotion and a
// backup go through the replicas in turn while one is killed in the
// middle; each job runs once, the schedule fires once, the org deploys
// once.
func TestTwoReplicasOneDatabase(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.NewEmptyURL(t), "TRELLIS_SECRET_KEY": goodKey, "TRELLIS_LOG_LEVEL": "warn",
		"TRELLIS_JOB_STALE_AFTER": staleAfter, "TRELLIS_OUTBOUND_ALLOW": "loopback,private,file", "TRELLIS_MIGRATE_ON_START": "true"}

	// Both start on an empty database at once: the schema is made once.
	first, second := startReplica(t, env, "serve"), startReplica(t, env, "serve")
	for _, r := range []*replica{first, second} {
		r.waitReady(t, 90*time.Second)
	}
	for _, r := range []*replica{first, second} {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		_ = r.cmd.Wait()
	}

	h := newCrashHarness(t, env)
	h.start("")
	a := h.addr
	b := startReplica(t, env, "serve")
	w := startReplica(t, env, "worker")
	b.waitReady(t, 60*time.Second)
	w.waitReady(t, 60*time.Second)
	probe := map[string]string{"TRELLIS_WORKER_ADDR": w.addr}
	for k, v := range env {
		probe[k] = v
	}
	if r := runCLI(t, probe, "", "healthcheck", "--worker"); r.e != nil {
		t.Errorf("healthcheck --worker against a ready worker: %v %s", r.e, r.err)
	}

	// A browser signs in on one replica with the form another served, and
	// its session holds on both.
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := get(t, br, "http://"+a+"/login")
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil {
		t.Fatalf("no form token on the sign-in page")
	}
	// Cookies are per host and port: carry A's to B, as a load balancer's
	// single address would.
	ua, _ := url.Parse("http://" + a)
	ub, _ := url.Parse("http://" + b.addr)
	jar.SetCookies(ub, jar.Cookies(ua))
	res, err := br.PostForm("http://"+b.addr+"/login", url.Values{"csrf_token": {token[1]}, "email": {"ops@example.com"}, "password": {"crash test passphrase"}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in on B with A's form: %v %v", err, res)
	}
	res.Body.Close()
	jar.SetCookies(ua, jar.Cookies(ub))
	for _, host := range []string{a, b.addr} {
		if body := get(t, br, "http://"+host+"/account"); !strings.Contains(body, "ops@example.com") {
			t.Errorf("the session does not hold on %s", host)
		}
	}

	// The promotion goes through the replicas in turn.
	bld := h.newBuild()
	uat := h.sim.Org("uat")
	before := uat.DeployCount(false)
	var p alm.Promotion
	h.call("POST", "/api/v1/promotions", map[string]any{"build_id": bld.ID, "stage": "UAT"}, http.StatusCreated, &p)
	h.addr = b.addr
	h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), nil, http.StatusOK, nil)
	var d alm.Deployment
	h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", p.ID), nil, http.StatusAccepted, &d)
	// B dies in the middle: whatever it was running is taken up again.
	time.Sleep(500 * time.Millisecond)
	_ = b.cmd.Process.Kill()
	h.addr = a
	for _, host := range []string{a} {
		if code := status(t, br, "http://"+host+fmt.Sprintf("/promotions/%d/live", p.ID)); code != http.StatusOK {
			t.Errorf("live progress on %s: %d", host, code)
		}
	}
	got := h.waitDeployment(d.ID, recoveryBound)
	if got.Status != "succeeded" {
		t.Errorf("deployment ended %s: %s", got.Status, got.Error)
	}
	if n := uat.DeployCount(false) - before; n != 1 {
		t.Errorf("the org saw %d deploys, want 1", n)
	}

	// A backup schedule due now fires once, though A and the worker both
	// run the tick.
	ctx := context.Background()
	prod := h.orgs["prod"].ID
	var backups int
	_ = h.pool.QueryRow(ctx, `SELECT count(*) FROM snapshots WHERE backup AND org_id = $1`, prod).Scan(&backups)
	if _, err := h.pool.Exec(ctx, `INSERT INTO backup_policies (org_id, next_at, updated_at) VALUES ($1, now(), now())
		ON CONFLICT (org_id) DO UPDATE SET enabled = true, next_at = now()`, prod); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var n, done int
		_ = h.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'done') FROM snapshots WHERE backup AND org_id = $1`, prod).Scan(&n, &done)
		if n-backups > 1 {
			t.Fatalf("%d backups for one due schedule", n-backups)
		}
		if done-backups == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled backup did not run; logs:\n%s\n%s", h.logs.String(), w.logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	var n int
	_ = h.pool.QueryRow(ctx, `SELECT count(*) FROM snapshots WHERE backup AND org_id = $1`, prod).Scan(&n)
	if n-backups != 1 {
		t.Errorf("%d backups for one due schedule, want 1", n-backups)
	}
	var dup int
	_ = h.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT kind, args FROM river_job WHERE kind IN ('deploy', 'snapshot') GROUP BY kind, args HAVING count(*) > 1) x`).Scan(&dup)
	if dup != 0 {
		t.Errorf("%d jobs were inserted more than once", dup)
	}

	// The sign-in rate limit is one allowance, whichever replica is asked.
	b2 := startReplica(t, env, "serve")
	b2.waitReady(t, 60*time.Second)
	anonJar, _ := cookiejar.New(nil)
	anon := &http.Client{Jar: anonJar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(get(t, anon, "http://"+a+"/login"))
	if form == nil {
		t.Fatal("no form token on the sign-in page")
	}
	ub2, _ := url.Parse("http://" + b2.addr)
	anonJar.SetCookies(ub2, anonJar.Cookies(ua))
	limited := false
	for i := 0; i < 14 && !limited; i++ {
		host := a
		if i%2 == 1 {
			host = b2.addr
		}
		res, err := anon.PostForm("http://"+host+"/login", url.Values{"csrf_token": {form[1]}, "email": {"nobody@example.com"}, "password": {"wrong wrong wrong"}})
		if err == nil {
			limited = res.StatusCode == http.StatusTooManyRequests
			res.Body.Close()
		}
	}
	if !limited {
		t.Error("14 sign-ins from one address across two replicas were never limited (10 are allowed at once)")
	}
	h.stop()
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func status(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
