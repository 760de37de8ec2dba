package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

func (b *testBundle) project(t *testing.T, key string) alm.Project {
	t.Helper()
	p, err := b.store.CreateProject(b.ctx, alm.NewProject{Key: key, Name: key + " app"})
	require.NoError(t, err)
	return p
}

func (b *testBundle) requirement(t *testing.T, p alm.Project, title string, criteria ...string) alm.Requirement {
	t.Helper()
	r, err := b.store.CreateRequirement(b.ctx, p.ID, alm.RequirementInput{Title: title, Criteria: criteria})
	require.NoError(t, err)
	return r
}

func (b *testBundle) item(t *testing.T, p alm.Project, title string, reqs ...string) alm.WorkItem {
	t.Helper()
	w, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: title, Requirements: reqs,
		Approach: alm.ApproachDeclarative, MaintenanceNote: "Admins own the flow."})
	require.NoError(t, err)
	return w
}

func asUser(u alm.User) context.Context {
	return alm.WithActor(context.Background(), alm.Actor{UserID: &u.ID, Label: u.Email})
}

func TestProjectsAndMembers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	po := b.user(t, userOpts{Role: alm.RoleProductOwner})
	dev := b.user(t, userOpts{Role: alm.RoleDeveloper})

	p, err := b.store.CreateProject(asUser(po), alm.NewProject{Key: " crm ", Name: "Sales Cloud"})
	require.NoError(t, err)
	require.Equal(t, "CRM", p.Key)
	role, err := b.store.MemberRole(b.ctx, p.ID, po.ID)
	require.NoError(t, err)
	require.Equal(t, alm.RoleProductOwner, *role, "the creator joins with their global role")

	_, err = b.store.CreateProject(b.ctx, alm.NewProject{Key: "CRM", Name: "Again"})
	require.Equal(t, "Another project uses CRM.", alm.FieldErrors(err)["key"])
	_, err = b.store.CreateProject(b.ctx, alm.NewProject{Key: "1X", Name: ""})
	require.Len(t, alm.FieldErrors(err), 2)

	require.NoError(t, b.store.SetMember(b.ctx, p.ID, dev.ID, alm.RoleReleaseManager))
	role, err = b.store.MemberRole(b.ctx, p.ID, dev.ID)
	require.NoError(t, err)
	require.Equal(t, alm.RoleReleaseManager, alm.ProjectRole(dev.Role, role), "the project role overrides the global one")
	require.Error(t, b.store.SetMember(b.ctx, p.ID, dev.ID, "boss"))
	members, err := b.store.ListMembers(b.ctx, p.ID)
	require.NoError(t, err)
	require.Len(t, members, 2)
	require.NoError(t, b.store.RemoveMember(b.ctx, p.ID, dev.ID))
	_, err = b.store.MemberRole(b.ctx, p.ID, dev.ID)
	require.Equal(t, alm.CodeNotFound, alm.ErrorCode(err), "a non-member has no role: %v", err)

	list, err := b.store.ListProjects(b.ctx, po.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].MemberRole)

	events, err := b.store.Timeline(b.ctx, "project", p.ID, 0)
	require.NoError(t, err)
	require.Len(t, events, 3)
	require.Contains(t, events[0].Summary, "left the project")
}

func TestRequirementLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.project(t, "CRM")
	owner := b.user(t, userOpts{Role: alm.RoleProductOwner})

	_, err := b.store.CreateRequirement(b.ctx, p.ID, alm.RequirementInput{Title: "   "})
	require.Equal(t, "Give the requirement a title.", alm.FieldErrors(err)["title"])
	missing := int64(999999)
	_, err = b.store.CreateRequirement(b.ctx, p.ID, alm.RequirementInput{Title: "x", OwnerID: &missing})
	require.Contains(t, alm.FieldErrors(err), "owner_id")

	r, err := b.store.CreateRequirement(b.ctx, p.ID, alm.RequirementInput{
		Title: "Quote approval", Description: "Managers approve **big** quotes.", OwnerID: &owner.ID,
		Criteria: []string{"- Quotes over 10k need approval", "", "* Approvers get an email"}, Labels: []string{"Sales, CPQ", "sales"},
	})
	require.NoError(t, err)
	require.Equal(t, "CRM-REQ-1", r.Key)
	require.Equal(t, alm.ReqDraft, r.Status)
	require.Equal(t, []string{"sales", "cpq"}, r.Labels)
	require.Len(t, r.Criteria, 2)
	require.Equal(t, "Quotes over 10k need approval", r.Criteria[0].Text)
	require.Equal(t, owner.Name, r.OwnerName)
	r2 := b.requirement(t, p, "Second")
	require.Equal(t, "CRM-REQ-2", r2.Key)

	// Marking a criterion met survives an edit that keeps its text.
	require.NoError(t, b.store.SetCriterionMet(b.ctx, r.Key, r.Criteria[0].ID, true))
	in := alm.RequirementInput{Title: "Quote approval v2", Description: r.Description, OwnerID: &owner.ID, Labels: r.Labels,
		Criteria: []string{"Quotes over 10k need approval", "Approvers get a Slack message"}}
	up, err := b.store.UpdateRequirement(b.ctx, "crm-req-1", r.Version, in)
	require.NoError(t, err)
	require.Equal(t, r.Version+1, up.Version)
	require.True(t, up.Criteria[0].Met)
	require.False(t, up.Criteria[1].Met)

	// The second of two edits from the same revision is refused, and the
	// first one's text stays.
	_, err = b.store.UpdateRequirement(b.ctx, r.Key, r.Version, alm.RequirementInput{Title: "Stale edit"})
	require.Equal(t, alm.CodeConflict, alm.ErrorCode(err))
	got, err := b.store.RequirementByKey(b.ctx, r.Key)
	require.NoError(t, err)
	require.Equal(t, "Quote approval v2", got.Title)

	versions, err := b.store.SpecVersions(b.ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	require.Equal(t, "Quote approval v2", versions[0].Title)
	require.Equal(t, "created", versions[1].Reason)

	// A change to labels only is not a new spec version.
	in.Labels = []string{"sales"}
	up, err = b.store.UpdateRequirement(b.ctx, r.Key, up.Version, in)
	require.NoError(t, err)
	versions, err = b.store.SpecVersions(b.ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, versions, 2)

	moves := []struct {
		role alm.Role
		to   alm.ReqStatus
		code alm.Code
	}{
		{alm.RoleDeveloper, alm.ReqProposed, alm.CodeForbidden},
		{alm.RoleProductOwner, alm.ReqDelivered, alm.CodeInvalid},
		{alm.RoleProductOwner, alm.ReqProposed, ""},
		{alm.RoleProductOwner, alm.ReqAccepted, ""},
		{alm.RoleDeveloper, alm.ReqInDelivery, ""},
		{alm.RoleProductOwner, "shipped", alm.CodeInvalid},
	}
	for _, m := range moves {
		_, err := b.store.MoveRequirement(b.ctx, r.Key, m.role, m.to)
		require.Equal(t, m.code, alm.ErrorCode(err), "%s → %s: %v", m.role, m.to, err)
	}
	got, err = b.store.RequirementByKey(b.ctx, r.Key)
	require.NoError(t, err)
	require.Equal(t, alm.ReqInDelivery, got.Status)

	events, err := b.store.Timeline(b.ctx, "requirement", r.ID, 0)
	require.NoError(t, err)
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{"requirement.status", "requirement.status", "requirement.status", "requirement.update",
		"requirement.update", "requirement.criterion", "requirement.create"}, kinds)
	audit, err := b.store.ListAudit(b.ctx, store.AuditFilter{Action: "requirement.status"})
	require.NoError(t, err)
	require.Len(t, audit, 3, "every change is in the audit log too")
}

