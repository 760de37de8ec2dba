package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerRepoRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/repositories/new", needs(alm.PermManageOrgs), s.newRepoPage)
	s.handle(r, http.MethodPost, "/repositories", needs(alm.PermManageOrgs), s.connectRepo)
	s.handle(r, http.MethodGet, "/repositories/{id}", needs(alm.PermView), s.repoPage)
	s.handle(r, http.MethodPost, "/repositories/{id}/snapshots", needs(alm.PermSnapshot), s.snapshotRepo)
	s.handle(r, http.MethodGet, "/api/v1/repositories", needs(alm.PermView), s.apiRepos)
	s.handle(r, http.MethodPost, "/api/v1/repositories", needs(alm.PermManageOrgs), s.apiConnectRepo)
	s.handle(r, http.MethodPost, "/api/v1/repositories/{id}/snapshots", needs(alm.PermSnapshot), s.apiSnapshotRepo)
	s.handle(r, http.MethodPut, "/api/v1/repositories/{id}/host", needs(alm.PermManageOrgs), s.apiRepoHost)
}

func (s *Server) repoService() (*repos.Service, error) {
	if s.deps.Repos == nil {
		return nil, alm.Errorf(alm.CodeUnavailable, "Repositories are not configured on this server.")
	}
	return s.deps.Repos, nil
}

func (s *Server) renderRepoForm(w http.ResponseWriter, r *http.Request, status int, f web.Form) {
	delete(f.Values, "secret")
	p := s.page(w, r, "Connect a repository", "develop", developCrumb, web.Crumb{Label: "Connect a repository"})
	s.render(w, r, status, web.RepoForm(web.RepoFormView{Page: p, Form: f}))
}

func (s *Server) newRepoPage(w http.ResponseWriter, r *http.Request) {
	f := emptyForm()
	f.Values["auth"] = "token"
	s.renderRepoForm(w, r, http.StatusOK, f)
}

func (s *Server) connectRepo(w http.ResponseWriter, r *http.Request) {
	svc, err := s.repoService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := formOf(r, "name", "url", "auth", "secret", "branch")
	repo, err := svc.Connect(r.Context(), repos.NewRepo{Name: f.Value("name"), URL: f.Value("url"), AuthKind: f.Value("auth"), Secret: f.Value("secret"), Branch: f.Value("branch"),
		Host: f.Value("host"), HostAPI: f.Value("host_api")})
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderRepoForm(w, r, statusOf(alm.ErrorCode(err)), withError(f, err))
		return
	}
	s.redirect(w, r, fmt.Sprintf("/repositories/%d", repo.ID), "ok", repo.Name+" is connected and mirrored.")
}

func (s *Server) repoFromPath(w http.ResponseWriter, r *http.Request) (alm.Repository, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That repository was not found."))
		return alm.Repository{}, false
	}
	repo, err := s.store.RepositoryByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return repo, false
	}
	return repo, true
}

func (s *Server) repoPage(w http.ResponseWriter, r *http.Request) {
	svc, err := s.repoService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	repo, ok := s.repoFromPath(w, r)
	if !ok {
		return
	}
	branches, err := svc.Branches(r.Context(), repo.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	snaps, err := s.store.ListRepoSnapshots(r.Context(), repo.ID, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(w, r, repo.Name, "develop", developCrumb, web.Crumb{Label: repo.Name})
	s.render(w, r, http.StatusOK, web.RepoPage(web.RepoView{Page: p, Repo: repo, Branches: branches, Snapshots: snaps,
		CanSnapshot: callerFrom(r.Context()).User.Role.Can(alm.PermSnapshot)}))
}

func (s *Server) beginRepoSnapshot(r *http.Request, repo alm.Repository, ref string) (alm.Snapshot, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		ref = repo.DefaultBranch
	}
	return s.queueSnapshot(r, store.NewSnapshot{Source: "git", RepoID: &repo.ID, Ref: ref, Label: ref})
}

func (s *Server) snapshotRepo(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFromPath(w, r)
	if !ok {
		return
	}
	sn, err := s.beginRepoSnapshot(r, repo, r.PostFormValue("ref"))
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/repositories/%d", repo.ID), err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/snapshots/%d", sn.ID), http.StatusSeeOther)
}

func (s *Server) apiRepos(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.ListRepositories(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiConnectRepo(w http.ResponseWriter, r *http.Request) {
	svc, err := s.repoService()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b struct {
		Name   string `json:"name"`
		URL    string `json:"url"`
		Auth   string `json:"auth"`
		Secret string `json:"secret"`
		Branch string `json:"branch"`
		Host   string `json:"host"`
		API    string `json:"host_api"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	repo, err := svc.Connect(r.Context(), repos.NewRepo{Name: b.Name, URL: b.URL, AuthKind: b.Auth, Secret: b.Secret, Branch: b.Branch, Host: b.Host, HostAPI: b.API})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/repositories/%d", repo.ID), repo)
}

func (s *Server) apiSnapshotRepo(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFromPath(w, r)
	if !ok {
		return
	}
	var b struct {
		Ref string `json:"ref"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &b); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	sn, err := s.beginRepoSnapshot(r, repo, b.Ref)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, sn)
}

// apiRepoHost says which git host's pull-request API the repository uses.
func (s *Server) apiRepoHost(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFromPath(w, r)
	if !ok {
		return
	}
	var b struct {
		Host string `json:"host"`
		API  string `json:"host_api"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	svc, err := s.repoService()
	if err == nil {
		repo, err = svc.SetHost(r.Context(), repo.ID, b.Host, b.API)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, repo)
}
