package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/pmezard/go-difflib/difflib"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerRequirementRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/projects/{project}/requirements", inProject(alm.PermView), s.requirementsPage)
	s.handle(r, http.MethodGet, "/projects/{project}/requirements/new", inProject(alm.PermEditRequirements), s.newRequirementPage)
	s.handle(r, http.MethodPost, "/projects/{project}/requirements", inProject(alm.PermEditRequirements), s.createRequirement)
	s.handle(r, http.MethodGet, "/requirements/{key}", inProject(alm.PermView), s.requirementPage)
	s.handle(r, http.MethodGet, "/requirements/{key}/edit", inProject(alm.PermEditRequirements), s.editRequirementPage)
	s.handle(r, http.MethodPost, "/requirements/{key}", inProject(alm.PermEditRequirements), s.updateRequirement)
	s.handle(r, http.MethodPost, "/requirements/{key}/status", inProject(alm.PermMoveRequirements), s.moveRequirement)
	s.handle(r, http.MethodPost, "/requirements/{key}/criteria/{criterion}", inProject(alm.PermEditRequirements), s.markCriterion)
	s.handle(r, http.MethodPost, "/requirements/{key}/comments", inProject(alm.PermComment), s.postComment)
	s.handle(r, http.MethodPost, "/requirements/{key}/comments/{comment}/answered", inProject(alm.PermComment), s.markAnswered)
	s.handle(r, http.MethodPost, "/requirements/{key}/comments/{comment}/accept", inProject(alm.PermEditRequirements), s.decideChange(true))
	s.handle(r, http.MethodPost, "/requirements/{key}/comments/{comment}/decline", inProject(alm.PermEditRequirements), s.decideChange(false))
	s.handle(r, http.MethodGet, "/requirements/{key}/versions", inProject(alm.PermView), s.specDiffPage)
}

// reqFilterOf reads the list filters shared by the requirements page, the
// matrix and the API.
func reqFilterOf(q url.Values) (store.ReqFilter, error) {
	f := store.ReqFilter{Label: q.Get("label"), Q: q.Get("q"), Sort: q.Get("sort"), After: q.Get("after")}
	for _, st := range q["status"] {
		for _, part := range strings.Split(st, ",") {
			if part = strings.TrimSpace(part); part != "" {
				if !slices.Contains(alm.ReqStatuses, alm.ReqStatus(part)) {
					return f, alm.Invalid(map[string]string{"status": fmt.Sprintf("There is no %q status.", part)})
				}
				f.Status = append(f.Status, alm.ReqStatus(part))
			}
		}
	}
	var err error
	if f.OwnerID, err = optID(q.Get("owner"), "owner"); err != nil {
		return f, err
	}
	if f.ReleaseID, err = optID(q.Get("release"), "release"); err != nil {
		return f, err
	}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil {
			return f, alm.Invalid(map[string]string{"limit": "Send a number from 1 to 200."})
		}
	}
	return f, nil
}

