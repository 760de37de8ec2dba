package gitflow

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// Candidates compares an org snapshot (of a sandbox) with a work item's
// branch as the mirror holds it: what differs, most recently changed
// first, with who changed it from the org's lastModifiedBy/Date.
func (s *Service) Candidates(ctx context.Context, key string, snapshotID int64) ([]alm.SandboxChange, error) {
	_, branch, proj, err := s.itemBranch(ctx, key)
	if err != nil {
		return nil, err
	}
	sn, err := s.st.SnapshotByID(ctx, snapshotID)
	if err != nil {
		return nil, err
	}
	if sn.OrgID == nil {
		return nil, alm.Errorf(alm.CodeInvalid, "Snapshot #%d is not of an org.", snapshotID)
	}
	if sn.Status != alm.SnapDone {
		return nil, alm.Errorf(alm.CodeConflict, "Snapshot #%d is not finished yet.", snapshotID)
	}
	if err := s.repos.Fetch(ctx, proj.repo); err != nil {
		return nil, err
	}
	set, err := s.repos.Components(ctx, proj.repo, "refs/heads/"+branch)
	if err != nil {
		return nil, err
	}
	man, err := s.st.SnapshotManifest(ctx, snapshotID)
	if err != nil {
		return nil, err
	}
	mod, err := s.st.SnapshotModified(ctx, snapshotID)
	if err != nil {
		return nil, err
	}
	inBranch := map[string]string{}
	names := map[string]metadata.Key{}
	for _, c := range set.Components() {
		k := c.Type.Name + "\x00" + strings.ToLower(c.Name)
		inBranch[k], names[k] = c.Hash, c.Key()
	}
	var out []alm.SandboxChange
	seen := map[string]bool{}
	for _, e := range man {
		k := e.Type + "\x00" + strings.ToLower(e.Name)
		seen[k] = true
		h, ok := inBranch[k]
		if ok && h == e.Hash {
			continue
		}
		c := alm.SandboxChange{Type: e.Type, Name: e.Name, Change: "changed"}
		if !ok {
			c.Change = "new"
		}
		if m, ok := modifiedOf(mod, e.Type, e.Name); ok {
			c.By, c.At = m.By, m.At
		}
		out = append(out, c)
	}
	for k, key := range names {
		if !seen[k] {
			out = append(out, alm.SandboxChange{Type: key.Type, Name: key.Name, Change: "deleted"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.At != nil && b.At != nil && !a.At.Equal(*b.At):
			return a.At.After(*b.At)
		case (a.At != nil) != (b.At != nil):
			return a.At != nil
		case a.Type != b.Type:
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	return out, nil
}

// modifiedOf finds who last changed a component, or its parent (the org
// lists an object's changes on the object, not each field).
func modifiedOf(mod map[string]store.Modified, typ, name string) (store.Modified, bool) {
	if m, ok := mod[typ+"\x00"+strings.ToLower(name)]; ok {
		return m, true
	}
	if t := metadata.DefaultRegistry.Type(typ); t != nil && t.IsChild() {
		if i := strings.LastIndexByte(name, '.'); i > 0 {
			m, ok := mod[t.Parent+"\x00"+strings.ToLower(name[:i])]
			return m, ok
		}
	}
	return store.Modified{}, false
}

// itemBranch is a work item of a git-backed project with its branch.
func (s *Service) itemBranch(ctx context.Context, key string) (alm.WorkItem, string, project, error) {
	it, err := s.st.WorkItemByKey(ctx, key)
	if err != nil {
		return it, "", project{}, err
	}
	g, err := s.st.ProjectGit(ctx, it.ProjectID)
	if err != nil {
		return it, "", project{}, err
	}
	if !g.GitBacked() {
		return it, "", project{}, alm.Errorf(alm.CodeConflict, "This project keeps no repository: choose one on the pipeline page first.")
	}
	wb, err := s.st.WorkItemBranch(ctx, it.ID)
	if err != nil {
		return it, "", project{}, err
	}
	if wb.Name == "" {
		return it, "", project{}, alm.Errorf(alm.CodeConflict, "%s has no branch yet: start one first.", it.Key)
	}
	return it, wb.Name, project{id: it.ProjectID, git: g, repo: *g.RepositoryID}, nil
}

// Commit writes the picked components from an org snapshot onto the work
// item's branch (as the project lays them out), removes the files of the
// picked deletions, commits with the work item's key in the message and
// pushes. refs are "Type/Name".
func (s *Service) Commit(ctx context.Context, key string, snapshotID int64, picks, deletions []string) (string, error) {
	it, branch, proj, err := s.itemBranch(ctx, key)
	if err != nil {
		return "", err
	}
	if len(picks)+len(deletions) == 0 {
		return "", alm.Invalid(map[string]string{"components": "Tick the components to commit."})
	}
	sn, err := s.st.SnapshotByID(ctx, snapshotID)
	if err != nil {
		return "", err
	}
	if sn.Status != alm.SnapDone || sn.OrgID == nil {
		return "", alm.Errorf(alm.CodeConflict, "Snapshot #%d is not a finished snapshot of an org.", snapshotID)
	}
	man, err := s.st.SnapshotManifest(ctx, snapshotID)
	if err != nil {
		return "", err
	}
	hashes := map[string]snapshot.Entry{}
	for _, e := range man {
		hashes[e.Type+"/"+strings.ToLower(e.Name)] = e
	}
	var put []*metadata.Component
	for _, ref := range picks {
		typ, name, _ := strings.Cut(ref, "/")
		e, ok := hashes[typ+"/"+strings.ToLower(name)]
		if !ok {
			return "", alm.Invalid(map[string]string{"components": fmt.Sprintf("The snapshot has no %s.", ref)})
		}
		data, err := s.st.BlobData(ctx, e.Hash)
		if err != nil {
			return "", err
		}
		res, err := metadata.ReadMetadataFormat(metadata.MemFS(snapshot.DecodeFiles(data)), metadata.ReadOptions{KeepContent: true})
		if err != nil {
			return "", alm.Errorf(alm.CodeInvalid, "%s could not be read from the snapshot: %v", ref, err)
		}
		c := res.Set.Get(metadata.Key{Type: e.Type, Name: e.Name})
		if c == nil {
			return "", alm.Errorf(alm.CodeInvalid, "The snapshot's content of %s does not hold it.", ref)
		}
		put = append(put, c)
	}
	var gone []metadata.Key
	for _, ref := range deletions {
		typ, name, ok := strings.Cut(ref, "/")
		if !ok {
			return "", alm.Invalid(map[string]string{"deletions": fmt.Sprintf("%q is not Type/Name.", ref)})
		}
		gone = append(gone, metadata.Key{Type: typ, Name: name})
	}
	org, err := s.st.OrgByID(ctx, *sn.OrgID)
	if err != nil {
		return "", err
	}
	subject := it.Key
	if kind, issue, err := s.st.WorkItemIssue(ctx, it.ID); err != nil {
		return "", err
	} else if issue != "" {
		subject += " " + alm.TrackerMention(kind, issue) // the host links the tracker's issue
	}
	msg := fmt.Sprintf("%s: %s\n\nCommitted in Trellis from %s by %s: %s, %s.", subject, it.Title, org.Name, alm.ActorFrom(ctx).Label, alm.Count(len(put), "component"), alm.Count(len(gone), "deletion"))
	commit, err := s.repos.CommitComponents(ctx, proj.repo, branch, msg, put, gone)
	if err != nil {
		return "", err
	}
	// A drifted change committed to a work item's branch is explained.
	var keys []store.DriftKey
	for _, c := range put {
		keys = append(keys, store.DriftKey{Type: c.Type.Name, Name: c.Name})
	}
	for _, k := range gone {
		keys = append(keys, store.DriftKey{Type: k.Type, Name: k.Name})
	}
	if _, err := s.st.AcknowledgeDrift(ctx, org.ID, keys, it.Key); err != nil {
		return commit, err
	}
	return commit, nil
}

// BuildItem packages a work item's change set in a git-backed project:
// what its branch changed since it left its base (the metadata engine's
// delta), as a build of the work item.
func (s *Service) BuildItem(ctx context.Context, key string) (alm.Build, error) {
	it, branch, proj, err := s.itemBranch(ctx, key)
	if err != nil {
		return alm.Build{}, err
	}
	wb, err := s.st.WorkItemBranch(ctx, it.ID)
	if err != nil {
		return alm.Build{}, err
	}
	if err := s.repos.Fetch(ctx, proj.repo); err != nil {
		return alm.Build{}, err
	}
	from, err := s.repos.MergeBase(ctx, proj.repo, wb.Base, branch)
	if err != nil {
		return alm.Build{}, err
	}
	head, err := s.repos.Head(ctx, proj.repo, branch)
	if err != nil {
		return alm.Build{}, err
	}
	id, err := s.build(ctx, proj.repo, from, head, it.ID, 0, it.Key)
	if err != nil {
		return alm.Build{}, err
	}
	b, _, err := s.st.BuildByID(ctx, id)
	return b, err
}
