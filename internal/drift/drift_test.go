package drift

import (
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

func TestDetectLeavesOutWhatWasDeployed(t *testing.T) {
	a := snapshot.Manifest{{Type: "ApexClass", Name: "A", Hash: "1"}, {Type: "ApexClass", Name: "B", Hash: "1"}, {Type: "CustomField", Name: "Account.X__c", Hash: "1"}}
	b := snapshot.Manifest{{Type: "ApexClass", Name: "A", Hash: "2"}, {Type: "ApexClass", Name: "B", Hash: "2"}, {Type: "Layout", Name: "Account-Main", Hash: "1"}}
	got := Detect(snapshot.Compare(a, b), map[string]bool{Key("ApexClass", "b"): true})
	want := map[string]string{"ApexClass/A": "changed", "CustomField/Account.X__c": "deleted", "Layout/Account-Main": "new"}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %v (B was deployed by Trellis)", got, want)
	}
	for _, e := range got {
		if want[e.Type+"/"+e.Name] != e.Change {
			t.Errorf("%s/%s: %s", e.Type, e.Name, e.Change)
		}
	}
}

func TestAttributeTakesTheNewestRowNamingTheComponent(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	entries := []alm.DriftEntry{{Type: "CustomField", Name: "Account.Tier__c"}, {Type: "ApexClass", Name: "Billing"}, {Type: "Layout", Name: "Nobody"}}
	Attribute(entries, []AuditRow{
		{Display: "Changed Tier__c on Contact", Section: "Customize Contacts", By: "Wrong Object", At: t0.Add(3 * time.Hour)},
		{Display: "Changed field Tier__c", Section: "Customize Accounts", By: "Ann Old", At: t0},
		{Display: "Changed field Tier__c", Section: "Customize Accounts", By: "Ann New", At: t0.Add(time.Hour)},
		{Display: "Changed Class code: Billing", Section: "Apex Class", By: "Bo", At: t0},
	})
	if entries[0].By != "Ann New" || entries[0].At == nil || !entries[0].At.Equal(t0.Add(time.Hour)) {
		t.Errorf("field: %+v (the newest row naming both Account and Tier__c)", entries[0])
	}
	if entries[1].By != "Bo" || entries[1].Action != "Changed Class code: Billing" {
		t.Errorf("class: %+v", entries[1])
	}
	if entries[2].By != "" {
		t.Errorf("no row names it: %+v", entries[2])
	}
}
