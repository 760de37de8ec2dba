package alm

import (
	"fmt"
	"testing"
)

func TestNewFailuresAndFlaky(t *testing.T) {
	run := func(outcomes ...string) []TestResult {
		var rs []TestResult
		for i, o := range outcomes {
			rs = append(rs, TestResult{Class: "T", Method: fmt.Sprint("m", i), Outcome: o})
		}
		return rs
	}
	prev := run("Pass", "Fail", "Pass")
	cur := append(run("Fail", "Fail", "Pass"), TestResult{Class: "New", Method: "x", Outcome: "Fail"})
	got := NewFailures(prev, cur)
	if len(got) != 1 || got[0].Method != "m0" {
		t.Errorf("NewFailures = %+v; want only m0 (m1 failed before, New.x never passed)", got)
	}
	history := [][]TestResult{
		run("Pass", "Pass", "Pass"),
		run("Fail", "Pass", "Pass"),
		run("Pass", "Fail", "Pass"),
		run("Fail", "Fail", "Pass"),
	}
	// m0: P F P F (3 flips, flaky); m1: P P F F (1 flip: a regression); m2 steady.
	fl := Flaky(history)
	if len(fl) != 1 || fl[0].Method != "m0" || fl[0].Flips != 3 || fl[0].Failures != 2 || fl[0].Runs != 4 {
		t.Errorf("Flaky = %+v", fl)
	}
}
