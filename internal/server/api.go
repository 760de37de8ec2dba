package server

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

func (s *Server) registerAPIRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/api/v1/me", needs(alm.PermView), s.apiMe)
	s.registerPlanAPI(r)
}

// MeResponse is GET /api/v1/me: who the caller is and how they signed in.
type MeResponse struct {
	ID    int64      `json:"id"`
	Email string     `json:"email"`
	Name  string     `json:"name"`
	Role  string     `json:"role"`
	Auth  string     `json:"auth"` // "token" or "session"
	Token *MeToken   `json:"token,omitempty"`
	Since *time.Time `json:"last_login_at,omitempty"`
}

// MeToken describes the API token used for the call.
type MeToken struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	resp := MeResponse{ID: c.User.ID, Email: c.User.Email, Name: c.User.Name, Role: string(c.User.Role), Auth: "session", Since: c.User.LastLoginAt}
	if c.Token != nil {
		resp.Auth = "token"
		resp.Token = &MeToken{ID: c.Token.ID, Name: c.Token.Name, Prefix: c.Token.Prefix, ExpiresAt: c.Token.ExpiresAt}
	}
	s.writeJSON(w, http.StatusOK, resp)
}

// registerPlanAPI adds the Plan stage's JSON API. Every list takes the
// same filters as its page and pages with next_cursor; updates are PATCH
// with the revision read ("version", or an If-Match header), so that no
// edit silently overwrites another.
func (s *Server) registerPlanAPI(r chi.Router) {
	s.handle(r, http.MethodGet, "/api/v1/projects", needs(alm.PermView), s.apiProjects)
	s.handle(r, http.MethodPost, "/api/v1/projects", needs(alm.PermCreateProject), s.apiCreateProject)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}", inProject(alm.PermView), s.apiProject)

	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/requirements", inProject(alm.PermView), s.apiRequirements)
	s.handle(r, http.MethodPost, "/api/v1/projects/{project}/requirements", inProject(alm.PermEditRequirements), s.apiCreateRequirement)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/requirements/{key}", inProject(alm.PermView), s.apiRequirement)
	s.handle(r, http.MethodPatch, "/api/v1/projects/{project}/requirements/{key}", inProject(alm.PermMoveRequirements), s.apiUpdateRequirement)
	s.handle(r, http.MethodGet, "/api/v1/requirements/{key}/comments", inProject(alm.PermView), s.apiComments)
	s.handle(r, http.MethodPost, "/api/v1/requirements/{key}/comments", inProject(alm.PermComment), s.apiCreateComment)
	s.handle(r, http.MethodPatch, "/api/v1/requirements/{key}/comments/{comment}", inProject(alm.PermComment), s.apiResolveComment)
	s.handle(r, http.MethodGet, "/api/v1/requirements/{key}/lineage", inProject(alm.PermView), s.apiLineage)

	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/work-items", inProject(alm.PermView), s.apiWorkItems)
	s.handle(r, http.MethodPost, "/api/v1/projects/{project}/work-items", inProject(alm.PermEditWorkItems), s.apiCreateWorkItem)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/work-items/{key}", inProject(alm.PermView), s.apiWorkItem)
	s.handle(r, http.MethodPatch, "/api/v1/projects/{project}/work-items/{key}", inProject(alm.PermEditWorkItems), s.apiUpdateWorkItem)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/board", inProject(alm.PermView), s.apiBoard)

	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/releases", inProject(alm.PermView), s.apiReleases)
	s.handle(r, http.MethodPost, "/api/v1/projects/{project}/releases", inProject(alm.PermManageReleases), s.apiCreateRelease)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/releases/{id}", inProject(alm.PermView), s.apiRelease)
	s.handle(r, http.MethodPatch, "/api/v1/projects/{project}/releases/{id}", inProject(alm.PermManageReleases), s.apiUpdateRelease)

	s.handle(r, http.MethodGet, "/api/v1/search", needs(alm.PermView), s.apiSearch)
	s.handle(r, http.MethodGet, "/api/v1/openapi.json", public, s.apiOpenAPI)
}
