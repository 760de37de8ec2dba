package gitflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/githost"
	"github.com/trellis-alm/trellis/internal/store"
)

// WithLinks makes the pull requests and statuses Trellis writes on the
// git host link back to it (baseURL: where people reach Trellis).
func (s *Service) WithLinks(baseURL string) *Service {
	s.baseURL = strings.TrimSuffix(baseURL, "/")
	return s
}

func (s *Service) promotionURL(id int64) string {
	if s.baseURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/promotions/%d", s.baseURL, id)
}

// openPR opens the pull (merge) request of a promotion made as a merge on
// the repository's host, when it has one: the work item's branch into the
// stage's branch. A host that refuses is noted on the promotion; the
// promotion goes on without it (Trellis merges and pushes itself, which
// the host shows as the pull request merged).
func (s *Service) openPR(ctx context.Context, proj project, p alm.Promotion, it alm.WorkItem) {
	if p.Git == nil || p.Git.From == "" {
		return
	}
	h, err := s.repos.Host(ctx, proj.repo)
	if err != nil || h == nil {
		return
	}
	body := fmt.Sprintf("Promotion #%d of %s (%s) into %s.", p.ID, it.Key, it.Title, p.StageName)
	if u := s.promotionURL(p.ID); u != "" {
		body += "\n\n" + u
	}
	body += "\n\nTrellis merges this once the deploy to " + p.OrgName + " succeeds; the validation is reported as the trellis/validation status."
	pr, err := h.OpenPullRequest(ctx, githost.PR{Title: fmt.Sprintf("%s: %s → %s", it.Key, it.Title, p.StageName), Body: body, Head: p.Git.From, Base: p.Git.Into})
	if err != nil {
		_ = s.st.SetPromotionGit(ctx, p.ID, p.Git.State, fmt.Sprintf("%s did not open a pull request: %s", h.Name(), hostMessage(err)))
		return
	}
	_ = s.st.SetPromotionPR(ctx, p.ID, pr.URL, pr.Number)
}

func hostMessage(err error) string {
	var he *githost.Error
	if errors.As(err, &he) {
		return he.Error()
	}
	return alm.ErrorMessage(err)
}

// ReportValidation puts a validation's outcome on the pull requests of
// the promotions carrying build, as the trellis/validation status of the
// branch's head.
func (s *Service) ReportValidation(ctx context.Context, buildID int64, v alm.Validation) error {
	promos, err := s.st.ListPromotions(ctx, store.PromotionFilter{BuildID: buildID})
	if err != nil {
		return err
	}
	for _, p := range promos {
		if p.Git == nil || p.Git.PRNum == 0 || p.Git.From == "" {
			continue
		}
		proj, err := s.project(ctx, p.ProjectID)
		if err != nil {
			return err
		}
		h, err := s.repos.Host(ctx, proj.repo)
		if err != nil || h == nil {
			continue
		}
		head, err := s.repos.Head(ctx, proj.repo, p.Git.From)
		if err != nil {
			continue
		}
		state, desc := "pending", "Validating against "+p.OrgName
		switch v.Status {
		case "succeeded":
			state, desc = "success", "Validated against "+p.OrgName
		case "failed":
			state, desc = "failure", "Validation against "+p.OrgName+" failed"
		case "error", "canceled":
			state, desc = "error", "Validation against "+p.OrgName+" did not finish"
		}
		if err := h.SetStatus(ctx, head, githost.Status{State: state, Context: "trellis/validation", Description: desc, TargetURL: s.promotionURL(p.ID)}); err != nil {
			_ = s.st.SetPromotionGit(ctx, p.ID, p.Git.State, fmt.Sprintf("%s did not take the validation status: %s", h.Name(), hostMessage(err)))
		}
	}
	return nil
}

// NoticePush handles a push to a repository's branch (the host's push
// webhook): a promotion waiting to merge a work item into that branch
// whose branch the host has merged meanwhile (its pull request merged
// there) now deploys what the branch holds — rebuilt from the branch, with
// nothing left to push. It returns the promotions it advanced.
func (s *Service) NoticePush(ctx context.Context, repoID int64, branch string) ([]int64, error) {
	promos, err := s.st.MergesInto(ctx, repoID, branch)
	if err != nil || len(promos) == 0 {
		return nil, err
	}
	if err := s.repos.Fetch(ctx, repoID); err != nil {
		return nil, err
	}
	head, err := s.repos.Head(ctx, repoID, branch)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, p := range promos {
		from, err := s.repos.Head(ctx, repoID, p.Git.From)
		if err != nil {
			continue // the host deleted the merged branch: nothing to compare
		}
		if merged, err := s.repos.IsAncestor(ctx, repoID, from, head); err != nil || !merged {
			continue
		}
		proj, err := s.project(ctx, p.ProjectID)
		if err != nil {
			return out, err
		}
		var st alm.Stage
		for _, x := range proj.stages {
			if x.Position == p.StagePosition {
				st = x
			}
		}
		base, err := s.stageCommit(ctx, proj, st)
		if err != nil {
			return out, err
		}
		var itemID int64
		if p.WorkItem != "" {
			it, err := s.st.WorkItemByKey(ctx, p.WorkItem)
			if err != nil {
				return out, err
			}
			itemID = it.ID
		}
		buildID, err := s.build(ctx, repoID, base, head, itemID, p.ProjectID, p.WorkItem)
		if err != nil {
			_ = s.st.SetPromotionGit(ctx, p.ID, p.Git.State, "Merged on the host, but: "+alm.ErrorMessage(err))
			continue
		}
		if err := s.st.MergedOnHost(ctx, p.ID, buildID, head, base); err != nil {
			return out, err
		}
		out = append(out, p.ID)
	}
	return out, nil
}
