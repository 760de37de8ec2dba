// Org health over time and the regression test schedule.

package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerHealthRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/orgs/{id}/regression", needs(alm.PermRestore), s.saveRegression)
	s.handle(r, http.MethodPut, "/api/v1/orgs/{id}/regression", needs(alm.PermRestore), s.apiSaveRegression)
	s.handle(r, http.MethodPost, "/orgs/{id}/regression/run", needs(alm.PermSnapshot), s.runRegression)
	s.handle(r, http.MethodPost, "/api/v1/orgs/{id}/regression/run", needs(alm.PermSnapshot), s.runRegression)
	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/health", needs(alm.PermView), s.apiHealth)
}

// orgTrends gathers an org's health over the last weeks: API use and
// coverage from the daily readings, deploy failures per week, and flaky
// tests from the last twenty runs.
func (s *Server) orgTrends(r *http.Request, orgID int64) (web.OrgTrendView, error) {
	ctx := r.Context()
	var v web.OrgTrendView
	since := s.store.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -7*12)
	samples, err := s.store.HealthSamples(ctx, orgID, since)
	if err != nil {
		return v, err
	}
	for _, h := range samples {
		if h.APIMax > 0 {
			pct := float64(h.APIUsed) / float64(h.APIMax)
			v.APIUse = append(v.APIUse, alm.Point{Start: h.At, Value: &pct, Count: h.APIUsed})
		}
		if h.Coverage != nil {
			c := float64(*h.Coverage) / 100
			v.Coverage = append(v.Coverage, alm.Point{Start: h.At, Value: &c, Count: 1})
		}
		v.APIVersion = h.APIVersion
	}
	at, failed, err := s.store.DeployOutcomes(ctx, orgID, since)
	if err != nil {
		return v, err
	}
	for w := range 12 {
		start := since.AddDate(0, 0, 7*w)
		var n, f int
		for i, t := range at {
			if !t.Before(start) && t.Before(start.AddDate(0, 0, 7)) {
				n++
				if failed[i] {
					f++
				}
			}
		}
		fv := float64(f)
		v.DeployFailures = append(v.DeployFailures, alm.Point{Start: start, Value: &fv, Count: n})
	}
	history, err := s.store.TestHistory(ctx, orgID, 20)
	if err != nil {
		return v, err
	}
	v.Flaky = alm.Flaky(history)
	v.Runs = len(history)
	v.Policy, err = s.store.RegressionPolicy(ctx, orgID)
	return v, err
}

func (s *Server) apiHealth(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	v, err := s.orgTrends(r, o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	samples, err := s.store.HealthSamples(r.Context(), o.ID, time.Time{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flaky := v.Flaky
	if flaky == nil {
		flaky = []alm.FlakyTest{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"samples": samples, "deploy_failures": v.DeployFailures, "flaky": flaky, "runs_considered": v.Runs, "regression": v.Policy})
}

func (s *Server) saveRegression(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("every")))
	if err != nil {
		n = 0
	}
	if r.PostFormValue("every_unit") != "hours" {
		n *= 24
	}
	cur, err := s.store.RegressionPolicy(r.Context(), o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := alm.RegressionPolicy{OrgID: o.ID, Enabled: r.PostFormValue("regression_enabled") != "", EveryHours: n, EveryDays: cur.EveryDays, OnUpgrade: r.PostFormValue("on_upgrade") != ""}
	if _, err := s.store.SaveRegressionPolicy(r.Context(), p); err != nil {
		s.failBack(w, r, fmt.Sprintf("/orgs/%d/backups#health", o.ID), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d/backups#health", o.ID), "ok", "Regression test schedule saved.")
}

func (s *Server) apiSaveRegression(w http.ResponseWriter, r *http.Request) {
	patchOrgSetting(s, w, r, s.store.RegressionPolicy, s.store.SaveRegressionPolicy, func(p *alm.RegressionPolicy, id int64) { p.OrgID = id })
}

// runRegression starts a regression run now, outside the schedule.
func (s *Server) runRegression(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orgFromPath(w, r)
	if !ok {
		return
	}
	if s.deps.Jobs == nil {
		s.fail(w, r, alm.Errorf(alm.CodeUnavailable, "Background jobs are not running here."))
		return
	}
	t, err := jobs.RunRegressionNow(r.Context(), s.store, s.deps.Jobs, o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if isAPI(r) {
		s.writeJSON(w, http.StatusAccepted, t)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/orgs/%d#test-runs", o.ID), "ok", fmt.Sprintf("Regression run #%d started: all local tests, compared with the run before.", t.ID))
}
