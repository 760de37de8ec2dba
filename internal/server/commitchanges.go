package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/web"
)

// Commit changes: a developer picks a work item's changes from their
// sandbox — a fresh snapshot compared with the item's branch — and
// commits the ticked ones to the branch.

func (s *Server) registerCommitRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/work-items/{key}/commit-changes", inProject(alm.PermEditWorkItems), s.startCommitChanges)
	s.handle(r, http.MethodGet, "/work-items/{key}/commit-changes", inProject(alm.PermView), s.commitChangesPage)
	s.handle(r, http.MethodPost, "/work-items/{key}/commits", inProject(alm.PermEditWorkItems), s.commitChanges)
	s.handle(r, http.MethodGet, "/api/v1/work-items/{key}/changes", inProject(alm.PermView), s.apiWorkItemChanges)
	s.handle(r, http.MethodPost, "/api/v1/work-items/{key}/commits", inProject(alm.PermEditWorkItems), s.commitChanges)
}

// startCommitChanges takes a fresh snapshot of the chosen sandbox.
func (s *Server) startCommitChanges(w http.ResponseWriter, r *http.Request) {
	key := strings.ToUpper(chi.URLParam(r, "key"))
	back := "/work-items/" + key
	id, err := strconv.ParseInt(r.PostFormValue("org"), 10, 64)
	if err != nil {
		s.failBack(w, r, back, alm.Invalid(map[string]string{"org": "Choose the sandbox you made the changes in."}))
		return
	}
	o, err := s.store.OrgByID(r.Context(), id)
	if err == nil && o.Kind == alm.OrgProduction {
		err = alm.Invalid(map[string]string{"org": "Pick changes from a sandbox or scratch org, not production."})
	}
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	sn, err := s.beginSnapshot(r, o)
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/work-items/%s/commit-changes?snapshot=%d", key, sn.ID), http.StatusSeeOther)
}

func (s *Server) commitChangesPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	it, err := s.store.WorkItemByKey(ctx, chi.URLParam(r, "key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, _ := strconv.ParseInt(r.URL.Query().Get("snapshot"), 10, 64)
	sn, err := s.store.SnapshotByID(ctx, id)
	if err != nil || sn.OrgID == nil {
		s.failBack(w, r, "/work-items/"+it.Key, alm.Errorf(alm.CodeNotFound, "Choose a sandbox to pick changes from."))
		return
	}
	v := web.CommitChangesView{Item: it, Snapshot: sn, By: r.URL.Query().Get("by"), Query: r.URL.Query().Get("q")}
	if v.Branch, err = s.store.WorkItemBranch(ctx, it.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if sn.Status == alm.SnapDone {
		gf, err := s.gitflow()
		if err == nil {
			v.Candidates, err = gf.Candidates(ctx, it.Key, sn.ID)
		}
		if err != nil {
			v.Error = alm.ErrorMessage(err)
		}
	}
	sc := s.scope(r, "board")
	v.CanCommit = sc.Role.Can(alm.PermEditWorkItems)
	v.Page = s.projectPage(w, r, "Commit changes to "+it.Key, web.Crumb{Label: "Board", Href: sc.Base() + "/board"},
		web.Crumb{Label: it.Key, Href: "/work-items/" + it.Key}, web.Crumb{Label: "Commit changes"})
	s.render(w, r, http.StatusOK, web.CommitChangesPage(v))
}

func (s *Server) apiWorkItemChanges(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.URL.Query().Get("snapshot"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Invalid(map[string]string{"snapshot": "Say which org snapshot to compare with the branch (?snapshot=ID)."}))
		return
	}
	gf, err := s.gitflow()
	var cs []alm.SandboxChange
	if err == nil {
		cs, err = gf.Candidates(r.Context(), chi.URLParam(r, "key"), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cs == nil {
		cs = []alm.SandboxChange{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"snapshot": id, "changes": cs})
}

func (s *Server) commitChanges(w http.ResponseWriter, r *http.Request) {
	key := strings.ToUpper(chi.URLParam(r, "key"))
	var body struct {
		SnapshotID int64    `json:"snapshot_id"`
		Components []string `json:"components"`
		Deletions  []string `json:"deletions"`
	}
	if isAPI(r) {
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		_ = r.ParseForm()
		body.SnapshotID, _ = strconv.ParseInt(r.PostForm.Get("snapshot"), 10, 64)
		body.Components, body.Deletions = r.PostForm["pick"], r.PostForm["delete"]
	}
	gf, err := s.gitflow()
	var commit string
	if err == nil {
		commit, err = gf.Commit(r.Context(), key, body.SnapshotID, body.Components, body.Deletions)
	}
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusCreated, map[string]any{"commit": commit, "components": len(body.Components), "deletions": len(body.Deletions)})
		return
	}
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/work-items/%s/commit-changes?snapshot=%d", key, body.SnapshotID), err)
		return
	}
	s.redirect(w, r, "/work-items/"+key, "ok", fmt.Sprintf("Committed %.8s to the branch: %s, %s.", commit, alm.Count(len(body.Components), "component"), alm.Count(len(body.Deletions), "deletion")))
}
