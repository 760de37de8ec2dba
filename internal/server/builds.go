package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/build"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerBuildRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/projects/{project}/releases/{id}/builds", inProject(alm.PermManageReleases), s.buildRelease)
	s.handle(r, http.MethodGet, "/builds/{id}/artifact.zip", inProjectOf("build", alm.PermView), s.buildArtifact)
	s.handle(r, http.MethodGet, "/builds/{id}", inProjectOf("build", alm.PermView), s.buildPage)
	s.handle(r, http.MethodGet, "/builds/{id}/validations", inProjectOf("build", alm.PermView), s.buildPage)
	s.handle(r, http.MethodPost, "/builds/{id}/validations", inProjectOf("build", alm.PermSnapshot), s.validateBuild)
	s.handle(r, http.MethodPost, "/work-items/{key}/validate", inProject(alm.PermEditWorkItems), s.validateWorkItem)
	s.handle(r, http.MethodPost, "/api/v1/work-items/{key}/validations", inProject(alm.PermEditWorkItems), s.validateWorkItem)
	s.handle(r, http.MethodGet, "/api/v1/builds/{id}/validations", inProjectOf("build", alm.PermView), s.apiValidations)
	s.handle(r, http.MethodPost, "/api/v1/builds/{id}/validations", inProjectOf("build", alm.PermSnapshot), s.apiValidate)
	s.handle(r, http.MethodGet, "/api/v1/releases/{id}/builds", inProjectOf("release", alm.PermView), s.apiBuilds)
	s.handle(r, http.MethodPost, "/api/v1/releases/{id}/builds", inProjectOf("release", alm.PermManageReleases), s.apiBuild)
	s.handle(r, http.MethodGet, "/api/v1/builds/{id}", inProjectOf("build", alm.PermView), s.apiBuildGet)
	s.handle(r, http.MethodGet, "/api/v1/builds/{id}/artifact", inProjectOf("build", alm.PermView), s.buildArtifact)
	s.handle(r, http.MethodPost, "/builds/{id}/dependencies", inProjectOf("build", alm.PermEditWorkItems), s.addDependencies)
	s.handle(r, http.MethodPost, "/api/v1/builds/{id}/dependencies", inProjectOf("build", alm.PermEditWorkItems), s.addDependencies)
}

// addDependencies is "add to release": it captures components the build
// refers to but the target org lacks onto the work items needing them,
// from the snapshots the release was captured from. The build itself stays
// as it was (builds are immutable); the next build carries them.
func (s *Server) addDependencies(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That build was not found."))
		return
	}
	var body struct {
		OrgID      int64 `json:"org_id"`
		Components []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"components"`
	}
	if isAPI(r) {
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		body.OrgID, _ = strconv.ParseInt(r.PostFormValue("org"), 10, 64)
		refs := r.PostForm["ref"]
		if r.PostFormValue("all") != "" {
			refs = r.PostForm["missing"]
		}
		for _, ref := range refs {
			if typ, name, ok := strings.Cut(ref, "/"); ok {
				body.Components = append(body.Components, struct {
					Type string `json:"type"`
					Name string `json:"name"`
				}{typ, name})
			}
		}
	}
	var keys []metadata.Key
	for _, c := range body.Components {
		keys = append(keys, metadata.Key{Type: c.Type, Name: c.Name})
	}
	back := fmt.Sprintf("/builds/%d?org=%d#dependencies", id, body.OrgID)
	if body.OrgID == 0 {
		err := alm.Invalid(map[string]string{"org_id": "Say which org's snapshot the build was checked against."})
		if isAPI(r) {
			s.fail(w, r, err)
		} else {
			s.failBack(w, r, back, err)
		}
		return
	}
	added, err := s.builds.AddDependencies(r.Context(), id, body.OrgID, keys)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"added": added})
		return
	}
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	var names []string
	for _, d := range added {
		names = append(names, d.Ref.To.Type+" "+d.Ref.To.Name+" → "+d.WorkItem)
	}
	s.redirect(w, r, back, "ok", "Added "+strings.Join(names, ", ")+". Build again to carry them: this build stays as it is.")
}

func (s *Server) buildRelease(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	rel, ok := s.releaseFromPath(w, r)
	if !ok {
		return
	}
	_ = r.ParseForm()
	res := map[string]string{}
	for k, v := range r.PostForm {
		if key, ok := strings.CutPrefix(k, "resolve:"); ok && len(v) > 0 {
			res[key] = v[0]
		}
	}
	b, err := s.builds.Build(r.Context(), rel.ID, "", res)
	var ce *build.ConflictError
	switch {
	case errors.As(err, &ce):
		var conflicts []web.BuildConflict
		for _, c := range ce.Conflicts {
			bc := web.BuildConflict{Key: c.Key(), Type: c.Type, Name: c.Name}
			for _, o := range c.Options {
				bc.Options = append(bc.Options, o.WorkItem)
			}
			conflicts = append(conflicts, bc)
		}
		s.renderReleaseBuild(w, r, http.StatusConflict, conflicts, ce.Error())
	case err != nil && alm.ErrorCode(err) != alm.CodeInternal:
		s.renderReleaseBuild(w, r, statusOf(alm.ErrorCode(err)), nil, alm.ErrorMessage(err))
	case err != nil:
		s.fail(w, r, err)
	default:
		s.redirect(w, r, fmt.Sprintf("/projects/%s/releases/%d#builds", sc.Project.Key, rel.ID), "ok",
			fmt.Sprintf("Build #%d: %d components, checksum %s.", b.Number, b.Components, b.Checksum[:12]))
	}
}

// renderReleaseBuild shows the release page with why a build was refused.
func (s *Server) renderReleaseBuild(w http.ResponseWriter, r *http.Request, status int, conflicts []web.BuildConflict, msg string) {
	s.renderRelease(w, r, status, emptyForm(), func(v *web.ReleaseView) { v.Conflicts, v.BuildErr = conflicts, msg })
}

func (s *Server) buildArtifact(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That build was not found."))
		return
	}
	b, _, err := s.store.BuildByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	z, err := s.store.BuildArtifact(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="build-%d-%s.zip"`, b.Number, b.Checksum[:12]))
	w.Header().Set("X-Checksum-SHA256", b.Checksum)
	_, _ = w.Write(z)
}