func (s *Server) requirementsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "requirements")
	q := cleanQuery(r.URL.Query())
	f, err := reqFilterOf(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.store.ListRequirements(ctx, sc.Project.ID, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	owners, err := s.userOptions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rels, _, err := s.releaseOptions(ctx, sc.Project.ID, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, "Requirements", web.Crumb{Label: "Requirements"})
	s.render(w, r, http.StatusOK, web.Requirements(web.RequirementsView{Page: p, Scope: sc, Rows: page.Items, Next: page.Next,
		Filter: filterForm(q, "status", "owner", "label", "release", "q", "sort"), Owners: owners, Release: rels, Query: q}))
}

var reqFields = []string{"title", "business_goal", "description", "criteria", "priority", "owner_id", "requester_id", "labels", "target_release_id", "version"}

func (s *Server) renderRequirementForm(w http.ResponseWriter, r *http.Request, status int, req *alm.Requirement, f web.Form, conflict *alm.Requirement) {
	ctx := r.Context()
	sc := s.scope(r, "requirements")
	users, err := s.userOptions(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rels, _, err := s.releaseOptions(ctx, sc.Project.ID, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	title, crumbs := "New requirement", []web.Crumb{{Label: "Requirements", Href: sc.Base() + "/requirements"}, {Label: "New"}}
	if req != nil {
		title, crumbs = "Edit "+req.Key, []web.Crumb{{Label: req.Key, Href: "/requirements/" + req.Key}, {Label: "Edit"}}
	}
	p := s.projectPage(w, r, title, crumbs...)
	s.render(w, r, status, web.RequirementForm(web.RequirementFormView{Page: p, Scope: sc, Form: f, Requirement: req, Users: users, Releases: rels, Conflict: conflict}))
}

func (s *Server) newRequirementPage(w http.ResponseWriter, r *http.Request) {
	f := emptyForm()
	f.Values["priority"] = string(alm.PriorityMedium)
	if c := callerFrom(r.Context()); c != nil {
		f.Values["owner_id"] = strconv.FormatInt(c.User.ID, 10)
		f.Values["requester_id"] = strconv.FormatInt(c.User.ID, 10)
	}
	s.renderRequirementForm(w, r, http.StatusOK, nil, f, nil)
}

// requirementInput reads a requirement form.
func requirementInput(f web.Form) (alm.RequirementInput, error) {
	in := alm.RequirementInput{
		Title: f.Value("title"), Description: f.Value("description"), BusinessGoal: f.Value("business_goal"),
		Criteria: strings.Split(strings.ReplaceAll(f.Value("criteria"), "\r\n", "\n"), "\n"),
		Priority: alm.Priority(f.Value("priority")), Labels: []string{f.Value("labels")},
	}
	var err error
	if in.OwnerID, err = optID(f.Value("owner_id"), "owner_id"); err != nil {
		return in, err
	}
	if in.RequesterID, err = optID(f.Value("requester_id"), "requester_id"); err != nil {
		return in, err
	}
	in.TargetReleaseID, err = optID(f.Value("target_release_id"), "target_release_id")
	return in, err
}

func (s *Server) createRequirement(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "requirements")
	f := formOf(r, reqFields...)
	in, err := requirementInput(f)
	var req alm.Requirement
	if err == nil {
		req, err = s.store.CreateRequirement(r.Context(), sc.Project.ID, in)
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderRequirementForm(w, r, statusOf(alm.ErrorCode(err)), nil, withError(f, err), nil)
		return
	}
	s.redirect(w, r, "/requirements/"+req.Key, "ok", req.Key+" created.")
}

func requirementForm(req alm.Requirement) web.Form {
	f := emptyForm()
	f.Values["title"], f.Values["business_goal"], f.Values["description"] = req.Title, req.BusinessGoal, req.Description
	var crit []string
	for _, c := range req.Criteria {
		crit = append(crit, c.Text)
	}
	f.Values["criteria"] = strings.Join(crit, "\n")
	f.Values["priority"] = string(req.Priority)
	f.Values["owner_id"] = idStr(req.OwnerID)
	f.Values["requester_id"] = idStr(req.RequesterID)
	f.Values["labels"] = strings.Join(req.Labels, ", ")
	f.Values["target_release_id"] = idStr(req.TargetReleaseID)
	f.Values["version"] = strconv.Itoa(req.Version)
	return f
}

func (s *Server) editRequirementPage(w http.ResponseWriter, r *http.Request) {
	req, err := s.store.RequirementByKey(r.Context(), chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderRequirementForm(w, r, http.StatusOK, &req, requirementForm(req), nil)
}

func (s *Server) updateRequirement(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := chi.URLParam(r, "key")
	f := formOf(r, reqFields...)
	cur, err := s.store.RequirementByKey(ctx, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	version, verr := strconv.Atoi(f.Value("version"))
	in, err := requirementInput(f)
	if err == nil && verr != nil {
		err = alm.Errorf(alm.CodeInvalid, "The form lost its revision number; reload the page and make your change again.")
	}
	if err == nil {
		_, err = s.store.UpdateRequirement(ctx, key, version, in)
	}
	if err != nil {
		switch alm.ErrorCode(err) {
		case alm.CodeInternal, alm.CodeNotFound:
			s.fail(w, r, err)
		case alm.CodeConflict:
			// Keep what the user typed; the next save is made against the
			// revision they have now seen.
			latest, lerr := s.store.RequirementByKey(ctx, key)
			if lerr != nil {
				s.fail(w, r, lerr)
				return
			}
			f = withError(f, err)
			f.Values["version"] = strconv.Itoa(latest.Version)
			s.renderRequirementForm(w, r, http.StatusConflict, &cur, f, &latest)
		default:
			s.renderRequirementForm(w, r, statusOf(alm.ErrorCode(err)), &cur, withError(f, err), nil)
		}
		return
	}
	s.redirect(w, r, "/requirements/"+cur.Key, "ok", "Saved.")
}

func (s *Server) requirementPage(w http.ResponseWriter, r *http.Request) {
	s.renderRequirement(w, r, http.StatusOK, emptyForm())
}

func (s *Server) renderRequirement(w http.ResponseWriter, r *http.Request, status int, form web.Form) {
	ctx := r.Context()
	sc := s.scope(r, "requirements")
	bundle, err := s.store.RequirementPage(ctx, chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, comments := bundle.Requirement, bundle.Comments
	var asks []alm.Comment
	for _, c := range comments {
		if c.State == alm.StateOpen {
			asks = append(asks, c)
		}
	}
	var next []alm.ReqStatus
	for _, st := range alm.NextReqStatuses(req.Status) {
		if alm.CanMoveRequirement(sc.Role, req.Status, st) == nil {
			next = append(next, st)
		}
	}
	c := callerFrom(ctx)
	canAnswer := sc.CanEditReqs || (req.OwnerID != nil && *req.OwnerID == c.User.ID)
	stages := map[string]string{}
	if len(bundle.Items) > 0 {
		keys := make([]string, len(bundle.Items))
		for i, it := range bundle.Items {
			keys[i] = it.Key
		}
		var err error
		if stages, err = s.store.StageOfWorkItems(ctx, keys); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	comps, err := s.store.RequirementComponents(ctx, req.Key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, req.Key, web.Crumb{Label: "Requirements", Href: sc.Base() + "/requirements"}, web.Crumb{Label: req.Key})
	s.render(w, r, status, web.RequirementPage(web.RequirementView{Page: p, Scope: sc, Requirement: req, Comments: comments, OpenAsks: asks,
		Items: bundle.Items, Releases: bundle.Releases, Versions: bundle.Versions, Timeline: bundle.Timeline, NextStatus: next, Form: form, CanAnswer: canAnswer,
		Stages: stages, Components: comps, Tracker: s.trackerCard(r, req.ProjectID, "requirement", req.ID, req.Key, sc.CanEditReqs)}))
}

func (s *Server) moveRequirement(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	req, err := s.store.MoveRequirement(r.Context(), chi.URLParam(r, "key"), sc.Role, alm.ReqStatus(r.PostFormValue("status")))
	if err != nil {
		s.failBack(w, r, "/requirements/"+chi.URLParam(r, "key"), err)
		return
	}
	s.redirect(w, r, "/requirements/"+req.Key, "ok", req.Key+" is now "+strings.ToLower(req.Status.Label())+".")
}

func (s *Server) markCriterion(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "key")
	id, err := strconv.ParseInt(chi.URLParam(r, "criterion"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That acceptance criterion was not found."))
		return
	}
	if err := s.store.SetCriterionMet(r.Context(), key, id, r.PostFormValue("met") == "true"); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/requirements/"+strings.ToUpper(key)+"#criteria", http.StatusSeeOther)
}

func (s *Server) postComment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "requirements")
	key := chi.URLParam(r, "key")
	f := formOf(r, "kind", "body", "parent_id", "proposed_title", "proposed_description", "answers")
	n := alm.NewComment{Kind: alm.CommentKind(f.Value("kind")), Body: f.Value("body"), ProposedTitle: f.Value("proposed_title"), ProposedDesc: f.Value("proposed_description")}
	parent, err := optID(f.Value("parent_id"), "parent_id")
	if err == nil {
		n.ParentID = parent
		answers := false
		if f.Checked("answers") {
			answers, err = s.mayAnswer(r, sc, key)
		}
		if err == nil {
			_, err = s.store.AddComment(ctx, key, n, answers)
		}
	}
	if err != nil {
		if code := alm.ErrorCode(err); code == alm.CodeInternal || code == alm.CodeNotFound {
			s.fail(w, r, err)
			return
		}
		if parent != nil {
			s.failBack(w, r, "/requirements/"+strings.ToUpper(key), err)
			return
		}
		s.renderRequirement(w, r, statusOf(alm.ErrorCode(err)), withError(f, err))
		return
	}
	msg := map[alm.CommentKind]string{alm.CommentQuestion: "Question posted; it stays open until answered.", alm.CommentChangeRequest: "Change request posted for the owner to decide."}[n.Kind]
	if n.ParentID != nil {
		msg = "Reply posted."
	}
	s.redirect(w, r, "/requirements/"+strings.ToUpper(key)+"#discussion", "ok", msg)
}

// mayAnswer says whether the caller may close a question: product owners
// (and admins) in the project, and the requirement's owner.
func (s *Server) mayAnswer(r *http.Request, sc web.Scope, key string) (bool, error) {
	if sc.CanEditReqs {
		return true, nil
	}
	req, err := s.store.RequirementByKey(r.Context(), key)
	if err != nil {
		return false, err
	}
	c := callerFrom(r.Context())
	if req.OwnerID != nil && *req.OwnerID == c.User.ID {
		return true, nil
	}
	return false, alm.Errorf(alm.CodeForbidden, "Only the requirement's owner or a product owner can mark a question answered.")
}

func (s *Server) markAnswered(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := chi.URLParam(r, "key")
	id, err := strconv.ParseInt(chi.URLParam(r, "comment"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That comment was not found."))
		return
	}
	c, err := s.store.CommentByID(ctx, key, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The asker may withdraw their own question.
	if c.AuthorID == nil || *c.AuthorID != callerFrom(ctx).User.ID {
		if _, err := s.mayAnswer(r, s.scope(r, ""), key); err != nil {
			s.failBack(w, r, "/requirements/"+strings.ToUpper(key), err)
			return
		}
	}
	if err := s.store.MarkAnswered(ctx, key, id); err != nil {
		s.failBack(w, r, "/requirements/"+strings.ToUpper(key), err)
		return
	}
	s.redirect(w, r, "/requirements/"+strings.ToUpper(key)+"#discussion", "ok", "Question marked answered.")
}

func (s *Server) decideChange(accept bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := chi.URLParam(r, "key")
		id, err := strconv.ParseInt(chi.URLParam(r, "comment"), 10, 64)
		if err != nil {
			s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That comment was not found."))
			return
		}
		if err := s.store.DecideChangeRequest(r.Context(), key, id, accept); err != nil {
			s.failBack(w, r, "/requirements/"+strings.ToUpper(key), err)
			return
		}
		msg := "Change request declined."
		if accept {
			msg = "Change request accepted: the spec has a new version."
		}
		s.redirect(w, r, "/requirements/"+strings.ToUpper(key), "ok", msg)
	}
}

func (s *Server) specDiffPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "requirements")
	req, err := s.store.RequirementByKey(ctx, chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.store.SpecVersions(ctx, req.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	find := func(q string, def alm.SpecVersion) (alm.SpecVersion, error) {
		if q == "" {
			return def, nil
		}
		n, _ := strconv.Atoi(q)
		for _, v := range versions {
			if v.Version == n {
				return v, nil
			}
		}
		return def, alm.Errorf(alm.CodeNotFound, "%s has no spec version %q.", req.Key, q)
	}
	newest, oldest := versions[0], versions[len(versions)-1]
	if len(versions) > 1 {
		oldest = versions[1]
	}
	from, err := find(r.URL.Query().Get("from"), oldest)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	to, err := find(r.URL.Query().Get("to"), newest)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, req.Key+" spec history", web.Crumb{Label: req.Key, Href: "/requirements/" + req.Key}, web.Crumb{Label: "Spec history"})
	s.render(w, r, http.StatusOK, web.SpecDiff(web.SpecDiffView{Page: p, Scope: sc, Requirement: req, From: from, To: to, Lines: diffLines(from.Text(), to.Text()), Versions: versions}))
}

// diffLines is a line diff of two texts with all context kept: specs are
// short, and reading the whole spec with changes marked beats hunks.
func diffLines(a, b string) []web.DiffLine {
	al, bl := difflib.SplitLines(a), difflib.SplitLines(b)
	var out []web.DiffLine
	for _, op := range difflib.NewMatcher(al, bl).GetOpCodes() {
		switch op.Tag {
		case 'e':
			for _, l := range al[op.I1:op.I2] {
				out = append(out, web.DiffLine{Op: ' ', Text: strings.TrimRight(l, "\n")})
			}
		default:
			for _, l := range al[op.I1:op.I2] {
				out = append(out, web.DiffLine{Op: '-', Text: strings.TrimRight(l, "\n")})
			}
			for _, l := range bl[op.J1:op.J2] {
				out = append(out, web.DiffLine{Op: '+', Text: strings.TrimRight(l, "\n")})
			}
		}
	}
	return out
}
