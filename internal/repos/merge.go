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
	b, h := "refs/heads/"+base, "refs/heads/"+branch
	var err error
	if st.Ahead, _, err = s.CommitsBetween(ctx, repoID, b, h); err != nil {
		if alm.ErrorCode(err) == alm.CodeNotFound {
			err = alm.Errorf(alm.CodeNotFound, "The repository has no branch %s (or %s).", branch, base)
		}
		return st, err
	}
	_, st.Behind, _ = s.CommitsBetween(ctx, repoID, h, b)
	return st, nil
}

// BranchChanges is a work item branch's change set: the components it
// changed since it left base (the metadata engine's delta from their
// merge base to the branch), as the mirror last fetched them.
func (s *Service) BranchChanges(ctx context.Context, repoID int64, branch, base string) ([]metadata.DiffEntry, error) {
	mb, err := s.MergeBase(ctx, repoID, base, branch)
	if err != nil {
		return nil, err
	}
	return s.Delta(ctx, repoID, mb, "refs/heads/"+branch, false)
}

// Delta is what changed between two revisions of the repository's SFDX
// project, component by component (the metadata engine's delta), with
// the components' content when content is true (to package them).
func (s *Service) Delta(ctx context.Context, repoID int64, from, to string, content bool) ([]metadata.DiffEntry, error) {
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return nil, err
	}
	g, err := gitrepo.Open(mirror)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	changes, fromFS, toFS, err := g.DiffFS(from, to)
	if err != nil {
		return nil, alm.Errorf(alm.CodeNotFound, "The repository has no revision %s (or %s).", from, to)
	}
	fc := make([]metadata.FileChange, len(changes))
	for i, c := range changes {
		fc[i] = metadata.FileChange{Status: c.Status, Path: c.Path}
	}
	res, err := metadata.Delta(fromFS, toFS, fc, metadata.DeltaOptions{KeepContent: content})
	if err != nil {
		return nil, alm.Errorf(alm.CodeInvalid, "Could not read the changes between %.12s and %.12s: %v", from, to, err)
	}
	var out []metadata.DiffEntry
	for _, e := range res.Entries {
		if e.Change != metadata.Unchanged {
			out = append(out, e)
		}
	}
	return out, nil
}

// Head is the commit branch points to in the mirror as last fetched.
func (s *Service) Head(ctx context.Context, repoID int64, branch string) (string, error) {
	out, err := s.git(ctx, repoID, "rev-parse", "--verify", "refs/heads/"+branch+"^{commit}")
	if errors.As(err, new(*exec.ExitError)) {
		return "", alm.Errorf(alm.CodeNotFound, "The repository has no branch %s.", branch)
	}
	return out, err
}

// CommitsBetween lists the commits reachable from to but not from
// (newest first, at most 50), and how many there are in all.
func (s *Service) CommitsBetween(ctx context.Context, repoID int64, from, to string) ([]alm.BranchCommit, int, error) {
	run := func(args ...string) (string, error) { return s.git(ctx, repoID, args...) }
	span := to
	if from != "" {
		span = from + ".." + to
	}
	n, err := run("rev-list", "--count", span, "--")
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		// git ran and refused the revisions; a repository that cannot be
		// opened (or fetched) says so below instead.
		return nil, 0, alm.Errorf(alm.CodeNotFound, "The repository has no revision %.12s (or %.12s).", from, to)
	}
	if err != nil {
		return nil, 0, err
	}
	count, _ := strconv.Atoi(strings.TrimSpace(n))
	out, err := run("log", "-n", "50", "--format=%H%x1f%an%x1f%aI%x1f%s", span, "--")
	if err != nil {
		return nil, 0, err
	}
	var cs []alm.BranchCommit
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\x1f")
		if len(f) != 4 {
			continue
		}
		when, _ := time.Parse(time.RFC3339, f[2])
		cs = append(cs, alm.BranchCommit{Hash: f[0], Author: f[1], When: when, Subject: f[3]})
	}
	return cs, count, nil
}

