package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"riverqueue.com/riverui"

	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/build"
	"github.com/trellis-alm/trellis/internal/capture"
	"github.com/trellis-alm/trellis/internal/demo"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/server"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/tracksync"
)

// serve runs the web server and the workers until ctx ends (SIGINT or
// SIGTERM), then shuts down in order: stop taking requests, let running
// jobs finish (or hand them back to the queue), close the database.
func serve(ctx context.Context, cfg config, args []string, sio stdio) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	migrate := fs.Bool("migrate", cfg.MigrateOnStart, "apply pending migrations at start (TRELLIS_MIGRATE_ON_START)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	log := newLogger(cfg, sio.err)
	keyring, err := loadKeyring(cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("TRELLIS_ADDR=%s: %w", cfg.Addr, err)
	}
	// Until the database is ready the server answers health checks and a
	// "starting" page; then it swaps in the full router.
	var state startState
	state.set("starting")
	var current atomic.Pointer[http.Handler]
	var starting http.Handler = http.HandlerFunc(state.serve)
	current.Store(&starting)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
		// A whole request (a 10 MB upload on a slow link) and a whole
		// answer (a build's artifact) in bounded time; handlers themselves
		// give up after server.RequestTimeout.
		ReadTimeout:  2 * time.Minute,
		WriteTimeout: server.RequestTimeout + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("Trellis is listening", slog.String("url", cfg.BaseURL.String()), slog.String("addr", ln.Addr().String()), slog.String("version", version))

	app, err := startApp(ctx, cfg, log, keyring, *migrate, &state)
	if err != nil {
		shutdownHTTP(srv, log)
		return err
	}
	defer app.close(log)
	var full http.Handler = app.server
	current.Store(&full)
	go app.server.WatchDatabase(ctx)
	if cfg.MetricsAddr != "" {
		stop, err := serveMetrics(cfg.MetricsAddr, app.server.MetricsHandler(), log)
		if err != nil {
			shutdownHTTP(srv, log)
			return err
		}
		defer stop()
	}
	log.Info("Trellis is ready", slog.String("url", cfg.BaseURL.String()))

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-app.dbExited():
		shutdownHTTP(srv, log)
		return errors.New("the private PostgreSQL server stopped unexpectedly; see postgres.log in the data directory")
	}
	shutdownHTTP(srv, log)
	return nil
}

// serveMetrics serves the metrics, and nothing else, on addr.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("TRELLIS_METRICS_ADDR=%s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	log.Info("metrics are served on their own listener", slog.String("addr", ln.Addr().String()))
	return func() { shutdownHTTP(srv, log) }, nil
}

func shutdownHTTP(srv *http.Server, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("http shutdown", slog.Any("err", err))
	}
}

// app is everything serve and worker run on top of the database.
type app struct {
	db       *database
	jobs     *jobs.Client
	demo     *demo.Demo
	server   *server.Server
	stopUI   context.CancelFunc
	jobsLive atomic.Bool
	// stopBeat ends the heartbeat, after the job client has stopped: a
	// process still finishing its jobs is alive.
	stopBeat context.CancelFunc
}

// startJobs starts the job client under a fresh client id, its process's
// heartbeat first.
func (a *app) startJobs(ctx context.Context, st *store.Store, id, kind string, staleAfter time.Duration, log *slog.Logger) error {
	beat, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stopBeat = stop
	if err := jobs.Heartbeats(beat, st, id, kind, staleAfter, log); err != nil {
		return fmt.Errorf("first heartbeat: %w", err)
	}
	// River's lifetime is ours to end (gracefully, in close), not ctx's.
	if err := a.jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job client: %w", err)
	}
	a.jobsLive.Store(true)
	return nil
}

func (a *app) dbExited() <-chan struct{} {
	if a.db.cluster == nil {
		return nil
	}
	return a.db.cluster.Exited()
}

