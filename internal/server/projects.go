package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

// registerPlanRoutes adds the Plan stage's pages: projects, requirements,
// the board and work items, releases, the matrix and search.
func (s *Server) registerPlanRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/plan", needs(alm.PermView), s.projectsPage)
	s.handle(r, http.MethodGet, "/projects/new", needs(alm.PermCreateProject), s.newProjectPage)
	s.handle(r, http.MethodPost, "/projects", needs(alm.PermCreateProject), s.createProject)
	s.handle(r, http.MethodGet, "/projects/{project}", inProject(alm.PermView), s.projectHome)
	s.handle(r, http.MethodGet, "/projects/{project}/members", inProject(alm.PermView), s.membersPage)
	s.handle(r, http.MethodPost, "/projects/{project}/members", inProject(alm.PermManageProject), s.setMember)
	s.handle(r, http.MethodPost, "/projects/{project}/members/{user}/remove", inProject(alm.PermManageProject), s.removeMember)
	s.handle(r, http.MethodGet, "/projects/{project}/search", inProject(alm.PermView), s.searchPage)
	s.registerRequirementRoutes(r)
	s.registerWorkItemRoutes(r)
	s.registerReleaseRoutes(r)
	s.registerPipelineRoutes(r)
	s.registerBranchRoutes(r)
	s.registerTrackerRoutes(r)
	s.registerGitFlowRoutes(r)
	s.registerCommitRoutes(r)
	s.registerLineageRoutes(r)
}

var planCrumb = web.Crumb{Label: "Plan", Href: "/plan"}

// scope is the web view of the request's project and what the caller may
// do there.
func (s *Server) scope(r *http.Request, tab string) web.Scope {
	sc := scopeFrom(r.Context())
	return web.Scope{
		Project: sc.Project, Role: sc.Role, Tab: tab,
		CanEditReqs:     sc.Role.Can(alm.PermEditRequirements),
		CanMoveReqs:     sc.Role.Can(alm.PermMoveRequirements),
		CanComment:      sc.Role.Can(alm.PermComment),
		CanEditItems:    sc.Role.Can(alm.PermEditWorkItems),
		CanManageRel:    sc.Role.Can(alm.PermManageReleases),
		CanManageMember: sc.Role.Can(alm.PermManageProject),
	}
}

// projectPage is s.page with the project's breadcrumbs.
func (s *Server) projectPage(w http.ResponseWriter, r *http.Request, title string, crumbs ...web.Crumb) web.Page {
	sc := scopeFrom(r.Context())
	all := append([]web.Crumb{planCrumb, {Label: sc.Project.Key, Href: "/projects/" + sc.Project.Key}}, crumbs...)
	if len(crumbs) == 0 {
		all[len(all)-1].Href = ""
	}
	return s.page(w, r, title+" · "+sc.Project.Key, "plan", all...)
}

func (s *Server) projectsPage(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	list, err := s.store.ListProjects(r.Context(), c.User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cards := make([]web.ProjectCard, len(list))
	for i, p := range list {
		cards[i] = web.ProjectCard{Project: p.Project, Requirements: p.Requirements, WorkItems: p.WorkItems, OpenItems: p.OpenItems, Releases: p.Releases}
		if p.MemberRole != nil {
			cards[i].MemberRole = strings.ToLower(p.MemberRole.Label())
		}
	}
	p := s.page(w, r, "Plan", "plan")
	s.render(w, r, http.StatusOK, web.Projects(web.ProjectsView{Page: p, Projects: cards, CanCreate: c.User.Role.Can(alm.PermCreateProject)}))
}

func (s *Server) newProjectPage(w http.ResponseWriter, r *http.Request) {
	p := s.page(w, r, "New project", "plan", planCrumb, web.Crumb{Label: "New project"})
	s.render(w, r, http.StatusOK, web.ProjectForm(web.ProjectFormView{Page: p, Form: emptyForm()}))
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) {
	f := formOf(r, "key", "name", "description")
	proj, err := s.store.CreateProject(r.Context(), alm.NewProject{Key: f.Value("key"), Name: f.Value("name"), Description: f.Value("description")})
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		p := s.page(w, r, "New project", "plan", planCrumb, web.Crumb{Label: "New project"})
		s.render(w, r, statusOf(alm.ErrorCode(err)), web.ProjectForm(web.ProjectFormView{Page: p, Form: withError(f, err)}))
		return
	}
	s.redirect(w, r, "/projects/"+proj.Key, "ok", fmt.Sprintf("Project %s created. Write its first requirement.", proj.Key))
}

