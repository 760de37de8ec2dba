package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// registerPlanAPI adds the Plan stage's JSON API. Every list takes the
// same filters as its page and pages with next_cursor; updates are PATCH
// with the revision read ("version", or an If-Match header), so that no
// edit silently overwrites another.
func (s *Server) registerPlanAPI(r chi.Router) {
	s.handle(r, http.MethodGet, "/api/v1/projects", needs(alm.PermView), s.apiProjects)
	s.handle(r, http.MethodPost, "/api/v1/projects", needs(alm.PermCreateProject), s.apiCreateProject)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}", inProject(alm.PermView), s.apiProject)

	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/requirements", inProject(alm.PermView), s.apiRequirements)
	s.handle(r, http.MethodPost, "/api/v1/projects/{project}/requirements", inProject(alm.PermEditRequirements), s.apiCreateRequirement)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/requirements/{key}", inProject(alm.PermView), s.apiRequirement)
	s.handle(r, http.MethodPatch, "/api/v1/projects/{project}/requirements/{key}", inProject(alm.PermMoveRequirements), s.apiUpdateRequirement)
	s.handle(r, http.MethodGet, "/api/v1/requirements/{key}/comments", inProject(alm.PermView), s.apiComments)
	s.handle(r, http.MethodPost, "/api/v1/requirements/{key}/comments", inProject(alm.PermComment), s.apiCreateComment)
	s.handle(r, http.MethodPatch, "/api/v1/requirements/{key}/comments/{comment}", inProject(alm.PermComment), s.apiResolveComment)
	s.handle(r, http.MethodGet, "/api/v1/requirements/{key}/lineage", inProject(alm.PermView), s.apiLineage)

	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/work-items", inProject(alm.PermView), s.apiWorkItems)
	s.handle(r, http.MethodPost, "/api/v1/projects/{project}/work-items", inProject(alm.PermEditWorkItems), s.apiCreateWorkItem)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/work-items/{key}", inProject(alm.PermView), s.apiWorkItem)
	s.handle(r, http.MethodPatch, "/api/v1/projects/{project}/work-items/{key}", inProject(alm.PermEditWorkItems), s.apiUpdateWorkItem)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/board", inProject(alm.PermView), s.apiBoard)

	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/releases", inProject(alm.PermView), s.apiReleases)
	s.handle(r, http.MethodPost, "/api/v1/projects/{project}/releases", inProject(alm.PermManageReleases), s.apiCreateRelease)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/releases/{id}", inProject(alm.PermView), s.apiRelease)
	s.handle(r, http.MethodPatch, "/api/v1/projects/{project}/releases/{id}", inProject(alm.PermManageReleases), s.apiUpdateRelease)

	s.handle(r, http.MethodGet, "/api/v1/search", needs(alm.PermView), s.apiSearch)
	s.handle(r, http.MethodGet, "/api/v1/openapi.json", public, s.apiOpenAPI)
}

// opt is a JSON field that may be absent, null or a value; PATCH bodies
// use it to tell "leave alone" from "clear".
type opt[T any] struct {
	Set   bool
	Value T
}

func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	return json.Unmarshal(b, &o.Value)
}

// decodeJSON reads a JSON object into v, refusing unknown fields and
// trailing data, with an error that says where the problem is.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return alm.Errorf(alm.CodeInvalid, "Send the body as application/json.")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return alm.Errorf(alm.CodeInvalid, "The body is empty; send a JSON object.")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return alm.Errorf(alm.CodeInvalid, "The body is not valid JSON (it ends too early).")
		case errors.As(err, &syn):
			return alm.Errorf(alm.CodeInvalid, "The body is not valid JSON (at byte %d).", syn.Offset)
		case errors.As(err, &typ):
			return alm.Invalid(map[string]string{typ.Field: fmt.Sprintf("Expected %s.", typ.Type)})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return alm.Invalid(map[string]string{f: "This field is not known here."})
		}
		return alm.Errorf(alm.CodeInvalid, "The body could not be read as JSON.")
	}
	if dec.More() {
		return alm.Errorf(alm.CodeInvalid, "Send one JSON object.")
	}
	return nil
}