// MergeResolved is Merge of revisions (not only branches) with people's
// resolutions of the conflicting files (see gitmerge.MergeResolved), from
// the mirror as it is: the caller fetched when the merge was first tried.
func (s *Service) MergeResolved(ctx context.Context, repoID int64, into, from, message string, resolved map[string][]byte) (gitmerge.Result, error) {
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return gitmerge.Result{}, err
	}
	who := alm.ActorFrom(ctx).Label
	res, err := gitmerge.MergeResolved(ctx, mirror, into, from, message, gitmerge.Author{Name: "Trellis (" + who + ")", Email: "trellis@localhost"}, resolved)
	if err != nil {
		return res, alm.Errorf(alm.CodeInvalid, "Could not merge: %v", err)
	}
	return res, nil
}

// IsAncestor reports whether commit a is reachable from b in the mirror.
func (s *Service) IsAncestor(ctx context.Context, repoID int64, a, b string) (bool, error) {
	_, err := s.git(ctx, repoID, "merge-base", "--is-ancestor", a, b)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return false, nil
	}
	return err == nil, err
}

// CommitComponents writes components into branch as the project there
// lays them out (metadata.Place: package directories, decomposition and
// existing file locations kept), removes the files of the components in
// gone, commits with message and pushes, only over the commit it was made
// on. It returns the commit.
func (s *Service) CommitComponents(ctx context.Context, repoID int64, branch, message string, put []*metadata.Component, gone []metadata.Key) (string, error) {
	if err := s.Fetch(ctx, repoID); err != nil {
		return "", err
	}
	head, err := s.Head(ctx, repoID, branch)
	if err != nil {
		return "", err
	}
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return "", err
	}
	g, err := gitrepo.Open(mirror)
	if err != nil {
		return "", err
	}
	fsys, err := g.FS(head)
	if err != nil {
		g.Close()
		return "", err
	}
	proj, err := metadata.LoadProject(fsys)
	if err != nil {
		g.Close()
		return "", alm.Errorf(alm.CodeInvalid, "%s has no SFDX project: %v", branch, err)
	}
	pl, err := metadata.Place(proj, put, gone)
	g.Close()
	if err != nil {
		return "", alm.Errorf(alm.CodeInvalid, "Could not lay the components out in %s: %v", branch, err)
	}
	who := alm.ActorFrom(ctx).Label
	commit, err := gitmerge.CommitFiles(ctx, mirror, head, message, gitmerge.Author{Name: "Trellis (" + who + ")", Email: "trellis@localhost"}, pl.Write, pl.Remove)
	if errors.Is(err, gitmerge.ErrNoChange) {
		return "", alm.Errorf(alm.CodeConflict, "Nothing to commit: %s already holds these components as they are.", branch)
	}
	if err != nil {
		return "", err
	}
	if err := s.PushMerge(ctx, repoID, branch, head, commit); err != nil {
		return "", err
	}
	return commit, nil
}

// Components reads the SFDX project at ref (the mirror as last fetched)
// with the metadata engine: every component with its hash, no content.
func (s *Service) Components(ctx context.Context, repoID int64, ref string) (*metadata.Set, error) {
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return nil, err
	}
	g, err := gitrepo.Open(mirror)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	fsys, err := g.FS(ref)
	if err != nil {
		return nil, alm.Errorf(alm.CodeNotFound, "There is no branch or commit %q in the repository.", ref)
	}
	proj, err := metadata.LoadProject(fsys)
	if err != nil {
		return nil, alm.Errorf(alm.CodeInvalid, "%s is not an SFDX project: %v", ref, err)
	}
	res, err := metadata.ReadSource(proj, metadata.ReadOptions{})
	if err != nil {
		return nil, alm.Errorf(alm.CodeInvalid, "The project at %s could not be read: %v", ref, err)
	}
	return res.Set, nil
}

// MergeBase is where branch left base, in the mirror as last fetched.
func (s *Service) MergeBase(ctx context.Context, repoID int64, base, branch string) (string, error) {
	out, err := s.git(ctx, repoID, "merge-base", "refs/heads/"+base, "refs/heads/"+branch)
	if errors.As(err, new(*exec.ExitError)) {
		return "", alm.Errorf(alm.CodeNotFound, "The repository has no branch %s (or %s).", branch, base)
	}
	return out, err
}

// git runs git on the repository's mirror and returns its trimmed output;
// a failing git is an error wrapping its *exec.ExitError.
func (s *Service) git(ctx context.Context, repoID int64, args ...string) (string, error) {
	_, mirror, _, err := s.open(ctx, repoID)
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "git", append([]string{"-C", mirror}, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return strings.TrimSpace(string(out)), nil
}
