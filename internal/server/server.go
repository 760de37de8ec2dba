// Package server is Trellis's HTTP side: the chi router, one file of
// handlers per area, the JSON API, and the middleware every request passes
// through (request ids, logs and metrics, security headers, sign-in, CSRF,
// and the access rule each route declares).
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/build"
	"github.com/trellis-alm/trellis/internal/capture"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/outbound"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
)

// Config is what the server needs to know about its deployment.
type Config struct {
	BaseURL      *url.URL // where browsers reach Trellis
	Version      string
	MaxBodyBytes int64  // request body limit
	MetricsToken string // when set, /metrics wants it as a bearer token
	// MetricsClosed refuses /metrics on this listener when no token is set
	// (production: the metrics are served elsewhere, or not at all).
	MetricsClosed bool
	// Outbound is where webhooks, alert routes and announcement hooks may
	// point (checked when they are saved; the jobs check again when they
	// connect). The zero policy allows public addresses only.
	Outbound outbound.Policy
}

// Deps are the services the handlers call.
type Deps struct {
	Store   *store.Store
	Auth    *auth.Service
	OIDC    *auth.OIDC // nil when single sign-on is not configured
	Keyring *secret.Keyring
	Orgs    *orgs.Service  // nil in tests that connect no orgs
	Repos   *repos.Service // nil in tests that connect no repositories
	Jobs    *jobs.Client   // may be nil in tests that need no jobs
	// The lifecycle services, built once by the caller; New builds any
	// left nil over Store.
	Promote *promote.Service
	Builds  *build.Service
	Capture *capture.Service
	JobsUI  http.Handler // River's UI, mounted at /admin/jobs/
	// JobsReady reports whether the job client runs; nil means ready.
	JobsReady func() bool
	Logger    *slog.Logger
	// DemoProject is the demo's project key when the demo runs; the
	// getting-started page links into it.
	DemoProject string
	// DemoSettingUp reports the demo still seeding in the background
	// (snapshots, the sample build and promotion): pages say so.
	DemoSettingUp func() bool
}

// Server holds the router and everything handlers share.
type Server struct {
	cfg     Config
	deps    Deps
	store   *store.Store
	auth    *auth.Service
	csrf    *auth.CSRF
	log     *slog.Logger
	metrics *metrics
	router  chi.Router

	promote *promote.Service
	builds  *build.Service
	capture *capture.Service
	routes  []route
	secure  bool

	setupDone atomic.Bool
	limiter   *ipLimiter
	// dbDown is set while the database does not answer (WatchDatabase):
	// requests then get a prompt 503 instead of waiting on it.
	dbDown atomic.Bool
}

// RequestTimeout bounds a request's work: a handler waiting on a stalled
// database or org gives up and answers rather than hanging.
const RequestTimeout = 60 * time.Second

// WatchDatabase pings the database every two seconds until ctx ends and
// keeps Ready and the request path in step with what it finds, so that
// while the database is away every request gets a prompt 503 with the
// reason, and serving resumes by itself when it answers again.
func (s *Server) WatchDatabase(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		err := s.store.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if was := s.dbDown.Swap(err != nil); was != (err != nil) {
			if err != nil {
				s.log.Warn("the database does not answer; requests get 503 until it does", slog.Any("err", err))
			} else {
				s.log.Info("the database answers again")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// New builds the server and its routes.
func New(cfg Config, deps Deps) *Server {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 10 << 20
	}
	s := &Server{
		cfg:     cfg,
		deps:    deps,
		store:   deps.Store,
		auth:    deps.Auth,
		csrf:    auth.NewCSRF(deps.Keyring.Derive("csrf")),
		log:     deps.Logger,
		metrics: newMetrics(deps.Store),
		secure:  cfg.BaseURL != nil && cfg.BaseURL.Scheme == "https",
		limiter: newIPLimiter(deps.Store, 3*time.Second, 10, deps.Logger),
	}
	if deps.Promote == nil {
		deps.Promote = promote.New(deps.Store, jobs.DeployJob(deps.Jobs))
	}
	if deps.Builds == nil {
		deps.Builds = build.New(deps.Store)
	}
	if deps.Capture == nil {
		deps.Capture = capture.New(deps.Store)
	}
	s.deps, s.promote, s.builds, s.capture = deps, deps.Promote, deps.Builds, deps.Capture
	s.router = s.routesTable()
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Router exposes the chi router, for tests that walk every route.
func (s *Server) Router() chi.Router { return s.router }

// Routes returns every route with the access rule it declared.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, r := range s.routes {
		out[i] = RouteInfo{Method: r.method, Pattern: r.pattern, Access: r.access.String()}
	}
	return out
}

// Ready reports whether the server can do useful work: the database answers
// with the schema this build needs and the job client runs.
func (s *Server) Ready(ctx context.Context) map[string]string {
	problems := map[string]string{}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.dbDown.Store(true)
		problems["database"] = "unreachable"
		return problems
	}
	s.dbDown.Store(false)
	st, err := s.store.SchemaStatus(ctx)
	switch {
	case err != nil:
		problems["schema"] = "unreadable"
	case st.Dirty:
		problems["schema"] = "a migration failed half-way; see `trellis migrate status`"
	case st.Version < st.Latest:
		problems["schema"] = "behind this build; run `trellis migrate up`"
	case st.Version > st.Latest:
		problems["schema"] = "newer than this build; upgrade Trellis"
	}
	if s.deps.JobsReady != nil && !s.deps.JobsReady() {
		problems["jobs"] = "job client not running"
	}
	return problems
}
