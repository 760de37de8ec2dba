package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerWorkItemRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/projects/{project}/board", inProject(alm.PermView), s.boardPage)
	s.handle(r, http.MethodGet, "/projects/{project}/work-items", inProject(alm.PermView), s.workItemsPage)
	s.handle(r, http.MethodGet, "/projects/{project}/work-items/new", inProject(alm.PermEditWorkItems), s.newWorkItemPage)
	s.handle(r, http.MethodPost, "/projects/{project}/work-items", inProject(alm.PermEditWorkItems), s.createWorkItem)
	s.handle(r, http.MethodGet, "/work-items/{key}", inProject(alm.PermView), s.workItemPage)
	s.handle(r, http.MethodGet, "/work-items/{key}/edit", inProject(alm.PermEditWorkItems), s.editWorkItemPage)
	s.handle(r, http.MethodPost, "/work-items/{key}", inProject(alm.PermEditWorkItems), s.updateWorkItem)
	s.handle(r, http.MethodPost, "/work-items/{key}/move", inProject(alm.PermEditWorkItems), s.moveWorkItem)
	s.handle(r, http.MethodPost, "/work-items/{key}/release", inProject(alm.PermManageReleases), s.setItemRelease)
}

// itemFilterOf reads work item filters from a query: assignee (an id or
// "none"), requirement (a key), label, release, status, kind, q, sort.
func (s *Server) itemFilterOf(r *http.Request, projectID int64, q url.Values) (store.ItemFilter, error) {
	f := store.ItemFilter{Label: q.Get("label"), Q: q.Get("q"), Sort: q.Get("sort"), After: q.Get("after"), Kind: alm.WorkKind(q.Get("kind"))}
	var err error
	if q.Get("assignee") == "none" {
		f.Unassigned = true
	} else if f.AssigneeID, err = optID(q.Get("assignee"), "assignee"); err != nil {
		return f, err
	}
	if f.ReleaseID, err = optID(q.Get("release"), "release"); err != nil {
		return f, err
	}
	if f.Kind != "" && !slices.Contains(alm.WorkKinds, f.Kind) {
		return f, alm.Invalid(map[string]string{"kind": "Choose story, bug, task or chore."})
	}
	for _, st := range q["status"] {
		for _, part := range strings.Split(st, ",") {
			if part = strings.TrimSpace(part); part != "" {
				if !slices.Contains(alm.WorkStatuses, alm.WorkStatus(part)) {
					return f, alm.Invalid(map[string]string{"status": fmt.Sprintf("There is no %q column.", part)})
				}
				f.Status = append(f.Status, alm.WorkStatus(part))
			}
		}
	}
	if key := q.Get("requirement"); key != "" {
		req, err := s.store.RequirementByKey(r.Context(), key)
		if err != nil || req.ProjectID != projectID {
			return f, alm.Invalid(map[string]string{"requirement": "No requirement " + strings.ToUpper(key) + " in this project."})
		}
		f.RequirementID = &req.ID
	}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil {
			return f, alm.Invalid(map[string]string{"limit": "Send a number from 1 to 200."})
		}
	}
	return f, nil
}

// boardCards is how many cards each column shows; the rest are a link to
// the filtered list, so a column of thousands stays fast.
const boardCards = 25

