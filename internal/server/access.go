package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// access is the rule a route declares: open to anyone, or needing a
// signed-in caller holding a permission. There is no third kind, so a route
// cannot be registered without saying who may use it.
type access struct {
	public  bool
	perm    alm.Permission
	project bool   // perm is checked against the caller's role in the route's project
	record  string // the project is the one of the record {id} names (see Store.RecordProject)
}

var public = access{public: true}

func needs(p alm.Permission) access { return access{perm: p} }

// inProject is a rule for routes inside a project (named by {project} or
// by the {key} of one of its records): the caller needs p in the role
// they hold there, which is their global role unless they are a member.
func inProject(p alm.Permission) access { return access{perm: p, project: true} }

// inProjectOf is a rule for routes that name a project's record by its id
// (a release, build, promotion, deployment or feedback): the caller needs
// p in the role they hold in that record's project. A deployment that
// belongs to no project (an org restore) falls back to the global role.
func inProjectOf(record string, p alm.Permission) access {
	return access{perm: p, project: true, record: record}
}

func (a access) String() string {
	if a.public {
		return "public"
	}
	if a.project {
		return "project:" + string(a.perm)
	}
	return string(a.perm)
}

// allows reports whether caller c (nil when anonymous) may use the route.
func (a access) allows(c *caller) bool {
	if a.public {
		return true
	}
	return c != nil && c.User.Role.Can(a.perm)
}

type route struct {
	method  string
	pattern string
	access  access
}

// RouteInfo describes a registered route for tests and docs.
type RouteInfo struct {
	Method  string
	Pattern string
	Access  string
}

// handle registers h for method and pattern behind the access rule.
func (s *Server) handle(r chi.Router, method, pattern string, a access, h http.HandlerFunc) {
	s.routes = append(s.routes, route{method: method, pattern: pattern, access: a})
	guarded := s.guard(a, h)
	if method == "*" {
		r.Handle(pattern, guarded)
		return
	}
	r.Method(method, pattern, guarded)
}

// guard enforces a: anonymous callers are sent to sign in (pages) or told
// 401 (API); callers without the permission get 403.
func (s *Server) guard(a access, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := callerFrom(r.Context())
		if a.project && c != nil {
			s.guardProject(w, r, c, a, h)
			return
		}
		if a.allows(c) {
			h(w, r)
			return
		}
		if c == nil {
			if isAPI(r) || r.Method != http.MethodGet {
				s.fail(w, r, alm.Errorf(alm.CodeUnauthorized, "Sign in first: send a session cookie or an Authorization: Bearer token."))
				return
			}
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		s.fail(w, r, alm.Errorf(alm.CodeForbidden, "Your role (%s) does not allow this. Ask an admin if you need it.", c.User.Role.Label()))
	}
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// projectScope is the project a request works in and the caller's role
// there.
type projectScope struct {
	Project alm.Project
	Role    alm.Role
	Member  bool
}

type projectKey struct{}

func scopeFrom(ctx context.Context) projectScope {
	sc, _ := ctx.Value(projectKey{}).(projectScope)
	return sc
}

// guardProject resolves the route's project, works out the caller's role
// in it and lets the request through if that role holds perm.
func (s *Server) guardProject(w http.ResponseWriter, r *http.Request, c *caller, a access, h http.HandlerFunc) {
	perm := a.perm
	ctx := r.Context()
	pkey, key := chi.URLParam(r, "project"), chi.URLParam(r, "key")
	if rec := a.record; rec != "" {
		id, ok := idParam(r)
		if !ok {
			s.fail(w, r, alm.Errorf(alm.CodeNotFound, "There is nothing at %s.", r.URL.Path))
			return
		}
		k, err := s.store.RecordProject(ctx, rec, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if k == "" {
			s.guard(needs(perm), h)(w, r)
			return
		}
		pkey = k
	}
	kind := ""
	if key != "" {
		kind = "work_item"
		if strings.Contains(strings.ToUpper(key), "-REQ-") {
			kind = "requirement"
		}
	}
	p, member, err := s.store.ProjectAccess(ctx, pkey, kind, key, c.User.ID)
	if err == nil && key != "" && pkey != "" && !strings.EqualFold(pkey, p.Key) {
		err = alm.Errorf(alm.CodeNotFound, "%s is not in project %s.", strings.ToUpper(key), strings.ToUpper(pkey))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	role := alm.ProjectRole(c.User.Role, member)
	if !role.Can(perm) {
		s.fail(w, r, alm.Errorf(alm.CodeForbidden, "Your role in %s (%s) does not allow this. Ask a release manager or an admin if you need it.", p.Key, role.Label()))
		return
	}
	h(w, r.WithContext(context.WithValue(ctx, projectKey{}, projectScope{Project: p, Role: role, Member: member != nil})))
}

// roleHere is the caller's role for the request: their role in the
// route's project when the route has one, else their global role.
func roleHere(ctx context.Context) alm.Role {
	if sc := scopeFrom(ctx); sc.Role != "" {
		return sc.Role
	}
	if c := callerFrom(ctx); c != nil {
		return c.User.Role
	}
	return ""
}

// mayInProject checks the caller's role in a project named by a request
// body rather than the route (a promotion opened for a build, feedback
// filed for a project, a capture onto a work item): give the project's
// key, or a work item's key.
func (s *Server) mayInProject(r *http.Request, projectKey, workItem string, perm alm.Permission) (alm.Project, error) {
	c := callerFrom(r.Context())
	kind := ""
	if workItem != "" {
		kind = "work_item"
	}
	p, member, err := s.store.ProjectAccess(r.Context(), projectKey, kind, workItem, c.User.ID)
	if err != nil {
		return p, err
	}
	if role := alm.ProjectRole(c.User.Role, member); !role.Can(perm) {
		return p, alm.Errorf(alm.CodeForbidden, "Your role in %s (%s) does not allow this. Ask a release manager or an admin if you need it.", p.Key, role.Label())
	}
	return p, nil
}
