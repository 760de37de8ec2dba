package server

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerAuthRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/login", public, s.loginPage)
	s.handle(r, http.MethodPost, "/login", public, s.login)
	s.handle(r, http.MethodPost, "/logout", public, s.logout)
	s.handle(r, http.MethodGet, "/setup", public, s.setupPage)
	s.handle(r, http.MethodPost, "/setup", public, s.setup)
	s.handle(r, http.MethodGet, "/auth/oidc/start", public, s.oidcStart)
	s.handle(r, http.MethodGet, "/auth/oidc/callback", public, s.oidcCallback)
}

func (s *Server) loginView(w http.ResponseWriter, r *http.Request, f web.Form, next string) web.LoginView {
	return web.LoginView{Form: f, CSRF: s.csrfToken(r), SSO: s.deps.OIDC != nil, Next: safeNext(next), Flash: s.popFlash(w, r)}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if c := callerFrom(r.Context()); c != nil && c.Session != nil {
		http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
		return
	}
	f := web.Form{Values: map[string]string{}}
	s.render(w, r, http.StatusOK, web.Login(s.loginView(w, r, f, next)))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	f := formOf(r, "email")
	next := r.PostFormValue("next")
	if !s.limiter.allow(r.Context(), clientIP(r)) {
		f.Message = "Too many sign-in attempts from your address. Wait a minute and try again."
		s.render(w, r, http.StatusTooManyRequests, web.Login(s.loginView(w, r, f, next)))
		return
	}
	u, err := s.auth.Login(r.Context(), r.PostFormValue("email"), r.PostFormValue("password"))
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, statusOf(alm.ErrorCode(err)), web.Login(s.loginView(w, r, withError(f, err), next)))
		return
	}
	s.signIn(w, r, u, "password", next, "")
}

// signIn starts a fresh session (a new id every time: no session fixation)
// and sends the browser on.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, u alm.User, method, next, welcome string) {
	value, _, err := s.auth.StartSession(r.Context(), u, method, clientIP(r), r.UserAgent())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, s.sessionCookie(), value, int(s.auth.Config().MaxAge.Seconds()))
	if u.MustChangePassword {
		http.Redirect(w, r, "/account/password", http.StatusSeeOther)
		return
	}
	s.redirect(w, r, safeNext(next), "ok", welcome)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(s.sessionCookie()); err == nil {
		if err := s.auth.EndSession(r.Context(), ck.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearCookie(w, s.sessionCookie())
	s.redirect(w, r, "/login", "ok", "You are signed out.")
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	if s.setupFinished(w, r) {
		return
	}
	s.render(w, r, http.StatusOK, web.Setup(web.SetupView{Form: web.Form{Values: map[string]string{}}, CSRF: s.csrfToken(r)}))
}

// setupFinished redirects to sign-in once an admin exists.
func (s *Server) setupFinished(w http.ResponseWriter, r *http.Request) bool {
	n, err := s.store.CountUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return true
	}
	if n > 0 {
		s.redirect(w, r, "/login", "info", "Trellis is already set up. Sign in.")
		return true
	}
	return false
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	if s.setupFinished(w, r) {
		return
	}
	f := formOf(r, "name", "email")
	n := alm.NewUser{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Password: r.PostFormValue("password")}
	var err error
	if r.PostFormValue("password") != r.PostFormValue("confirm") {
		err = alm.Invalid(map[string]string{"confirm": "The two passwords differ."})
	} else {
		var u alm.User
		ctx := alm.WithActor(r.Context(), alm.Actor{Label: "setup page", RequestID: requestIDFrom(r.Context()), IP: clientIP(r)})
		u, err = s.auth.SetupFirstAdmin(ctx, n)
		if err == nil {
			s.setupDone.Store(true)
			s.log.InfoContext(r.Context(), "first admin created through the setup page", slog.Int64("user_id", u.ID))
			s.signIn(w, r, u, "password", "/", "Welcome to Trellis. You are the first admin; invite your team under Users & roles.")
			return
		}
	}
	if alm.ErrorCode(err) == alm.CodeInternal {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, statusOf(alm.ErrorCode(err)), web.Setup(web.SetupView{Form: withError(f, err), CSRF: s.csrfToken(r)}))
}

func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.deps.OIDC == nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "Single sign-on is not configured on this installation."))
		return
	}
	target, cookie, err := s.deps.OIDC.Begin(r.Context(), safeNext(r.URL.Query().Get("next")), s.store.Now())
	if err != nil {
		s.loginError(w, r, err)
		return
	}
	s.setCookie(w, s.oidcCookie(), cookie, 600)
	http.Redirect(w, r, target, http.StatusFound)
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.deps.OIDC == nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "Single sign-on is not configured on this installation."))
		return
	}
	ck, err := r.Cookie(s.oidcCookie())
	cookie := ""
	if err == nil {
		cookie = ck.Value
	}
	s.clearCookie(w, s.oidcCookie())
	id, next, err := s.deps.OIDC.Finish(r.Context(), r, cookie, s.store.Now())
	if err != nil {
		s.loginError(w, r, err)
		return
	}
	u, err := s.auth.SignIn(r.Context(), s.deps.OIDC, id)
	if err != nil {
		s.loginError(w, r, err)
		return
	}
	s.signIn(w, r, u, "single sign-on", next, "")
}

// loginError shows a failed SSO sign-in on the sign-in page, where the user
// can retry or use a password.
func (s *Server) loginError(w http.ResponseWriter, r *http.Request, err error) {
	if alm.ErrorCode(err) == alm.CodeInternal {
		s.fail(w, r, err)
		return
	}
	_ = s.store.Audit(r.Context(), alm.Audit(r.Context(), "session.sso_failed", "", "", alm.ErrorMessage(err)))
	f := web.Form{Values: map[string]string{}, Message: alm.ErrorMessage(err)}
	s.render(w, r, statusOf(alm.ErrorCode(err)), web.Login(s.loginView(w, r, f, "/")))
}