func startApp(ctx context.Context, cfg config, log *slog.Logger, keyring *secret.Keyring, migrate bool, state *startState) (*app, error) {
	state.set("starting the database")
	db, err := openDatabase(ctx, cfg, log, true)
	if err != nil {
		return nil, err
	}
	a := &app{db: db}
	fail := func(err error) (*app, error) {
		a.close(log)
		return nil, err
	}
	if err := waitForDatabase(ctx, db.pool, log, func(err error) { state.set("waiting for the database to answer") }); err != nil {
		return fail(err)
	}
	if migrate {
		state.set("migrating the database")
		if err := migrateUp(db.url, log); err != nil {
			return fail(err)
		}
	}
	st, err := newStore(ctx, cfg, db.pool)
	if err != nil {
		return fail(err)
	}
	if status, err := st.SchemaStatus(ctx); err == nil && !status.Current() {
		log.Warn("the database schema is not the one this build needs; /readyz answers 503 until `trellis migrate up` runs",
			slog.Uint64("have", uint64(status.Version)), slog.Uint64("want", uint64(status.Latest)))
	}
	authSvc := auth.NewService(st, cfg.Session, log)
	orgSvc := orgs.New(st, keyring, orgs.Config{ClientID: cfg.SFClientID, ClientSecret: cfg.SFClientSecret,
		CallbackURL: strings.TrimSuffix(cfg.BaseURL.String(), "/") + "/orgs/oauth/callback", Logger: log})
	repoSvc := repos.New(st, keyring, cfg.DataDir, cfg.outbound())
	clientID := jobs.ClientID()
	a.jobs, err = jobs.NewClient(db.pool, jobs.Deps{Store: st, Orgs: orgSvc, Repos: repoSvc, SessionIdle: cfg.Session.IdleTimeout, Logger: log,
		BaseURL: cfg.BaseURL.String(), Mail: cfg.mail(), Keyring: keyring, Outbound: cfg.outbound()}, jobs.Config{Work: true, MaxWorkers: cfg.Workers, ID: clientID, StaleAfter: cfg.JobStaleAfter})
	if err != nil {
		return fail(err)
	}
	if err := a.startJobs(ctx, st, clientID, "serve", cfg.JobStaleAfter, log); err != nil {
		return fail(err)
	}
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(a.jobs, nil), Logger: log, Prefix: "/admin/jobs"})
	if err != nil {
		return fail(fmt.Errorf("jobs UI: %w", err))
	}
	uiCtx, stopUI := context.WithCancel(context.WithoutCancel(ctx))
	a.stopUI = stopUI
	if err := ui.Start(uiCtx); err != nil {
		return fail(fmt.Errorf("start jobs UI: %w", err))
	}
	var oidc *auth.OIDC
	if cfg.OIDC != nil {
		oidc = auth.NewOIDC(auth.OIDCConfig{
			Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
			RedirectURL: cfg.BaseURL.String() + "/auth/oidc/callback", Scopes: cfg.OIDC.Scopes,
			GroupsClaim: cfg.OIDC.GroupsClaim, RoleMap: cfg.OIDC.RoleMap, DefaultRole: cfg.OIDC.DefaultRole,
		}, keyring, log)
	}
	demoProject := ""
	if cfg.Demo && a.startDemo(ctx, cfg, log, st, keyring, orgSvc, repoSvc, state) {
		demoProject = demo.ProjectKey
	}
	a.server = server.New(server.Config{BaseURL: cfg.BaseURL, Version: version, MetricsToken: cfg.MetricsToken,
		MetricsClosed: cfg.production(), Outbound: cfg.outbound()}, server.Deps{
		Store: st, Auth: authSvc, OIDC: oidc, Keyring: keyring, Jobs: a.jobs, JobsUI: ui, Orgs: orgSvc, Repos: repoSvc,
		Promote: promote.New(st, jobs.DeployJob(a.jobs)), Builds: build.New(st), Capture: capture.New(st),
		JobsReady: a.jobsLive.Load, Logger: log, DemoProject: demoProject, DemoSettingUp: a.demoSettingUp,
	})
	return a, nil
}

// startDemo runs the demo (simulated orgs and a sample project) and prints
// who can sign in. It is for trying Trellis out: never with a production
// database, and a demo that cannot start leaves Trellis running without it.
func (a *app) startDemo(ctx context.Context, cfg config, log *slog.Logger, st *store.Store, keyring *secret.Keyring, orgSvc *orgs.Service, repoSvc *repos.Service, state *startState) bool {
	if cfg.DatabaseURL != "" {
		log.Warn("TRELLIS_DEMO is ignored with DATABASE_URL: the demo only runs on the private database")
		return false
	}
	state.set("starting the demo orgs")
	trackers := &tracksync.Service{Store: st, Keyring: keyring, HTTP: cfg.outbound().Client(30 * time.Second), BaseURL: cfg.BaseURL.String()}
	d, err := demo.Start(ctx, demo.Config{DataDir: cfg.DataDir, Addr: cfg.DemoAddr, Store: st, Orgs: orgSvc, Repos: repoSvc, Jobs: a.jobs, Logger: log,
		Tracker: trackers, TrackerAddr: cfg.DemoTrackerAddr, BaseURL: cfg.BaseURL.String()})
	if err != nil {
		log.Warn("the demo could not start (TRELLIS_DEMO=0 turns it off)", slog.Any("err", err))
		return false
	}
	a.demo = d
	go func() {
		select {
		case <-d.Ready():
			log.Info("the demo is ready", slog.String("url", cfg.BaseURL.String()))
		case <-ctx.Done():
		}
	}()
	var b strings.Builder
	b.WriteString("\n  Demo mode: simulated orgs Dev, UAT and Production, and the Subscriptions project.\n  Sign in at " + cfg.BaseURL.String() + " as:\n")
	for _, u := range d.Users {
		fmt.Fprintf(&b, "    %-28s %-22s %s\n", u.Email, u.Password, u.Role.Label())
	}
	b.WriteString("  (demo passwords, kept in " + filepath.Join(cfg.DataDir, "demo", "users.txt") + ")\n")
	fmt.Fprint(os.Stderr, b.String())
	return true
}

// close stops the workers gracefully (running jobs get 30 s to finish, then
// are cancelled and retried later), then the database.
func (a *app) close(log *slog.Logger) {
	if a.jobs != nil && a.jobsLive.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := jobs.Stop(ctx, a.jobs); err != nil {
			log.Warn("stopping workers", slog.Any("err", err))
		}
		cancel()
		a.jobsLive.Store(false)
	}
	if a.stopBeat != nil {
		a.stopBeat()
	}
	if a.stopUI != nil {
		a.stopUI()
	}
	if a.demo != nil {
		a.demo.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a.db.close(ctx)
}

// startState is what the server says while it is not ready yet.
type startState struct{ msg atomic.Value }

func (s *startState) set(msg string) { s.msg.Store(msg) }

func (s *startState) serve(w http.ResponseWriter, r *http.Request) {
	msg, _ := s.msg.Load().(string)
	switch r.URL.Path {
	case "/healthz":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	case "/readyz":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"status":"starting","problems":{"startup":%q}}`, msg)
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>Trellis is starting</title></head>`+
			`<body style="font-family:system-ui;padding:3rem;color:#18202b"><h1>Trellis is starting…</h1><p>%s. This page reloads by itself.</p></body></html>`, html.EscapeString(msg))
	}
}

// demoSettingUp reports the demo still seeding in the background.
func (a *app) demoSettingUp() bool {
	if a.demo == nil {
		return false
	}
	select {
	case <-a.demo.Ready():
		return false
	default:
		return true
	}
}
