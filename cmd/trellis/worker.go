package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/store"
)

// worker runs background jobs only, for deployments that scale workers
// apart from the web tier. With TRELLIS_WORKER_ADDR set it answers
// /healthz and /readyz there for orchestrators.
func worker(ctx context.Context, cfg config, args []string, sio stdio) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	migrate := fs.Bool("migrate", cfg.MigrateOnStart, "apply pending migrations at start (TRELLIS_MIGRATE_ON_START)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	log := newLogger(cfg, sio.err)
	db, err := openDatabase(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	a := &app{db: db}
	defer a.close(log)
	if err := waitForDatabase(ctx, db.pool, log, nil); err != nil {
		return err
	}
	if *migrate {
		if err := migrateUp(db.url, log); err != nil {
			return err
		}
	}
	st, err := newStore(ctx, cfg, db.pool)
	if err != nil {
		return err
	}
	keyring, err := loadKeyring(cfg, log)
	if err != nil {
		return err
	}
	orgSvc := orgs.New(st, keyring, orgs.Config{ClientID: cfg.SFClientID, ClientSecret: cfg.SFClientSecret, Logger: log})
	clientID := jobs.ClientID()
	a.jobs, err = jobs.NewClient(db.pool, jobs.Deps{Store: st, Orgs: orgSvc, Repos: repos.New(st, keyring, cfg.DataDir, cfg.outbound()), Outbound: cfg.outbound(), SessionIdle: cfg.Session.IdleTimeout, Logger: log,
		BaseURL: cfg.BaseURL.String(), Mail: cfg.mail(), Keyring: keyring}, jobs.Config{Work: true, MaxWorkers: cfg.Workers, ID: clientID, StaleAfter: cfg.JobStaleAfter})
	if err != nil {
		return err
	}
	if err := a.startJobs(ctx, st, clientID, "worker", cfg.JobStaleAfter, log); err != nil {
		return err
	}
	if cfg.WorkerAddr != "" {
		srv := &http.Server{Addr: cfg.WorkerAddr, Handler: workerProbes(st, a), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
				log.Error("worker probe server", slog.Any("err", err))
			}
		}()
		defer shutdownHTTP(srv, log)
	}
	log.Info("Trellis worker is running", slog.Int("max_workers_per_queue", cfg.Workers))
	select {
	case <-ctx.Done():
		log.Info("shutting down worker")
	case <-a.dbExited():
		return fmt.Errorf("the private PostgreSQL server stopped unexpectedly")
	}
	return nil
}

func workerProbes(st *store.Store, a *app) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		problems := map[string]string{}
		if err := st.Ping(ctx); err != nil {
			problems["database"] = "unreachable"
		}
		if !a.jobsLive.Load() {
			problems["jobs"] = "job client not running"
		}
		w.Header().Set("Content-Type", "application/json")
		if len(problems) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"problems": problems})
	})
	return mux
}
