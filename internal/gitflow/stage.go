package gitflow

import (
	"context"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// StageState is how a stage's branch and org stand against each other.
type StageState struct {
	Stage    string
	Branch   string
	Head     string // the branch's commit ("" when the branch does not exist)
	Deployed string // the commit the org last received from git ("" when none)
	// Ahead lists the branch's commits the org has not received (newest
	// first, at most 50) of AheadCount in all; Components what they
	// change in metadata.
	Ahead      []alm.BranchCommit
	AheadCount int
	Components []alm.BuildComponent
	Error      string
}

// AheadOfOrg reports "branch ahead of org": whether the branch holds
// metadata changes the org lacks.
func (st StageState) AheadOfOrg() bool { return len(st.Components) > 0 }

// Stages reads, for every stage of a git-backed project, its branch
// against its org, from the mirror as last fetched (the push webhook and
// every merge fetch it).
func (s *Service) Stages(ctx context.Context, projectID int64) ([]StageState, error) {
	proj, err := s.project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	have, err := s.st.StageCommits(ctx, projectID)
	if err != nil {
		return nil, err
	}
	var out []StageState
	for _, stg := range proj.stages {
		st := StageState{Stage: stg.Name, Branch: proj.Branch(stg), Deployed: have[strings.ToLower(stg.Name)]}
		st.Head, err = s.repos.Head(ctx, proj.repo, st.Branch)
		if err != nil {
			st.Error = alm.ErrorMessage(err)
			out = append(out, st)
			continue
		}
		if st.Deployed == "" {
			// First sight of the branch: the org is taken to hold it now.
			if err := s.st.SetStageCommit(ctx, projectID, stg.Name, st.Head, 0); err != nil {
				return nil, err
			}
			st.Deployed = st.Head
		}
		if st.Deployed != st.Head {
			if st.Ahead, st.AheadCount, err = s.repos.CommitsBetween(ctx, proj.repo, st.Deployed, st.Head); err != nil {
				st.Error = alm.ErrorMessage(err)
			} else if d, err := s.repos.Delta(ctx, proj.repo, st.Deployed, st.Head, false); err != nil {
				st.Error = alm.ErrorMessage(err)
			} else {
				for _, e := range d {
					st.Components = append(st.Components, alm.BuildComponent{Type: e.Key.Type, Name: e.Key.Name, Change: string(e.Change)})
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// DeployBranch opens a promotion that deploys a stage's branch as it is
// (a hotfix merged on the host, a back-propagation): what changed since
// the commit its org last received.
func (s *Service) DeployBranch(ctx context.Context, projectID int64, stage string) (alm.Promotion, error) {
	proj, err := s.project(ctx, projectID)
	if err != nil {
		return alm.Promotion{}, err
	}
	var stg *alm.Stage
	for i := range proj.stages {
		if strings.EqualFold(proj.stages[i].Name, strings.TrimSpace(stage)) {
			stg = &proj.stages[i]
		}
	}
	if stg == nil {
		return alm.Promotion{}, alm.Invalid(map[string]string{"stage": "There is no stage " + stage + " in the pipeline."})
	}
	if stg.OrgID == nil {
		return alm.Promotion{}, alm.Invalid(map[string]string{"stage": stg.Name + " has no org: bind one in the pipeline first."})
	}
	if err := s.repos.Fetch(ctx, proj.repo); err != nil {
		return alm.Promotion{}, err
	}
	branch := proj.Branch(*stg)
	head, err := s.repos.Head(ctx, proj.repo, branch)
	if err != nil {
		return alm.Promotion{}, err
	}
	from, err := s.stageCommit(ctx, proj, *stg)
	if err != nil {
		return alm.Promotion{}, err
	}
	if from == head {
		return alm.Promotion{}, alm.Errorf(alm.CodeConflict, "%s's org already has everything on %s.", stg.Name, branch)
	}
	buildID, err := s.build(ctx, proj.repo, from, head, 0, projectID, "")
	if err != nil {
		return alm.Promotion{}, err
	}
	return s.st.CreateMergePromotion(ctx, store.NewMergePromotion{ProjectID: projectID, BuildID: buildID, StagePosition: stg.Position, StageName: stg.Name,
		OrgID: *stg.OrgID, Git: alm.PromotionGit{Into: branch, Base: from, Commit: head, State: alm.GitMerged}})
}