func (s *Server) boardPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "board")
	q := cleanQuery(r.URL.Query())
	f, err := s.itemFilterOf(r, sc.Project.ID, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	bundle, err := s.store.BoardPage(ctx, sc.Project.ID, f, boardCards)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users := []web.Option{{Value: "none", Label: "Unassigned"}}
	for _, u := range bundle.Users {
		users = append(users, web.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name})
	}
	var rels []web.Option
	for _, rel := range bundle.Releases {
		rels = append(rels, web.Option{Value: strconv.FormatInt(rel.ID, 10), Label: rel.Name})
	}
	var reqs []web.Option
	for _, rq := range bundle.Reqs {
		reqs = append(reqs, web.Option{Value: rq.Key, Label: rq.Key + " " + clipText(rq.Title, 40)})
	}
	if k := q.Get("requirement"); k != "" && !slices.ContainsFunc(reqs, func(o web.Option) bool { return strings.EqualFold(o.Value, k) }) {
		reqs = append(reqs, web.Option{Value: strings.ToUpper(k), Label: strings.ToUpper(k)})
	}
	query := ""
	if len(q) > 0 {
		query = "?" + q.Encode()
	}
	p := s.projectPage(w, r, "Board", web.Crumb{Label: "Board"})
	s.render(w, r, http.StatusOK, web.Board(web.BoardView{Page: p, Scope: sc, Columns: bundle.Columns, Filter: filterForm(q, "assignee", "requirement", "release", "label"),
		Assignees: users, Reqs: reqs, Releases: rels, PerColumn: boardCards, Query: query}))
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func (s *Server) workItemsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "items")
	q := cleanQuery(r.URL.Query())
	f, err := s.itemFilterOf(r, sc.Project.ID, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.store.ListWorkItems(ctx, sc.Project.ID, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, err := s.userOptions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users = append([]web.Option{{Value: "none", Label: "Unassigned"}}, users...)
	rels, _, err := s.releaseOptions(ctx, sc.Project.ID, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, "Work items", web.Crumb{Label: "Work items"})
	s.render(w, r, http.StatusOK, web.WorkItems(web.WorkItemsView{Page: p, Scope: sc, Items: page.Items, Next: page.Next,
		Filter: filterForm(q, "status", "kind", "assignee", "release", "label", "q", "sort"), Assignees: users, Releases: rels, Query: q}))
}

var itemFields = []string{"kind", "title", "description", "requirements", "assignee_id", "estimate", "labels", "approach", "maintenance_note", "version"}

func workItemInput(f web.Form) (alm.WorkItemInput, error) {
	in := alm.WorkItemInput{Kind: alm.WorkKind(f.Value("kind")), Title: f.Value("title"), Description: f.Value("description"),
		Requirements: []string{f.Value("requirements")}, Labels: []string{f.Value("labels")}, Approach: alm.Approach(f.Value("approach")),
		MaintenanceNote: f.Value("maintenance_note")}
	var err error
	if in.AssigneeID, err = optID(f.Value("assignee_id"), "assignee_id"); err != nil {
		return in, err
	}
	if e := strings.TrimSpace(f.Value("estimate")); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil {
			return in, alm.Invalid(map[string]string{"estimate": "Estimate in whole points."})
		}
		in.Estimate = &n
	}
	return in, nil
}

func (s *Server) renderWorkItemForm(w http.ResponseWriter, r *http.Request, status int, it *alm.WorkItem, f web.Form, conflict *alm.WorkItem) {
	sc := s.scope(r, "board")
	users, err := s.userOptions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	title, crumbs := "New work item", []web.Crumb{{Label: "Board", Href: sc.Base() + "/board"}, {Label: "New work item"}}
	if it != nil {
		title, crumbs = "Edit "+it.Key, []web.Crumb{{Label: it.Key, Href: "/work-items/" + it.Key}, {Label: "Edit"}}
	}
	p := s.projectPage(w, r, title, crumbs...)
	s.render(w, r, status, web.WorkItemForm(web.WorkItemFormView{Page: p, Scope: sc, Form: f, Item: it, Users: users, Conflict: conflict}))
}

func (s *Server) newWorkItemPage(w http.ResponseWriter, r *http.Request) {
	f := emptyForm()
	f.Values["kind"] = string(alm.KindStory)
	f.Values["requirements"] = strings.ToUpper(r.URL.Query().Get("requirement"))
	f.Values["assignee_id"] = strconv.FormatInt(callerFrom(r.Context()).User.ID, 10)
	s.renderWorkItemForm(w, r, http.StatusOK, nil, f, nil)
}

func (s *Server) createWorkItem(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "board")
	f := formOf(r, itemFields...)
	in, err := workItemInput(f)
	var it alm.WorkItem
	if err == nil {
		it, err = s.store.CreateWorkItem(r.Context(), sc.Project.ID, in)
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderWorkItemForm(w, r, statusOf(alm.ErrorCode(err)), nil, withError(f, err), nil)
		return
	}
	s.redirect(w, r, "/work-items/"+it.Key, "ok", it.Key+" created in the backlog.")
}

func itemForm(it alm.WorkItem) web.Form {
	f := emptyForm()
	f.Values["kind"], f.Values["title"], f.Values["description"] = string(it.Kind), it.Title, it.Description
	f.Values["requirements"] = strings.Join(it.Requirements, ", ")
	f.Values["assignee_id"] = idStr(it.AssigneeID)
	if it.Estimate != nil {
		f.Values["estimate"] = strconv.Itoa(*it.Estimate)
	}
	f.Values["labels"] = strings.Join(it.Labels, ", ")
	f.Values["approach"], f.Values["maintenance_note"] = string(it.Approach), it.MaintenanceNote
	f.Values["version"] = strconv.Itoa(it.Version)
	return f
}

