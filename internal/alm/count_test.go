package alm

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{0, "component", "0 components"}, {1, "component", "1 component"}, {2, "component", "2 components"},
		{1, "address", "1 address"}, {3, "address", "3 addresses"}, {2, "test failure", "2 test failures"}, {2, "match", "2 matches"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
