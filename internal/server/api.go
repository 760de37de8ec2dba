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
