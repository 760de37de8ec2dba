package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

// The Build and Test hubs: builds, validations and Apex test runs across
// projects, filtered by project, release, stage and outcome.

func (s *Server) hubFilters(r *http.Request, outcomes []web.Option) (store.HubFilter, web.HubFilters, error) {
	ctx := r.Context()
	q := r.URL.Query()
	f := store.HubFilter{Project: strings.ToUpper(strings.TrimSpace(q.Get("project"))), Stage: strings.TrimSpace(q.Get("stage")), Outcome: q.Get("outcome")}
	f.Release, _ = strconv.ParseInt(q.Get("release"), 10, 64)
	v := web.HubFilters{Project: f.Project, Stage: f.Stage, Outcome: f.Outcome, Release: f.Release, Outcomes: outcomes}
	projects, err := s.store.ListProjects(ctx, callerFrom(ctx).User.ID)
	if err != nil {
		return f, v, err
	}
	seen := map[string]bool{}
	for _, p := range projects {
		v.Projects = append(v.Projects, web.Option{Value: p.Key, Label: p.Key + " — " + p.Name})
		if f.Project != "" && p.Key != f.Project {
			continue
		}
		stages, err := s.store.Pipeline(ctx, p.ID)
		if err != nil {
			return f, v, err
		}
		for _, st := range stages {
			if !seen[strings.ToLower(st.Name)] {
				seen[strings.ToLower(st.Name)] = true
				v.Stages = append(v.Stages, st.Name)
			}
		}
		if f.Project == p.Key {
			rels, err := s.store.ListReleases(ctx, p.ID)
			if err != nil {
				return f, v, err
			}
			for _, rel := range rels {
				v.Releases = append(v.Releases, web.Option{Value: strconv.FormatInt(rel.ID, 10), Label: rel.Name})
			}
		}
	}
	return f, v, nil
}

func (s *Server) buildHub(w http.ResponseWriter, r *http.Request) {
	f, fv, err := s.hubFilters(r, []web.Option{{Value: "validated", Label: "Validated"}, {Value: "failed", Label: "Validation failed"}, {Value: "unvalidated", Label: "Not validated"}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.store.HubBuilds(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if isAPI(r) {
		if list == nil {
			list = []alm.BuildSummary{}
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
		return
	}
	s.render(w, r, http.StatusOK, web.BuildHub(web.BuildHubView{Page: s.page(w, r, "Build", "build"), Filters: fv, Builds: list}))
}

func (s *Server) testHub(w http.ResponseWriter, r *http.Request) {
	f, fv, err := s.hubFilters(r, []web.Option{{Value: "succeeded", Label: "Succeeded / passed"}, {Value: "failed", Label: "Failed"}, {Value: "running", Label: "Running"}})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vals, err := s.store.HubValidations(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var runs []alm.TestRunSummary
	if f.Release == 0 { // test runs belong to orgs, not releases
		if runs, err = s.store.HubTestRuns(r.Context(), f); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, web.TestHub(web.TestHubView{Page: s.page(w, r, "Test", "test"), Filters: fv, Validations: vals, TestRuns: runs}))
}
