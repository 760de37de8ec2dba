package alm

import (
	"strings"
	"testing"
	"time"
)

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
