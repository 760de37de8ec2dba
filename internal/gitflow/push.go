package gitflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// Push brings a deployed promotion's merge onto the stage's branch: the
// deploy succeeded, so the branch may now say so. If the branch moved
// meanwhile (someone pushed), the merge is merged with what they pushed
// and that goes up instead; the org then lags the branch by their change,
// which the pipeline shows as "branch ahead of org". Whatever the
// repository refuses is recorded on the promotion (push_failed) with the
// reason, and Push may be asked again. After the last stage, the lower
// branches are brought up to date when the project says so.
func (s *Service) Push(ctx context.Context, promotionID int64) error {
	p, err := s.st.PromotionByID(ctx, promotionID)
	if err != nil {
		return err
	}
	if p.Git == nil || p.Status != alm.PromoDeployed {
		return alm.Errorf(alm.CodeConflict, "Only a deployed promotion made as a merge is pushed.")
	}
	switch p.Git.State {
	case alm.GitPushed:
		return nil
	case alm.GitMerged, alm.GitPushing, alm.GitPushFailed:
	default:
		return alm.Errorf(alm.CodeConflict, "This promotion's merge is %s; nothing to push.", strings.ToLower(p.Git.StateLabel()))
	}
	proj, err := s.project(ctx, p.ProjectID)
	if err != nil {
		return err
	}
	note, err := s.push(ctx, proj, p)
	if err != nil {
		return s.st.SetPromotionGit(ctx, p.ID, alm.GitPushFailed, alm.ErrorMessage(err))
	}
	if err := s.st.SetStageCommit(ctx, p.ProjectID, p.StageName, p.Git.Commit, p.ID); err != nil {
		return err
	}
	last := proj.stages[len(proj.stages)-1]
	if last.Position == p.StagePosition && proj.git.Branching == alm.BranchingEnvironment && proj.git.BackPropagate {
		if bp := s.BackPropagate(ctx, p.ProjectID); bp != "" {
			note = strings.TrimSpace(note + " " + bp)
		}
	}
	return s.st.SetPromotionGit(ctx, p.ID, alm.GitPushed, note)
}

func (s *Service) push(ctx context.Context, proj project, p alm.Promotion) (string, error) {
	g := p.Git
	if err := s.repos.Fetch(ctx, proj.repo); err != nil {
		return "", err
	}
	head, err := s.repos.Head(ctx, proj.repo, g.Into)
	if alm.ErrorCode(err) == alm.CodeNotFound {
		return "", alm.Errorf(alm.CodeConflict, "The branch %s no longer exists on the repository; make it again (from %.8s), then push again.", g.Into, g.Base)
	} else if err != nil {
		return "", err
	}
	if there, err := s.repos.IsAncestor(ctx, proj.repo, g.Commit, head); err != nil {
		return "", err
	} else if there {
		return "", nil // trunk-based later stages, or pushed before a crash
	}
	if head == g.Base {
		return "", s.repos.PushMerge(ctx, proj.repo, g.Into, g.Base, g.Commit)
	}
	// The branch moved since the merge was made: merge the deployed merge
	// into what is there now.
	res, err := s.repos.MergeResolved(ctx, proj.repo, head, g.Commit,
		fmt.Sprintf("Merge Trellis promotion #%d (deployed to %s) into %s, which moved meanwhile.", p.ID, p.StageName, g.Into), nil)
	if err != nil {
		return "", err
	}
	if len(res.Conflicts) > 0 {
		var paths []string
		for _, c := range res.Conflicts {
			paths = append(paths, c.Path)
		}
		return "", alm.Errorf(alm.CodeConflict, "%s moved since the merge (someone pushed) and their change conflicts with this promotion in %s. The deploy stands; merge %.8s into %s on the host, or settle it and push again.",
			g.Into, strings.Join(paths, ", "), g.Commit, g.Into)
	}
	if err := s.repos.PushMerge(ctx, proj.repo, g.Into, head, res.Commit); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s had moved; merged with what was there (%.8s).", g.Into, res.Commit), nil
}

// BackPropagate merges the last stage's branch into every lower stage's
// branch: pushed where the merge is clean, a promotion waiting on its
// conflicts where not (settled like any other, then deployed to that
// stage's org). It returns what it did, for the promotion's record.
func (s *Service) BackPropagate(ctx context.Context, projectID int64) string {
	proj, err := s.project(ctx, projectID)
	if err != nil {
		return "Back-propagation: " + alm.ErrorMessage(err)
	}
	last := proj.stages[len(proj.stages)-1]
	top := proj.Branch(last)
	var notes []string
	for _, st := range proj.stages[:len(proj.stages)-1] {
		b := proj.Branch(st)
		if b == top {
			continue
		}
		note, err := s.backMerge(ctx, proj, st, b, top)
		if err != nil {
			note = b + ": " + alm.ErrorMessage(err)
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return "Back-propagation: " + strings.Join(notes, "; ") + "."
}

func (s *Service) backMerge(ctx context.Context, proj project, st alm.Stage, branch, top string) (string, error) {
	old, err := s.repos.Head(ctx, proj.repo, branch)
	if err != nil {
		return "", err
	}
	res, err := s.repos.Merge(ctx, proj.repo, branch, top, fmt.Sprintf("Back-propagate %s into %s (Trellis).", top, branch))
	if err != nil {
		return "", err
	}
	if res.UpToDate {
		return "", nil
	}
	if len(res.Conflicts) > 0 {
		if st.OrgID == nil {
			return fmt.Sprintf("%s conflicts with %s; %s has no org to promote into", branch, top, st.Name), nil
		}
		n := store.NewMergePromotion{ProjectID: proj.id, StagePosition: st.Position, StageName: st.Name, OrgID: *st.OrgID,
			Git: alm.PromotionGit{Into: branch, From: top, Base: old, State: alm.GitConflicts}}
		for _, c := range res.Conflicts {
			n.Conflicts = append(n.Conflicts, alm.MergeConflict{Path: c.Path, Elements: c.Elements, Base: c.Base, Ours: c.Ours, Theirs: c.Theirs, Marked: c.Marked})
		}
		pr, err := s.st.CreateMergePromotion(ctx, n)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s conflicts with %s in %s, waiting in promotion #%d", branch, top, alm.Count(len(n.Conflicts), "file"), pr.ID), nil
	}
	if err := s.repos.PushMerge(ctx, proj.repo, branch, old, res.Commit); err != nil {
		return "", err
	}
	// When the org was in step with the branch and the merge brings no
	// metadata it lacks, it stays in step.
	have, err := s.st.StageCommits(ctx, proj.id)
	if err == nil && have[strings.ToLower(st.Name)] == old {
		if d, err := s.repos.Delta(ctx, proj.repo, old, res.Commit, false); err == nil && len(d) == 0 {
			_ = s.st.SetStageCommit(ctx, proj.id, st.Name, res.Commit, 0)
		}
	}
	return fmt.Sprintf("%s brought up to date", branch), nil
}