// revision is the revision a PATCH was made against: the body's value or
// an If-Match header.
func revision(r *http.Request, body *int, field string) (int, error) {
	if body != nil {
		return *body, nil
	}
	if im := strings.Trim(strings.TrimPrefix(r.Header.Get("If-Match"), "W/"), `"`); im != "" {
		if n, err := strconv.Atoi(im); err == nil {
			return n, nil
		}
	}
	return 0, alm.Invalid(map[string]string{field: "Send the " + field + " you read (or an If-Match header), so that a concurrent edit is not overwritten."})
}

func (s *Server) created(w http.ResponseWriter, location string, v any) {
	w.Header().Set("Location", location)
	s.writeJSON(w, http.StatusCreated, v)
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

// requirementBody is a requirement as the API accepts it.
type requirementBody struct {
	Title           opt[string]        `json:"title"`
	Description     opt[string]        `json:"description"`
	BusinessGoal    opt[string]        `json:"business_goal"`
	Criteria        opt[[]string]      `json:"acceptance_criteria"`
	Priority        opt[alm.Priority]  `json:"priority"`
	RequesterID     opt[*int64]        `json:"requester_id"`
	OwnerID         opt[*int64]        `json:"owner_id"`
	Labels          opt[[]string]      `json:"labels"`
	TargetReleaseID opt[*int64]        `json:"target_release_id"`
	Status          opt[alm.ReqStatus] `json:"status"`
	Version         *int               `json:"version"`
}

// apply overlays the fields that were sent on in, reporting whether any
// spec field was among them.
func (b requirementBody) apply(in *alm.RequirementInput) bool {
	set := false
	if b.Title.Set {
		in.Title, set = b.Title.Value, true
	}
	if b.Description.Set {
		in.Description, set = b.Description.Value, true
	}
	if b.BusinessGoal.Set {
		in.BusinessGoal, set = b.BusinessGoal.Value, true
	}
	if b.Criteria.Set {
		in.Criteria, set = b.Criteria.Value, true
	}
	if b.Priority.Set {
		in.Priority, set = b.Priority.Value, true
	}
	if b.RequesterID.Set {
		in.RequesterID, set = b.RequesterID.Value, true
	}
	if b.OwnerID.Set {
		in.OwnerID, set = b.OwnerID.Value, true
	}
	if b.Labels.Set {
		in.Labels, set = b.Labels.Value, true
	}
	if b.TargetReleaseID.Set {
		in.TargetReleaseID, set = b.TargetReleaseID.Value, true
	}
	return set
}

func (s *Server) apiRequirements(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	f, err := reqFilterOf(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.store.ListRequirements(r.Context(), sc.Project.ID, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, page)
}

func (s *Server) apiCreateRequirement(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	var b requirementBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.Status.Set || b.Version != nil {
		s.fail(w, r, alm.Invalid(map[string]string{"status": "A new requirement starts as a draft; move it with PATCH."}))
		return
	}
	var in alm.RequirementInput
	b.apply(&in)
	req, err := s.store.CreateRequirement(r.Context(), sc.Project.ID, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/projects/%s/requirements/%s", sc.Project.Key, req.Key), req)
}

func (s *Server) apiRequirement(w http.ResponseWriter, r *http.Request) {
	req, err := s.store.RequirementByKey(r.Context(), chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(req.Version)))
	s.writeJSON(w, http.StatusOK, req)
}

func (s *Server) apiUpdateRequirement(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := scopeFrom(ctx)
	key := chi.URLParam(r, "key")
	var b requirementBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	version, err := revision(r, b.Version, "version")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur, err := s.store.RequirementByKey(ctx, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := alm.RequirementInput{Title: cur.Title, Description: cur.Description, BusinessGoal: cur.BusinessGoal, Criteria: alm.CriteriaTexts(cur.Criteria),
		Priority: cur.Priority, RequesterID: cur.RequesterID, OwnerID: cur.OwnerID, Labels: cur.Labels, TargetReleaseID: cur.TargetReleaseID}
	req := cur
	if b.apply(&in) {
		if !sc.Role.Can(alm.PermEditRequirements) {
			s.fail(w, r, alm.Errorf(alm.CodeForbidden, "Your role in %s (%s) may move requirements but not edit them.", sc.Project.Key, sc.Role.Label()))
			return
		}
		if req, err = s.store.UpdateRequirement(ctx, key, version, in); err != nil {
			s.fail(w, r, err)
			return
		}
		version = req.Version
	} else if version != cur.Version {
		s.fail(w, r, conflictErr(cur.Key, version, cur.Version))
		return
	}
	if b.Status.Set && b.Status.Value != req.Status {
		if req, err = s.store.MoveRequirement(ctx, key, sc.Role, b.Status.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(req.Version)))
	s.writeJSON(w, http.StatusOK, req)
}

func conflictErr(what string, yours, theirs int) error {
	return alm.Errorf(alm.CodeConflict, "%s changed since you read it (you had revision %d, it is now at %d). Read it again and reapply your change.", what, yours, theirs)
}

func (s *Server) apiComments(w http.ResponseWriter, r *http.Request) {
	req, err := s.store.RequirementByKey(r.Context(), chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	threads, err := s.store.Comments(r.Context(), req.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": threads})
}

func (s *Server) apiCreateComment(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "key")
	var b struct {
		Kind                alm.CommentKind `json:"kind"`
		Body                string          `json:"body"`
		ParentID            *int64          `json:"parent_id"`
		ProposedTitle       string          `json:"proposed_title"`
		ProposedDescription string          `json:"proposed_description"`
		Answers             bool            `json:"answers"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.Answers {
		if _, err := s.mayAnswer(r, s.scope(r, ""), key); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	c, err := s.store.AddComment(r.Context(), key, alm.NewComment{Kind: b.Kind, Body: b.Body, ParentID: b.ParentID, ProposedTitle: b.ProposedTitle, ProposedDesc: b.ProposedDescription}, b.Answers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/requirements/%s/comments", strings.ToUpper(key)), c)
}

func (s *Server) apiResolveComment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := chi.URLParam(r, "key")
	id, err := strconv.ParseInt(chi.URLParam(r, "comment"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That comment was not found."))
		return
	}
	var b struct {
		State alm.CommentState `json:"state"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	sc := s.scope(r, "")
	switch b.State {
	case alm.StateAnswered:
		c, err := s.store.CommentByID(ctx, key, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if c.AuthorID == nil || *c.AuthorID != callerFrom(ctx).User.ID {
			if _, err := s.mayAnswer(r, sc, key); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		err = s.store.MarkAnswered(ctx, key, id)
	case alm.StateAccepted, alm.StateDeclined:
		if !sc.CanEditReqs {
			s.fail(w, r, alm.Errorf(alm.CodeForbidden, "Deciding change requests is for product owners."))
			return
		}
		err = s.store.DecideChangeRequest(ctx, key, id, b.State == alm.StateAccepted)
	default:
		err = alm.Invalid(map[string]string{"state": "Send answered (questions), accepted or declined (change requests)."})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.store.CommentByID(ctx, key, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiLineage(w http.ResponseWriter, r *http.Request) {
	l, err := s.store.RequirementLineage(r.Context(), chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, l)
}

// workItemBody is a work item as the API accepts it.
type workItemBody struct {
	Kind            opt[alm.WorkKind]   `json:"kind"`
	Title           opt[string]         `json:"title"`
	Description     opt[string]         `json:"description"`
	AssigneeID      opt[*int64]         `json:"assignee_id"`
	Estimate        opt[*int]           `json:"estimate"`
	Labels          opt[[]string]       `json:"labels"`
	Approach        opt[alm.Approach]   `json:"approach"`
	MaintenanceNote opt[string]         `json:"maintenance_note"`
	Requirements    opt[[]string]       `json:"requirements"`
	Status          opt[alm.WorkStatus] `json:"status"`
	Before          string              `json:"before"`
	ReleaseID       opt[*int64]         `json:"release_id"`
	Version         *int                `json:"version"`
}

func (b workItemBody) apply(in *alm.WorkItemInput) bool {
	set := false
	if b.Kind.Set {
		in.Kind, set = b.Kind.Value, true
	}
	if b.Title.Set {
		in.Title, set = b.Title.Value, true
	}
	if b.Description.Set {
		in.Description, set = b.Description.Value, true
	}
	if b.AssigneeID.Set {
		in.AssigneeID, set = b.AssigneeID.Value, true
	}
	if b.Estimate.Set {
		in.Estimate, set = b.Estimate.Value, true
	}
	if b.Labels.Set {
		in.Labels, set = b.Labels.Value, true
	}
	if b.Approach.Set {
		in.Approach, set = b.Approach.Value, true
	}
	if b.MaintenanceNote.Set {
		in.MaintenanceNote, set = b.MaintenanceNote.Value, true
	}
	if b.Requirements.Set {
		in.Requirements, set = b.Requirements.Value, true
	}
	return set
}

func (s *Server) apiWorkItems(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	f, err := s.itemFilterOf(r, sc.Project.ID, r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.store.ListWorkItems(r.Context(), sc.Project.ID, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, page)
}

func (s *Server) apiBoard(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	f, err := s.itemFilterOf(r, sc.Project.ID, r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cols, err := s.store.Board(r.Context(), sc.Project.ID, f, boardCards)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"columns": cols})
}

func (s *Server) apiCreateWorkItem(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	var b workItemBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.Status.Set || b.ReleaseID.Set || b.Version != nil {
		s.fail(w, r, alm.Invalid(map[string]string{"status": "A new work item starts in the backlog; move it or put it in a release with PATCH."}))
		return
	}
	var in alm.WorkItemInput
	b.apply(&in)
	it, err := s.store.CreateWorkItem(r.Context(), sc.Project.ID, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/projects/%s/work-items/%s", sc.Project.Key, it.Key), it)
}

func (s *Server) apiWorkItem(w http.ResponseWriter, r *http.Request) {
	it, err := s.store.WorkItemByKey(r.Context(), chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(it.Version)))
	s.writeJSON(w, http.StatusOK, it)
}

func (s *Server) apiUpdateWorkItem(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := scopeFrom(ctx)
	key := chi.URLParam(r, "key")
	var b workItemBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	version, err := revision(r, b.Version, "version")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if b.ReleaseID.Set && !sc.Role.Can(alm.PermManageReleases) {
		s.fail(w, r, alm.Errorf(alm.CodeForbidden, "Putting work into a release is for release managers."))
		return
	}
	cur, err := s.store.WorkItemByKey(ctx, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := alm.WorkItemInput{Kind: cur.Kind, Title: cur.Title, Description: cur.Description, AssigneeID: cur.AssigneeID, Estimate: cur.Estimate,
		Labels: cur.Labels, Approach: cur.Approach, MaintenanceNote: cur.MaintenanceNote, Requirements: cur.Requirements}
	it := cur
	if b.apply(&in) {
		if it, err = s.store.UpdateWorkItem(ctx, key, version, in); err != nil {
			s.fail(w, r, err)
			return
		}
	} else if version != cur.Version {
		s.fail(w, r, conflictErr(cur.Key, version, cur.Version))
		return
	}
	// The release goes first: moving into "in release" needs one.
	if b.ReleaseID.Set {
		if it, err = s.store.SetWorkItemRelease(ctx, key, b.ReleaseID.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if b.Status.Set || b.Before != "" {
		to := it.Status
		if b.Status.Set {
			to = b.Status.Value
		}
		if it, err = s.store.MoveWorkItem(ctx, key, to, b.Before); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(it.Version)))
	s.writeJSON(w, http.StatusOK, it)
}

// releaseJSON is a release with its notes as they read now.
type releaseJSON struct {
	alm.Release
	Notes string `json:"notes"`
}

func (s *Server) apiReleases(w http.ResponseWriter, r *http.Request) {
	rels, err := s.store.ListReleases(r.Context(), scopeFrom(r.Context()).Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": rels})
}

func (s *Server) withNotes(r *http.Request, rel alm.Release) (releaseJSON, error) {
	notes, err := s.store.ReleaseNotes(r.Context(), rel)
	return releaseJSON{Release: rel, Notes: notes}, err
}

// releaseBody is a release as the API accepts it.
type releaseBody struct {
	Name       opt[string]        `json:"name"`
	Version    opt[string]        `json:"version"`
	TargetDate opt[*string]       `json:"target_date"`
	Notes      opt[*string]       `json:"notes"`
	Status     opt[alm.RelStatus] `json:"status"`
	Revision   *int               `json:"revision"`
}

func (b releaseBody) apply(in *alm.ReleaseInput) (bool, error) {
	set := false
	if b.Name.Set {
		in.Name, set = b.Name.Value, true
	}
	if b.Version.Set {
		in.Version, set = b.Version.Value, true
	}
	if b.TargetDate.Set {
		set = true
		in.TargetDate = nil
		if b.TargetDate.Value != nil && *b.TargetDate.Value != "" {
			t, err := time.Parse("2006-01-02", *b.TargetDate.Value)
			if err != nil {
				return set, alm.Invalid(map[string]string{"target_date": "Use a date like 2027-03-31."})
			}
			in.TargetDate = &t
		}
	}
	return set || b.Notes.Set, nil
}

func (s *Server) apiCreateRelease(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	var b releaseBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	var in alm.ReleaseInput
	if _, err := b.apply(&in); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.Status.Set || b.Notes.Set {
		s.fail(w, r, alm.Invalid(map[string]string{"status": "A new release starts in planning with generated notes; change them with PATCH."}))
		return
	}
	rel, err := s.store.CreateRelease(r.Context(), sc.Project.ID, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.withNotes(r, rel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/projects/%s/releases/%d", sc.Project.Key, rel.ID), out)
}

func (s *Server) apiRelease(w http.ResponseWriter, r *http.Request) {
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	out, err := s.withNotes(r, rel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(rel.Rev)))
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiUpdateRelease(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := scopeFrom(ctx)
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	var b releaseBody
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	rev, err := revision(r, b.Revision, "revision")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := alm.ReleaseInput{Name: rel.Name, Version: rel.Version, TargetDate: rel.TargetDate}
	changed, err := b.apply(&in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if changed {
		var notes *string
		if b.Notes.Set {
			empty := ""
			notes = &empty
			if b.Notes.Value != nil {
				notes = b.Notes.Value
			}
		}
		if rel, err = s.store.UpdateRelease(ctx, sc.Project.ID, rel.ID, rev, in, notes); err != nil {
			s.fail(w, r, err)
			return
		}
	} else if rev != rel.Rev {
		s.fail(w, r, conflictErr(rel.Name, rev, rel.Rev))
		return
	}
	if b.Status.Set && b.Status.Value != rel.Status {
		if rel, err = s.store.MoveRelease(ctx, sc.Project.ID, rel.ID, sc.Role, b.Status.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	out, err := s.withNotes(r, rel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(rel.Rev)))
	s.writeJSON(w, http.StatusOK, out)
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
