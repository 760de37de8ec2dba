package repos

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gitmerge"
	"github.com/trellis-alm/trellis/internal/gitrepo"
	"github.com/trellis-alm/trellis/internal/metadata"
)

// Merge merges branch from into branch into, as they are on the remote
// now, with Salesforce-aware resolution (gitmerge). Nothing is pushed:
// the merge commit waits in the mirror until PushMerge, after its deploy.
func (s *Service) Merge(ctx context.Context, repoID int64, into, from, message string) (gitmerge.Result, error) {
	if err := s.Fetch(ctx, repoID); err != nil {
		return gitmerge.Result{}, err
	}
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return gitmerge.Result{}, err
	}
	who := alm.ActorFrom(ctx).Label
	res, err := gitmerge.Merge(ctx, mirror, "refs/heads/"+into, "refs/heads/"+from, message,
		gitmerge.Author{Name: "Trellis (" + who + ")", Email: "trellis@localhost"})
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return res, alm.Errorf(alm.CodeUnavailable, "Merging %s into %s took too long and was stopped; nothing was pushed. Try again.", from, into)
		}
		return res, alm.Errorf(alm.CodeInvalid, "Could not merge %s into %s: %v", from, into, err)
	}
	return res, nil
}

// PushMerge moves branch on the remote from old to commit (a merge made
// by Merge), and only from old: if someone pushed meanwhile, nothing
// changes and the error says so. Protected branches, refused credentials
// and unreachable remotes are errors with the host's reason; nothing is
// ever half-pushed (a push updates one ref).
func (s *Service) PushMerge(ctx context.Context, repoID int64, branch, old, commit string) error {
	repo, _, am, err := s.open(ctx, repoID)
	if err != nil {
		return err
	}
	// go-git pushes refs: name the commit with a private one.
	tmp := plumbing.ReferenceName(fmt.Sprintf("refs/trellis/push-%d", time.Now().UnixNano()))
	if err := repo.Storer.SetReference(plumbing.NewHashReference(tmp, plumbing.NewHash(commit))); err != nil {
		return err
	}
	defer repo.Storer.RemoveReference(tmp)
	target := "refs/heads/" + branch
	err = repo.PushContext(ctx, &git.PushOptions{RemoteName: "origin", Auth: am,
		RefSpecs:          []config.RefSpec{config.RefSpec(tmp.String() + ":" + target)},
		RequireRemoteRefs: []config.RefSpec{config.RefSpec(old + ":" + target)}})
	switch {
	case err == nil || errors.Is(err, git.NoErrAlreadyUpToDate):
		_ = s.Fetch(ctx, repoID)
		return nil
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return alm.Errorf(alm.CodeInvalid, "The repository refused the credential while pushing %s (expired or without write access); nothing was pushed.", branch)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "required to be") || strings.Contains(msg, "non-fast-forward"):
		return alm.Errorf(alm.CodeConflict, "%s moved on the repository since the merge was made (someone pushed to it); nothing was pushed. Merge again to include their change.", branch)
	case strings.Contains(msg, "hook declined") || strings.Contains(strings.ToLower(msg), "protected"):
		return alm.Errorf(alm.CodeConflict, "The repository refused the push to %s: %s. Nothing was pushed; allow Trellis to push there or merge on the host.", branch, hostReason(msg))
	}
	return alm.Errorf(alm.CodeInvalid, "Could not push %s: %s; nothing was pushed.", branch, cloneError(err))
}

// hostReason trims a push error to the host's own words.
func hostReason(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i > 3 {
		return strings.TrimSpace(msg[i+2:])
	}
	return msg
}

// StartBranch makes branch on the remote at base's tip, unless it exists
// already (a second start is no error).
func (s *Service) StartBranch(ctx context.Context, repoID int64, branch, base string) error {
	if err := s.Fetch(ctx, repoID); err != nil {
		return err
	}
	repo, _, am, err := s.open(ctx, repoID)
	if err != nil {
		return err
	}
	if _, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true); err == nil {
		return nil
	}
	if _, err := repo.Reference(plumbing.NewBranchReferenceName(base), true); err != nil {
		return alm.Errorf(alm.CodeInvalid, "The repository has no branch %s to start %s from.", base, branch)
	}
	err = repo.PushContext(ctx, &git.PushOptions{RemoteName: "origin", Auth: am,
		RefSpecs: []config.RefSpec{config.RefSpec("refs/heads/" + base + ":refs/heads/" + branch)}})
	switch {
	case err == nil || errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
		return alm.Errorf(alm.CodeInvalid, "The repository refused the credential while creating %s (expired or without write access).", branch)
	default:
		return alm.Errorf(alm.CodeInvalid, "Could not create %s: %s.", branch, cloneError(err))
	}
	return s.Fetch(ctx, repoID)
}

// BranchStatus lists branch's own commits (newest first, at most 50) and
// how many of base's it lacks, from the mirror as last fetched.
func (s *Service) BranchStatus(ctx context.Context, repoID int64, branch, base string) (alm.BranchStatus, error) {
	var st alm.BranchStatus
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return st, err
	}
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = mirror
		out, err := cmd.Output()
		return string(out), err
	}
	b, h := "refs/heads/"+base, "refs/heads/"+branch
	out, err := run("log", "-n", "50", "--format=%H%x1f%an%x1f%aI%x1f%s", b+".."+h, "--")
	if err != nil {
		return st, alm.Errorf(alm.CodeNotFound, "The repository has no branch %s (or %s).", branch, base)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\x1f")
		if len(f) != 4 {
			continue
		}
		when, _ := time.Parse(time.RFC3339, f[2])
		st.Ahead = append(st.Ahead, alm.BranchCommit{Hash: f[0], Author: f[1], When: when, Subject: f[3]})
	}
	if out, err = run("rev-list", "--count", h+".."+b, "--"); err == nil {
		st.Behind, _ = strconv.Atoi(strings.TrimSpace(out))
	}
	return st, nil
}

// BranchChanges is a work item branch's change set: the components it
// changed since it left base (the metadata engine's delta from their
// merge base to the branch), as the mirror last fetched them.
func (s *Service) BranchChanges(ctx context.Context, repoID int64, branch, base string) ([]metadata.DiffEntry, error) {
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return nil, err
	}
	mb, err := exec.CommandContext(ctx, "git", "-C", mirror, "merge-base", "refs/heads/"+base, "refs/heads/"+branch).Output()
	if err != nil {
		return nil, alm.Errorf(alm.CodeNotFound, "The repository has no branch %s (or %s).", branch, base)
	}
	g, err := gitrepo.Open(mirror)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	changes, fromFS, toFS, err := g.DiffFS(strings.TrimSpace(string(mb)), "refs/heads/"+branch)
	if err != nil {
		return nil, err
	}
	fc := make([]metadata.FileChange, len(changes))
	for i, c := range changes {
		fc[i] = metadata.FileChange{Status: c.Status, Path: c.Path}
	}
	res, err := metadata.Delta(fromFS, toFS, fc, metadata.DeltaOptions{})
	if err != nil {
		return nil, alm.Errorf(alm.CodeInvalid, "Could not read the changes of %s: %v", branch, err)
	}
	var out []metadata.DiffEntry
	for _, e := range res.Entries {
		if e.Change != metadata.Unchanged {
			out = append(out, e)
		}
	}
	return out, nil
}
