package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerAccountRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/account", needs(alm.PermOwnAccount), s.accountPage)
	s.handle(r, http.MethodGet, "/account/password", needs(alm.PermOwnAccount), s.passwordPage)
	s.handle(r, http.MethodPost, "/account/password", needs(alm.PermOwnAccount), s.changePassword)
	s.handle(r, http.MethodPost, "/account/tokens", needs(alm.PermOwnAccount), s.createOwnToken)
	s.handle(r, http.MethodPost, "/account/tokens/{id}/revoke", needs(alm.PermOwnAccount), s.revokeOwnToken)
}

// renderAccount shows the account page with the given forms.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, pw, tok web.Form, newToken string) {
	c := callerFrom(r.Context())
	tokens, err := s.store.ListTokens(r.Context(), &c.User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(w, r, "Your account", "account")
	s.render(w, r, status, web.Account(web.AccountView{Page: p, User: c.User, PasswordForm: pw, TokenForm: tok, Tokens: tokens, NewToken: newToken}))
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, http.StatusOK, emptyForm(), emptyForm(), "")
}

// passwordPage is where a user with a temporary password must go; others
// change their password on the account page.
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	if !c.User.MustChangePassword {
		http.Redirect(w, r, "/account#password", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, web.ForcedPassword(web.ForcedPasswordView{Form: emptyForm(), CSRF: s.csrfToken(r), Name: c.User.Name}))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	var sessionHash []byte
	if c.Session != nil {
		sessionHash = c.Session.IDHash
	}
	next, confirm := r.PostFormValue("new"), r.PostFormValue("confirm")
	var err error
	if next != confirm {
		err = alm.Invalid(map[string]string{"confirm": "The two new passwords differ."})
	} else {
		err = s.auth.ChangePassword(r.Context(), c.User, sessionHash, r.PostFormValue("current"), next)
	}
	if err == nil {
		target := "/account"
		if c.User.MustChangePassword {
			target = "/"
		}
		s.redirect(w, r, target, "ok", "Your password is changed. Your other sessions were signed out.")
		return
	}
	if alm.ErrorCode(err) == alm.CodeInternal {
		s.fail(w, r, err)
		return
	}
	f := withError(emptyForm(), err)
	if c.User.MustChangePassword {
		s.render(w, r, statusOf(alm.ErrorCode(err)), web.ForcedPassword(web.ForcedPasswordView{Form: f, CSRF: s.csrfToken(r), Name: c.User.Name}))
		return
	}
	s.renderAccount(w, r, statusOf(alm.ErrorCode(err)), f, emptyForm(), "")
}

// tokenTTL reads the "expires" choice in days; 0 means never.
func tokenTTL(v string) (time.Duration, error) {
	if v == "" {
		return 90 * 24 * time.Hour, nil
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 0 || days > 3650 {
		return 0, alm.Invalid(map[string]string{"expires": "Choose when the token expires."})
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

func (s *Server) createOwnToken(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	f := formOf(r, "name", "expires")
	ttl, err := tokenTTL(f.Value("expires"))
	var value string
	if err == nil {
		value, _, err = s.auth.CreateToken(r.Context(), c.User, f.Value("name"), ttl)
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderAccount(w, r, statusOf(alm.ErrorCode(err)), emptyForm(), withError(f, err), "")
		return
	}
	// The secret is shown in this response only; a redirect would need to
	// carry it somewhere, and it must not rest anywhere.
	s.renderAccount(w, r, http.StatusCreated, emptyForm(), emptyForm(), value)
}

func (s *Server) revokeOwnToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		c := callerFrom(r.Context())
		err = s.store.RevokeToken(r.Context(), id, &c.User.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, "/account#tokens", "ok", "The token is revoked.")
}
