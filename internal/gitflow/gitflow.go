// Package gitflow runs a git-backed project's pipeline: a promotion is a
// merge of a work item's branch into the stage's branch, built from the
// metadata delta the merge makes, deployed, and pushed only once the
// deploy succeeded; conflicts the Salesforce-aware merge cannot settle
// wait for people; after the last stage the lower branches are brought up
// to date; a stage branch that moved without Trellis is "ahead of its
// org" and can be deployed as it is.
package gitflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/artifact"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// Service runs promotions as merges.
type Service struct {
	st      *store.Store
	repos   *repos.Service
	baseURL string
}

// MergeTimeout bounds a merge (fetch and merge in the mirror): a merge
// that takes longer is stopped with a message saying so, nothing pushed.
var MergeTimeout = 2 * time.Minute

// New returns a Service.
func New(st *store.Store, r *repos.Service) *Service { return &Service{st: st, repos: r} }

// project is a git-backed project's version control and pipeline.
type project struct {
	id     int64
	git    alm.ProjectGit
	repo   int64
	stages []alm.Stage
}

func (s *Service) project(ctx context.Context, projectID int64) (project, error) {
	g, err := s.st.ProjectGit(ctx, projectID)
	if err != nil {
		return project{}, err
	}
	if !g.GitBacked() {
		return project{}, alm.Errorf(alm.CodeConflict, "This project keeps no repository: choose one on the pipeline page first.")
	}
	stages, err := s.st.Pipeline(ctx, projectID)
	if err != nil {
		return project{}, err
	}
	if len(stages) == 0 {
		return project{}, alm.Errorf(alm.CodeInvalid, "The project has no pipeline yet: set its stages under Develop → Pipeline first.")
	}
	return project{id: projectID, git: g, repo: *g.RepositoryID, stages: stages}, nil
}

// Branch is the branch a stage deploys from: its own in the environment
// branch model, the trunk (the first stage's branch, else the
// repository's default) in the trunk-based one.
func (p project) Branch(st alm.Stage) string {
	if p.git.Branching == alm.BranchingTrunk {
		if p.stages[0].Branch != "" {
			return p.stages[0].Branch
		}
		return p.git.DefaultBranch
	}
	if st.Branch != "" {
		return st.Branch
	}
	return p.git.DefaultBranch
}

// StageBranch is the branch stage deploys from in a git-backed project.
func (s *Service) StageBranch(ctx context.Context, projectID int64, stage alm.Stage) (string, error) {
	p, err := s.project(ctx, projectID)
	if err != nil {
		return "", err
	}
	return p.Branch(stage), nil
}

// Baseline records, for every stage whose org has no commit recorded yet,
// its branch's head as what the org holds: the starting point from which
// "branch ahead of org" is measured, taken when the project is connected.
func (s *Service) Baseline(ctx context.Context, projectID int64) error {
	p, err := s.project(ctx, projectID)
	if err != nil {
		return err
	}
	if err := s.repos.Fetch(ctx, p.repo); err != nil {
		return err
	}
	have, err := s.st.StageCommits(ctx, projectID)
	if err != nil {
		return err
	}
	for _, st := range p.stages {
		if have[strings.ToLower(st.Name)] != "" {
			continue
		}
		head, err := s.repos.Head(ctx, p.repo, p.Branch(st))
		if alm.ErrorCode(err) == alm.CodeNotFound {
			continue // the branch is made later; measured from then
		} else if err != nil {
			return err
		}
		if err := s.st.SetStageCommit(ctx, projectID, st.Name, head, 0); err != nil {
			return err
		}
	}
	return nil
}

// pick finds the named stage, or the first the work item has not reached.
func (s *Service) pick(ctx context.Context, p project, itemID int64, name string) (alm.Stage, error) {
	if name = strings.TrimSpace(name); name != "" {
		for _, st := range p.stages {
			if strings.EqualFold(st.Name, name) {
				return st, nil
			}
		}
		return alm.Stage{}, alm.Invalid(map[string]string{"stage": fmt.Sprintf("There is no stage %q in the pipeline.", name)})
	}
	for _, st := range p.stages {
		ok, err := s.st.PromotedIn(ctx, itemID, st.Name)
		if err != nil {
			return alm.Stage{}, err
		}
		if !ok {
			return st, nil
		}
	}
	return alm.Stage{}, alm.Errorf(alm.CodeConflict, "This work item is already deployed in every stage.")
}

