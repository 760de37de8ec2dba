// The requirements API: requirements, their discussion and their lineage.

package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/alm"
)

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
