package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/pgembed"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

// crashHarness runs `trellis serve` as a real process over one database
// and simulated orgs, kills it at a named step (TRELLIS_CRASH_AT makes the
// process SIGKILL itself there), starts it again and watches the work
// finish.
type crashHarness struct {
	t     *testing.T
	env   map[string]string
	addr  string
	sim   *orgsim.Sim
	st    *store.Store
	pool  *pgxpool.Pool
	token string
	orgs  map[string]alm.Org
	proc  *exec.Cmd
	logs  *lockedBuffer
	done  chan error
	n     int
}

// staleAfter is short so that a killed process's jobs are taken back in
// seconds (production's default is 45 s).
const staleAfter = "3s"

func newCrashHarness(t *testing.T, env map[string]string) *crashHarness {
	t.Helper()
	sim, err := orgsim.Start(orgsim.Options{Orgs: []string{"uat", "prod"}, Step: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	env["TRELLIS_JOB_STALE_AFTER"] = staleAfter
	env["TRELLIS_OUTBOUND_ALLOW"] = "loopback,private,file"
	env["TRELLIS_LOG_LEVEL"] = "warn"
	h := &crashHarness{t: t, env: env, addr: freeAddr(t), sim: sim, orgs: map[string]alm.Org{}}
	if r := runCLI(t, env, "", "migrate", "up"); r.e != nil {
		t.Fatalf("migrate: %v %s", r.e, r.err)
	}
	if r := runCLI(t, env, "crash test passphrase\n", "admin", "create", "--email", "ops@example.com", "--name", "Ops"); r.e != nil {
		t.Fatalf("admin: %v %s", r.e, r.err)
	}
	r := runCLI(t, env, "", "token", "create", "--email", "ops@example.com", "--name", "crash")
	if r.e != nil {
		t.Fatalf("token: %v %s", r.e, r.err)
	}
	h.token = strings.TrimSpace(lastLine(r.out))
	h.pool, err = store.OpenPool(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.pool.Close)
	h.st = store.New(h.pool, time.Now)
	h.start("")
	for _, name := range []string{"uat", "prod"} {
		o := sim.Org(name)
		key := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(o.JWTKey())}))
		kind := alm.OrgFullSandbox
		if name == "prod" {
			kind = alm.OrgProduction
		}
		var org alm.Org
		h.call("POST", "/api/v1/orgs", map[string]string{"name": strings.ToUpper(name), "kind": string(kind), "login_url": o.Info().LoginURL,
			"client_id": o.ClientID(), "username": o.Username(), "private_key": key}, http.StatusCreated, &org)
		h.orgs[name] = org
	}
	h.call("POST", "/api/v1/projects", map[string]string{"key": "CRM", "name": "Sales"}, http.StatusCreated, nil)
	h.call("PUT", "/api/v1/projects/CRM/pipeline", map[string]any{"stages": []map[string]any{
		{"name": "UAT", "org_id": h.orgs["uat"].ID, "approvals_required": 1, "approver_roles": []string{"admin"}, "no_self_approval": false, "test_level": "NoTestRun"},
		{"name": "Production", "org_id": h.orgs["prod"].ID, "test_level": "RunLocalTests"}}}, http.StatusOK, nil)
	h.stop()
	return h
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// start runs `trellis serve`, armed to kill itself at crashAt ("" for
// none), and waits until it is ready.
func (h *crashHarness) start(crashAt string) {
	h.t.Helper()
	h.logs = &lockedBuffer{}
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), "TRELLIS_RUN_MAIN=1", "TRELLIS_ADDR="+h.addr, "TRELLIS_CRASH_AT="+crashAt)
	for k, v := range h.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = h.logs, h.logs
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.proc, h.done = cmd, make(chan error, 1)
	go func() { h.done <- cmd.Wait() }()
	h.t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitStatus(h.t, "http://"+h.addr+"/readyz", http.StatusOK, 60*time.Second)
}

// killed waits for the process to kill itself at its crash point.
func (h *crashHarness) killed(point string) {
	h.t.Helper()
	h.killedWithin(point, 60*time.Second)
}

func (h *crashHarness) killedWithin(point string, limit time.Duration) {
	h.t.Helper()
	select {
	case err := <-h.done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			h.t.Fatalf("at %s the process ended with %v, not SIGKILL; logs:\n%s", point, err, h.logs.String())
		}
	case <-time.After(limit):
		h.t.Fatalf("the process did not reach %s within %s; logs:\n%s", point, limit, h.logs.String())
	}
}