func (s *Server) apiBuilds(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That release was not found."))
		return
	}
	list, err := s.store.ListBuilds(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiBuild(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That release was not found."))
		return
	}
	var body struct {
		APIVersion  string            `json:"api_version"`
		Resolutions map[string]string `json:"resolutions"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	b, err := s.builds.Build(r.Context(), id, body.APIVersion, body.Resolutions)
	var ce *build.ConflictError
	if errors.As(err, &ce) {
		var out []map[string]any
		for _, c := range ce.Conflicts {
			var opts []string
			for _, o := range c.Options {
				opts = append(opts, o.WorkItem)
			}
			out = append(out, map[string]any{"key": c.Key(), "type": c.Type, "name": c.Name, "work_items": opts})
		}
		s.writeJSON(w, http.StatusConflict, map[string]any{"error": map[string]any{"code": alm.CodeConflict, "message": ce.Error(), "conflicts": out}})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/builds/%d", b.ID), b)
}

func (s *Server) apiBuildGet(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That build was not found."))
		return
	}
	b, comps, err := s.store.BuildByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"build": b, "components": comps})
}

func (s *Server) buildPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That build was not found."))
		return
	}
	b, comps, err := s.store.BuildByID(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	orgList, err := s.store.ListOrgs(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	who := s.namesByEmail(r)
	b.CreatedBy = who(b.CreatedBy)
	v := web.BuildView{Build: b, Components: comps, OrgID: r.URL.Query().Get("org")}
	for _, o := range orgList {
		v.Orgs = append(v.Orgs, web.Option{Value: strconv.FormatInt(o.ID, 10), Label: o.Name + " (" + o.Kind.Label() + ")"})
	}
	if orgID, err := strconv.ParseInt(v.OrgID, 10, 64); err == nil {
		chk, sn, err := s.builds.Check(ctx, b.ID, orgID)
		switch {
		case err == nil:
			v.Checked, v.Check, v.Target = true, chk, sn
			srcs, err := s.builds.DependencySources(ctx, b.ID, chk.Missing)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, d := range srcs {
				v.Sources = append(v.Sources, web.DependencySource{Ref: d.Ref, WorkItem: d.WorkItem, Snapshot: d.Snapshot, Added: d.Added})
			}
		case alm.ErrorCode(err) != alm.CodeInternal:
			v.CheckErr = alm.ErrorMessage(err)
		default:
			s.fail(w, r, err)
			return
		}
	}
	orgVersion := ""
	for _, o := range orgList {
		if strconv.FormatInt(o.ID, 10) == v.OrgID {
			orgVersion = o.APIVersion
		}
	}
	if v.Findings, err = s.builds.StaticChecks(ctx, b.ID, orgVersion); err != nil {
		s.fail(w, r, err)
		return
	}
	if v.Validations, err = s.store.ListValidations(ctx, b.ID); err == nil {
		for i := range v.Validations {
			v.Validations[i].StartedBy = who(v.Validations[i].StartedBy)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.CanValidate = roleHere(ctx).Can(alm.PermSnapshot)
	v.CanPromote = roleHere(ctx).Can(alm.PermPromote)
	pid, pkey, label, err := s.store.BuildProject(ctx, b.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	stages, err := s.store.Pipeline(ctx, pid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, st := range stages {
		v.Stages = append(v.Stages, web.Option{Value: st.Name, Label: st.Name + " (" + st.OrgName + ")"})
	}
	if v.Promotions, err = s.store.ListPromotions(ctx, store.PromotionFilter{BuildID: b.ID}); err != nil {
		s.fail(w, r, err)
		return
	}
	v.ProjectKey = pkey
	v.CanAdd = roleHere(ctx).Can(alm.PermEditWorkItems)
	v.RebuildHref = fmt.Sprintf("/projects/%s/releases/%d/builds", pkey, b.ReleaseID)
	if b.WorkItem != "" {
		v.RebuildHref = "/work-items/" + b.WorkItem + "/builds"
	}
	owner := web.Crumb{Label: label, Href: fmt.Sprintf("/projects/%s/releases/%d#builds", pkey, b.ReleaseID)}
	if b.WorkItem != "" {
		owner = web.Crumb{Label: label, Href: "/work-items/" + b.WorkItem}
	}
	v.Page = s.page(w, r, fmt.Sprintf("Build #%d", b.Number), "build", planCrumb, web.Crumb{Label: pkey, Href: "/projects/" + pkey},
		owner, web.Crumb{Label: fmt.Sprintf("Build #%d", b.Number)})
	if strings.HasSuffix(r.URL.Path, "/validations") {
		// The live part of the page, asked for by htmx while one runs.
		s.render(w, r, http.StatusOK, web.Validations(v))
		return
	}
	s.render(w, r, http.StatusOK, web.BuildPage(v))
}

// startValidation queues a check-only deploy of a build into an org.
func (s *Server) startValidation(r *http.Request, buildID int64, orgID int64, testLevel string) (alm.Validation, error) {
	if s.deps.Jobs == nil {
		return alm.Validation{}, alm.Errorf(alm.CodeUnavailable, "Background jobs are not running on this server.")
	}
	if testLevel == "" {
		testLevel = "RunLocalTests"
	}
	if !slices.Contains(alm.TestLevels, testLevel) {
		return alm.Validation{}, alm.Invalid(map[string]string{"test_level": "Choose NoTestRun, RunSpecifiedTests, RunLocalTests or RunAllTestsInOrg."})
	}
	if _, _, err := s.store.BuildByID(r.Context(), buildID); err != nil {
		return alm.Validation{}, err
	}
	o, err := s.store.OrgByID(r.Context(), orgID)
	if err != nil {
		return alm.Validation{}, alm.Invalid(map[string]string{"org": "Choose a connected org."})
	}
	if o.Status == alm.OrgDisconnected {
		return alm.Validation{}, alm.Errorf(alm.CodeConflict, "%s is disconnected.", o.Name)
	}
	return s.store.CreateValidation(r.Context(), buildID, orgID, testLevel, jobs.ValidateJob(s.deps.Jobs))
}

func (s *Server) validateBuild(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That build was not found."))
		return
	}
	orgID, _ := strconv.ParseInt(r.PostFormValue("org"), 10, 64)
	if _, err := s.startValidation(r, id, orgID, r.PostFormValue("test_level")); err != nil {
		s.failBack(w, r, fmt.Sprintf("/builds/%d", id), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/builds/%d#validations", id), "ok", "Validation started.")
}

func (s *Server) apiValidations(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That build was not found."))
		return
	}
	list, err := s.store.ListValidations(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiValidate(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That build was not found."))
		return
	}
	var b struct {
		Org       int64  `json:"org_id"`
		TestLevel string `json:"test_level"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.startValidation(r, id, b.Org, b.TestLevel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, v)
}

// validateWorkItem lets a developer check their work item's change set
// against a stage that allows it: the change set is built (from the
// branch in a git-backed project) and validated check-only with the
// stage's test level.
func (s *Server) validateWorkItem(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := strings.ToUpper(chi.URLParam(r, "key"))
	stage := r.PostFormValue("stage")
	if isAPI(r) {
		var body struct {
			Stage string `json:"stage"`
		}
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
		stage = body.Stage
	}
	v, err := func() (alm.Validation, error) {
		it, err := s.store.WorkItemByKey(ctx, key)
		if err != nil {
			return alm.Validation{}, err
		}
		stages, err := s.store.Pipeline(ctx, it.ProjectID)
		if err != nil {
			return alm.Validation{}, err
		}
		var st *alm.Stage
		for i := range stages {
			if strings.EqualFold(stages[i].Name, strings.TrimSpace(stage)) {
				st = &stages[i]
			}
		}
		switch {
		case st == nil:
			return alm.Validation{}, alm.Invalid(map[string]string{"stage": fmt.Sprintf("There is no stage %q in the pipeline.", stage)})
		case st.OrgID == nil:
			return alm.Validation{}, alm.Invalid(map[string]string{"stage": st.Name + " has no org to validate against."})
		case !st.DevValidates():
			return alm.Validation{}, alm.Errorf(alm.CodeForbidden, "%s does not let developers validate their own work items; a release manager validates the build there.", st.Name)
		}
		b, err := s.buildChangeSet(r, key, "")
		if err != nil {
			return alm.Validation{}, err
		}
		return s.store.CreateValidation(ctx, b.ID, *st.OrgID, st.TestLevel, jobs.ValidateJob(s.deps.Jobs))
	}()
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusAccepted, v)
		return
	}
	if err != nil {
		s.failBack(w, r, "/work-items/"+key+"#item-validations", err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/builds/%d#validations", v.BuildID), "ok", fmt.Sprintf("Validating %s's change set against %s (check-only, %s).", key, v.OrgName, v.TestLevel))
}
