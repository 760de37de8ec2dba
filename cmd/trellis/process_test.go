package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestSignalsStopServeCleanly runs `trellis serve` as a real process on
// its private PostgreSQL and stops it with SIGTERM and with SIGINT: it
// exits 0 and leaves the database cleanly shut down (no postmaster.pid).
func TestSignalsStopServeCleanly(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			addr := freeAddr(t)
			data := filepath.Join(tempDir(t), "data")
			var logs strings.Builder
			cmd := exec.Command(os.Args[0], "serve")
			cmd.Env = append(os.Environ(), "TRELLIS_RUN_MAIN=1", "TRELLIS_ADDR="+addr, "TRELLIS_DATA_DIR="+data, "TRELLIS_LOG_LEVEL=info")
			cmd.Stdout, cmd.Stderr = &logs, &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			waitStatus(t, "http://"+addr+"/readyz", http.StatusOK, 60*time.Second)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					t.Fatalf("serve exited %d after %s; logs:\n%s", exit.ExitCode(), sig, logs.String())
				}
			case <-time.After(45 * time.Second):
				t.Fatalf("serve did not stop within 45 s of %s", sig)
			}
			if _, err := os.Stat(filepath.Join(data, "postgres", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("PostgreSQL was not shut down cleanly: postmaster.pid remains (%v)", err)
			}
			if !strings.Contains(logs.String(), "shutting down") {
				t.Errorf("expected a shutdown log line; logs:\n%s", logs.String())
			}
		})
	}
}

// TestWorkerRunsJobsAndAnswersProbes runs `trellis worker` beside a
// database: it reports ready on TRELLIS_WORKER_ADDR and works the queue.
func TestWorkerRunsJobsAndAnswersProbes(t *testing.T) {
	t.Parallel()
	env := dbEnv(t)
	addr := freeAddr(t)
	env["TRELLIS_WORKER_ADDR"] = addr
	env["TRELLIS_LOG_LEVEL"] = "error"
	var logs strings.Builder
	cmd := exec.Command(os.Args[0], "worker")
	cmd.Env = append(os.Environ(), "TRELLIS_RUN_MAIN=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitStatus(t, "http://"+addr+"/readyz", http.StatusOK, 30*time.Second)
	waitStatus(t, "http://"+addr+"/healthz", http.StatusOK, time.Second)

	// The periodic session prune runs when the worker starts.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if n := completedJobs(t, env["DATABASE_URL"], "session_prune"); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker ran no session_prune job; logs:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("worker exit: %v\n%s", err, logs.String())
	}
}

func completedJobs(t *testing.T, url, kind string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
