package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

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
func (s *Server) guardProject(w http.ResponseWriter, r *http.Request, c *caller, perm alm.Permission, h http.HandlerFunc) {
	ctx := r.Context()
	pkey, key := chi.URLParam(r, "project"), chi.URLParam(r, "key")
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
