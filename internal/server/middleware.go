package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	callerKey
	csrfSeedKey
)

type caller = auth.Caller

func callerFrom(ctx context.Context) *caller {
	c, _ := ctx.Value(callerKey).(*caller)
	return c
}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// requestID gives every request an id (a sane inbound X-Request-Id is kept,
// so ids follow a request through proxies) and echoes it in the response.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func saneID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// recoverer turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request", slog.String("request_id", requestIDFrom(r.Context())),
					slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
				s.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// observe logs each request and feeds the duration histogram, labelled by
// route pattern (not path) so the metric's cardinality stays bounded.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		d := time.Since(start)
		pattern := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			pattern = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		s.metrics.observe(r.Method, pattern, status, d)
		level := slog.LevelInfo
		if strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", pattern),
			slog.Int("status", status), slog.Duration("duration", d), slog.Int("bytes", ww.BytesWritten()),
			slog.String("request_id", requestIDFrom(r.Context())),
		}
		if c := callerFrom(r.Context()); c != nil {
			attrs = append(attrs, slog.Int64("user_id", c.User.ID))
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// csp forbids inline script and style and any third-party origin. River's
// UI (a prebuilt single-page app) sets inline styles, so its mount gets
// 'unsafe-inline' for styles only.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

const cspJobsUI = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if strings.HasPrefix(r.URL.Path, "/admin/jobs/") {
			h.Set("Content-Security-Policy", cspJobsUI)
		} else {
			h.Set("Content-Security-Policy", csp)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses state-changing requests that a browser marks as
// coming from another site (Sec-Fetch-Site, then Origin): Go's own CSRF
// defence, in front of the token check.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, alm.Errorf(alm.CodeForbidden, "Cross-site request refused: this action must come from a Trellis page."))
	}))
	return cop.Handler(next)
}

// authenticate identifies the caller from a bearer token or the session
// cookie. A bad bearer token is refused outright rather than treated as
// anonymous, so scripts learn their token is wrong.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var c *caller
		// /metrics reads its own bearer token (TRELLIS_METRICS_TOKEN).
		if h := r.Header.Get("Authorization"); h != "" && r.URL.Path != "/metrics" {
			value, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				s.fail(w, r, alm.Errorf(alm.CodeUnauthorized, "Use Authorization: Bearer <token>."))
				return
			}
			got, err := s.auth.TokenCaller(ctx, strings.TrimSpace(value))
			if err != nil {
				s.fail(w, r, err)
				return
			}
			c = &got
		} else if ck, err := r.Cookie(s.sessionCookie()); err == nil {
			got, err := s.auth.SessionCaller(ctx, ck.Value)
			switch {
			case err == nil:
				c = &got
			case alm.ErrorCode(err) == alm.CodeUnauthorized:
				s.clearCookie(w, s.sessionCookie())
			default:
				s.fail(w, r, err)
				return
			}
		}
		actor := alm.Actor{Label: "anonymous", RequestID: requestIDFrom(ctx), IP: clientIP(r)}
		if c != nil {
			actor.UserID, actor.Label = &c.User.ID, c.User.Email
		}
		ctx = alm.WithActor(context.WithValue(ctx, callerKey, c), actor)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requireSetup sends every page to /setup until the first admin exists.
func (s *Server) requireSetup(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.setupDone.Load() || setupExempt(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		n, err := s.store.CountUsers(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if n > 0 {
			s.setupDone.Store(true)
			next.ServeHTTP(w, r)
			return
		}
		if isAPI(r) {
			s.fail(w, r, alm.Errorf(alm.CodeUnavailable, "Trellis is not set up yet: open it in a browser or run `trellis admin create`."))
			return
		}
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
	})
}

func setupExempt(path string) bool {
	switch path {
	case "/setup", "/healthz", "/readyz", "/metrics", "/api/v1/openapi.json":
		return true
	}
	return strings.HasPrefix(path, "/static/")
}

