package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerFeedbackRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/projects/{project}/feedback", inProject(alm.PermView), s.feedbackPage)
	s.handle(r, http.MethodPost, "/projects/{project}/feedback", inProject(alm.PermFileFeedback), s.fileFeedback)
	s.handle(r, http.MethodGet, "/feedback/{id}", inProjectOf("feedback", alm.PermView), s.feedbackItemPage)
	s.handle(r, http.MethodGet, "/feedback/{id}/screenshot", inProjectOf("feedback", alm.PermView), s.feedbackScreenshot)
	s.handle(r, http.MethodPost, "/feedback/{id}/convert", inProjectOf("feedback", alm.PermTriageFeedback), s.convertFeedback)
	s.handle(r, http.MethodPost, "/feedback/{id}/decline", inProjectOf("feedback", alm.PermTriageFeedback), s.declineFeedback)
	s.handle(r, http.MethodGet, "/api/v1/feedback", needs(alm.PermView), s.apiFeedbackList)
	s.handle(r, http.MethodPost, "/api/v1/feedback", needs(alm.PermFileFeedback), s.apiFileFeedback)
	s.handle(r, http.MethodGet, "/api/v1/feedback/{id}", inProjectOf("feedback", alm.PermView), s.apiFeedback)
	s.handle(r, http.MethodPost, "/api/v1/feedback/{id}/convert", inProjectOf("feedback", alm.PermTriageFeedback), s.convertFeedback)
	s.handle(r, http.MethodPost, "/api/v1/feedback/{id}/decline", inProjectOf("feedback", alm.PermTriageFeedback), s.declineFeedback)
}

// maxScreenshot bounds an uploaded screenshot.
const maxScreenshot = 5 << 20

var screenshotTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// readScreenshot takes the optional screenshot from a feedback form,
// trusting neither its name nor its declared type: the bytes must be an
// image of an allowed kind and size.
func readScreenshot(r *http.Request) (*store.Screenshot, error) {
	file, hdr, err := r.FormFile("screenshot")
	if err == http.ErrMissingFile {
		return nil, nil
	}
	if err != nil {
		return nil, alm.Invalid(map[string]string{"screenshot": "The screenshot could not be read."})
	}
	defer file.Close()
	if hdr.Size == 0 {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(file, maxScreenshot+1))
	if err != nil {
		return nil, alm.Invalid(map[string]string{"screenshot": "The screenshot could not be read."})
	}
	if len(data) > maxScreenshot {
		return nil, alm.Invalid(map[string]string{"screenshot": "Screenshots can be at most 5 MB."})
	}
	typ := http.DetectContentType(data)
	if !screenshotTypes[typ] {
		return nil, alm.Invalid(map[string]string{"screenshot": "Attach a PNG, JPEG, GIF or WebP image."})
	}
	return &store.Screenshot{Data: data, Type: typ}, nil
}

func (s *Server) feedbackPage(w http.ResponseWriter, r *http.Request) {
	s.renderFeedback(w, r, http.StatusOK, emptyForm())
}