func TestConcurrentEditsNeverOverwrite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.project(t, "CRM")
	r := b.requirement(t, p, "Original")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.store.UpdateRequirement(b.ctx, r.Key, r.Version, alm.RequirementInput{Title: fmt.Sprintf("Edit %d", i)})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.Equal(t, alm.CodeConflict, alm.ErrorCode(err))
		}
	}
	require.Equal(t, 1, ok, "exactly one of the edits from the same revision lands")
}

func TestDiscussion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.project(t, "CRM")
	dev := b.user(t, userOpts{Role: alm.RoleDeveloper})
	po := b.user(t, userOpts{Role: alm.RoleProductOwner})
	r := b.requirement(t, p, "Lead scoring", "Scores from 0 to 100")

	_, err := b.store.AddComment(asUser(dev), r.Key, alm.NewComment{Kind: alm.CommentQuestion, Body: "  "}, false)
	require.Equal(t, "Write something.", alm.FieldErrors(err)["body"])
	q, err := b.store.AddComment(asUser(dev), r.Key, alm.NewComment{Kind: alm.CommentQuestion, Body: "Which fields feed the score?"}, false)
	require.NoError(t, err)
	require.Equal(t, alm.StateOpen, q.State)
	got, err := b.store.RequirementByKey(b.ctx, r.Key)
	require.NoError(t, err)
	require.Equal(t, 1, got.OpenQuestions)

	// A plain reply leaves the question open; an answer closes it.
	_, err = b.store.AddComment(asUser(dev), r.Key, alm.NewComment{Body: "Maybe industry?", ParentID: &q.ID}, false)
	require.NoError(t, err)
	reply, err := b.store.AddComment(asUser(po), r.Key, alm.NewComment{Body: "Industry and size.", ParentID: &q.ID}, true)
	require.NoError(t, err)
	require.Equal(t, q.ID, *reply.ParentID)
	threads, err := b.store.Comments(b.ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, threads, 1)
	require.Len(t, threads[0].Replies, 2)
	require.Equal(t, alm.StateAnswered, threads[0].State)
	require.Equal(t, po.Email, threads[0].ResolvedByName)
	require.Error(t, b.store.MarkAnswered(b.ctx, r.Key, q.ID), "an answered question cannot be answered again")

	_, err = b.store.AddComment(b.ctx, r.Key, alm.NewComment{Kind: alm.CommentQuestion, Body: "Nested?", ParentID: &q.ID}, false)
	require.Contains(t, alm.FieldErrors(err), "kind")
	other := b.requirement(t, p, "Other")
	_, err = b.store.AddComment(b.ctx, other.Key, alm.NewComment{Body: "Wrong thread", ParentID: &q.ID}, false)
	require.Contains(t, alm.FieldErrors(err), "parent_id")

	// Change requests: accepted ones become the spec, with history.
	cr, err := b.store.AddComment(asUser(dev), r.Key, alm.NewComment{Kind: alm.CommentChangeRequest, Body: "Scores should be 0-10",
		ProposedTitle: "Lead scoring (0-10)"}, false)
	require.NoError(t, err)
	declined, err := b.store.AddComment(asUser(dev), r.Key, alm.NewComment{Kind: alm.CommentChangeRequest, Body: "Drop it",
		ProposedDesc: "Nothing"}, false)
	require.NoError(t, err)
	require.NoError(t, b.store.DecideChangeRequest(asUser(po), r.Key, cr.ID, true))
	require.NoError(t, b.store.DecideChangeRequest(asUser(po), r.Key, declined.ID, false))
	require.Equal(t, alm.CodeConflict, alm.ErrorCode(b.store.DecideChangeRequest(asUser(po), r.Key, cr.ID, false)))
	require.Equal(t, alm.CodeInvalid, alm.ErrorCode(b.store.DecideChangeRequest(asUser(po), r.Key, q.ID, true)))

	got, err = b.store.RequirementByKey(b.ctx, r.Key)
	require.NoError(t, err)
	require.Equal(t, "Lead scoring (0-10)", got.Title)
	require.Equal(t, []alm.Criterion{{ID: got.Criteria[0].ID, Text: "Scores from 0 to 100"}}, got.Criteria)
	versions, err := b.store.SpecVersions(b.ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	require.Contains(t, versions[0].Reason, "change request")
	require.Contains(t, versions[0].Reason, dev.Email)
	require.Equal(t, po.Email, versions[0].EditedBy, "the owner who accepted is the editor")
}

