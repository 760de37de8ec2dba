// The releases API: releases with their notes.

package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
)

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
