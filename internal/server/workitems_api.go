// The work items API: work items and the board.

package server

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/alm"
)

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
