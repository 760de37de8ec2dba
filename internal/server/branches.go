package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gitflow"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

// Version control for a project: which repository holds its metadata and
// how its branches work; a branch per work item.

func (s *Server) registerBranchRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/projects/{project}/git", inProject(alm.PermManagePipeline), s.saveProjectGit)
	s.handle(r, http.MethodPost, "/work-items/{key}/branch", inProject(alm.PermEditWorkItems), s.startWorkItemBranch)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/git", inProject(alm.PermView), s.apiProjectGit)
	s.handle(r, http.MethodPut, "/api/v1/projects/{project}/git", inProject(alm.PermManagePipeline), s.apiSaveProjectGit)
	s.handle(r, http.MethodPost, "/api/v1/work-items/{key}/branch", inProject(alm.PermEditWorkItems), s.apiStartWorkItemBranch)
	s.handle(r, http.MethodGet, "/api/v1/work-items/{key}/branch", inProject(alm.PermView), s.apiWorkItemBranch)
}

// apiWorkItemBranch is the work item page's Branch card as JSON.
func (s *Server) apiWorkItemBranch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	it, err := s.store.WorkItemByKey(ctx, chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.branchView(ctx, it)
	if err == nil && v.Branch.Name == "" {
		err = alm.Errorf(alm.CodeNotFound, "%s has no branch yet.", it.Key)
	}
	if err == nil && v.BranchError != "" {
		err = alm.Errorf(alm.CodeUnavailable, "%s", v.BranchError)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes := []map[string]string{}
	for _, c := range v.BranchChanges {
		changes = append(changes, map[string]string{"type": c.Type, "name": c.Name, "change": c.Change})
	}
	ahead := v.BranchStatus.Ahead
	if ahead == nil {
		ahead = []alm.BranchCommit{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"name": v.Branch.Name, "base": v.Branch.Base, "repository": v.Git.RepositoryName,
		"ahead": ahead, "behind": v.BranchStatus.Behind, "changes": changes})
}

// branchView reads what the Branch card shows: the project's version
// control, the work item's branch and, when it has one, how it stands
// (a repository that cannot be read is a message, not a failure).
func (s *Server) branchView(ctx context.Context, it alm.WorkItem) (web.WorkItemView, error) {
	var v web.WorkItemView
	var err error
	if v.Git, err = s.store.ProjectGit(ctx, it.ProjectID); err != nil || !v.Git.GitBacked() {
		return v, err
	}
	if v.Branch, err = s.store.WorkItemBranch(ctx, it.ID); err != nil || v.Branch.Name == "" {
		return v, err
	}
	if v.Stages, err = s.store.Pipeline(ctx, it.ProjectID); err != nil {
		return v, err
	}
	if v.Merges, err = s.store.ListPromotions(ctx, store.PromotionFilter{WorkItemID: it.ID, Limit: 20}); err != nil {
		return v, err
	}
	orgList, err := s.store.ListOrgs(ctx)
	if err != nil {
		return v, err
	}
	// Developers' own orgs first: that is where changes are made.
	slices.SortStableFunc(orgList, func(a, b alm.Org) int { return devRank(a.Kind) - devRank(b.Kind) })
	for _, o := range orgList {
		if o.Kind != alm.OrgProduction && o.Status != alm.OrgDisconnected {
			v.Sandboxes = append(v.Sandboxes, web.Option{Value: strconv.FormatInt(o.ID, 10), Label: o.Name + " (" + o.Kind.Label() + ")"})
		}
	}
	svc, err := s.repoService()
	if err != nil {
		v.BranchError = alm.ErrorMessage(err)
		return v, nil
	}
	st, err := svc.BranchStatus(ctx, *v.Git.RepositoryID, v.Branch.Name, v.Branch.Base)
	if err != nil {
		v.BranchError = alm.ErrorMessage(err)
		return v, nil
	}
	v.BranchStatus = &st
	if changes, err := svc.BranchChanges(ctx, *v.Git.RepositoryID, v.Branch.Name, v.Branch.Base); err == nil {
		for _, c := range changes {
			v.BranchChanges = append(v.BranchChanges, web.BranchChange{Type: c.Key.Type, Name: c.Key.Name, Change: string(c.Change)})
		}
	}
	return v, nil
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
	g, err := s.setProjectGit(r.Context(), sc.Project.ID, repoID, r.PostFormValue("branching"), r.PostFormValue("back_propagate") != "")
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

// setProjectGit saves a project's version control and, for a repository,
// records each stage branch's head as what its org holds now: "branch
// ahead of org" is measured from there.
func (s *Server) setProjectGit(ctx context.Context, projectID int64, repoID *int64, branching string, backPropagate bool) (alm.ProjectGit, error) {
	g, err := s.store.SetProjectGit(ctx, projectID, repoID, branching, backPropagate)
	if err != nil || !g.GitBacked() {
		return g, err
	}
	svc, err := s.repoService()
	if err != nil {
		return g, err
	}
	if err := gitflow.New(s.store, svc).Baseline(ctx, projectID); err != nil && alm.ErrorCode(err) != alm.CodeInvalid {
		return g, err
	}
	return g, nil
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
	back := "/work-items/" + strings.ToUpper(chi.URLParam(r, "key"))
	b, err := s.startBranch(r)
	switch {
	case errors.Is(err, errHasBranch):
		s.redirect(w, r, back, "ok", strings.ToUpper(chi.URLParam(r, "key"))+" already works on "+b.Name+".")
	case err != nil:
		s.failBack(w, r, back, err)
	default:
		s.redirect(w, r, back, "ok", "Branch "+b.Name+" made from "+b.Base+".")
	}
}

var errHasBranch = errors.New("the work item has its branch already")

// startBranch gives the work item of the request its branch.
func (s *Server) startBranch(r *http.Request) (alm.WorkBranch, error) {
	ctx := r.Context()
	it, err := s.store.WorkItemByKey(ctx, chi.URLParam(r, "key"))
	if err != nil {
		return alm.WorkBranch{}, err
	}
	g, err := s.store.ProjectGit(ctx, it.ProjectID)
	if err != nil {
		return alm.WorkBranch{}, err
	}
	if !g.GitBacked() {
		return alm.WorkBranch{}, alm.Errorf(alm.CodeConflict, "This project keeps no repository: choose one on the pipeline page first.")
	}
	if b, err := s.store.WorkItemBranch(ctx, it.ID); err == nil && b.Name != "" {
		return b, errHasBranch
	}
	svc, err := s.repoService()
	if err != nil {
		return alm.WorkBranch{}, err
	}
	base, err := s.branchBase(r, it.ProjectID, g)
	if err != nil {
		return alm.WorkBranch{}, err
	}
	name, err := s.newBranchName(ctx, it)
	if err != nil {
		return alm.WorkBranch{}, err
	}
	b := alm.WorkBranch{Name: name, Base: base}
	if err := svc.StartBranch(ctx, *g.RepositoryID, b.Name, b.Base); err != nil {
		return alm.WorkBranch{}, err
	}
	return b, s.store.SetWorkItemBranch(ctx, it.ID, b)
}

func (s *Server) apiSaveProjectGit(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RepositoryID  *int64 `json:"repository_id"`
		Branching     string `json:"branching"`
		BackPropagate *bool  `json:"back_propagate"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.Branching == "" {
		body.Branching = alm.BranchingEnvironment
	}
	back := body.BackPropagate == nil || *body.BackPropagate
	g, err := s.setProjectGit(r.Context(), scopeFrom(r.Context()).Project.ID, body.RepositoryID, body.Branching, back)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, g)
}

func (s *Server) apiStartWorkItemBranch(w http.ResponseWriter, r *http.Request) {
	b, err := s.startBranch(r)
	if errors.Is(err, errHasBranch) {
		err = alm.Errorf(alm.CodeConflict, "%s already works on %s.", strings.ToUpper(chi.URLParam(r, "key")), b.Name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, b)
}

func devRank(k alm.OrgKind) int {
	switch k {
	case alm.OrgDeveloperSandbox, alm.OrgScratch, alm.OrgDeveloper:
		return 0
	case alm.OrgPartialSandbox:
		return 1
	}
	return 2
}

// newBranchName is the branch a work item's branch would get. It names
// the tracker's issue too, so the git host's own tracker integration
// links it.
func (s *Server) newBranchName(ctx context.Context, it alm.WorkItem) (string, error) {
	key := it.Key
	kind, issue, err := s.store.WorkItemIssue(ctx, it.ID)
	if err != nil {
		return "", err
	}
	if issue != "" {
		key += "-" + alm.TrackerBranchMention(kind, issue)
	}
	return alm.BranchName(key, it.Title), nil
}
