package server

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/markdown"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerReleaseRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/projects/{project}/releases", inProject(alm.PermView), s.releasesPage)
	s.handle(r, http.MethodGet, "/projects/{project}/releases/new", inProject(alm.PermManageReleases), s.newReleasePage)
	s.handle(r, http.MethodPost, "/projects/{project}/releases", inProject(alm.PermManageReleases), s.createRelease)
	s.handle(r, http.MethodGet, "/projects/{project}/releases/{id}", inProject(alm.PermView), s.releasePage)
	s.handle(r, http.MethodGet, "/projects/{project}/releases/{id}/edit", inProject(alm.PermManageReleases), s.editReleasePage)
	s.handle(r, http.MethodPost, "/projects/{project}/releases/{id}", inProject(alm.PermManageReleases), s.updateRelease)
	s.handle(r, http.MethodPost, "/projects/{project}/releases/{id}/status", inProject(alm.PermManageReleases), s.moveRelease)
	s.handle(r, http.MethodPost, "/projects/{project}/releases/{id}/items", inProject(alm.PermManageReleases), s.addReleaseItem)
	s.handle(r, http.MethodGet, "/projects/{project}/releases/{id}/notes.md", inProject(alm.PermView), s.releaseNotesMD)
	s.handle(r, http.MethodGet, "/projects/{project}/matrix", inProject(alm.PermView), s.matrixPage)
	s.registerBuildRoutes(r)
	s.registerPromotionRoutes(r)
	s.handle(r, http.MethodGet, "/projects/{project}/matrix.csv", inProject(alm.PermView), s.matrixCSV)
}

func (s *Server) releasesPage(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "releases")
	rels, err := s.store.ListReleases(r.Context(), sc.Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, "Releases", web.Crumb{Label: "Releases"})
	s.render(w, r, http.StatusOK, web.Releases(web.ReleasesView{Page: p, Scope: sc, Releases: rels}))
}

func (s *Server) renderReleaseForm(w http.ResponseWriter, r *http.Request, status int, rel *alm.Release, f web.Form) {
	sc := s.scope(r, "releases")
	title, crumbs := "New release", []web.Crumb{{Label: "Releases", Href: sc.Base() + "/releases"}, {Label: "New"}}
	if rel != nil {
		title, crumbs = "Edit "+rel.Name, []web.Crumb{{Label: rel.Name, Href: fmt.Sprintf("%s/releases/%d", sc.Base(), rel.ID)}, {Label: "Edit"}}
	}
	p := s.projectPage(w, r, title, crumbs...)
	s.render(w, r, status, web.ReleaseForm(web.ReleaseFormView{Page: p, Scope: sc, Form: f, Release: rel}))
}

func (s *Server) newReleasePage(w http.ResponseWriter, r *http.Request) {
	s.renderReleaseForm(w, r, http.StatusOK, nil, emptyForm())
}

// releaseInput reads a release form, reporting every bad field at once.
func releaseInput(f web.Form) (alm.ReleaseInput, error) {
	in := alm.ReleaseInput{Name: f.Value("name"), Version: f.Value("version")}
	d := strings.TrimSpace(f.Value("target_date"))
	if d == "" {
		return in, nil
	}
	t, err := time.Parse("2006-01-02", d)
	if err == nil {
		in.TargetDate = &t
		return in, nil
	}
	fields := map[string]string{"target_date": "Use a date like 2027-03-31."}
	check := in
	for k, v := range alm.FieldErrors(check.Validate()) {
		fields[k] = v
	}
	return in, alm.Invalid(fields)
}

func (s *Server) createRelease(w http.ResponseWriter, r *http.Request) {
	sc := s.scope(r, "releases")
	f := formOf(r, "name", "version", "target_date")
	in, err := releaseInput(f)
	var rel alm.Release
	if err == nil {
		rel, err = s.store.CreateRelease(r.Context(), sc.Project.ID, in)
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderReleaseForm(w, r, statusOf(alm.ErrorCode(err)), nil, withError(f, err))
		return
	}
	s.redirect(w, r, fmt.Sprintf("%s/releases/%d", sc.Base(), rel.ID), "ok", rel.Name+" created. Add work items to it.")
}

