package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/crashpoint"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/web"
)

func (s *Server) registerPromotionRoutes(r chi.Router) {
	s.handle(r, http.MethodGet, "/release", needs(alm.PermView), s.releaseHome)
	s.registerAnnouncementRoutes(r)
	s.handle(r, http.MethodPost, "/builds/{id}/promotions", inProjectOf("build", alm.PermPromote), s.openPromotion)
	s.handle(r, http.MethodPost, "/work-items/{key}/builds", inProject(alm.PermPromote), s.buildWorkItem)
	s.handle(r, http.MethodGet, "/promotions/{id}", inProjectOf("promotion", alm.PermView), s.promotionPage)
	s.handle(r, http.MethodGet, "/promotions/{id}/live", inProjectOf("promotion", alm.PermView), s.promotionPage)
	s.handle(r, http.MethodPost, "/promotions/{id}/approve", inProjectOf("promotion", alm.PermView), s.approvePromotion)
	s.handle(r, http.MethodPost, "/promotions/{id}/reject", inProjectOf("promotion", alm.PermView), s.rejectPromotion)
	s.handle(r, http.MethodPost, "/promotions/{id}/deploy", inProjectOf("promotion", alm.PermPromote), s.deployPromotion)
	s.handle(r, http.MethodPost, "/promotions/{id}/cancel", inProjectOf("promotion", alm.PermPromote), s.cancelPromotion)
	s.handle(r, http.MethodPost, "/promotions/{id}/abandon", inProjectOf("promotion", alm.PermPromote), s.abandonPromotion)
	s.handle(r, http.MethodPost, "/promotions/{id}/build", inProjectOf("promotion", alm.PermPromote), s.changePromotionBuild)
	s.handle(r, http.MethodPost, "/promotions/{id}/comments", inProjectOf("promotion", alm.PermComment), s.commentPromotion)
	s.handle(r, http.MethodPost, "/promotions/{id}/signoffs", inProjectOf("promotion", alm.PermSignOff), s.signOffPromotion)
	s.handle(r, http.MethodGet, "/deployments/{id}", inProjectOf("deployment", alm.PermView), s.deploymentPage)
	s.handle(r, http.MethodPost, "/deployments/{id}/cancel", inProjectOf("deployment", alm.PermPromote), s.cancelDeployment)
	s.handle(r, http.MethodPost, "/deployments/{id}/rollback", inProjectOf("deployment", alm.PermPromote), s.rollbackDeployment)
	s.handle(r, http.MethodGet, "/orgs/{id}/components/{type}/{name}/history", needs(alm.PermView), s.componentHistoryPage)

	s.handle(r, http.MethodGet, "/api/v1/promotions", needs(alm.PermView), s.apiPromotions)
	s.handle(r, http.MethodPost, "/api/v1/promotions", needs(alm.PermPromote), s.apiOpenPromotion)
	s.handle(r, http.MethodGet, "/api/v1/promotions/{id}", inProjectOf("promotion", alm.PermView), s.apiPromotion)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/approve", inProjectOf("promotion", alm.PermView), s.approvePromotion)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/reject", inProjectOf("promotion", alm.PermView), s.rejectPromotion)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/comments", inProjectOf("promotion", alm.PermComment), s.commentPromotion)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/signoffs", inProjectOf("promotion", alm.PermSignOff), s.signOffPromotion)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/deploy", inProjectOf("promotion", alm.PermPromote), s.deployPromotion)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/cancel", inProjectOf("promotion", alm.PermPromote), s.cancelPromotion)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/retry", inProjectOf("promotion", alm.PermPromote), s.deployPromotion)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/abandon", inProjectOf("promotion", alm.PermPromote), s.abandonPromotion)
	s.handle(r, http.MethodPost, "/api/v1/work-items/{key}/builds", inProject(alm.PermPromote), s.buildWorkItem)
	s.handle(r, http.MethodGet, "/api/v1/deployments/{id}", inProjectOf("deployment", alm.PermView), s.apiDeployment)
	s.handle(r, http.MethodPost, "/api/v1/deployments/{id}/rollback", inProjectOf("deployment", alm.PermPromote), s.rollbackDeployment)
	s.handle(r, http.MethodPost, "/api/v1/deployments/{id}/cancel", inProjectOf("deployment", alm.PermPromote), s.cancelDeployment)
	s.handle(r, http.MethodGet, "/api/v1/orgs/{id}/components/{type}/{name}/history", needs(alm.PermView), s.apiComponentHistory)
}

