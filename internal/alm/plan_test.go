package alm

import (
	"strings"
	"testing"
	"time"
)

func TestCanMoveRequirement(t *testing.T) {
	cases := []struct {
		role     Role
		from, to ReqStatus
		code     Code // "" when allowed
	}{
		{RoleProductOwner, ReqDraft, ReqProposed, ""},
		{RoleDeveloper, ReqDraft, ReqProposed, CodeForbidden},
		{RoleProductOwner, ReqProposed, ReqAccepted, ""},
		{RoleReleaseManager, ReqProposed, ReqAccepted, CodeForbidden},
		{RoleAdmin, ReqProposed, ReqAccepted, ""},
		{RoleDeveloper, ReqAccepted, ReqInDelivery, ""},
		{RoleViewer, ReqAccepted, ReqInDelivery, CodeForbidden},
		{RoleReleaseManager, ReqInDelivery, ReqDelivered, ""},
		{RoleProductOwner, ReqInDelivery, ReqDelivered, CodeForbidden},
		{RoleProductOwner, ReqDelivered, ReqClosed, ""},
		{RoleProductOwner, ReqDraft, ReqAccepted, CodeInvalid}, // skips the proposal
		{RoleAdmin, ReqDraft, ReqDelivered, CodeInvalid},       // not even admins skip steps
		{RoleProductOwner, ReqRejected, ReqDraft, ""},
		{RoleProductOwner, ReqClosed, ReqRejected, CodeInvalid},
		{RoleViewer, ReqDraft, ReqDraft, ""},
	}
	for _, tc := range cases {
		err := CanMoveRequirement(tc.role, tc.from, tc.to)
		if ErrorCode(err) != tc.code && !(err == nil && tc.code == "") {
			t.Errorf("%s: %s → %s: got %v, want %q", tc.role, tc.from, tc.to, err, tc.code)
		}
	}
	err := CanMoveRequirement(RoleProductOwner, ReqDraft, ReqDelivered)
	if !strings.Contains(ErrorMessage(err), "it can move to: Proposed, Rejected") {
		t.Errorf("the error should list where it can go: %v", err)
	}
	if got := NextReqStatuses(ReqProposed); len(got) != 3 {
		t.Errorf("from proposed: %v", got)
	}
}

func TestCanMoveWorkItem(t *testing.T) {
	rel := int64(1)
	planned := WorkItem{Key: "CRM-1", Approach: ApproachCode, MaintenanceNote: "Owned by the CRM team."}
	cases := []struct {
		name string
		w    WorkItem
		to   WorkStatus
		code Code
	}{
		{"forward", with(planned, WorkBacklog, nil), WorkReady, ""},
		{"skip", with(planned, WorkBacklog, nil), WorkInProgress, CodeInvalid},
		{"start unplanned", with(WorkItem{Key: "CRM-2"}, WorkReady, nil), WorkInProgress, CodeInvalid},
		{"start planned", with(planned, WorkReady, nil), WorkInProgress, ""},
		{"back one", with(planned, WorkInReview, nil), WorkInProgress, ""},
		{"back several", with(planned, WorkInReview, nil), WorkReady, ""},
		{"to backlog", with(planned, WorkReadyToPromote, nil), WorkBacklog, ""},
		{"release without one", with(planned, WorkReadyToPromote, nil), WorkInRelease, CodeInvalid},
		{"release with one", with(planned, WorkReadyToPromote, &rel), WorkInRelease, ""},
		{"done", with(planned, WorkInRelease, &rel), WorkDone, ""},
		{"no such column", with(planned, WorkReady, nil), "limbo", CodeInvalid},
	}
	for _, tc := range cases {
		err := CanMoveWorkItem(tc.w, tc.to)
		if ErrorCode(err) != tc.code && !(err == nil && tc.code == "") {
			t.Errorf("%s: got %v want %q", tc.name, err, tc.code)
		}
	}
	err := CanMoveWorkItem(with(WorkItem{Key: "CRM-2"}, WorkReady, nil), WorkInProgress)
	if f := FieldErrors(err)["status"]; !strings.Contains(f, "approach") || !strings.Contains(f, "maintenance note") {
		t.Errorf("the plan step should say what is missing: %v", f)
	}
}

