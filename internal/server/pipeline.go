package server

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerPipelineRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/projects/{project}/pipeline", inProject(alm.PermView), s.pipelinePage)
	s.handle(r, http.MethodGet, "/projects/{project}/pipeline/edit", inProject(alm.PermManagePipeline), s.editPipelinePage)
	s.handle(r, http.MethodPost, "/projects/{project}/pipeline", inProject(alm.PermManagePipeline), s.savePipeline)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/pipeline", inProject(alm.PermView), s.apiPipeline)
	s.handle(r, http.MethodPut, "/api/v1/projects/{project}/pipeline", inProject(alm.PermManagePipeline), s.apiSavePipeline)
}

func (s *Server) pipelinePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := s.scope(r, "pipeline")
	stages, err := s.store.Pipeline(ctx, sc.Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	waiting := 0
	if board, err := s.store.Board(ctx, sc.Project.ID, store.ItemFilter{}, 0); err == nil {
		for _, c := range board {
			if c.Status == alm.WorkReadyToPromote {
				waiting = c.Count
			}
		}
	}
	p := s.projectPage(w, r, "Pipeline", web.Crumb{Label: "Pipeline"})
	v := web.PipelineView{Page: p, Scope: sc, Stages: stages, Waiting: waiting, CanManage: scopeFrom(ctx).Role.Can(alm.PermManagePipeline),
		InStage: map[string]alm.Promotion{}, Active: map[string]int{}}
	promos, err := s.store.ListPromotions(ctx, store.PromotionFilter{ProjectID: sc.Project.ID, Limit: 500})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, pr := range promos {
		if _, seen := v.InStage[pr.StageName]; !seen && pr.Status == alm.PromoDeployed {
			v.InStage[pr.StageName] = pr
		}
		if pr.Status == alm.PromoOpen || pr.Status == alm.PromoDeploying {
			v.Active[pr.StageName]++
		}
	}
	if ann, err := s.announcementsOut(r); err == nil {
		v.Emails, _ = ann["emails"].([]string)
		v.Webhooks, _ = ann["webhooks"].([]string)
	}
	if v.Git, err = s.store.ProjectGit(ctx, sc.Project.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	v.CanPromote = sc.Role.Can(alm.PermPromote)
	if v.Git.GitBacked() && len(stages) > 0 {
		if gf, err := s.gitflow(); err == nil {
			if gs, err := gf.Stages(ctx, sc.Project.ID); err == nil {
				v.GitStages = map[string]web.StageGit{}
				waiting := map[string]int{}
				for _, pr := range promos {
					if pr.Git != nil && (pr.Git.State == alm.GitMerged || pr.Git.State == alm.GitConflicts) && (pr.Status == alm.PromoOpen || pr.Status == alm.PromoFailed) {
						waiting[pr.StageName]++
					}
				}
				for _, g := range gs {
					v.GitStages[g.Stage] = web.StageGit{Branch: g.Branch, Head: g.Head, Deployed: g.Deployed, AheadCount: g.AheadCount,
						Ahead: g.Ahead, Components: g.Components, Error: g.Error, Waiting: waiting[g.Stage]}
				}
			}
		}
	}
	if v.CanManage {
		list, err := s.store.ListRepositories(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, rp := range list {
			v.Repos = append(v.Repos, web.Option{Value: strconv.FormatInt(rp.ID, 10), Label: rp.Name + " (" + rp.DefaultBranch + ")"})
		}
	}
	s.render(w, r, http.StatusOK, web.Pipeline(v))
}

func (s *Server) renderPipelineForm(w http.ResponseWriter, r *http.Request, status int, stages []alm.Stage, f web.Form) {
	sc := s.scope(r, "pipeline")
	orgsList, err := s.store.ListOrgs(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var opts []web.Option
	for _, o := range orgsList {
		opts = append(opts, web.Option{Value: strconv.FormatInt(o.ID, 10), Label: o.Name + " (" + o.Kind.Label() + ")"})
	}
	p := s.projectPage(w, r, "Edit pipeline", web.Crumb{Label: "Pipeline", Href: sc.Base() + "/pipeline"}, web.Crumb{Label: "Edit"})
	s.render(w, r, status, web.PipelineForm(web.PipelineFormView{Page: p, Scope: sc, Stages: stages, Orgs: opts, Form: f}))
}

func newStage(name string) alm.Stage {
	return alm.Stage{Name: name, NoSelfApproval: true, TestLevel: "RunLocalTests", CoverageThreshold: 75, ApproverRoles: []alm.Role{}}
}

func (s *Server) editPipelinePage(w http.ResponseWriter, r *http.Request) {
	stages, err := s.store.Pipeline(r.Context(), scopeFrom(r.Context()).Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(stages) == 0 {
		// A start most teams keep: integration, user testing, production.
		uat, prod := newStage("UAT"), newStage("Production")
		uat.ApprovalsRequired, uat.ApproverRoles = 1, []alm.Role{alm.RoleReleaseManager}
		prod.ApprovalsRequired, prod.ApproverRoles, prod.ValidationRequired = 1, []alm.Role{alm.RoleReleaseManager}, true
		stages = []alm.Stage{newStage("Integration"), uat, prod}
	}
	s.renderPipelineForm(w, r, http.StatusOK, stages, emptyForm())
}

// stagesOf reads the stage rows of the pipeline form.
func stagesOf(r *http.Request) ([]alm.Stage, map[string]string) {
	n, _ := strconv.Atoi(r.PostFormValue("stages"))
	n = min(max(n, 0), 20)
	bad := map[string]string{}
	var out []alm.Stage
	for i := range n {
		v := func(f string) string { return strings.TrimSpace(r.PostFormValue(fmt.Sprintf("stage_%d_%s", i, f))) }
		st := alm.Stage{Name: v("name"), Branch: v("branch"), TestLevel: v("test_level"), ChangeWindows: v("change_windows"), FreezeReason: v("freeze_reason"), BlockChecks: v("block_checks"),
			NoSelfApproval: v("no_self_approval") != "", ValidationRequired: v("validation_required") != "", Frozen: v("frozen") != "", ApproverRoles: []alm.Role{}}
		for _, role := range r.PostForm[fmt.Sprintf("stage_%d_approver_roles", i)] {
			st.ApproverRoles = append(st.ApproverRoles, alm.Role(role))
		}
		var err error
		if st.ApprovalsRequired, err = strconv.Atoi(v("approvals_required")); err != nil {
			bad[fmt.Sprintf("stages.%d.approvals_required", i)] = "A whole number."
		}
		if st.CoverageThreshold, err = strconv.Atoi(v("coverage_threshold")); err != nil {
			bad[fmt.Sprintf("stages.%d.coverage_threshold", i)] = "A whole number."
		}
		if id, err := optID(v("org_id"), "org_id"); err == nil {
			st.OrgID = id
		}
		out = append(out, st)
	}
	return out, bad
}

func (s *Server) savePipeline(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	stages, bad := stagesOf(r)
	action := r.PostFormValue("action")
	switch {
	case action == "add":
		s.renderPipelineForm(w, r, http.StatusOK, append(stages, newStage("")), emptyForm())
		return
	case strings.HasPrefix(action, "remove:"):
		if i, err := strconv.Atoi(strings.TrimPrefix(action, "remove:")); err == nil && i >= 0 && i < len(stages) {
			stages = slices.Delete(stages, i, i+1)
		}
		s.renderPipelineForm(w, r, http.StatusOK, stages, emptyForm())
		return
	case strings.HasPrefix(action, "up:"):
		if i, err := strconv.Atoi(strings.TrimPrefix(action, "up:")); err == nil && i > 0 && i < len(stages) {
			stages[i-1], stages[i] = stages[i], stages[i-1]
		}
		s.renderPipelineForm(w, r, http.StatusOK, stages, emptyForm())
		return
	}
	var err error = alm.Invalid(bad)
	if len(bad) == 0 {
		err = s.store.SavePipeline(r.Context(), sc.Project.ID, stages)
	}
	if err != nil {
		if alm.ErrorCode(err) == alm.CodeInternal {
			s.fail(w, r, err)
			return
		}
		s.renderPipelineForm(w, r, statusOf(alm.ErrorCode(err)), stages, withError(emptyForm(), err))
		return
	}
	s.redirect(w, r, "/projects/"+sc.Project.Key+"/pipeline", "ok", "Pipeline saved.")
}

func (s *Server) apiPipeline(w http.ResponseWriter, r *http.Request) {
	stages, err := s.store.Pipeline(r.Context(), scopeFrom(r.Context()).Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"stages": stages})
}

func (s *Server) apiSavePipeline(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Stages []alm.Stage `json:"stages"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range b.Stages {
		if b.Stages[i].ApproverRoles == nil {
			b.Stages[i].ApproverRoles = []alm.Role{}
		}
	}
	if err := s.store.SavePipeline(r.Context(), scopeFrom(r.Context()).Project.ID, b.Stages); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apiPipeline(w, r)
}