func TestWorkItemsAndBoard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.project(t, "CRM")
	r := b.requirement(t, p, "Quote approval")
	dev := b.user(t, userOpts{Role: alm.RoleDeveloper})

	_, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Flow", Requirements: []string{r.Key, "CRM-REQ-404"}})
	require.Equal(t, "No requirement CRM-REQ-404 in this project.", alm.FieldErrors(err)["requirements"])
	other := b.project(t, "ERP")
	_, err = b.store.CreateWorkItem(b.ctx, other.ID, alm.WorkItemInput{Title: "Cross", Requirements: []string{r.Key}})
	require.Contains(t, alm.FieldErrors(err)["requirements"], r.Key, "links stay inside a project")

	bare, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "Unplanned", AssigneeID: &dev.ID, Requirements: []string{strings.ToLower(r.Key)}})
	require.NoError(t, err)
	require.Equal(t, "CRM-1", bare.Key)
	require.Equal(t, []string{r.Key}, bare.Requirements)
	a := b.item(t, p, "A", r.Key)
	c := b.item(t, p, "C")

	_, err = b.store.MoveWorkItem(b.ctx, bare.Key, alm.WorkInProgress, "")
	require.Contains(t, alm.ErrorMessage(err), "cannot jump")
	_, err = b.store.MoveWorkItem(b.ctx, bare.Key, alm.WorkReady, "")
	require.NoError(t, err)
	_, err = b.store.MoveWorkItem(b.ctx, bare.Key, alm.WorkInProgress, "")
	require.Contains(t, alm.FieldErrors(err)["status"], "approach")

	// Order within a column follows drops.
	for _, w := range []alm.WorkItem{a, c} {
		_, err := b.store.MoveWorkItem(b.ctx, w.Key, alm.WorkReady, "")
		require.NoError(t, err)
	}
	_, err = b.store.MoveWorkItem(b.ctx, c.Key, alm.WorkReady, bare.Key)
	require.NoError(t, err)
	_, err = b.store.MoveWorkItem(b.ctx, a.Key, alm.WorkReady, "CRM-999")
	require.Contains(t, alm.FieldErrors(err), "before")
	for range 60 { // enough halvings to use up a gap and respace
		_, err = b.store.MoveWorkItem(b.ctx, a.Key, alm.WorkReady, c.Key)
		require.NoError(t, err)
		_, err = b.store.MoveWorkItem(b.ctx, c.Key, alm.WorkReady, a.Key)
		require.NoError(t, err)
	}
	board, err := b.store.Board(b.ctx, p.ID, store.ItemFilter{}, 50)
	require.NoError(t, err)
	require.Len(t, board, len(alm.WorkStatuses))
	require.Equal(t, alm.WorkReady, board[1].Status)
	require.Equal(t, 3, board[1].Count)
	var order []string
	for _, w := range board[1].Items {
		order = append(order, w.Key)
	}
	require.Equal(t, []string{c.Key, a.Key, bare.Key}, order)

	board, err = b.store.Board(b.ctx, p.ID, store.ItemFilter{AssigneeID: &dev.ID}, 50)
	require.NoError(t, err)
	require.Equal(t, 1, board[1].Count)
	board, err = b.store.Board(b.ctx, p.ID, store.ItemFilter{RequirementID: &r.ID}, 50)
	require.NoError(t, err)
	require.Equal(t, 2, board[1].Count)

	// Stale edits are refused.
	cur, err := b.store.WorkItemByKey(b.ctx, a.Key)
	require.NoError(t, err)
	_, err = b.store.UpdateWorkItem(b.ctx, a.Key, a.Version, alm.WorkItemInput{Title: "Stale"})
	require.Equal(t, alm.CodeConflict, alm.ErrorCode(err))
	_, err = b.store.UpdateWorkItem(b.ctx, a.Key, cur.Version, alm.WorkItemInput{Title: "A2", Approach: alm.ApproachCode, MaintenanceNote: "Apex owners.", Labels: []string{"apex"}})
	require.NoError(t, err)
	got, err := b.store.WorkItemByKey(b.ctx, a.Key)
	require.NoError(t, err)
	require.Empty(t, got.Requirements, "the edit unlinked the requirement")
}

