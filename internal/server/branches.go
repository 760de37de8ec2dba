package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// Version control for a project: which repository holds its metadata and
// how its branches work; a branch per work item.

func (s *Server) registerBranchRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/projects/{project}/git", inProject(alm.PermManagePipeline), s.saveProjectGit)
	s.handle(r, http.MethodPost, "/work-items/{key}/branch", inProject(alm.PermEditWorkItems), s.startWorkItemBranch)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/git", inProject(alm.PermView), s.apiProjectGit)
}

func (s *Server) saveProjectGit(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	back := "/projects/" + sc.Project.Key + "/pipeline#version-control"
	var repoID *int64
	if v := strings.TrimSpace(r.PostFormValue("repository_id")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.failBack(w, r, back, alm.Invalid(map[string]string{"repository_id": "Choose a connected repository."}))
			return
		}
		repoID = &id
	}
	g, err := s.store.SetProjectGit(r.Context(), sc.Project.ID, repoID, r.PostFormValue("branching"))
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	msg := sc.Project.Key + " keeps its metadata in org snapshots only."
	if g.GitBacked() {
		msg = sc.Project.Key + " keeps its metadata in " + g.RepositoryName + "."
	}
	s.redirect(w, r, back, "ok", msg)
}

func (s *Server) apiProjectGit(w http.ResponseWriter, r *http.Request) {
	g, err := s.store.ProjectGit(r.Context(), scopeFrom(r.Context()).Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, g)
}

// branchBase is where a work item's branch starts: the first stage's
// branch, else the repository's default branch.
func (s *Server) branchBase(r *http.Request, projectID int64, g alm.ProjectGit) (string, error) {
	stages, err := s.store.Pipeline(r.Context(), projectID)
	if err != nil {
		return "", err
	}
	if len(stages) > 0 && stages[0].Branch != "" && g.Branching == alm.BranchingEnvironment {
		return stages[0].Branch, nil
	}
	return g.DefaultBranch, nil
}

func (s *Server) startWorkItemBranch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := strings.ToUpper(chi.URLParam(r, "key"))
	back := "/work-items/" + key
	it, err := s.store.WorkItemByKey(ctx, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.store.ProjectGit(ctx, it.ProjectID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !g.GitBacked() {
		s.failBack(w, r, back, alm.Errorf(alm.CodeConflict, "This project keeps no repository: choose one on the pipeline page first."))
		return
	}
	if b, err := s.store.WorkItemBranch(ctx, it.ID); err == nil && b.Name != "" {
		s.redirect(w, r, back, "ok", key+" already works on "+b.Name+".")
		return
	}
	svc, err := s.repoService()
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	base, err := s.branchBase(r, it.ProjectID, g)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b := alm.WorkBranch{Name: alm.BranchName(it.Key, it.Title), Base: base}
	if err := svc.StartBranch(ctx, *g.RepositoryID, b.Name, b.Base); err != nil {
		s.failBack(w, r, back, err)
		return
	}
	if err := s.store.SetWorkItemBranch(ctx, it.ID, b); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, back, "ok", "Branch "+b.Name+" made from "+b.Base+".")
}
