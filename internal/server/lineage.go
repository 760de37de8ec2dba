package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

// Lineage pages: the chain requirement → work items → components →
// builds → promotions → deployments → orgs drawn around a requirement, a
// work item, a release, or a component in an org.

func (s *Server) registerLineageRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/requirements/{key}/lineage", inProject(alm.PermView), s.lineagePage)
	s.handle(r, http.MethodGet, "/work-items/{key}/lineage", inProject(alm.PermView), s.lineagePage)
	s.handle(r, http.MethodGet, "/projects/{project}/releases/{id}/lineage", inProject(alm.PermView), s.lineagePage)
	s.handle(r, http.MethodGet, "/orgs/{id}/components/{type}/{name}/lineage", needs(alm.PermView), s.lineagePage)
	s.handle(r, http.MethodGet, "/api/v1/requirements/{key}/graph", inProject(alm.PermView), s.lineagePage)
	s.handle(r, http.MethodGet, "/api/v1/work-items/{key}/graph", inProject(alm.PermView), s.lineagePage)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/releases/{id}/graph", inProject(alm.PermView), s.lineagePage)
	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/components/{type}/{name}/graph", needs(alm.PermView), s.lineagePage)
}

func (s *Server) lineagePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	path := r.URL.Path
	var root store.LineageRoot
	v := web.LineageView{}
	switch {
	case strings.Contains(path, "/requirements/"):
		root.Requirement = strings.ToUpper(chi.URLParam(r, "key"))
		req, err := s.store.RequirementByKey(ctx, root.Requirement)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Title, v.BackURL = "Lineage of "+req.Key+": "+req.Title, "/requirements/"+req.Key
		v.Intro = "From the requirement to the orgs its work reached: work items, the components they change, the builds that carry them, promotions, deployments."
	case strings.Contains(path, "/work-items/"):
		root.WorkItem = strings.ToUpper(chi.URLParam(r, "key"))
		it, err := s.store.WorkItemByKey(ctx, root.WorkItem)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Title, v.BackURL = "Lineage of "+it.Key+": "+it.Title, "/work-items/"+it.Key
		v.Intro = "The requirements it delivers, the components it changes, and where they went."
	case strings.Contains(path, "/releases/"):
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That release was not found."))
			return
		}
		rel, err := s.store.ReleaseByID(ctx, scopeFrom(ctx).Project.ID, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		root.ReleaseID = id
		v.Title, v.BackURL = "Lineage of release "+rel.Name, fmt.Sprintf("/projects/%s/releases/%d", scopeFrom(ctx).Project.Key, id)
		v.Intro = "Its work items, their requirements and components, the builds, promotions and deployments that took them through the pipeline."
	default:
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That org was not found."))
			return
		}
		org, err := s.store.OrgByID(ctx, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		typ, _ := url.PathUnescape(chi.URLParam(r, "type"))
		name, _ := url.PathUnescape(chi.URLParam(r, "name"))
		root.OrgID, root.Type, root.Name = id, typ, name
		v.Title = fmt.Sprintf("Why %s %s is in %s", typ, name, org.Name)
		v.BackURL = fmt.Sprintf("/orgs/%d/components/%s/%s/history", id, url.PathEscape(typ), url.PathEscape(name))
		v.Intro = "Back from the component to the work items and requirements that put it there, through the deployments, promotions and builds that carried it."
	}
	g, err := s.store.LineageGraph(ctx, root)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if isAPI(r) {
		s.writeJSON(w, http.StatusOK, g)
		return
	}
	v.Graph, v.Layout = g, web.LayOut(g)
	v.Page = s.page(w, r, v.Title, "plan", web.Crumb{Label: "Lineage"})
	s.render(w, r, http.StatusOK, web.LineagePage(v))
}
