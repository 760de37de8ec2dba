package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

// statusOf maps an error code to its HTTP status: the one place that does.
func statusOf(code alm.Code) int {
	switch code {
	case alm.CodeInvalid:
		return http.StatusUnprocessableEntity
	case alm.CodeNotFound:
		return http.StatusNotFound
	case alm.CodeConflict:
		return http.StatusConflict
	case alm.CodeForbidden:
		return http.StatusForbidden
	case alm.CodeUnauthorized:
		return http.StatusUnauthorized
	case alm.CodeTooMany:
		return http.StatusTooManyRequests
	case alm.CodeUnavailable:
		return http.StatusServiceUnavailable
	case "method_not_allowed":
		return http.StatusMethodNotAllowed
	case alm.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case alm.CodeBadRequest:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

var errorTitles = map[int]string{
	400: "Bad request", 401: "Please sign in", 403: "Not allowed", 404: "Page not found", 405: "Not allowed here",
	409: "Conflict", 413: "Too large", 422: "Check your input", 429: "Slow down", 500: "Something went wrong", 503: "Not available right now",
}

// fail answers with err: JSON for the API, an error page otherwise. Only
// internal errors are logged with their detail; users see a safe message.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &tooBig):
		err = alm.Errorf(alm.CodeTooLarge, "The request is larger than the %s this server accepts.", sizeText(tooBig.Limit))
	case isDatabaseAway(err):
		s.dbDown.Store(true)
		err = alm.Errorf(alm.CodeUnavailable, "The database is not answering. Trellis carries on by itself as soon as it does; try again in a moment.")
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || (errors.As(err, &pg) && (pg.Code == "57014" || pg.Code == "55P03")):
		// A stalled database or org: say so now, rather than hang.
		s.log.WarnContext(r.Context(), "request gave up waiting", slog.String("path", r.URL.Path), slog.Any("err", err))
		err = alm.Errorf(alm.CodeUnavailable, "This took too long: the database (or the org) did not answer in time. Try again in a moment.")
	case errors.As(err, &pg) && (pg.Code == "22021" || pg.Code == "22P05"):
		// Text the database cannot store (a NUL byte, broken UTF-8) that
		// got past the request checks.
		err = alm.Errorf(alm.CodeBadRequest, "The text sent contains a NUL byte or invalid UTF-8, which cannot be stored. Remove it and try again.")
	}
	code := alm.ErrorCode(err)
	status := statusOf(code)
	rid := requestIDFrom(r.Context())
	if status >= 500 && code != alm.CodeUnavailable {
		s.log.ErrorContext(r.Context(), "request failed", slog.String("request_id", rid), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	msg := alm.ErrorMessage(err)
	if isAPI(r) || wantsJSON(r) {
		body := map[string]any{"code": code, "message": msg}
		if f := alm.FieldErrors(err); len(f) > 0 {
			body["fields"] = f
		}
		s.writeJSON(w, status, map[string]any{"error": body, "request_id": rid})
		return
	}
	title := errorTitles[status]
	if title == "" {
		title = http.StatusText(status)
	}
	p := s.page(w, r, title, "")
	s.render(w, r, status, web.ErrorPage(web.ErrorView{Page: p, Status: status, Title: title, Message: msg, RequestID: rid}))
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// writeJSON writes v as JSON with status.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// render writes a templ component as an HTML page with status. The page
// is rendered into a pooled buffer and written at once: one large write
// costs far fewer system calls than templ's many small ones, and a
// rendering error can still become an error page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := renderBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			renderBufs.Put(buf)
		}
	}()
	if err := c.Render(r.Context(), buf); err != nil {
		// A client that went away mid-page is not a server error.
		if r.Context().Err() == nil {
			s.log.ErrorContext(r.Context(), "render page", slog.String("request_id", requestIDFrom(r.Context())), slog.Any("err", err))
			http.Error(w, "Something went wrong on our side while drawing this page.", http.StatusInternalServerError)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// page fills what the layout needs and takes the pending flash message.
func (s *Server) page(w http.ResponseWriter, r *http.Request, title, section string, crumbs ...web.Crumb) web.Page {
	p := web.Page{
		Title:   title,
		Section: section,
		Crumbs:  append([]web.Crumb{{Label: "Trellis", Href: "/"}}, crumbs...),
		CSRF:    s.csrfToken(r),
		Flash:   s.popFlash(w, r),
		Version: s.cfg.Version,
		Now:     s.store.Now(),
	}
	if s.deps.DemoSettingUp != nil && s.deps.DemoSettingUp() {
		p.DemoSettingUp = true
	}
	if len(crumbs) == 0 {
		p.Crumbs = append(p.Crumbs, web.Crumb{Label: title})
	}
	if c := callerFrom(r.Context()); c != nil && c.Session != nil {
		u := c.User
		p.User = &web.UserView{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), RoleLabel: u.Role.Label(), Admin: u.Role == alm.RoleAdmin}
		// A count off an index; a page still renders if it fails.
		p.OpenAlerts, _ = s.store.CountOpenAlerts(r.Context())
	}
	return p
}

func (s *Server) csrfToken(r *http.Request) string {
	seed, _ := r.Context().Value(csrfSeedKey).(string)
	return s.csrf.Token(seed)
}

// Cookie names take the __Host- prefix under https, which pins them to this
// host and path and requires Secure.
func (s *Server) cookieName(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

func (s *Server) sessionCookie() string { return s.cookieName("trellis_session") }
func (s *Server) csrfCookie() string    { return s.cookieName("trellis_csrf") }
func (s *Server) flashCookie() string   { return s.cookieName("trellis_flash") }
func (s *Server) oidcCookie() string    { return s.cookieName("trellis_oidc") }

// setCookie sets an HttpOnly, SameSite=Lax cookie; maxAge 0 means a browser
// session cookie.
func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

type flashData struct {
	Kind    string `json:"k"`
	Message string `json:"m"`
}

// redirect sends the browser to target after a POST, with a flash message
// for the next page.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, target, kind, msg string) {
	if msg != "" {
		b, _ := json.Marshal(flashData{Kind: kind, Message: msg})
		s.setCookie(w, s.flashCookie(), base64.RawURLEncoding.EncodeToString(b), 60)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (s *Server) popFlash(w http.ResponseWriter, r *http.Request) *web.Flash {
	ck, err := r.Cookie(s.flashCookie())
	if err != nil {
		return nil
	}
	s.clearCookie(w, s.flashCookie())
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	var f flashData
	if json.Unmarshal(b, &f) != nil || f.Message == "" {
		return nil
	}
	switch f.Kind {
	case "ok", "bad", "warn", "info":
	default:
		f.Kind = "info"
	}
	return &web.Flash{Kind: f.Kind, Message: f.Message}
}

// safeNext keeps a post-sign-in redirect on this site: a local path, never
// "//host" or "/\host" that browsers treat as another origin.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// formOf captures a submitted form's values for re-rendering.
func formOf(r *http.Request, fields ...string) web.Form {
	f := web.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range fields {
		f.Values[k] = r.PostFormValue(k)
	}
	return f
}

// withError returns f carrying err's per-field messages, or its message as
// a form-wide error when it has none.
func withError(f web.Form, err error) web.Form {
	if fields := alm.FieldErrors(err); len(fields) > 0 {
		for k, v := range fields {
			f.Errors[k] = v
		}
		f.Message = alm.ErrorMessage(err)
		return f
	}
	f.Message = alm.ErrorMessage(err)
	return f
}

// deleteByID removes the record named by the path's id: 204 to the API, a
// redirect back with msg to a page.
func (s *Server) deleteByID(w http.ResponseWriter, r *http.Request, what string, del func(context.Context, int64) error, back, msg string) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That %s was not found.", what))
		return
	}
	err := del(r.Context(), id)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	s.redirect(w, r, back, "ok", msg)
}

func emptyForm() web.Form { return web.Form{Values: map[string]string{}, Errors: map[string]string{}} }

func (s *Server) created(w http.ResponseWriter, location string, v any) {
	w.Header().Set("Location", location)
	s.writeJSON(w, http.StatusCreated, v)
}

func conflictErr(what string, yours, theirs int) error {
	return alm.Errorf(alm.CodeConflict, "%s changed since you read it (you had revision %d, it is now at %d). Read it again and reapply your change.", what, yours, theirs)
}

// failBack answers a refused button press on a page by going back to the
// page with the reason, so nothing the user sees is lost; other errors
// fail as usual.
func (s *Server) failBack(w http.ResponseWriter, r *http.Request, back string, err error) {
	switch alm.ErrorCode(err) {
	case alm.CodeInvalid, alm.CodeConflict, alm.CodeForbidden:
		msg := alm.ErrorMessage(err)
		for _, m := range alm.FieldErrors(err) {
			msg = m
		}
		if isAPI(r) || wantsJSON(r) {
			s.fail(w, r, err)
			return
		}
		s.redirect(w, r, back, "bad", msg)
	default:
		s.fail(w, r, err)
	}
}

// acceptedDeployment answers an API call that started or stopped a
// deployment with its state as stored now.
func (s *Server) acceptedDeployment(w http.ResponseWriter, r *http.Request, id int64) {
	d, err := s.store.DeploymentByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, d)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// sizeText writes a byte count as people read it (10 MB, 512 KB).
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// outboundMessage words an outbound refusal or lookup failure for a form
// field: the reason, without Go's error chain.
func outboundMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": refused by the outbound policy"); i >= 0 {
		msg = msg[:i]
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// needJobs refuses work that only a background job can carry out when
// this server runs none.
func (s *Server) needJobs() error {
	if s.deps.Jobs == nil {
		return alm.Errorf(alm.CodeUnavailable, "Background jobs are not running on this server.")
	}
	return nil
}

// isDatabaseAway reports an error that says the database cannot be
// reached at all (refused, reset, shutting down), as opposed to one a
// query met.
func isDatabaseAway(err error) bool {
	var ce *pgconn.ConnectError
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &ce):
		return true
	case errors.As(err, &pg):
		// admin_shutdown, crash_shutdown, cannot_connect_now
		return pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	return false
}