// checkCSRF requires the form token on state-changing requests made with
// cookies. Bearer-token calls carry no cookie and need none. River's UI
// posts JSON with fetch; it relies on the cross-origin check above and the
// SameSite=Lax session cookie, which browsers withhold from cross-site posts.
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seed := ""
		if ck, err := r.Cookie(s.csrfCookie()); err == nil {
			seed = ck.Value
		}
		present := seed
		if seed == "" && !isAPI(r) {
			seed = s.csrf.NewSeed()
			s.setCookie(w, s.csrfCookie(), seed, 0)
		}
		r = r.WithContext(context.WithValue(r.Context(), csrfSeedKey, seed))
		if safeMethod(r.Method) || strings.HasPrefix(r.URL.Path, "/admin/jobs/") {
			next.ServeHTTP(w, r)
			return
		}
		if c := callerFrom(r.Context()); (c != nil && c.Token != nil) || (c == nil && isAPI(r)) {
			// Bearer tokens are not sent by browsers on their own, and an
			// anonymous API call is better told to sign in (401) by the
			// route's guard than about forms.
			next.ServeHTTP(w, r)
			return
		}
		token := r.Header.Get("X-CSRF-Token")
		if token == "" {
			token = r.PostFormValue("csrf_token")
		}
		if !s.csrf.Valid(present, token) {
			s.fail(w, r, alm.Errorf(alm.CodeForbidden, "This form has expired or was not sent from Trellis (security token missing). Go back, reload the page and try again."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// requirePasswordChange keeps a user with a temporary password on the
// change-password page until they choose their own.
func (s *Server) requirePasswordChange(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := callerFrom(r.Context())
		if c == nil || c.Session == nil || !c.User.MustChangePassword {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case r.URL.Path == "/account/password", r.URL.Path == "/logout", strings.HasPrefix(r.URL.Path, "/static/"):
			next.ServeHTTP(w, r)
		case r.Method == http.MethodGet && !isAPI(r):
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
		default:
			s.fail(w, r, alm.Errorf(alm.CodeForbidden, "Choose a new password first: your current one is temporary."))
		}
	})
}

// checkInput refuses requests whose text cannot be what anyone meant: NUL
// bytes or invalid UTF-8 in the path, the query or a form (PostgreSQL
// could not store them either). It reads forms here, before the CSRF
// check does, so that a form over the size limit is told so (413, with the
// limit) rather than that it has expired.
func (s *Server) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := badText(r.URL.Path, r.URL.Query()); !ok {
			s.fail(w, r, alm.Errorf(alm.CodeBadRequest, "The address has a NUL byte or invalid UTF-8 in %s: correct it and try again.", name))
			return
		}
		if !safeMethod(r.Method) && isForm(r) {
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				err = r.ParseMultipartForm(8 << 20)
			} else {
				err = r.ParseForm()
			}
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				s.fail(w, r, alm.Errorf(alm.CodeTooLarge, "The upload is larger than the %s this server accepts: send a smaller file.", sizeText(tooBig.Limit)))
				return
			case err != nil:
				s.fail(w, r, alm.Errorf(alm.CodeBadRequest, "The form could not be read: %v", err))
				return
			}
			values := r.PostForm
			if r.MultipartForm != nil {
				values = r.MultipartForm.Value
			}
			if name, ok := badText("", values); !ok {
				s.fail(w, r, alm.Errorf(alm.CodeBadRequest, "The form's %s has a NUL byte or invalid UTF-8: remove it and try again.", strings.TrimPrefix(name, "the parameter ")))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

// badText finds the first path or value holding a NUL byte or invalid
// UTF-8, and names it; ok is true when there is none.
func badText(path string, values url.Values) (name string, ok bool) {
	bad := func(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }
	if bad(path) {
		return "the path", false
	}
	for k, vs := range values {
		// Names are matched, never stored; some carry a NUL on purpose
		// (a build conflict's key), so only their encoding is checked.
		if !utf8.ValidString(k) {
			return "a parameter's name", false
		}
		for _, v := range vs {
			if bad(v) {
				return "the parameter " + k, false
			}
		}
	}
	return "", true
}

// deadline gives every request a time limit, and answers at once with 503
// while the database is known to be away (see WatchDatabase), except the
// probes and static files that do not need it.
func (s *Server) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if s.dbDown.Load() && p != "/healthz" && p != "/readyz" && p != "/metrics" && !strings.HasPrefix(p, "/static/") {
			w.Header().Set("Retry-After", "5")
			s.fail(w, r, alm.Errorf(alm.CodeUnavailable, "The database is not answering. Trellis carries on by itself as soon as it does; try again in a moment."))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