// Promote opens a promotion of a work item into a stage (or the next it
// has not reached): its branch merged into the stage's branch, built
// from what the merge changes. Conflicts the merge cannot settle make a
// promotion that waits for them (no build yet). In the trunk-based model
// the stages after the first deploy the commit that merged the item.
func (s *Service) Promote(ctx context.Context, key, stage string) (alm.Promotion, error) {
	it, err := s.st.WorkItemByKey(ctx, key)
	if err != nil {
		return alm.Promotion{}, err
	}
	p, err := s.project(ctx, it.ProjectID)
	if err != nil {
		return alm.Promotion{}, err
	}
	wb, err := s.st.WorkItemBranch(ctx, it.ID)
	if err != nil {
		return alm.Promotion{}, err
	}
	if wb.Name == "" {
		return alm.Promotion{}, alm.Errorf(alm.CodeConflict, "%s has no branch yet: start one on its page and commit its changes first.", it.Key)
	}
	st, err := s.pick(ctx, p, it.ID, stage)
	if err != nil {
		return alm.Promotion{}, err
	}
	if st.OrgID == nil {
		return alm.Promotion{}, alm.Invalid(map[string]string{"stage": st.Name + " has no org: bind one in the pipeline first."})
	}
	into := p.Branch(st)
	n := store.NewMergePromotion{ProjectID: it.ProjectID, WorkItemID: it.ID, StagePosition: st.Position, StageName: st.Name, OrgID: *st.OrgID}
	if p.git.Branching == alm.BranchingTrunk && st.Position != p.stages[0].Position {
		commit, err := s.st.ItemMergeCommit(ctx, it.ID)
		if err != nil {
			return alm.Promotion{}, err
		}
		if err := s.repos.Fetch(ctx, p.repo); err != nil {
			return alm.Promotion{}, err
		}
		from, err := s.stageCommit(ctx, p, st)
		if err != nil {
			return alm.Promotion{}, err
		}
		n.Git = alm.PromotionGit{Into: into, Base: from, Commit: commit, State: alm.GitMerged}
		if n.BuildID, err = s.build(ctx, p.repo, from, commit, it.ID, 0, it.Key); err != nil {
			return alm.Promotion{}, err
		}
		return s.st.CreateMergePromotion(ctx, n)
	}
	mctx, cancel := context.WithTimeout(ctx, MergeTimeout)
	res, err := s.repos.Merge(mctx, p.repo, into, wb.Name, mergeMessage(it, wb.Name, into))
	cancel()
	if err != nil {
		return alm.Promotion{}, err
	}
	if res.UpToDate {
		return alm.Promotion{}, alm.Errorf(alm.CodeConflict, "%s already holds everything on %s: if %s's org lacks it, deploy the branch from the pipeline page.", into, wb.Name, st.Name)
	}
	base, err := s.repos.Head(ctx, p.repo, into)
	if err != nil {
		return alm.Promotion{}, err
	}
	n.Git = alm.PromotionGit{Into: into, From: wb.Name, Base: base, Commit: res.Commit, State: alm.GitMerged}
	if len(res.Conflicts) > 0 {
		n.Git.State, n.Git.Commit = alm.GitConflicts, ""
		for _, c := range res.Conflicts {
			n.Conflicts = append(n.Conflicts, alm.MergeConflict{Path: c.Path, Elements: c.Elements, Base: c.Base, Ours: c.Ours, Theirs: c.Theirs, Marked: c.Marked})
		}
	} else if n.BuildID, err = s.build(ctx, p.repo, base, res.Commit, it.ID, 0, it.Key); err != nil {
		return alm.Promotion{}, err
	}
	pr, err := s.st.CreateMergePromotion(ctx, n)
	if err != nil {
		return pr, err
	}
	s.openPR(ctx, p, pr, it)
	return s.st.PromotionByID(ctx, pr.ID)
}

func mergeMessage(it alm.WorkItem, from, into string) string {
	return fmt.Sprintf("%s: %s\n\nMerge %s into %s (Trellis promotion).", it.Key, it.Title, from, into)
}

// stageCommit is the commit stage's org last received, else (never
// deployed from git) its branch's head.
func (s *Service) stageCommit(ctx context.Context, p project, st alm.Stage) (string, error) {
	have, err := s.st.StageCommits(ctx, p.id)
	if err != nil {
		return "", err
	}
	if c := have[strings.ToLower(st.Name)]; c != "" {
		return c, nil
	}
	return s.repos.Head(ctx, p.repo, p.Branch(st))
}

// build packages what changed between two commits as a build of the
// work item (itemID) or, for a branch deployed as it is, of the project.
func (s *Service) build(ctx context.Context, repoID int64, from, to string, itemID, projectID int64, key string) (int64, error) {
	entries, err := s.repos.Delta(ctx, repoID, from, to, true)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return 0, alm.Errorf(alm.CodeConflict, "The merge changes no metadata between %.8s and %.8s: there is nothing to deploy.", from, to)
	}
	var in []artifact.Capture
	var blobs []store.Blob
	for _, e := range entries {
		c := artifact.Capture{WorkItem: key, Type: e.Key.Type, Name: e.Key.Name}
		switch e.Change {
		case metadata.Deleted:
			c.Change = "deleted"
		case metadata.Added:
			c.Change = "new"
		default:
			c.Change = "changed"
		}
		if e.New != nil {
			one := metadata.NewSet()
			one.Add(e.New)
			files, err := metadata.WriteMetadataFormat(one)
			if err != nil {
				return 0, alm.Errorf(alm.CodeInvalid, "Could not lay out %s %s for deploying: %v", e.Key.Type, e.Key.Name, err)
			}
			c.Hash, c.Content = e.New.Hash, snapshot.EncodeFiles(files)
			blobs = append(blobs, store.Blob{Hash: c.Hash, Data: c.Content})
		}
		in = append(in, c)
	}
	// The components' content is kept like a capture's, for the build's
	// diff, its history and a rollback.
	if _, err := s.st.PutNewBlobs(ctx, blobs); err != nil {
		return 0, err
	}
	plan := artifact.Compose(in, nil)
	apiVersion := "64.0"
	art, err := artifact.Package(plan, apiVersion)
	if err != nil {
		return 0, alm.Errorf(alm.CodeInvalid, "The merge could not be packaged: %v", err)
	}
	nb := store.NewBuild{WorkItemID: itemID, ProjectID: projectID, APIVersion: apiVersion, Checksum: art.Checksum, Artifact: art.Zip, Deletes: art.Deletes, GitCommit: to}
	if itemID != 0 {
		nb.ProjectID = 0
	}
	for _, c := range plan.Components {
		nb.Components = append(nb.Components, alm.BuildComponent{Type: c.Type, Name: c.Name, Change: c.Change, Hash: c.Hash, WorkItem: c.WorkItem})
	}
	b, err := s.st.CreateBuild(ctx, nb)
	return b.ID, err
}