func (h *crashHarness) stop() {
	h.t.Helper()
	_ = h.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(45 * time.Second):
		h.t.Fatalf("serve did not stop; logs:\n%s", h.logs.String())
	}
}

// call sends an API request; a connection the crash cuts is not an error
// (want 0 accepts any answer or none).
func (h *crashHarness) call(method, path string, body any, want int, out any) int {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, "http://"+h.addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		if want == 0 {
			return 0
		}
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if want != 0 && res.StatusCode != want {
		h.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, strings.ReplaceAll(string(b), "\n", " "))
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

// newBuild makes a release of one work item capturing a new Apex class
// and builds it.
func (h *crashHarness) newBuild() alm.Build {
	h.t.Helper()
	h.n++
	ctx := alm.WithActor(context.Background(), alm.SystemActor)
	p, err := h.st.ProjectByKey(ctx, "CRM")
	if err != nil {
		h.t.Fatal(err)
	}
	rel, err := h.st.CreateRelease(ctx, p.ID, alm.ReleaseInput{Name: fmt.Sprintf("R%d", h.n)})
	if err != nil {
		h.t.Fatal(err)
	}
	it, err := h.st.CreateWorkItem(ctx, p.ID, alm.WorkItemInput{Title: fmt.Sprintf("Change %d", h.n)})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.st.SetWorkItemRelease(ctx, it.Key, &rel.ID); err != nil {
		h.t.Fatal(err)
	}
	class := fmt.Sprintf("Crash%d", h.n)
	hash := fmt.Sprintf("crash-%d", h.n)
	files := map[string][]byte{"classes/" + class + ".cls": []byte("public class " + class + " { }\n"),
		"classes/" + class + ".cls-meta.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>`)}
	if _, err := h.st.PutBlobs(ctx, []store.Blob{{Hash: hash, Data: snapshot.EncodeFiles(files)}}); err != nil {
		h.t.Fatal(err)
	}
	sn, err := h.st.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", Ref: class})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.FinishSnapshot(ctx, sn.ID, snapshot.Manifest{{Type: "ApexClass", Name: class, Hash: hash}}, 0, nil); err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.CaptureComponents(ctx, it.Key, sn.ID, sn.ID, []store.Capture{{Type: "ApexClass", Name: class, Change: "new", Hash: hash}}); err != nil {
		h.t.Fatal(err)
	}
	var b alm.Build
	h.call("POST", fmt.Sprintf("/api/v1/releases/%d/builds", rel.ID), nil, http.StatusCreated, &b)
	return b
}

// waitDeployment waits for a deployment to end and returns it.
func (h *crashHarness) waitDeployment(id int64, limit time.Duration) alm.Deployment {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var got struct{ Deployment alm.Deployment }
		h.call("GET", fmt.Sprintf("/api/v1/deployments/%d", id), nil, http.StatusOK, &got)
		if got.Deployment.Finished != nil {
			return got.Deployment
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("deployment #%d still %s after %s; logs:\n%s", id, got.Deployment.Status, limit, h.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// recoveryBound is how long, after a restart, every record has to reach a
// final state: a few heartbeats, a leader election, and the work itself.
const recoveryBound = 60 * time.Second

// TestCrashRecovery kills a real `trellis serve` (SIGKILL) at each step of
// a promotion, of a snapshot, a backup and a restore, starts it again and
// checks that the work ends where a person can act on it, that the org
// saw exactly one deploy per promotion, and that no backup was doubled.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	h := newCrashHarness(t, dbEnv(t))
	uat := h.sim.Org("uat")
	var tried, recovered, duplicates int
	report := func() {
		t.Logf("kill points tried %d, recovered %d, duplicate deploys or backups %d", tried, recovered, duplicates)
	}
	defer report()

	for _, point := range []string{"promotion.approved", "deploy.queued", "deploy.snapshotted", "deploy.sent", "deploy.recorded", "deploy.polling", "deploy.org_finished"} {
		t.Run("Promotion/"+point, func(t *testing.T) {
			h.t = t
			tried++
			h.start(point)
			b := h.newBuild()
			before := uat.DeployCount(false)
			var p alm.Promotion
			h.call("POST", "/api/v1/promotions", map[string]any{"build_id": b.ID, "stage": "UAT"}, http.StatusCreated, &p)
			if point == "promotion.approved" {
				h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), nil, 0, nil)
				h.killed(point)
				h.start("")
				h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", p.ID), nil, http.StatusAccepted, nil)
			} else {
				h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), nil, http.StatusOK, nil)
				h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", p.ID), nil, 0, nil)
				h.killed(point)
				h.start("")
			}
			var pd struct {
				Promotion   alm.Promotion
				Deployments []alm.Deployment
			}
			h.call("GET", fmt.Sprintf("/api/v1/promotions/%d", p.ID), nil, http.StatusOK, &pd)
			if len(pd.Deployments) != 1 {
				t.Fatalf("promotion #%d has %d deployments after the crash, want 1", p.ID, len(pd.Deployments))
			}
			d := h.waitDeployment(pd.Deployments[0].ID, recoveryBound)
			if d.Status != "succeeded" {
				t.Errorf("deployment ended %s: %s", d.Status, d.Error)
			}
			if n := uat.DeployCount(false) - before; n != 1 {
				duplicates += max(0, n-1)
				t.Errorf("the org saw %d deploys for one promotion, want 1", n)
			}
			h.call("GET", fmt.Sprintf("/api/v1/promotions/%d", p.ID), nil, http.StatusOK, &pd)
			if pd.Promotion.Status != alm.PromoDeployed {
				t.Errorf("promotion is %s, want deployed", pd.Promotion.Status)
			}
			if !t.Failed() {
				recovered++
			}
			h.stop()
		})
	}

	for _, point := range []string{"snapshot.retrieving", "snapshot.storing"} {
		t.Run("Snapshot/"+point, func(t *testing.T) {
			h.t = t
			tried++
			h.start(point)
			var sn alm.Snapshot
			h.call("POST", fmt.Sprintf("/api/v1/orgs/%d/snapshots", h.orgs["prod"].ID), nil, http.StatusAccepted, &sn)
			h.killed(point)
			h.start("")
			sn = h.waitSnapshot(sn.ID)
			if sn.Status != alm.SnapDone || sn.Components == 0 {
				t.Errorf("snapshot ended %s with %d components: %s", sn.Status, sn.Components, sn.Error)
			} else {
				recovered++
			}
			h.stop()
		})
	}

	for _, point := range []string{"backup.claimed", "backup.retrieving"} {
		t.Run("Backup/"+point, func(t *testing.T) {
			h.t = t
			tried++
			ctx := context.Background()
			var before int
			_ = h.pool.QueryRow(ctx, `SELECT count(*) FROM snapshots WHERE backup AND org_id = $1`, h.orgs["prod"].ID).Scan(&before)
			// The schedule is due now: the tick that runs at start takes it.
			if _, err := h.pool.Exec(ctx, `INSERT INTO backup_policies (org_id, next_at, updated_at) VALUES ($1, now(), now())
				ON CONFLICT (org_id) DO UPDATE SET enabled = true, next_at = now()`, h.orgs["prod"].ID); err != nil {
				t.Fatal(err)
			}
			h.start(point)
			// The backup tick runs once a minute (unique per minute).
			h.killedWithin(point, 150*time.Second)
			h.start("")
			deadline := time.Now().Add(recoveryBound + time.Minute)
			for {
				var total, done int
				_ = h.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'done') FROM snapshots WHERE backup AND org_id = $1`, h.orgs["prod"].ID).Scan(&total, &done)
				if total-before == 1 && done-before == 1 {
					recovered++
					break
				}
				if total-before > 1 {
					duplicates += total - before - 1
					t.Fatalf("%d backups for one schedule, want 1", total-before)
				}
				if time.Now().After(deadline) {
					t.Fatalf("the backup did not finish: %d recorded, %d done; logs:\n%s", total-before, done-before, h.logs.String())
				}
				time.Sleep(300 * time.Millisecond)
			}
			// The schedule moved on: nothing more is due.
			var nextAt time.Time
			_ = h.pool.QueryRow(ctx, `SELECT next_at FROM backup_policies WHERE org_id = $1`, h.orgs["prod"].ID).Scan(&nextAt)
			if time.Until(nextAt) < time.Hour {
				t.Errorf("the schedule was not moved on: next at %s", nextAt)
			}
			h.stop()
		})
	}

	t.Run("Restore/deploy.sent", func(t *testing.T) {
		h.t = t
		tried++
		prod := h.sim.Org("prod")
		h.start("")
		var sn alm.Snapshot
		h.call("POST", fmt.Sprintf("/api/v1/orgs/%d/snapshots", h.orgs["prod"].ID), nil, http.StatusAccepted, &sn)
		if sn = h.waitSnapshot(sn.ID); sn.Status != alm.SnapDone {
			t.Fatalf("snapshot to restore from: %s %s", sn.Status, sn.Error)
		}
		h.stop()
		before := prod.DeployCount(false)
		h.start("deploy.sent")
		h.call("POST", fmt.Sprintf("/api/v1/orgs/%d/backups/restore", h.orgs["prod"].ID), map[string]any{"snapshot_id": sn.ID, "types": []string{"ApexClass", "CustomObject", "Layout"}}, http.StatusAccepted, nil)
		h.killed("deploy.sent")
		h.start("")
		var id int64
		_ = h.pool.QueryRow(context.Background(), `SELECT max(id) FROM deployments WHERE kind = 'restore'`).Scan(&id)
		d := h.waitDeployment(id, recoveryBound)
		if d.Status != "succeeded" {
			t.Errorf("restore ended %s: %s", d.Status, d.Error)
		}
		if n := prod.DeployCount(false) - before; n != 1 {
			duplicates += max(0, n-1)
			t.Errorf("the org saw %d deploys for one restore, want 1", n)
		} else if d.Status == "succeeded" {
			recovered++
		}
		h.stop()
	})
	h.t = t
}

func (h *crashHarness) waitSnapshot(id int64) alm.Snapshot {
	h.t.Helper()
	deadline := time.Now().Add(recoveryBound)
	for {
		var sn alm.Snapshot
		h.call("GET", fmt.Sprintf("/api/v1/snapshots/%d", id), nil, http.StatusOK, &sn)
		if sn.Status.Finished() {
			return sn
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("snapshot #%d still %s after %s; logs:\n%s", id, sn.Status, recoveryBound, h.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDatabaseRestartMidDeploy stops PostgreSQL while a deploy is under
// way: Trellis says it is not ready and answers requests with a prompt
// 503 (not a hang), then, PostgreSQL started again, carries on by itself:
// the deploy finishes, once.
func TestDatabaseRestartMidDeploy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster, dir, err := testdb.StartCluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop(context.Background()); os.RemoveAll(dir) })
	admin, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE trellis"); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	env := map[string]string{"DATABASE_URL": cluster.URL("trellis"), "TRELLIS_SECRET_KEY": goodKey}
	h := newCrashHarness(t, env)
	uat := h.sim.Org("uat")
	h.start("")
	b := h.newBuild()
	before := uat.DeployCount(false)
	var p alm.Promotion
	h.call("POST", "/api/v1/promotions", map[string]any{"build_id": b.ID, "stage": "UAT"}, http.StatusCreated, &p)
	h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), nil, http.StatusOK, nil)
	var d alm.Deployment
	h.call("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", p.ID), nil, http.StatusAccepted, &d)

	stopped := time.Now()
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, "http://"+h.addr+"/readyz", http.StatusServiceUnavailable, 15*time.Second)
	// A request while the database is away is answered at once.
	start := time.Now()
	code := h.call("GET", fmt.Sprintf("/api/v1/promotions/%d", p.ID), nil, 0, nil)
	if took := time.Since(start); code != http.StatusServiceUnavailable || took > 5*time.Second {
		t.Errorf("a request while the database is down: %d after %s, want a prompt 503", code, took)
	}
	time.Sleep(2 * time.Second)

	cluster2, err := pgembed.Start(ctx, pgembed.Config{DataDir: filepath.Join(dir, "data"), Database: "postgres",
		Settings: map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster2.Stop(context.Background()) })
	back := time.Now()
	waitStatus(t, "http://"+h.addr+"/readyz", http.StatusOK, 60*time.Second)
	t.Logf("database down for %s; Trellis ready again %s after it came back, with no restart", back.Sub(stopped).Round(100*time.Millisecond), time.Since(back).Round(100*time.Millisecond))
	got := h.waitDeployment(d.ID, recoveryBound)
	if got.Status != "succeeded" {
		t.Errorf("deployment ended %s: %s", got.Status, got.Error)
	}
	if n := uat.DeployCount(false) - before; n != 1 {
		t.Errorf("the org saw %d deploys, want 1", n)
	}
	h.stop()
}
