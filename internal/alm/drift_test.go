package alm

import "testing"

func TestDriftSeverityAndRoutes(t *testing.T) {
	for _, c := range []struct {
		entries []DriftEntry
		want    Severity
	}{
		{[]DriftEntry{{Type: "Layout", Change: "changed"}}, SevInfo},
		{[]DriftEntry{{Type: "Layout", Change: "changed"}, {Type: "ApexClass", Change: "changed"}}, SevWarning},
		{[]DriftEntry{{Type: "Profile", Change: "changed"}}, SevCritical},
		{[]DriftEntry{{Type: "CustomField", Change: "deleted"}}, SevCritical},
	} {
		if got := DriftSeverity(c.entries); got != c.want {
			t.Errorf("DriftSeverity(%v) = %s, want %s", c.entries, got, c.want)
		}
	}
	r := AlertRoute{Kind: AlertDrift, MinSeverity: SevWarning}
	if !r.Matches(AlertDrift, SevCritical) || r.Matches(AlertDrift, SevInfo) || r.Matches(AlertBackupFailed, SevCritical) {
		t.Error("route matching")
	}
	if !(AlertRoute{Kind: "*", MinSeverity: SevInfo}).Matches(AlertBackupFailed, SevInfo) {
		t.Error("a catch-all route takes everything")
	}
}