func (s *Server) projectHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "home")
	counts, err := s.store.RequirementCounts(ctx, sc.Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var bars []web.StatusCount
	for _, st := range alm.ReqStatuses {
		bars = append(bars, web.StatusCount{Label: st.Label(), Tone: toneOr(st.Tone()), Count: counts[st], Href: sc.Base() + "/requirements?status=" + string(st)})
	}
	board, err := s.store.Board(ctx, sc.Project.ID, store.ItemFilter{}, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	releases, err := s.store.ListReleases(ctx, sc.Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(releases) > 6 {
		releases = releases[:6]
	}
	activity, err := s.store.ProjectActivity(ctx, sc.Project.ID, 12)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, sc.Project.Name)
	s.render(w, r, http.StatusOK, web.ProjectHome(web.ProjectHomeView{Page: p, Scope: sc, ReqCounts: bars, Board: board, Releases: releases, Activity: activity}))
}

func toneOr(t string) string {
	if t == "" {
		return "neutral"
	}
	return t
}

func (s *Server) membersPage(w http.ResponseWriter, r *http.Request) {
	s.renderMembers(w, r, http.StatusOK, emptyForm())
}

func (s *Server) renderMembers(w http.ResponseWriter, r *http.Request, status int, f web.Form) {
	sc := s.scope(r, "members")
	members, err := s.store.ListMembers(r.Context(), sc.Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.userOptions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Value("role") == "" {
		f.Values["role"] = string(alm.RoleDeveloper)
	}
	p := s.projectPage(w, r, "Members", web.Crumb{Label: "Members"})
	s.render(w, r, status, web.Members(web.MembersView{Page: p, Scope: sc, Members: members, Users: users, Form: f, Roles: roleOptions()}))
}

func (s *Server) setMember(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "members")
	f := formOf(r, "user_id", "role")
	id, err := strconv.ParseInt(f.Value("user_id"), 10, 64)
	if err != nil {
		err = alm.Invalid(map[string]string{"user_id": "Choose a person."})
	} else if err = s.mayGrant(r, scopeFrom(r.Context()), id, alm.Role(f.Value("role"))); err == nil {
		err = s.store.SetMember(r.Context(), sc.Project.ID, id, alm.Role(f.Value("role")))
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderMembers(w, r, statusOf(alm.ErrorCode(err)), withError(f, err))
		return
	}
	s.redirect(w, r, sc.Base()+"/members", "ok", "Membership saved.")
}

// mayGrant checks that the caller may give user the role in the project
// (role "" to take their membership away): nobody grants a role above
// their own or changes the role of someone above them, and only admins
// grant admin.
func (s *Server) mayGrant(r *http.Request, sc projectScope, user int64, role alm.Role) error {
	if role != "" {
		if _, err := alm.ParseRole(string(role)); err != nil {
			return alm.Invalid(map[string]string{"role": alm.ErrorMessage(err)})
		}
		if err := alm.CanGrant(sc.Role, role); err != nil {
			return err
		}
	}
	u, err := s.store.UserByID(r.Context(), user)
	if err != nil {
		return alm.Invalid(map[string]string{"user_id": "There is no such user."})
	}
	_, member, err := s.store.ProjectAccess(r.Context(), sc.Project.Key, "", "", user)
	if err != nil {
		return err
	}
	if err := alm.CanGrant(sc.Role, alm.ProjectRole(u.Role, member)); err != nil {
		return alm.Errorf(alm.CodeForbidden, "%s holds a role above yours in %s: only an admin can change it.", u.Name, sc.Project.Key)
	}
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "members")
	id, err := strconv.ParseInt(chi.URLParam(r, "user"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "There is no such member."))
		return
	}
	if err := s.mayGrant(r, scopeFrom(r.Context()), id, ""); err != nil {
		s.failBack(w, r, sc.Base()+"/members", err)
		return
	}
	if err := s.store.RemoveMember(r.Context(), sc.Project.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, sc.Base()+"/members", "ok", "Removed from the project.")
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "")
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	hits, err := s.store.Search(r.Context(), sc.Project.ID, q, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A key typed into search goes straight to its record.
	if len(hits) > 0 && strings.EqualFold(hits[0].Key, q) {
		http.Redirect(w, r, hitPath(hits[0]), http.StatusSeeOther)
		return
	}
	p := s.projectPage(w, r, "Search", web.Crumb{Label: "Search"})
	s.render(w, r, http.StatusOK, web.Search(web.SearchView{Page: p, Scope: sc, Q: q, Hits: hits}))
}

func hitPath(h alm.SearchHit) string {
	if h.Kind == "requirement" {
		return "/requirements/" + h.Key
	}
	return "/work-items/" + h.Key
}

// userOptions lists active users for owner and assignee selects.
func (s *Server) userOptions(ctx context.Context) ([]web.Option, error) {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var out []web.Option
	for _, u := range users {
		if !u.Disabled() {
			out = append(out, web.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name})
		}
	}
	return out, nil
}

// releaseOptions lists a project's releases for selects.
func (s *Server) releaseOptions(ctx context.Context, projectID int64, openOnly bool) ([]web.Option, []alm.Release, error) {
	rels, err := s.store.ReleaseChoices(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	var out []web.Option
	var kept []alm.Release
	for _, rel := range rels {
		if openOnly && (rel.Status == alm.RelReleased || rel.Status == alm.RelAbandoned) {
			continue
		}
		kept = append(kept, rel)
		out = append(out, web.Option{Value: strconv.FormatInt(rel.ID, 10), Label: rel.Name})
	}
	return out, kept, nil
}

func (s *Server) apiProjects(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.ListProjects(r.Context(), callerFrom(r.Context()).User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type item struct {
		alm.Project
		Requirements int       `json:"requirements"`
		WorkItems    int       `json:"work_items"`
		OpenItems    int       `json:"open_work_items"`
		Releases     int       `json:"releases"`
		MemberRole   *alm.Role `json:"member_role"`
	}
	out := make([]item, len(list))
	for i, p := range list {
		out[i] = item{p.Project, p.Requirements, p.WorkItems, p.OpenItems, p.Releases, p.MemberRole}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) apiCreateProject(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Key, Name, Description string
	}
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.store.CreateProject(r.Context(), alm.NewProject{Key: in.Key, Name: in.Name, Description: in.Description})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, "/api/v1/projects/"+p.Key, p)
}

func (s *Server) apiProject(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	s.writeJSON(w, http.StatusOK, map[string]any{"project": sc.Project, "your_role": sc.Role, "member": sc.Member})
}

// apiSearch searches every project, or one (?project=KEY).
func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	var pid int64
	if key := r.URL.Query().Get("project"); key != "" {
		p, err := s.store.ProjectByKey(r.Context(), key)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pid = p.ID
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	hits, err := s.store.Search(r.Context(), pid, r.URL.Query().Get("q"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": hits})
}