func TestListsPageThroughEverything(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.project(t, "CRM")
	for i := range 23 {
		b.requirement(t, p, fmt.Sprintf("Requirement %02d", 23-i))
		b.clock.advance(time.Second)
		b.item(t, p, fmt.Sprintf("Item %02d", i%5))
	}
	for _, sort := range store.ReqSorts() {
		seen := map[string]bool{}
		after := ""
		for pages := 0; ; pages++ {
			page, err := b.store.ListRequirements(b.ctx, p.ID, store.ReqFilter{Sort: sort, After: after, Limit: 5})
			require.NoError(t, err)
			for _, r := range page.Items {
				require.False(t, seen[r.Key], "%s: %s twice", sort, r.Key)
				seen[r.Key] = true
			}
			if page.Next == "" {
				require.Equal(t, 4, pages)
				break
			}
			after = page.Next
		}
		require.Len(t, seen, 23, sort)
	}
	for _, sort := range store.ItemSorts() {
		seen := map[string]bool{}
		after := ""
		for {
			page, err := b.store.ListWorkItems(b.ctx, p.ID, store.ItemFilter{Sort: sort, After: after, Limit: 7})
			require.NoError(t, err)
			for _, w := range page.Items {
				require.False(t, seen[w.Key], "%s: %s twice", sort, w.Key)
				seen[w.Key] = true
			}
			if after = page.Next; after == "" {
				break
			}
		}
		require.Len(t, seen, 23, sort)
	}
	first, err := b.store.ListRequirements(b.ctx, p.ID, store.ReqFilter{Sort: "title", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, "Requirement 01", first.Items[0].Title)
	_, err = b.store.ListRequirements(b.ctx, p.ID, store.ReqFilter{Sort: "nope"})
	require.Contains(t, alm.FieldErrors(err), "sort")
	_, err = b.store.ListRequirements(b.ctx, p.ID, store.ReqFilter{After: "!!garbage"})
	require.Contains(t, alm.FieldErrors(err), "cursor")
}

func TestReleasesNotesMatrixSearchLineage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.project(t, "CRM")
	r, err := b.store.CreateRequirement(b.ctx, p.ID, alm.RequirementInput{Title: "Discount approvals", BusinessGoal: "Protect margin"})
	require.NoError(t, err)
	bug, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Kind: alm.KindBug, Title: "Fix <script>alert(1)</script> discount rounding", Requirements: []string{r.Key}})
	require.NoError(t, err)
	story := b.item(t, p, "Approval flow", r.Key)

	rel, err := b.store.CreateRelease(b.ctx, p.ID, alm.ReleaseInput{Name: "Spring '27", Version: "1.4"})
	require.NoError(t, err)
	_, err = b.store.CreateRelease(b.ctx, p.ID, alm.ReleaseInput{Name: "Spring '27"})
	require.Contains(t, alm.FieldErrors(err), "name")

	_, err = b.store.SetWorkItemRelease(b.ctx, story.Key, &rel.ID)
	require.NoError(t, err)
	_, err = b.store.SetWorkItemRelease(b.ctx, bug.Key, &rel.ID)
	require.NoError(t, err)
	rel, err = b.store.ReleaseByID(b.ctx, p.ID, rel.ID)
	require.NoError(t, err)
	require.Equal(t, 2, rel.Items)
	notes, err := b.store.ReleaseNotes(b.ctx, rel)
	require.NoError(t, err)
	require.Contains(t, notes, "## New and changed\n\n- **"+story.Key+"** Approval flow — delivers "+r.Key+" Discount approvals")
	require.Contains(t, notes, "## Fixes")
	require.Contains(t, notes, "&lt;script>", "titles cannot inject HTML into the notes")
	require.Contains(t, notes, "- "+r.Key+": Protect margin")

	edited := "# Spring\n\nHand-written."
	rel2, err := b.store.UpdateRelease(b.ctx, p.ID, rel.ID, rel.Rev, alm.ReleaseInput{Name: rel.Name, Version: rel.Version}, &edited)
	require.NoError(t, err)
	notes, err = b.store.ReleaseNotes(b.ctx, rel2)
	require.NoError(t, err)
	require.Equal(t, edited, notes)
	_, err = b.store.UpdateRelease(b.ctx, p.ID, rel.ID, rel.Rev, alm.ReleaseInput{Name: "Stale"}, nil)
	require.Equal(t, alm.CodeConflict, alm.ErrorCode(err))

	_, err = b.store.MoveRelease(b.ctx, p.ID, rel.ID, alm.RoleDeveloper, alm.RelBuilding)
	require.Equal(t, alm.CodeForbidden, alm.ErrorCode(err))
	_, err = b.store.MoveRelease(b.ctx, p.ID, rel.ID, alm.RoleReleaseManager, alm.RelReleased)
	require.Equal(t, alm.CodeInvalid, alm.ErrorCode(err))
	_, err = b.store.MoveRelease(b.ctx, p.ID, rel.ID, alm.RoleReleaseManager, alm.RelBuilding)
	require.NoError(t, err)

	// In release needs a release; items in one cannot leave it.
	for _, to := range []alm.WorkStatus{alm.WorkReady, alm.WorkInProgress, alm.WorkInReview, alm.WorkReadyToPromote, alm.WorkInRelease} {
		_, err := b.store.MoveWorkItem(b.ctx, story.Key, to, "")
		require.NoError(t, err, to)
	}
	_, err = b.store.SetWorkItemRelease(b.ctx, story.Key, nil)
	require.Equal(t, alm.CodeInvalid, alm.ErrorCode(err))

	page, err := b.store.Matrix(b.ctx, p.ID, store.ReqFilter{})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	row := page.Items[0]
	require.Equal(t, []int{1, 0, 0, 0, 0, 1, 0}, row.ByStatus)
	require.Equal(t, 2, row.Items())
	require.Equal(t, []alm.MatrixRelease{{ID: rel.ID, Name: "Spring '27", Status: alm.RelBuilding}}, row.Releases)
	page, err = b.store.Matrix(b.ctx, p.ID, store.ReqFilter{Status: []alm.ReqStatus{alm.ReqClosed}})
	require.NoError(t, err)
	require.Empty(t, page.Items)

	hits, err := b.store.Search(b.ctx, p.ID, "discount", 10)
	require.NoError(t, err)
	require.Len(t, hits, 2)
	hits, err = b.store.Search(b.ctx, 0, `"approval flow" -discount`, 10)
	require.NoError(t, err)
	require.Equal(t, []string{story.Key}, []string{hits[0].Key})
	hits, err = b.store.Search(b.ctx, p.ID, r.Key, 10)
	require.NoError(t, err)
	require.Equal(t, r.Key, hits[0].Key, "a key finds its record")

	l, err := b.store.RequirementLineage(b.ctx, strings.ToLower(r.Key))
	require.NoError(t, err)
	require.Len(t, l.WorkItems, 2)
	require.Len(t, l.Releases, 1)
	require.ElementsMatch(t, []string{story.Key, bug.Key}, l.Releases[0].WorkItems)
}

