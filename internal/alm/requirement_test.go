package alm

import (
	"strings"
	"testing"
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