func (s *Server) openPromotion(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That build was not found."))
		return
	}
	p, err := s.promote.Open(r.Context(), id, r.PostFormValue("stage"))
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/builds/%d#promote", id), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/promotions/%d", p.ID), "ok", fmt.Sprintf("Promotion #%d into %s opened.", p.ID, p.StageName))
}

func (s *Server) buildWorkItem(w http.ResponseWriter, r *http.Request) {
	key := strings.ToUpper(chi.URLParam(r, "key"))
	var body struct {
		APIVersion string `json:"api_version"`
	}
	if isAPI(r) && r.ContentLength > 0 {
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	b, err := s.buildChangeSet(r, key, body.APIVersion)
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.created(w, fmt.Sprintf("/api/v1/builds/%d", b.ID), b)
		return
	}
	if err != nil {
		s.failBack(w, r, "/work-items/"+key, err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/builds/%d#promote", b.ID), "ok", fmt.Sprintf("Built %s's change set (#%d): promote it into the first stage.", key, b.Number))
}

func (s *Server) promotionPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That promotion was not found."))
		return
	}
	live := strings.HasSuffix(r.URL.Path, "/live")
	detail := s.promote.Detail
	if live {
		detail = s.promote.Live
	}
	d, err := detail(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	me := callerFrom(ctx).User
	role := roleHere(ctx)
	v := web.PromotionView{Detail: promotionDetail(d), Me: me.ID, Role: role,
		CanPromote: role.Can(alm.PermPromote), CanSignOff: role.Can(alm.PermSignOff), CanOverride: role.Can(alm.PermOverrideWindows)}
	if p := d.Promotion; p.ReleaseID != nil {
		if v.Builds, err = s.store.ListBuilds(ctx, *p.ReleaseID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if v.Issues, err = s.store.TrackerLinksOfItems(r.Context(), v.Detail.WorkItems); err != nil {
		s.fail(w, r, err)
		return
	}
	name := s.namesByEmail(r)
	v.Detail.Promotion.CreatedBy = name(v.Detail.Promotion.CreatedBy)
	for i := range v.Detail.Decisions {
		v.Detail.Decisions[i].User = name(v.Detail.Decisions[i].User)
	}
	for i := range v.Detail.Deployments {
		v.Detail.Deployments[i].StartedBy = name(v.Detail.Deployments[i].StartedBy)
	}
	p := d.Promotion
	crumbs := []web.Crumb{{Label: "Release", Href: "/release"}, {Label: p.ProjectKey, Href: "/projects/" + p.ProjectKey}}
	if p.ReleaseID != nil {
		crumbs = append(crumbs, web.Crumb{Label: p.ReleaseName, Href: fmt.Sprintf("/projects/%s/releases/%d", p.ProjectKey, *p.ReleaseID)})
	}
	crumbs = append(crumbs, web.Crumb{Label: fmt.Sprintf("Promotion #%d", p.ID)})
	v.Page = s.page(w, r, fmt.Sprintf("Promotion #%d into %s", p.ID, p.StageName), "release", crumbs...)
	if live {
		s.render(w, r, http.StatusOK, web.PromotionLive(v))
		return
	}
	s.render(w, r, http.StatusOK, web.PromotionPage(v))
}

type actBody struct {
	Note       string   `json:"note"`
	Reason     string   `json:"reason"`
	Body       string   `json:"body"`
	Override   bool     `json:"override"`
	WorkItem   string   `json:"work_item"`
	Decision   string   `json:"decision"`
	BuildID    int64    `json:"build_id"`
	Components []string `json:"components"`
	Criteria   []int64  `json:"criteria"` // acceptance criteria met, at sign-off
}

func (s *Server) readAct(w http.ResponseWriter, r *http.Request) (actBody, bool) {
	var b actBody
	if isAPI(r) {
		if r.ContentLength != 0 {
			if err := decodeJSON(r, &b); err != nil {
				s.fail(w, r, err)
				return b, false
			}
		}
		return b, true
	}
	_ = r.ParseForm()
	b.Note, b.Reason, b.Body = r.PostFormValue("note"), r.PostFormValue("reason"), r.PostFormValue("body")
	b.Override = r.PostFormValue("override") != ""
	b.WorkItem, b.Decision = r.PostFormValue("work_item"), r.PostFormValue("decision")
	b.BuildID, _ = strconv.ParseInt(r.PostFormValue("build_id"), 10, 64)
	b.Components = r.PostForm["component"]
	for _, c := range r.PostForm["criterion"] {
		if id, err := strconv.ParseInt(c, 10, 64); err == nil {
			b.Criteria = append(b.Criteria, id)
		}
	}
	return b, true
}

// promotionDetail lays the promote service's detail out for the page.
func promotionDetail(d promote.Detail) web.PromotionDetail {
	v := web.PromotionDetail{Promotion: d.Promotion, Stage: d.Stage, Gates: d.Gates, Decisions: d.Decisions, Comments: d.Comments,
		Signoffs: d.Signoffs, Deployments: d.Deployments, Validation: d.Validation, Findings: d.Findings, WorkItems: d.WorkItems,
		ItemTitles: d.ItemTitles, Criteria: d.Criteria, Target: d.Target, DiffErr: d.DiffErr}
	for _, c := range d.Diff {
		v.Diff = append(v.Diff, web.TargetChange{Type: c.Type, Name: c.Name, WorkItem: c.WorkItem, Change: c.Change, Hash: c.Hash, TargetHash: c.TargetHash})
	}
	return v
}

// promotionTarget reads the promotion id and the action's body; ok is
// false when it has already answered.
func (s *Server) promotionTarget(w http.ResponseWriter, r *http.Request) (int64, actBody, bool) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That promotion was not found."))
		return 0, actBody{}, false
	}
	b, ok := s.readAct(w, r)
	return id, b, ok
}

// promotionDone answers an action on a promotion: the API gets the
// deployment it started (202) or the promotion as it is now, a page goes
// back to the promotion with msg or the error.
func (s *Server) promotionDone(w http.ResponseWriter, r *http.Request, id int64, dep *alm.Deployment, msg string, err error) {
	if isAPI(r) {
		switch {
		case err != nil:
			s.fail(w, r, err)
		case dep != nil:
			s.acceptedDeployment(w, r, dep.ID)
		default:
			s.apiPromotion(w, r)
		}
		return
	}
	if err != nil {
		s.failBack(w, r, fmt.Sprintf("/promotions/%d", id), err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/promotions/%d", id), "ok", msg)
}

func (s *Server) approvePromotion(w http.ResponseWriter, r *http.Request) {
	if id, b, ok := s.promotionTarget(w, r); ok {
		me := callerFrom(r.Context()).User
		err := s.promote.Approve(r.Context(), me, roleHere(r.Context()), id, b.Note)
		crashpoint.At("promotion.approved")
		s.promotionDone(w, r, id, nil, "Approved.", err)
	}
}

func (s *Server) rejectPromotion(w http.ResponseWriter, r *http.Request) {
	if id, b, ok := s.promotionTarget(w, r); ok {
		me := callerFrom(r.Context()).User
		s.promotionDone(w, r, id, nil, "Rejected; the work items are back in development, flagged with your reason.",
			s.promote.Reject(r.Context(), me, roleHere(r.Context()), id, b.Reason))
	}
}

// deployPromotion starts (or, after a failure, retries) the promotion's
// deployment.
func (s *Server) deployPromotion(w http.ResponseWriter, r *http.Request) {
	id, b, ok := s.promotionTarget(w, r)
	if !ok {
		return
	}
	if err := s.needJobs(); err != nil {
		s.promotionDone(w, r, id, nil, "", err)
		return
	}
	me := callerFrom(r.Context()).User
	d, err := s.promote.Deploy(r.Context(), me, roleHere(r.Context()), id, b.Override, b.Reason)
	crashpoint.At("deploy.queued")
	s.promotionDone(w, r, id, &d, fmt.Sprintf("Deployment #%d started.", d.ID), err)
}

func (s *Server) cancelPromotion(w http.ResponseWriter, r *http.Request) {
	id, b, ok := s.promotionTarget(w, r)
	if !ok {
		return
	}
	dep, err := s.promote.Cancel(r.Context(), id, b.Reason)
	msg := "Promotion abandoned."
	if dep != nil {
		msg = "Cancel requested; the org stops the deploy at its next safe point."
	}
	s.promotionDone(w, r, id, dep, msg, err)
}

func (s *Server) abandonPromotion(w http.ResponseWriter, r *http.Request) {
	if id, b, ok := s.promotionTarget(w, r); ok {
		s.promotionDone(w, r, id, nil, "Promotion abandoned.", s.store.AbandonPromotion(r.Context(), id, b.Reason))
	}
}

func (s *Server) changePromotionBuild(w http.ResponseWriter, r *http.Request) {
	if id, b, ok := s.promotionTarget(w, r); ok {
		s.promotionDone(w, r, id, nil, "The promotion carries the new build; approvals were reset.", s.store.ChangePromotionBuild(r.Context(), id, b.BuildID))
	}
}

func (s *Server) commentPromotion(w http.ResponseWriter, r *http.Request) {
	if id, b, ok := s.promotionTarget(w, r); ok {
		s.promotionDone(w, r, id, nil, "Comment added.", s.promote.Comment(r.Context(), id, b.Body))
	}
}

func (s *Server) signOffPromotion(w http.ResponseWriter, r *http.Request) {
	id, b, ok := s.promotionTarget(w, r)
	if !ok {
		return
	}
	returned := b.Decision == "returned" || b.Decision == "return"
	msg := strings.ToUpper(b.WorkItem) + " signed off."
	if returned {
		msg = strings.ToUpper(b.WorkItem) + " returned to development."
	}
	err := s.promote.SignOff(r.Context(), id, b.WorkItem, returned, b.Note)
	if err == nil && !returned && len(b.Criteria) > 0 {
		err = s.meetCriteria(r, b.WorkItem, b.Criteria)
		msg = fmt.Sprintf("%s signed off; %d acceptance criteria met.", strings.ToUpper(b.WorkItem), len(b.Criteria))
	}
	s.promotionDone(w, r, id, nil, msg, err)
}

// meetCriteria marks acceptance criteria of the work item's requirements
// met, as a tester checks them off at sign-off; only the item's own.
func (s *Server) meetCriteria(r *http.Request, item string, ids []int64) error {
	crit, err := s.store.CriteriaOfItems(r.Context(), []string{strings.ToUpper(item)})
	if err != nil {
		return err
	}
	of := map[int64]string{}
	for _, c := range crit[strings.ToUpper(item)] {
		of[c.ID] = c.Requirement
	}
	for _, id := range ids {
		req, ok := of[id]
		if !ok {
			return alm.Invalid(map[string]string{"criteria": fmt.Sprintf("Criterion %d is not one of %s's requirements'.", id, strings.ToUpper(item))})
		}
		if err := s.store.SetCriterionMet(r.Context(), req, id, true); err != nil {
			return err
		}
	}
	return nil
}

// deploymentTarget reads the deployment id and the action's body.
func (s *Server) deploymentTarget(w http.ResponseWriter, r *http.Request) (int64, actBody, bool) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That deployment was not found."))
		return 0, actBody{}, false
	}
	b, ok := s.readAct(w, r)
	return id, b, ok
}

// deploymentDone answers an action on a deployment: 202 with the
// deployment to the API, the deployment's page to a browser.
func (s *Server) deploymentDone(w http.ResponseWriter, r *http.Request, id int64, d alm.Deployment, msg string, err error) {
	switch {
	case isAPI(r) && err != nil:
		s.fail(w, r, err)
	case isAPI(r):
		s.acceptedDeployment(w, r, d.ID)
	case err != nil:
		s.failBack(w, r, fmt.Sprintf("/deployments/%d", id), err)
	default:
		s.redirect(w, r, fmt.Sprintf("/deployments/%d", d.ID), "ok", msg)
	}
}

func (s *Server) cancelDeployment(w http.ResponseWriter, r *http.Request) {
	if id, _, ok := s.deploymentTarget(w, r); ok {
		d, err := s.store.RequestCancel(r.Context(), id)
		s.deploymentDone(w, r, id, d, "Cancel requested.", err)
	}
}

func (s *Server) rollbackDeployment(w http.ResponseWriter, r *http.Request) {
	id, b, ok := s.deploymentTarget(w, r)
	if !ok {
		return
	}
	if err := s.needJobs(); err != nil {
		s.deploymentDone(w, r, id, alm.Deployment{}, "", err)
		return
	}
	d, err := s.promote.Rollback(r.Context(), id, b.Components)
	s.deploymentDone(w, r, id, d, fmt.Sprintf("Rollback #%d started.", d.ID), err)
}

func (s *Server) deploymentPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That deployment was not found."))
		return
	}
	d, err := s.store.DeploymentByID(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	comps, err := s.store.DeploymentComponents(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.StartedBy = s.namesByEmail(r)(d.StartedBy)
	v := web.DeploymentView{Deployment: d, Components: comps, CanPromote: roleHere(ctx).Can(alm.PermPromote)}
	crumbs := []web.Crumb{{Label: "Release", Href: "/release"}}
	if d.PromotionID != nil {
		p, err := s.store.PromotionByID(ctx, *d.PromotionID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Promotion = &p
		crumbs = append(crumbs, web.Crumb{Label: fmt.Sprintf("Promotion #%d", p.ID), Href: fmt.Sprintf("/promotions/%d", p.ID)})
	}
	section := "release"
	if d.PromotionID == nil {
		// Restores (and their rollbacks) belong to the org's maintenance.
		section = "maintain"
		crumbs = []web.Crumb{{Label: "Maintain", Href: "/maintain"}, {Label: d.OrgName + " backups", Href: fmt.Sprintf("/orgs/%d/backups", d.OrgID)}}
	}
	crumbs = append(crumbs, web.Crumb{Label: fmt.Sprintf("Deployment #%d", d.ID)})
	v.Page = s.page(w, r, fmt.Sprintf("Deployment #%d", d.ID), section, crumbs...)
	s.render(w, r, http.StatusOK, web.DeploymentPage(v))
}

func (s *Server) releaseHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := s.store.ListPromotions(ctx, promotionFilter(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := web.ReleaseHomeView{Promotions: list, Status: r.URL.Query().Get("status")}
	v.Page = s.page(w, r, "Release", "release")
	s.render(w, r, http.StatusOK, web.ReleaseHome(v))
}

func (s *Server) apiPromotions(w http.ResponseWriter, r *http.Request) {
	f := promotionFilter(r)
	if p := r.URL.Query().Get("project"); p != "" {
		proj, err := s.store.ProjectByKey(r.Context(), p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		f.ProjectID = proj.ID
	}
	list, err := s.store.ListPromotions(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (s *Server) apiOpenPromotion(w http.ResponseWriter, r *http.Request) {
	var b struct {
		BuildID int64  `json:"build_id"`
		Stage   string `json:"stage"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if b.BuildID == 0 {
		s.fail(w, r, alm.Invalid(map[string]string{"build_id": "Say which build to promote."}))
		return
	}
	key, err := s.store.RecordProject(r.Context(), "build", b.BuildID)
	if err == nil {
		_, err = s.mayInProject(r, key, "", alm.PermPromote)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.promote.Open(r.Context(), b.BuildID, b.Stage)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.created(w, fmt.Sprintf("/api/v1/promotions/%d", p.ID), p)
}

func (s *Server) apiPromotion(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That promotion was not found."))
		return
	}
	d, err := s.promote.Detail(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes := []map[string]string{}
	for _, c := range d.Diff {
		changes = append(changes, map[string]string{"type": c.Type, "name": c.Name, "work_item": c.WorkItem, "change": c.Change})
	}
	blocked, _ := alm.Blocked(d.Gates)
	gates := d.Gates
	if gates == nil {
		gates = []alm.Gate{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"promotion": d.Promotion, "gates": gates, "ready": !blocked, "actions": actionsOf(d.Promotion.Status),
		"decisions": d.Decisions, "comments": d.Comments, "signoffs": d.Signoffs, "deployments": d.Deployments, "validation": d.Validation,
		"work_items": nonNil(d.WorkItems), "changes": changes})
}

func actionsOf(st alm.PromotionStatus) []string {
	out := []string{}
	for _, a := range st.Actions() {
		out = append(out, string(a))
	}
	return out
}

func (s *Server) apiDeployment(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		s.fail(w, r, alm.Errorf(alm.CodeNotFound, "That deployment was not found."))
		return
	}
	d, err := s.store.DeploymentByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	comps, err := s.store.DeploymentComponents(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"deployment": d, "components": comps})
}

// componentFromPath reads the org, type and name of a component history
// path; names can hold slashes (folders), sent escaped.
func componentFromPath(r *http.Request) (int64, string, string, error) {
	id, ok := idParam(r)
	if !ok {
		return 0, "", "", alm.Errorf(alm.CodeNotFound, "That org was not found.")
	}
	typ, err1 := url.PathUnescape(chi.URLParam(r, "type"))
	name, err2 := url.PathUnescape(chi.URLParam(r, "name"))
	if err1 != nil || err2 != nil || typ == "" || name == "" {
		return 0, "", "", alm.Errorf(alm.CodeInvalid, "Name a component type and name.")
	}
	return id, typ, name, nil
}

func (s *Server) apiComponentHistory(w http.ResponseWriter, r *http.Request) {
	id, typ, name, err := componentFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.store.OrgByID(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.store.ComponentHistory(r.Context(), id, typ, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"type": typ, "name": name, "items": h})
}

func (s *Server) componentHistoryPage(w http.ResponseWriter, r *http.Request) {
	id, typ, name, err := componentFromPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.store.OrgByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.store.ComponentHistory(r.Context(), id, typ, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	who := s.namesByEmail(r)
	for i := range h {
		h[i].By = who(h[i].By)
	}
	v := web.ComponentHistoryView{Org: o, Type: typ, Name: name, Entries: h}
	v.Page = s.page(w, r, typ+" "+name, "develop", developCrumb, web.Crumb{Label: o.Name, Href: fmt.Sprintf("/orgs/%d", o.ID)}, web.Crumb{Label: typ + " " + name})
	s.render(w, r, http.StatusOK, web.ComponentHistory(v))
}

// promotionFilter reads list filters from the query string.
func promotionFilter(r *http.Request) store.PromotionFilter {
	q := r.URL.Query()
	f := store.PromotionFilter{}
	if v := q.Get("status"); v != "" {
		f.Status = strings.Split(v, ",")
	}
	if v := q.Get("active"); v == "true" {
		f.Status = []string{"open", "deploying", "failed", "canceled"}
	}
	f.BuildID, _ = strconv.ParseInt(q.Get("build"), 10, 64)
	f.ReleaseID, _ = strconv.ParseInt(q.Get("release"), 10, 64)
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	return f
}

func (s *Server) registerAnnouncementRoutes(r chi.Router) {
	s.handle(r, http.MethodPut, "/api/v1/projects/{project}/announcements", inProject(alm.PermManagePipeline), s.apiSetAnnouncements)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/announcements", inProject(alm.PermView), s.apiAnnouncements)
	s.handle(r, http.MethodPost, "/projects/{project}/announcements", inProject(alm.PermManagePipeline), s.setAnnouncements)
}

// announcementsOut shows where announcements go without the webhook
// addresses, whose paths are secrets.
func (s *Server) announcementsOut(r *http.Request) (map[string]any, error) {
	emails, hooks, err := s.store.ProjectAnnouncements(r.Context(), scopeFrom(r.Context()).Project.ID)
	if err != nil {
		return nil, err
	}
	shown := []string{}
	for _, h := range hooks {
		u, err := s.deps.Keyring.Open(h, jobs.HookSealContext)
		if err != nil {
			shown = append(shown, "(cannot be opened with the current key)")
			continue
		}
		shown = append(shown, jobs.RedactHook(string(u)))
	}
	if emails == nil {
		emails = []string{}
	}
	return map[string]any{"emails": emails, "webhooks": shown}, nil
}

// saveAnnouncements checks and seals the settings.
func (s *Server) saveAnnouncements(r *http.Request, emails, hooks []string) error {
	bad := map[string]string{}
	var es, sealed []string
	for _, e := range emails {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if !strings.Contains(e, "@") || strings.ContainsAny(e, " \r\n<>,") {
			bad["emails"] = fmt.Sprintf("%q is not an email address.", e)
		}
		es = append(es, e)
	}
	for _, h := range hooks {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		u, err := url.Parse(h)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad["webhooks"] = "Webhooks are http(s) addresses, like https://hooks.slack.com/services/…"
			continue
		}
		if err := s.cfg.Outbound.CheckURL(r.Context(), h); err != nil {
			bad["webhooks"] = outboundMessage(err)
			continue
		}
		x, err := s.deps.Keyring.Seal([]byte(h), jobs.HookSealContext)
		if err != nil {
			return err
		}
		sealed = append(sealed, x)
	}
	if len(bad) > 0 {
		return alm.Invalid(bad)
	}
	if es == nil {
		es = []string{}
	}
	if sealed == nil {
		sealed = []string{}
	}
	return s.store.SetProjectAnnouncements(r.Context(), scopeFrom(r.Context()).Project.ID, es, sealed)
}

func (s *Server) apiSetAnnouncements(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Emails   []string `json:"emails"`
		Webhooks []string `json:"webhooks"`
	}
	if err := decodeJSON(r, &b); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.saveAnnouncements(r, b.Emails, b.Webhooks); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apiAnnouncements(w, r)
}

func (s *Server) apiAnnouncements(w http.ResponseWriter, r *http.Request) {
	out, err := s.announcementsOut(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) setAnnouncements(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	split := func(v string) []string {
		return strings.FieldsFunc(v, func(c rune) bool { return c == '\n' || c == ',' || c == ' ' || c == '\r' })
	}
	if err := s.saveAnnouncements(r, split(r.PostFormValue("emails")), split(r.PostFormValue("webhooks"))); err != nil {
		s.failBack(w, r, "/projects/"+sc.Project.Key+"/pipeline#announcements", err)
		return
	}
	s.redirect(w, r, "/projects/"+sc.Project.Key+"/pipeline#announcements", "ok", "Announcements saved.")
}

// buildChangeSet builds a work item's change set: from its branch in a
// git-backed project (where the branch is the truth), else from its
// captures.
func (s *Server) buildChangeSet(r *http.Request, key, apiVersion string) (alm.Build, error) {
	ctx := r.Context()
	if it, err := s.store.WorkItemByKey(ctx, key); err == nil {
		if g, err := s.store.ProjectGit(ctx, it.ProjectID); err == nil && g.GitBacked() {
			if wb, err := s.store.WorkItemBranch(ctx, it.ID); err == nil && wb.Name != "" {
				gf, err := s.gitflow()
				if err != nil {
					return alm.Build{}, err
				}
				return gf.BuildItem(ctx, key)
			}
		}
	}
	return s.builds.BuildWorkItem(ctx, key, apiVersion)
}