func with(w WorkItem, s WorkStatus, rel *int64) WorkItem {
	w.Status, w.ReleaseID = s, rel
	return w
}

func TestCanMoveRelease(t *testing.T) {
	if err := CanMoveRelease(RoleReleaseManager, RelPlanning, RelBuilding); err != nil {
		t.Error(err)
	}
	if ErrorCode(CanMoveRelease(RoleDeveloper, RelPlanning, RelBuilding)) != CodeForbidden {
		t.Error("developers do not move releases")
	}
	if err := CanMoveRelease(RoleAdmin, RelReleased, RelPlanning); ErrorCode(err) != CodeInvalid || !strings.Contains(ErrorMessage(err), "final") {
		t.Errorf("released is final: %v", err)
	}
	if ErrorCode(CanMoveRelease(RoleReleaseManager, RelPlanning, RelReleased)) != CodeInvalid {
		t.Error("no skipping to released")
	}
}

func TestRequirementInput(t *testing.T) {
	in := RequirementInput{Title: "  Invoice totals  ", Criteria: []string{"- Totals include tax", "", "  * Shown on the PDF "}, Labels: []string{"Billing, billing", " PDF"}}
	in.Normalize()
	if in.Title != "Invoice totals" || len(in.Criteria) != 2 || in.Criteria[1] != "Shown on the PDF" || in.Priority != PriorityMedium || strings.Join(in.Labels, ",") != "billing,pdf" {
		t.Errorf("normalized: %+v", in)
	}
	if err := in.Validate(); err != nil {
		t.Error(err)
	}
	bad := RequirementInput{Priority: "urgent", Labels: []string{"no spaces allowed"}}
	err := bad.Validate()
	f := FieldErrors(err)
	if f["title"] == "" || f["priority"] == "" || f["labels"] == "" {
		t.Errorf("errors: %v", f)
	}
	w := WorkItemInput{Title: "x", Requirements: []string{"crm-req-1, CRM-REQ-2", "crm-req-1"}}
	w.Normalize()
	if strings.Join(w.Requirements, " ") != "CRM-REQ-1 CRM-REQ-2" || w.Kind != KindStory {
		t.Errorf("work item: %+v", w)
	}
	if FieldErrors((&NewComment{Kind: CommentChangeRequest, Body: "please"}).Validate())["proposed_description"] == "" {
		t.Error("a change request needs a proposal")
	}
	np := NewProject{Key: " crm ", Name: "CRM"}
	np.Normalize()
	if np.Key != "CRM" || np.Validate() != nil {
		t.Errorf("project: %+v", np)
	}
	if (NewProject{Key: "1X", Name: "x"}).Validate() == nil {
		t.Error("keys start with a letter")
	}
	admin, po := RoleAdmin, RoleProductOwner
	if ProjectRole(RoleDeveloper, nil) != RoleDeveloper || ProjectRole(RoleDeveloper, &po) != RoleProductOwner || ProjectRole(RoleAdmin, &po) != RoleAdmin || ProjectRole(RoleViewer, &admin) != RoleAdmin {
		t.Error("project roles")
	}
}

func TestReleaseNotes(t *testing.T) {
	d := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	notes := ReleaseNotes(Release{Name: "Winter", Version: "1.4", TargetDate: &d}, []NoteItem{
		{Key: "CRM-2", Kind: KindBug, Title: "Fix *rounding*"},
		{Key: "CRM-1", Kind: KindStory, Title: "Invoice totals", Requirements: []NoteRequirement{{Key: "CRM-REQ-1", Title: "Totals", BusinessGoal: "Fewer billing calls"}}},
		{Key: "CRM-3", Kind: KindChore, Title: "Upgrade API version"},
	})
	for _, want := range []string{"# Winter (1.4)", "Target date: 1 December 2026", "## New and changed\n\n- **CRM-1** Invoice totals — delivers CRM-REQ-1 Totals", "## Fixes\n\n- **CRM-2** Fix \\*rounding\\*", "## Other work", "## Why\n\n- CRM-REQ-1: Fewer billing calls"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Index(notes, "New and changed") > strings.Index(notes, "Fixes") {
		t.Error("features come first")
	}
}
