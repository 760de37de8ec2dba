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
	s.handle(r, http.MethodPost, "/projects/{project}/pipeline/promote", inProject(alm.PermPromote), s.boardPromote)
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
	if err := s.fillBoard(r, &v, promos); err != nil {
		s.fail(w, r, err)
		return
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
		no := false
		prod.DeveloperValidation = &no
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
		dev := v("developer_validation") != ""
		st.DeveloperValidation = &dev
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

// fillBoard lays the pipeline out as a board: the developers' sandboxes
// and the work items ready for the first stage, then per stage what is
// deployed, what waits to enter it (with the gates that hold it), what
// failed, and what may go on to the next stage.
func (s *Server) fillBoard(r *http.Request, v *web.PipelineView, promos []alm.Promotion) error {
	ctx := r.Context()
	if len(v.Stages) == 0 {
		return nil
	}
	orgList, err := s.store.ListOrgs(ctx)
	if err != nil {
		return err
	}
	inStage := map[int64]bool{}
	for _, st := range v.Stages {
		if st.OrgID != nil {
			inStage[*st.OrgID] = true
		}
	}
	for _, o := range orgList {
		if !inStage[o.ID] && o.Kind != alm.OrgProduction && o.Status != alm.OrgDisconnected {
			v.Sandboxes = append(v.Sandboxes, o)
		}
	}
	deployed, err := s.store.DeployedItems(ctx, v.Scope.Project.ID)
	if err != nil {
		return err
	}
	waitingKeys := map[string]map[string]bool{}
	v.Columns = map[string]web.BoardColumn{}
	name := s.namesByEmail(r)
	for _, p := range promos {
		p.CreatedBy = name(p.CreatedBy)
		c := v.Columns[p.StageName]
		switch p.Status {
		case alm.PromoDeployed:
			if len(c.Deployed) < 4 {
				c.Deployed = append(c.Deployed, p)
			}
		case alm.PromoOpen, alm.PromoDeploying:
			if p.Status == alm.PromoDeploying || (p.Git != nil && p.Git.State == alm.GitPushing) {
				v.Live = true
			}
			if len(c.Waiting) < 6 {
				bp := web.BoardPromotion{Promotion: p}
				if p.Status == alm.PromoOpen {
					if d, err := s.promote.Live(ctx, p.ID); err == nil {
						var shut []string
						for _, g := range d.Gates {
							if !g.OK {
								shut = append(shut, g.Name+": "+g.Detail)
							}
						}
						bp.Blocked = strings.Join(shut, " ")
					}
				}
				c.Waiting = append(c.Waiting, bp)
			}
			if waitingKeys[strings.ToLower(p.StageName)] == nil {
				waitingKeys[strings.ToLower(p.StageName)] = map[string]bool{}
			}
			if p.WorkItem != "" {
				waitingKeys[strings.ToLower(p.StageName)][p.WorkItem] = true
			}
		case alm.PromoFailed, alm.PromoCanceled:
			if len(c.Failed) < 3 {
				c.Failed = append(c.Failed, p)
			}
		}
		v.Columns[p.StageName] = c
	}
	// Ready for the first stage: ready to promote, not yet there or on the way.
	first := strings.ToLower(v.Stages[0].Name)
	ready, err := s.store.ListWorkItems(ctx, v.Scope.Project.ID, store.ItemFilter{Status: []alm.WorkStatus{alm.WorkReadyToPromote}, Limit: 20, Sort: "oldest"})
	if err != nil {
		return err
	}
	for _, it := range ready.Items {
		if _, there := deployed[first][it.Key]; !there && !waitingKeys[first][it.Key] {
			v.Ready = append(v.Ready, web.BoardItem{Key: it.Key, Title: it.Title})
		}
	}
	// Deployed in a stage, not yet in (or on the way to) the next.
	for i, st := range v.Stages[:len(v.Stages)-1] {
		next := v.Stages[i+1].Name
		c := v.Columns[st.Name]
		c.NextName = next
		for key, title := range deployed[strings.ToLower(st.Name)] {
			if _, there := deployed[strings.ToLower(next)][key]; !there && !waitingKeys[strings.ToLower(next)][key] {
				c.Next = append(c.Next, web.BoardItem{Key: key, Title: title})
			}
		}
		slices.SortFunc(c.Next, func(a, b web.BoardItem) int { return strings.Compare(a.Key, b.Key) })
		v.Columns[st.Name] = c
	}
	return nil
}

// boardPromote promotes the ticked work items into a stage in one go: in
// a git-backed project each item's branch is merged (gitflow); otherwise
// its change set is built and promoted. It says how each went.
func (s *Server) boardPromote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sc := scopeFrom(ctx)
	back := "/projects/" + sc.Project.Key + "/pipeline"
	_ = r.ParseForm()
	stage, keys := r.PostForm.Get("stage"), r.PostForm["key"]
	if len(keys) == 0 {
		s.failBack(w, r, back, alm.Invalid(map[string]string{"key": "Tick the work items to promote into " + stage + "."}))
		return
	}
	g, err := s.store.ProjectGit(ctx, sc.Project.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var done, failed []string
	for _, key := range keys {
		p, err := s.promoteOne(r, g, key, stage)
		if err != nil {
			failed = append(failed, key+": "+alm.ErrorMessage(err))
			continue
		}
		done = append(done, fmt.Sprintf("%s (#%d)", key, p.ID))
	}
	msg := ""
	if len(done) > 0 {
		msg = "Promoted into " + stage + ": " + strings.Join(done, ", ") + "."
	}
	if len(failed) > 0 {
		msg = strings.TrimSpace(msg + " Not promoted: " + strings.Join(failed, "; "))
		s.redirect(w, r, back, "error", msg)
		return
	}
	s.redirect(w, r, back, "ok", msg)
}

func (s *Server) promoteOne(r *http.Request, g alm.ProjectGit, key, stage string) (alm.Promotion, error) {
	ctx := r.Context()
	it, err := s.store.WorkItemByKey(ctx, key)
	if err != nil {
		return alm.Promotion{}, err
	}
	if it.ProjectID != scopeFrom(ctx).Project.ID {
		return alm.Promotion{}, alm.Errorf(alm.CodeNotFound, "Work item %s was not found.", key)
	}
	if g.GitBacked() {
		if wb, err := s.store.WorkItemBranch(ctx, it.ID); err == nil && wb.Name != "" {
			gf, err := s.gitflow()
			if err != nil {
				return alm.Promotion{}, err
			}
			return gf.Promote(ctx, key, stage)
		}
	}
	b, err := s.builds.BuildWorkItem(ctx, key, "")
	if err != nil {
		return alm.Promotion{}, err
	}
	return s.promote.Open(ctx, b.ID, stage)
}

// namesByEmail turns a recorded label (an email) into the person's name
// for pages, leaving other labels (tokens, the system) as they are.
func (s *Server) namesByEmail(r *http.Request) func(string) string {
	users, err := s.store.ListUsers(r.Context())
	names := map[string]string{}
	if err == nil {
		for _, u := range users {
			if u.Name != "" {
				names[strings.ToLower(u.Email)] = u.Name
			}
		}
	}
	return func(label string) string {
		if n, ok := names[strings.ToLower(label)]; ok {
			return n
		}
		return label
	}
}
