package alm

import (
	"strings"
	"testing"
)

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
