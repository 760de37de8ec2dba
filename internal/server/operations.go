package server

import (
	"crypto/subtle"
	"io/fs"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerOperationsRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/healthz", public, s.healthz)
	s.handle(r, http.MethodGet, "/readyz", public, s.readyz)
	s.handle(r, http.MethodGet, "/metrics", public, s.metricsHandler)
	static, _ := fs.Sub(web.Static, "static")
	files := http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	s.handle(r, http.MethodGet, "/static/*", public, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// healthz says the process is up; it touches nothing else, so an
// orchestrator does not restart Trellis because the database is down.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether Trellis can serve: 503 with the reasons otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	problems := s.Ready(r.Context())
	if len(problems) > 0 {
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "problems": problems})
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) {
	if s.cfg.MetricsToken == "" && s.cfg.MetricsClosed {
		s.fail(w, r, alm.Errorf(alm.CodeForbidden, "Metrics are not served here without a token: set TRELLIS_METRICS_TOKEN, or TRELLIS_METRICS_ADDR to serve them on a listener of their own."))
		return
	}
	if s.cfg.MetricsToken != "" {
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.MetricsToken)) != 1 {
			s.fail(w, r, alm.Errorf(alm.CodeUnauthorized, "Metrics need Authorization: Bearer <TRELLIS_METRICS_TOKEN>."))
			return
		}
	}
	s.metrics.handler.ServeHTTP(w, r)
}

// MetricsHandler serves the Prometheus metrics without a token, for a
// listener of their own (TRELLIS_METRICS_ADDR) on an internal network.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler }
