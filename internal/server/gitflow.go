package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gitflow"
	"github.com/trellis-alm/trellis/internal/gitmerge"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/web"
)

// A git-backed project's promotions are merges (internal/gitflow): a work
// item's branch promoted into a stage, conflicts settled in the browser,
// the merge pushed once deployed, a stage branch ahead of its org
// deployed as it is.

func (s *Server) registerGitFlowRoutes(r chi.Router) {
	s.handle(r, http.MethodPost, "/work-items/{key}/promote", inProject(alm.PermPromote), s.promoteWorkItem)
	s.handle(r, http.MethodGet, "/promotions/{id}/conflicts", inProjectOf("promotion", alm.PermView), s.conflictsPage)
	s.handle(r, http.MethodPost, "/promotions/{id}/conflicts", inProjectOf("promotion", alm.PermPromote), s.resolveConflicts)
	s.handle(r, http.MethodPost, "/promotions/{id}/push", inProjectOf("promotion", alm.PermPromote), s.pushAgain)
	s.handle(r, http.MethodPost, "/projects/{project}/stages/{stage}/deploy-branch", inProject(alm.PermPromote), s.deployBranch)
	s.handle(r, http.MethodPost, "/api/v1/work-items/{key}/promotions", inProject(alm.PermPromote), s.promoteWorkItem)
	s.handle(r, http.MethodGet, "/api/v1/promotions/{id}/conflicts", inProjectOf("promotion", alm.PermView), s.apiConflicts)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/conflicts", inProjectOf("promotion", alm.PermPromote), s.resolveConflicts)
	s.handle(r, http.MethodPost, "/api/v1/promotions/{id}/push", inProjectOf("promotion", alm.PermPromote), s.pushAgain)
	s.handle(r, http.MethodGet, "/api/v1/projects/{project}/stages/git", inProject(alm.PermView), s.apiStagesGit)
	s.handle(r, http.MethodPost, "/api/v1/projects/{project}/stages/{stage}/deploy-branch", inProject(alm.PermPromote), s.deployBranch)
}

func (s *Server) gitflow() (*gitflow.Service, error) {
	svc, err := s.repoService()
	if err != nil {
		return nil, err
	}
	return gitflow.New(s.store, svc).WithLinks(s.cfg.BaseURL.String()), nil
}

// promoteWorkItem merges a work item's branch into a stage's branch.
func (s *Server) promoteWorkItem(w http.ResponseWriter, r *http.Request) {
	key := strings.ToUpper(chi.URLParam(r, "key"))
	stage := r.PostFormValue("stage")
	if isAPI(r) && r.ContentLength > 0 {
		var body struct {
			Stage string `json:"stage"`
		}
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
		stage = body.Stage
	}
	gf, err := s.gitflow()
	var p alm.Promotion
	if err == nil {
		p, err = gf.Promote(r.Context(), key, stage)
	}
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.created(w, fmt.Sprintf("/api/v1/promotions/%d", p.ID), p)
		return
	}
	if err != nil {
		s.failBack(w, r, "/work-items/"+key+"#promote", err)
		return
	}
	if p.Git.State == alm.GitConflicts {
		s.redirect(w, r, fmt.Sprintf("/promotions/%d/conflicts", p.ID), "error",
			fmt.Sprintf("Merging %s into %s needs you: some changes conflict. Choose for each, and the promotion is built.", p.Git.From, p.Git.Into))
		return
	}
	s.redirect(w, r, fmt.Sprintf("/promotions/%d", p.ID), "ok", fmt.Sprintf("Promotion #%d merges %s into %s (not pushed until it is deployed).", p.ID, p.Git.From, p.Git.Into))
}

// conflictView gathers a promotion's conflicts for the page and the API.
func (s *Server) conflictView(r *http.Request) (web.ConflictsView, error) {
	var v web.ConflictsView
	id, ok := idParam(r)
	if !ok {
		return v, alm.Errorf(alm.CodeNotFound, "That promotion was not found.")
	}
	p, err := s.store.PromotionByID(r.Context(), id)
	if err != nil {
		return v, err
	}
	if p.Git == nil {
		return v, alm.Errorf(alm.CodeNotFound, "Promotion #%d is not a merge: it has no conflicts.", id)
	}
	v.Promotion = p
	cs, err := s.store.MergeConflicts(r.Context(), id)
	if err != nil {
		return v, err
	}
	for _, c := range cs {
		fc := web.FileConflict{Conflict: c, Hunks: gitmerge.Hunks(c.Marked)}
		for i := range fc.Hunks {
			label := fmt.Sprintf("Conflict %d", i+1)
			if len(c.Elements) == len(fc.Hunks) {
				label = c.Elements[i]
			}
			fc.Labels = append(fc.Labels, label)
		}
		v.Files = append(v.Files, fc)
	}
	return v, nil
}

func (s *Server) conflictsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.conflictView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderConflicts(w, r, http.StatusOK, v)
}

func (s *Server) renderConflicts(w http.ResponseWriter, r *http.Request, status int, v web.ConflictsView) {
	p := v.Promotion
	v.Page = s.page(w, r, fmt.Sprintf("Conflicts in promotion #%d", p.ID), "release", web.Crumb{Label: "Release", Href: "/release"},
		web.Crumb{Label: p.ProjectKey, Href: "/projects/" + p.ProjectKey},
		web.Crumb{Label: fmt.Sprintf("Promotion #%d", p.ID), Href: fmt.Sprintf("/promotions/%d", p.ID)}, web.Crumb{Label: "Conflicts"})
	s.render(w, r, status, web.ConflictsPage(v))
}

func (s *Server) apiConflicts(w http.ResponseWriter, r *http.Request) {
	v, err := s.conflictView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	files := []map[string]any{}
	for _, f := range v.Files {
		hunks := []map[string]string{}
		for i, h := range f.Hunks {
			hunks = append(hunks, map[string]string{"label": f.Labels[i], "ours": string(h.Ours), "theirs": string(h.Theirs)})
		}
		files = append(files, map[string]any{"path": f.Conflict.Path, "elements": f.Conflict.Elements, "hunks": hunks,
			"ours": nilString(f.Conflict.Ours), "theirs": nilString(f.Conflict.Theirs), "resolution": f.Conflict.Resolution,
			"resolved_by": f.Conflict.By, "resolved_at": f.Conflict.At})
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"promotion": v.Promotion, "files": files})
}

func nilString(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// resolveConflicts takes people's choices: from the form, one field per
// hunk ("hunk.<file index>.<hunk index>"), per whole file ("file.<i>"),
// or an edit ("edited.<i>"); over the API, {"choices": {path: Choice}}.
func (s *Server) resolveConflicts(w http.ResponseWriter, r *http.Request) {
	v, err := s.conflictView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	choices := map[string]gitflow.Choice{}
	if isAPI(r) {
		var body struct {
			Choices map[string]gitflow.Choice `json:"choices"`
		}
		if err := decodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
		choices = body.Choices
	} else {
		_ = r.ParseForm()
		for i, f := range v.Files {
			var ch gitflow.Choice
			if e := r.PostForm.Get("edited." + strconv.Itoa(i)); strings.TrimSpace(e) != "" {
				e = strings.ReplaceAll(e, "\r\n", "\n")
				ch.Edited = &e
			} else if len(f.Hunks) == 0 {
				ch.File = r.PostForm.Get("file." + strconv.Itoa(i))
			} else {
				for j := range f.Hunks {
					ch.Hunks = append(ch.Hunks, r.PostForm.Get(fmt.Sprintf("hunk.%d.%d", i, j)))
				}
			}
			choices[f.Conflict.Path] = ch
		}
	}
	gf, err := s.gitflow()
	var p alm.Promotion
	if err == nil {
		p, err = gf.Resolve(r.Context(), v.Promotion.ID, choices)
	}
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusOK, p)
		return
	}
	if err != nil {
		v.Error = alm.ErrorMessage(err)
		v.Fields = alm.FieldErrors(err)
		v.Chosen = r.PostForm
		s.renderConflicts(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/promotions/%d", p.ID), "ok", fmt.Sprintf("Conflicts settled: merge %.8s built as change set #%d; it waits for its gates.", p.Git.Commit, p.BuildNumber))
}

func (s *Server) pushAgain(w http.ResponseWriter, r *http.Request) {
	id, _ := idParam(r)
	err := s.store.RequeuePush(r.Context(), id, jobs.GitPushJob(s.deps.Jobs))
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, http.StatusAccepted, map[string]any{"promotion": id, "git_state": alm.GitPushing})
		return
	}
	back := fmt.Sprintf("/promotions/%d", id)
	if err != nil {
		s.failBack(w, r, back, err)
		return
	}
	s.redirect(w, r, back, "ok", "Pushing the merge again.")
}

func (s *Server) deployBranch(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	gf, err := s.gitflow()
	var p alm.Promotion
	if err == nil {
		p, err = gf.DeployBranch(r.Context(), sc.Project.ID, chi.URLParam(r, "stage"))
	}
	if isAPI(r) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.created(w, fmt.Sprintf("/api/v1/promotions/%d", p.ID), p)
		return
	}
	if err != nil {
		s.failBack(w, r, "/projects/"+sc.Project.Key+"/pipeline", err)
		return
	}
	s.redirect(w, r, fmt.Sprintf("/promotions/%d", p.ID), "ok", fmt.Sprintf("Promotion #%d deploys %s as it is to %s.", p.ID, p.Git.Into, p.StageName))
}

// apiStagesGit is each stage's branch against its org.
func (s *Server) apiStagesGit(w http.ResponseWriter, r *http.Request) {
	gf, err := s.gitflow()
	var st []gitflow.StageState
	if err == nil {
		st, err = gf.Stages(r.Context(), scopeFrom(r.Context()).Project.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []map[string]any{}
	for _, x := range st {
		comps := x.Components
		if comps == nil {
			comps = []alm.BuildComponent{}
		}
		ahead := x.Ahead
		if ahead == nil {
			ahead = []alm.BranchCommit{}
		}
		out = append(out, map[string]any{"stage": x.Stage, "branch": x.Branch, "head": x.Head, "deployed": x.Deployed,
			"ahead_of_org": x.AheadOfOrg(), "commits_ahead": x.AheadCount, "commits": ahead, "components": comps, "error": x.Error})
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"stages": out})
}