func (s *Server) renderFeedback(w http.ResponseWriter, r *http.Request, status int, form web.Form) {
	ctx := r.Context()
	sc := s.scope(r, "feedback")
	filter := r.URL.Query().Get("status")
	if filter == "" {
		filter = "new"
	}
	if filter == "all" {
		filter = ""
	}
	list, err := s.store.ListFeedback(ctx, sc.Project.ID, filter, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts, err := s.store.FeedbackCounts(ctx, sc.Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if form.Values["kind"] == "" {
		form.Values["kind"] = "problem"
	}
	if filter == "" {
		filter = "all"
	}
	who := s.namesByEmail(r)
	for i := range list {
		list[i].SubmittedBy = who(list[i].SubmittedBy)
	}
	p := s.projectPage(w, r, "Feedback", web.Crumb{Label: "Feedback"})
	s.render(w, r, status, web.FeedbackList(web.FeedbackListView{Page: p, Scope: sc, Items: list, Status: filter, Counts: counts, Form: form,
		CanTriage: roleHere(ctx).Can(alm.PermTriageFeedback)}))
}

// apiFileFeedback files a report (JSON, no screenshot) in the project the
// body names.
func (s *Server) apiFileFeedback(w http.ResponseWriter, r *http.Request) {
	var body struct {
		alm.NewFeedback
		Project string `json:"project"`
	}
	if err := decodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.mayInProject(r, body.Project, "", alm.PermFileFeedback)
	if alm.ErrorCode(err) == alm.CodeNotFound || strings.TrimSpace(body.Project) == "" {
		err = alm.Invalid(map[string]string{"project": "Name the project the feedback is about."})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fb, err := s.store.CreateFeedback(r.Context(), p.ID, body.NewFeedback, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/feedback/%d", fb.ID), fb)
}

func (s *Server) fileFeedback(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if err := r.ParseMultipartForm(maxScreenshot); err != nil && err != http.ErrNotMultipart {
		s.fail(w, r, alm.Invalid(map[string]string{"screenshot": "The form could not be read (is the screenshot over 5 MB?)."}))
		return
	}
	f := formOf(r, "kind", "title", "body", "where_seen", "component_type", "component_name")
	n := alm.NewFeedback{Kind: f.Value("kind"), Title: f.Value("title"), Body: f.Value("body"), WhereSeen: f.Value("where_seen"),
		ComponentType: f.Value("component_type"), ComponentName: f.Value("component_name")}
	shot, err := readScreenshot(r)
	var fb alm.Feedback
	if err == nil {
		fb, err = s.store.CreateFeedback(r.Context(), sc.Project.ID, n, shot)
	}
	if err != nil {
		if alm.ErrorCode(err) != alm.CodeInvalid {
			s.fail(w, r, err)
			return
		}
		s.renderFeedback(w, r, http.StatusUnprocessableEntity, withError(f, err))
		return
	}
	s.redirect(w, r, fmt.Sprintf("/feedback/%d", fb.ID), "ok", "Thank you: your report is in the product owners' triage queue.")
}

func (s *Server) feedbackFromPath(w http.ResponseWriter, r *http.Request) (alm.Feedback, bool) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That feedback was not found."))
		return alm.Feedback{}, false
	}
	fb, err := s.store.FeedbackByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return fb, false
	}
	return fb, true
}

func (s *Server) feedbackItemPage(w http.ResponseWriter, r *http.Request) {
	fb, ok := s.feedbackFromPath(w, r)
	if ok {
		s.renderFeedbackItem(w, r, http.StatusOK, fb, emptyForm())
	}
}

func (s *Server) renderFeedbackItem(w http.ResponseWriter, r *http.Request, status int, fb alm.Feedback, form web.Form) {
	ctx := r.Context()
	fb.SubmittedBy = s.namesByEmail(r)(fb.SubmittedBy)
	v := web.FeedbackView{Feedback: fb, Form: form, CanTriage: roleHere(ctx).Can(alm.PermTriageFeedback)}
	if fb.ComponentType != "" && fb.ReleaseID == nil {
		if rel, err := s.store.ReleaseThatChanged(ctx, fb.ComponentType, fb.ComponentName); err == nil {
			if x, err := s.store.ReleaseByID(ctx, fb.ProjectID, rel); err == nil {
				v.LastRelease = &x
			}
		}
	}
	v.Page = s.page(w, r, fb.Title, "maintain", web.Crumb{Label: "Maintain", Href: "/maintain"},
		web.Crumb{Label: fb.ProjectKey + " feedback", Href: "/projects/" + fb.ProjectKey + "/feedback"}, web.Crumb{Label: fmt.Sprintf("#%d", fb.ID)})
	s.render(w, r, status, web.FeedbackItem(v))
}

func (s *Server) feedbackScreenshot(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That screenshot was not found."))
		return
	}
	sh, err := s.store.FeedbackScreenshot(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", sh.Type)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", "inline")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(sh.Data))
}

