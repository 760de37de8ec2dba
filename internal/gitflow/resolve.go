package gitflow

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gitmerge"
	"github.com/trellis-alm/trellis/internal/metadata"
)

// Choice settles one conflicting file: conflict by conflict (Hunks: ours,
// theirs or both, in order), as a whole (File: ours or theirs, for a file
// one side deleted), or with Edited content.
type Choice struct {
	Hunks  []string `json:"hunks,omitempty"`
	File   string   `json:"file,omitempty"`
	Edited *string  `json:"edited,omitempty"`
}

// Settle works out one conflict's content under a choice: nil content
// means the file goes. It returns the resolution's name (ours, theirs,
// both, mixed or edited).
func Settle(c alm.MergeConflict, ch Choice) ([]byte, string, error) {
	var out []byte
	var how string
	switch {
	case ch.Edited != nil:
		if strings.Contains(*ch.Edited, "<<<<<<<") || strings.Contains(*ch.Edited, ">>>>>>>") {
			return nil, "", fmt.Errorf("The edited file still has conflict markers: take them out")
		}
		out, how = []byte(*ch.Edited), "edited"
	case ch.File == gitmerge.ChooseOurs:
		out, how = c.Ours, "ours"
	case ch.File == gitmerge.ChooseTheirs:
		out, how = c.Theirs, "theirs"
	case ch.File != "":
		return nil, "", fmt.Errorf("Keep ours or theirs, not %q", ch.File)
	case c.Marked == nil:
		return nil, "", fmt.Errorf("It was deleted on one side and changed on the other: keep ours or theirs")
	case len(ch.Hunks) == 0 || slices.Contains(ch.Hunks, ""):
		return nil, "", fmt.Errorf("Choose ours, theirs or both for every conflict in it")
	default:
		var err error
		if out, err = gitmerge.Resolve(c.Marked, ch.Hunks); err != nil {
			return nil, "", fmt.Errorf("Could not settle it that way: %v", err)
		}
		how = ch.Hunks[0]
		for _, h := range ch.Hunks[1:] {
			if h != how {
				how = "mixed"
			}
		}
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, how, nil
	}
	if strings.HasSuffix(strings.ToLower(c.Path), ".xml") {
		if _, err := metadata.ParseXML(out); err != nil {
			return nil, "", fmt.Errorf("It would not be valid XML that way (%v): choose differently or edit it", err)
		}
	}
	return out, how, nil
}

// Resolve settles a waiting merge's conflicts with people's choices (by
// path; every conflict needs one), makes the merge commit, builds it and
// readies the promotion for its gates. The resolution is recorded per
// file on the promotion.
func (s *Service) Resolve(ctx context.Context, promotionID int64, choices map[string]Choice) (alm.Promotion, error) {
	p, err := s.st.PromotionByID(ctx, promotionID)
	if err != nil {
		return p, err
	}
	if p.Git == nil || p.Git.State != alm.GitConflicts {
		return p, alm.Errorf(alm.CodeConflict, "This promotion's merge has no conflicts waiting.")
	}
	proj, err := s.project(ctx, p.ProjectID)
	if err != nil {
		return p, err
	}
	conflicts, err := s.st.MergeConflicts(ctx, promotionID)
	if err != nil {
		return p, err
	}
	resolved := map[string][]byte{}
	record := map[string]alm.MergeConflict{}
	fields := map[string]string{}
	for _, c := range conflicts {
		ch, ok := choices[c.Path]
		if !ok {
			fields[c.Path] = "Choose how to settle " + c.Path + "."
			continue
		}
		out, how, err := Settle(c, ch)
		if err != nil {
			fields[c.Path] = err.Error() + "."
			continue
		}
		resolved[c.Path] = out
		record[c.Path] = alm.MergeConflict{Resolution: how, Resolved: out}
	}
	if len(fields) > 0 {
		return p, alm.Invalid(fields)
	}
	var itemID int64
	var it alm.WorkItem
	if p.WorkItem != "" {
		if it, err = s.st.WorkItemByKey(ctx, p.WorkItem); err != nil {
			return p, err
		}
		itemID = it.ID
	}
	msg := fmt.Sprintf("Merge %s into %s (Trellis promotion #%d), conflicts settled in Trellis.", p.Git.From, p.Git.Into, p.ID)
	if itemID != 0 {
		msg = mergeMessage(it, p.Git.From, p.Git.Into) + "\nConflicts settled in Trellis."
	}
	if err := s.repos.Fetch(ctx, proj.repo); err != nil {
		return p, err
	}
	res, err := s.repos.MergeResolved(ctx, proj.repo, p.Git.Base, "refs/heads/"+p.Git.From, msg, resolved)
	if err != nil {
		return p, err
	}
	if len(res.Conflicts) > 0 {
		var paths []string
		for _, c := range res.Conflicts {
			paths = append(paths, c.Path)
		}
		return p, alm.Errorf(alm.CodeConflict, "%s changed since the merge was tried and now conflicts in %s too: abandon this promotion and promote again.",
			p.Git.From, strings.Join(paths, ", "))
	}
	buildID, err := s.build(ctx, proj.repo, p.Git.Base, res.Commit, itemID, p.ProjectID, p.WorkItem)
	if err != nil {
		return p, err
	}
	if err := s.st.ResolveConflicts(ctx, promotionID, record, buildID, res.Commit, p.Git.Base); err != nil {
		return p, err
	}
	return s.st.PromotionByID(ctx, promotionID)
}