func (s *Server) editWorkItemPage(w http.ResponseWriter, r *http.Request) {
	it, err := s.store.WorkItemByKey(r.Context(), chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderWorkItemForm(w, r, http.StatusOK, &it, itemForm(it), nil)
}

func (s *Server) updateWorkItem(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := chi.URLParam(r, "key")
	cur, err := s.store.WorkItemByKey(ctx, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := formOf(r, itemFields...)
	version, verr := strconv.Atoi(f.Value("version"))
	in, err := workItemInput(f)
	if err == nil && verr != nil {
		err = alm.Errorf(alm.CodeInvalid, "The form lost its revision number; reload the page and make your change again.")
	}
	if err == nil {
		_, err = s.store.UpdateWorkItem(ctx, key, version, in)
	}
	if err != nil {
		switch alm.ErrorCode(err) {
		case alm.CodeInternal, alm.CodeNotFound:
			s.fail(w, r, err)
		case alm.CodeConflict:
			latest, lerr := s.store.WorkItemByKey(ctx, key)
			if lerr != nil {
				s.fail(w, r, lerr)
				return
			}
			f = withError(f, err)
			f.Values["version"] = strconv.Itoa(latest.Version)
			s.renderWorkItemForm(w, r, http.StatusConflict, &cur, f, &latest)
		default:
			s.renderWorkItemForm(w, r, statusOf(alm.ErrorCode(err)), &cur, withError(f, err), nil)
		}
		return
	}
	s.redirect(w, r, "/work-items/"+cur.Key, "ok", "Saved.")
}

func (s *Server) workItemPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "board")
	it, err := s.store.WorkItemByKey(ctx, chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var reqs []alm.Requirement
	for _, k := range it.Requirements {
		rq, err := s.store.RequirementByKey(ctx, k)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		reqs = append(reqs, rq)
	}
	_, rels, err := s.releaseOptions(ctx, sc.Project.ID, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	events, err := s.store.Timeline(ctx, "work_item", it.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	captured, err := s.store.CapturedComponents(ctx, it.Key, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	validations, err := s.store.WorkItemValidations(ctx, it.Key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	stages, err := s.store.StageOfWorkItems(ctx, []string{it.Key})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.branchView(ctx, it)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if all, err := s.store.Pipeline(ctx, it.ProjectID); err == nil {
		for _, st := range all {
			if st.DevValidates() && st.OrgID != nil {
				v.ValidateStages = append(v.ValidateStages, st)
			}
		}
	}
	name := s.namesByEmail(r)
	for i := range captured {
		captured[i].CapturedBy = name(captured[i].CapturedBy)
	}
	v.Item, v.Reqs, v.Releases, v.Timeline, v.Captured = it, reqs, rels, events, captured
	v.Validations, v.CanPromote, v.Stage, v.CanBranch = validations, sc.Role.Can(alm.PermPromote), stages[it.Key], sc.Role.Can(alm.PermEditWorkItems)
	v.Page, v.Scope = s.projectPage(w, r, it.Key, web.Crumb{Label: "Board", Href: sc.Base() + "/board"}, web.Crumb{Label: it.Key}), sc
	v.Tracker = s.trackerCard(r, v.Item.ProjectID, "work_item", v.Item.ID, v.Item.Key, v.Scope.CanEditItems)
	if v.NewBranch, err = s.newBranchName(r.Context(), v.Item); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, web.WorkItemPage(v))
}

// moveWorkItem moves a card: from the board's drag and drop (which asks
// for JSON) or from a Move form (which goes back where it came from).
func (s *Server) moveWorkItem(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "key")
	it, err := s.store.MoveWorkItem(r.Context(), key, alm.WorkStatus(r.PostFormValue("status")), r.PostFormValue("before"))
	back := safeNext(r.PostFormValue("next"))
	if r.PostFormValue("next") == "" {
		back = "/work-items/" + strings.ToUpper(key)
	}
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	if wantsJSON(r) {
		s.writeJSON(w, http.StatusOK, it)
		return
	}
	s.redirect(w, r, back, "ok", fmt.Sprintf("%s moved to %s.", it.Key, it.Status.Label()))
}

func (s *Server) setItemRelease(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "key")
	id, err := optID(r.PostFormValue("release_id"), "release_id")
	var it alm.WorkItem
	if err == nil {
		it, err = s.store.SetWorkItemRelease(r.Context(), key, id)
	}
	if err != nil {
		s.failBack(w, r, "/work-items/"+strings.ToUpper(key), err)
		return
	}
	msg := it.Key + " is not in a release."
	if it.ReleaseName != "" {
		msg = it.Key + " is in " + it.ReleaseName + "."
	}
	s.redirect(w, r, "/work-items/"+it.Key, "ok", msg)
}
