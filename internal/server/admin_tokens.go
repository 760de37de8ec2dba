package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerAdminTokenRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/admin/tokens", needs(alm.PermManageTokens), s.tokensPage)
	s.handle(r, http.MethodPost, "/admin/tokens/{id}/revoke", needs(alm.PermManageTokens), s.revokeAnyToken)
}

func (s *Server) tokensPage(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.store.ListTokens(r.Context(), nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(w, r, "API tokens", "admin-tokens")
	s.render(w, r, http.StatusOK, web.Tokens(web.TokensView{Page: p, Tokens: tokens}))
}

func (s *Server) revokeAnyToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = s.store.RevokeToken(r.Context(), id, nil)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, "/admin/tokens", "ok", "The token is revoked.")
}
