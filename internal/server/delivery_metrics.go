// Delivery metrics: the four DORA series of a project, by week.

package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerMetricsRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/projects/{project}/metrics", inProject(alm.PermView), s.metricsPage)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/metrics", inProject(alm.PermView), s.apiMetrics)
}

// metricsWeeks reads the period: 12 weeks unless asked for 1 to 104.
func metricsWeeks(r *http.Request) int {
	w, err := strconv.Atoi(r.URL.Query().Get("weeks"))
	if err != nil || w < 1 || w > 104 {
		return 12
	}
	return w
}

func (s *Server) dora(r *http.Request, projectID int64, weeks int) (alm.DORA, error) {
	// Weeks end at the next midnight (UTC), so a week's bucket is stable
	// through the day.
	to := s.store.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.Add(-time.Duration(weeks) * 7 * 24 * time.Hour)
	deps, err := s.store.ProductionDeployments(r.Context(), projectID, from, to)
	if err != nil {
		return alm.DORA{}, err
	}
	return alm.ComputeDORA(deps, from, to), nil
}

func (s *Server) metricsPage(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "metrics")
	weeks := metricsWeeks(r)
	d, err := s.dora(r, sc.Project.ID, weeks)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, "Metrics", web.Crumb{Label: "Delivery metrics"})
	s.render(w, r, http.StatusOK, web.Metrics(web.MetricsView{Page: p, Scope: sc, Weeks: weeks, DORA: d}))
}

func (s *Server) apiMetrics(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	d, err := s.dora(r, sc.Project.ID, metricsWeeks(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"project": sc.Project.Key, "metrics": d, "definitions": alm.DORADefinitions})
}