// convertFeedback turns a report into a requirement (a suggestion) or a
// bug work item (a problem), linked to the release that last changed the
// component it names, when Trellis deployed it.
func (s *Server) convertFeedback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	fb, ok := s.feedbackFromPath(w, r)
	if !ok {
		return
	}
	into := r.PostFormValue("into")
	if isAPI(r) {
		var body struct {
			Into string `json:"into"`
		}
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
		into = body.Into
	}
	fail := func(err error) {
		if isAPI(r) {
			s.fail(w, r, err)
			return
		}
		s.failBack(w, r, fmt.Sprintf("/feedback/%d", fb.ID), err)
	}
	if fb.Status != "new" {
		fail(alm.Errorf(alm.CodeConflict, "That feedback was already triaged (%s).", fb.Status))
		return
	}
	var rel *int64
	var relNote string
	if fb.ComponentType != "" {
		id, err := s.store.ReleaseThatChanged(ctx, fb.ComponentType, fb.ComponentName)
		switch {
		case alm.ErrorCode(err) == alm.CodeNotFound:
		case err != nil:
			s.fail(w, r, err)
			return
		default:
			// Another project's release is not linked.
			if x, err := s.store.ReleaseByID(ctx, fb.ProjectID, id); err == nil {
				rel = &id
				relNote = fmt.Sprintf("\n\nAffects %s %s, which last changed in release %s.", fb.ComponentType, fb.ComponentName, x.Name)
			}
		}
	}
	desc := fb.Body
	if fb.WhereSeen != "" {
		desc += "\n\nSeen at: " + fb.WhereSeen
	}
	desc += relNote + fmt.Sprintf("\n\nFrom feedback #%d by %s.", fb.ID, fb.SubmittedBy)
	var reqID, itemID *int64
	var target, label string
	switch into {
	case "requirement":
		rq, err := s.store.CreateRequirement(ctx, fb.ProjectID, alm.RequirementInput{Title: fb.Title, Description: strings.TrimSpace(desc)})
		if err != nil {
			fail(err)
			return
		}
		reqID, target, label = &rq.ID, "/requirements/"+rq.Key, rq.Key
	case "bug":
		it, err := s.store.CreateWorkItem(ctx, fb.ProjectID, alm.WorkItemInput{Kind: alm.KindBug, Title: fb.Title, Description: strings.TrimSpace(desc)})
		if err != nil {
			fail(err)
			return
		}
		itemID, target, label = &it.ID, "/work-items/"+it.Key, it.Key
	default:
		fail(alm.Invalid(map[string]string{"into": "Convert into a requirement or a bug."}))
		return
	}
	fb, err := s.store.ConvertedFeedback(ctx, fb.ID, reqID, itemID, rel, "Converted into "+label+".")
	if err != nil {
		fail(err)
		return
	}
	if isAPI(r) {
		s.writeJSON(w, http.StatusOK, fb)
		return
	}
	s.redirect(w, r, target, "ok", fmt.Sprintf("Feedback #%d is now %s.", fb.ID, label))
}

func (s *Server) declineFeedback(w http.ResponseWriter, r *http.Request) {
	fb, ok := s.feedbackFromPath(w, r)
	if !ok {
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if isAPI(r) {
		var body struct {
			Note string `json:"note"`
		}
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
		note = strings.TrimSpace(body.Note)
	}
	out, err := s.store.DeclineFeedback(r.Context(), fb.ID, note)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, out)
		return
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInvalid {
			f := emptyForm()
			f.Values["note"] = note
			s.renderFeedbackItem(w, r, http.StatusUnprocessableEntity, fb, withError(f, err))
			return
		}
		s.failBack(w, r, fmt.Sprintf("/feedback/%d", fb.ID), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/feedback/%d", fb.ID), "ok", "Declined, with your reason.")
}

func (s *Server) apiFeedbackList(w http.ResponseWriter, r *http.Request) {
	var pid int64
	if key := r.URL.Query().Get("project"); key != "" {
		p, err := s.store.ProjectByKey(r.Context(), key)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pid = p.ID
	}
	list, err := s.store.ListFeedback(r.Context(), pid, r.URL.Query().Get("status"), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiFeedback(w http.ResponseWriter, r *http.Request) {
	if fb, ok := s.feedbackFromPath(w, r); ok {
		s.writeJSON(w, http.StatusOK, fb)
	}
}