// TestBoardCountsFollowEveryChange checks the trigger-kept column counts
// against the items themselves after creates, moves and estimate edits.
func TestBoardCountsFollowEveryChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.project(t, "CRM")
	other := b.project(t, "ERP")
	var items []alm.WorkItem
	for i := range 12 {
		est := i
		w, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: fmt.Sprint("Item ", i), Estimate: &est,
			Approach: alm.ApproachCode, MaintenanceNote: "n"})
		require.NoError(t, err)
		items = append(items, w)
	}
	b.item(t, other, "Elsewhere")
	for i, w := range items {
		for _, to := range alm.WorkStatuses[1 : 1+i%4] {
			_, err := b.store.MoveWorkItem(b.ctx, w.Key, to, "")
			require.NoError(t, err)
		}
	}
	cur, err := b.store.WorkItemByKey(b.ctx, items[5].Key)
	require.NoError(t, err)
	big := 40
	_, err = b.store.UpdateWorkItem(b.ctx, cur.Key, cur.Version, alm.WorkItemInput{Title: cur.Title, Estimate: &big, Approach: cur.Approach, MaintenanceNote: "n"})
	require.NoError(t, err)
	_, err = b.store.MoveWorkItem(b.ctx, items[7].Key, alm.WorkBacklog, "")
	require.NoError(t, err)

	want := map[alm.WorkStatus][2]int{}
	all, err := b.store.ListWorkItems(b.ctx, p.ID, store.ItemFilter{Limit: 200})
	require.NoError(t, err)
	for _, w := range all.Items {
		c := want[w.Status]
		c[0]++
		if w.Estimate != nil {
			c[1] += *w.Estimate
		}
		want[w.Status] = c
	}
	board, err := b.store.Board(b.ctx, p.ID, store.ItemFilter{}, 5)
	require.NoError(t, err)
	for _, col := range board {
		require.Equal(t, want[col.Status], [2]int{col.Count, col.Points}, col.Status)
	}
}