func (s *Server) releaseFromPath(w http.ResponseWriter, r *http.Request) (alm.Release, bool) {
	sc := scopeFrom(r.Context())
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That release was not found."))
		return alm.Release{}, false
	}
	rel, err := s.store.ReleaseByID(r.Context(), sc.Project.ID, id)
	if err != nil {
		s.fail(w, r, err)
		return alm.Release{}, false
	}
	return rel, true
}

func (s *Server) releasePage(w http.ResponseWriter, r *http.Request) {
	s.renderRelease(w, r, http.StatusOK, emptyForm())
}

func (s *Server) renderRelease(w http.ResponseWriter, r *http.Request, status int, add web.Form, extra ...func(*web.ReleaseView)) {
	ctx := r.Context()
	sc := s.scope(r, "releases")
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	items, err := s.store.ListWorkItems(ctx, sc.Project.ID, store.ItemFilter{ReleaseID: &rel.ID, Sort: "oldest", Limit: 200})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notes, err := s.store.ReleaseNotes(ctx, rel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	events, err := s.store.Timeline(ctx, "release", rel.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var next []alm.RelStatus
	for _, st := range alm.RelStatuses {
		if st != rel.Status && alm.CanMoveRelease(sc.Role, rel.Status, st) == nil {
			next = append(next, st)
		}
	}
	buildList, err := s.store.ListBuilds(ctx, rel.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, rel.Name, web.Crumb{Label: "Releases", Href: sc.Base() + "/releases"}, web.Crumb{Label: rel.Name})
	v := web.ReleaseView{Page: p, Scope: sc, Release: rel, Items: items.Items, NotesHTML: markdown.HTML(notes),
		Next: next, Timeline: events, AddForm: add, Builds: buildList}
	for _, f := range extra {
		f(&v)
	}
	s.render(w, r, status, web.ReleasePage(v))
}

func (s *Server) editReleasePage(w http.ResponseWriter, r *http.Request) {
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	notes, err := s.store.ReleaseNotes(r.Context(), rel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := emptyForm()
	f.Values["name"], f.Values["version"], f.Values["notes"] = rel.Name, rel.Version, notes
	if rel.TargetDate != nil {
		f.Values["target_date"] = rel.TargetDate.Format("2006-01-02")
	}
	f.Values["rev"] = strconv.Itoa(rel.Rev)
	// Saving generated notes unchanged keeps them generated.
	f.Values["generated"] = notes
	s.renderReleaseForm(w, r, http.StatusOK, &rel, f)
}

func (s *Server) updateRelease(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := scopeFrom(ctx)
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	f := formOf(r, "name", "version", "target_date", "notes", "rev")
	in, err := releaseInput(f)
	rev, rerr := strconv.Atoi(f.Value("rev"))
	if err == nil && rerr != nil {
		err = alm.Errorf(alm.CodeInvalid, "The form lost its revision number; reload the page and make your change again.")
	}
	if err == nil {
		notes := f.Value("notes")
		var np *string
		// Notes identical to what would be generated stay generated, so
		// they keep following the release's work items.
		gen, gerr := s.store.ReleaseNotes(ctx, alm.Release{ID: rel.ID, Name: in.Name, Version: in.Version, TargetDate: in.TargetDate})
		if gerr != nil {
			s.fail(w, r, gerr)
			return
		}
		if strings.TrimSpace(strings.ReplaceAll(notes, "\r\n", "\n")) != strings.TrimSpace(gen) || rel.NotesEdited {
			np = &notes
		}
		_, err = s.store.UpdateRelease(ctx, sc.Project.ID, rel.ID, rev, in, np)
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		f = withError(f, err)
		if alm.ErrorCode(err) == alm.CodeConflict {
			f.Values["rev"] = strconv.Itoa(rel.Rev)
		}
		s.renderReleaseForm(w, r, statusOf(alm.ErrorCode(err)), &rel, f)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/projects/%s/releases/%d", sc.Project.Key, rel.ID), "ok", "Release saved.")
}

func (s *Server) moveRelease(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	back := fmt.Sprintf("/projects/%s/releases/%d", sc.Project.Key, rel.ID)
	moved, err := s.store.MoveRelease(r.Context(), sc.Project.ID, rel.ID, sc.Role, alm.RelStatus(r.PostFormValue("status")))
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	s.redirect(w, r, back, "ok", moved.Name+" is now "+strings.ToLower(moved.Status.Label())+".")
}

func (s *Server) addReleaseItem(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	f := formOf(r, "item")
	key := strings.ToUpper(strings.TrimSpace(f.Value("item")))
	var err error
	if key == "" {
		err = alm.Invalid(map[string]string{"item": "Enter a work item key."})
	} else if it, e := s.store.WorkItemByKey(r.Context(), key); e != nil || it.ProjectID != sc.Project.ID {
		err = alm.Invalid(map[string]string{"item": "There is no work item " + key + " in " + sc.Project.Key + "."})
	} else {
		_, err = s.store.SetWorkItemRelease(r.Context(), key, &rel.ID)
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		f = withError(f, err)
		if m := f.Errors["item"]; m != "" {
			f.Message = m
		}
		s.renderRelease(w, r, statusOf(alm.ErrorCode(err)), f)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/projects/%s/releases/%d", sc.Project.Key, rel.ID), "ok", key+" added to "+rel.Name+".")
}

func (s *Server) releaseNotesMD(w http.ResponseWriter, r *http.Request) {
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	notes, err := s.store.ReleaseNotes(r.Context(), rel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-release-notes.md"`, fileSafe(rel.Name)))
	_, _ = w.Write([]byte(notes))
}

func fileSafe(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '-'
	}, s), "-")
}

func (s *Server) matrixPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "matrix")
	q := cleanQuery(r.URL.Query())
	f, err := reqFilterOf(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.store.Matrix(ctx, sc.Project.ID, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rels, _, err := s.releaseOptions(ctx, sc.Project.ID, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.projectPage(w, r, "Traceability", web.Crumb{Label: "Traceability"})
	s.render(w, r, http.StatusOK, web.Matrix(web.MatrixView{Page: p, Scope: sc, Rows: page.Items, Next: page.Next,
		Filter: filterForm(q, "status", "release", "label", "q"), Releases: rels, Query: q}))
}

// matrixCSV streams the whole filtered matrix as CSV, one requirement a
// row, for spreadsheets and auditors.
func (s *Server) matrixCSV(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	f, err := reqFilterOf(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-traceability.csv"`, sc.Project.Key))
	cw := csv.NewWriter(w)
	head := []string{"key", "title", "status", "priority", "owner", "criteria_met", "criteria_total", "open_questions"}
	for _, st := range alm.WorkStatuses {
		head = append(head, "items_"+string(st))
	}
	head = append(head, "releases")
	_ = cw.Write(head)
	err = s.store.EachMatrixRow(r.Context(), sc.Project.ID, f, func(m alm.MatrixRow) error {
		row := []string{m.Key, csvSafe(m.Title), string(m.Status), string(m.Priority), csvSafe(m.Owner),
			strconv.Itoa(m.CriteriaMet), strconv.Itoa(m.CriteriaTotal), strconv.Itoa(m.OpenQuestions)}
		for _, n := range m.ByStatus {
			row = append(row, strconv.Itoa(n))
		}
		var rels []string
		for _, rel := range m.Releases {
			rels = append(rels, rel.Name+" ("+string(rel.Status)+")")
		}
		row = append(row, csvSafe(strings.Join(rels, "; ")))
		return cw.Write(row)
	})
	cw.Flush()
	if err != nil {
		// The header is gone; all we can do is log and cut the file short.
		s.log.ErrorContext(r.Context(), "matrix export", "err", err, "request_id", requestIDFrom(r.Context()))
	}
}

// csvSafe keeps spreadsheet programs from running text as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
