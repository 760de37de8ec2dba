package alm

import (
	"slices"
	"testing"
	"time"
)

func TestRetain(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ago := func(d, h int) time.Time { return now.AddDate(0, 0, -d).Add(-time.Duration(h) * time.Hour) }
	for _, c := range []struct {
		name          string
		at            []time.Time
		daily, weekly int
		want          []bool
	}{
		{"newest always kept", []time.Time{ago(400, 0)}, 1, 0, []bool{true}},
		{"the last day whole, then one a day", []time.Time{ago(0, 1), ago(0, 3), ago(1, 0), ago(1, 2), ago(2, 0)}, 7, 0,
			[]bool{true, true, true, false, true}},
		{"past the daily window, one a week", []time.Time{ago(0, 0), ago(3, 0), ago(10, 0), ago(11, 0), ago(17, 0), ago(40, 0)}, 5, 4,
			// 10 and 11 days ago share an ISO week (Sun 15th / Mon 16th differ: see below)
			nil},
		{"no weekly keeps nothing past the daily window", []time.Time{ago(0, 0), ago(2, 0), ago(2, 5), ago(9, 0), ago(30, 0)}, 3, 0,
			[]bool{true, true, false, false, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Retain(c.at, now, c.daily, c.weekly)
			if c.want == nil {
				// Week boundaries: kept ones past the daily window fall in
				// distinct ISO weeks, and at most one per week is kept.
				weeks := map[int]int{}
				for i, k := range got {
					if k && now.Sub(c.at[i]) > time.Duration(c.daily)*24*time.Hour {
						_, w := c.at[i].ISOWeek()
						weeks[w]++
					}
				}
				for w, n := range weeks {
					if n > 1 {
						t.Errorf("week %d kept %d backups", w, n)
					}
				}
				if got[len(got)-1] {
					t.Errorf("a backup 40 days old outlived a 4-week policy")
				}
				return
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Retain = %v, want %v", got, c.want)
			}
		})
	}
}

func TestBackupPolicyValidate(t *testing.T) {
	ok := BackupPolicy{EveryHours: 24, KeepDaily: 14, KeepWeekly: 8}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []BackupPolicy{{EveryHours: 0, KeepDaily: 1}, {EveryHours: 24, KeepDaily: 0}, {EveryHours: 24, KeepDaily: 1, KeepWeekly: -1}, {EveryHours: 200, KeepDaily: 1}} {
		if ErrorCode(bad.Validate()) != CodeInvalid {
			t.Errorf("%+v accepted", bad)
		}
	}
}