func TestSeedLarge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, err := b.store.SeedLarge(b.ctx, store.LargeSeed{Key: "PERF", Requirements: 120, WorkItems: 600, Releases: 5})
	require.NoError(t, err)
	list, err := b.store.ListProjects(b.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 120, list[0].Requirements)
	require.Equal(t, 600, list[0].WorkItems)
	board, err := b.store.Board(b.ctx, p.ID, store.ItemFilter{}, 3)
	require.NoError(t, err)
	total := 0
	for _, c := range board {
		total += c.Count
		require.NotZero(t, c.Count, "every column has work: %s", c.Status)
		require.Len(t, c.Items, 3)
	}
	require.Equal(t, 600, total, "the trigger-kept counts saw the bulk insert")
	req, err := b.store.RequirementByKey(b.ctx, "PERF-REQ-7")
	require.NoError(t, err)
	require.Len(t, req.Criteria, 3)
	hits, err := b.store.Search(b.ctx, p.ID, "approval", 10)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	page, err := b.store.Matrix(b.ctx, p.ID, store.ReqFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Items, 10)
	// New records continue the numbering.
	w, err := b.store.CreateWorkItem(b.ctx, p.ID, alm.WorkItemInput{Title: "After the seed"})
	require.NoError(t, err)
	require.Equal(t, "PERF-601", w.Key)
	_, err = b.store.SeedLarge(b.ctx, store.LargeSeed{Key: "PERF", Requirements: 1})
	require.Contains(t, alm.FieldErrors(err)["key"], "Another project uses PERF")
}
