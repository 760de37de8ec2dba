package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheck asks a running Trellis whether it is ready (or, with --live,
// merely up) and exits 0 or 1: for container health checks in images that
// have no curl.
func healthcheck(ctx context.Context, cfg config, args []string, sio stdio) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	live := fs.Bool("live", false, "check /healthz (process up) instead of /readyz (ready to serve)")
	worker := fs.Bool("worker", false, "ask the `trellis worker` probes on TRELLIS_WORKER_ADDR")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	addr := cfg.Addr
	if *worker {
		if cfg.WorkerAddr == "" {
			return usageError{"--worker needs TRELLIS_WORKER_ADDR"}
		}
		addr = cfg.WorkerAddr
	}
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	url := "http://" + net.JoinHostPort(host, port) + path
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, res.Status)
	}
	fmt.Fprintln(sio.out, "ok")
	return nil
}
