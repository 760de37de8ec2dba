package alm

import "testing"

func TestAfterDeploy(t *testing.T) {
	for _, c := range []struct {
		cur  WorkStatus
		last bool
		want WorkStatus
		move bool
	}{
		{WorkBacklog, false, WorkInRelease, true},
		{WorkReadyToPromote, false, WorkInRelease, true},
		{WorkInRelease, false, WorkInRelease, false},
		{WorkDone, false, WorkDone, false},
		{WorkInRelease, true, WorkDone, true},
		{WorkInProgress, true, WorkDone, true},
		{WorkDone, true, WorkDone, false},
	} {
		got, move := AfterDeploy(c.cur, c.last)
		if got != c.want || move != c.move {
			t.Errorf("AfterDeploy(%s, last=%v) = %s, %v; want %s, %v", c.cur, c.last, got, move, c.want, c.move)
		}
	}
}
