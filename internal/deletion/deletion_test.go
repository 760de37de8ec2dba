package deletion

import (
	"strings"
	"testing"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

func TestPlan(t *testing.T) {
	deploying := metadata.NewSet()
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(map[string][]byte{
		"classes/Uses.cls":          []byte("public class Uses { void f() { List<Account> a = [SELECT Tier__c FROM Account]; } }"),
		"classes/Uses.cls-meta.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion><status>Active</status></ApexClass>`),
	}), metadata.ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Set.Components() {
		deploying.Add(c)
	}
	target := map[string]bool{"CustomField/Account.Tier__c": true, "ApexClass/Old": true, "StandardValueSet/LeadSource": true}
	in := func(typ, name string) bool { return target[typ+"/"+name] }
	for _, c := range []struct {
		del      Component
		when     string
		manualIs string
	}{
		{Component{"ApexClass", "Old"}, Post, ""},
		{Component{"ApexClass", "Gone"}, Skip, ""},
		{Component{"CustomField", "Account.Tier__c"}, Manual, "ApexClass Uses in this build still refers to it"},
		{Component{"StandardValueSet", "LeadSource"}, Manual, "cannot delete a StandardValueSet"},
	} {
		steps := Plan([]Component{c.del}, deploying, in)
		if len(steps) != 1 {
			t.Fatalf("%v: %d steps", c.del, len(steps))
		}
		s := steps[0]
		if s.When != c.when || !strings.Contains(s.Manual, c.manualIs) {
			t.Errorf("%v: got %s %q, want %s containing %q", c.del, s.When, s.Manual, c.when, c.manualIs)
		}
		if s.Exists != in(c.del.Type, c.del.Name) {
			t.Errorf("%v: Exists %v", c.del, s.Exists)
		}
	}
}

func TestAdded(t *testing.T) {
	kept := snapshot.Manifest{{Type: "ApexClass", Name: "A"}, {Type: "CustomLabels", Name: "CustomLabels"}}
	current := snapshot.Manifest{{Type: "ApexClass", Name: "a"}, {Type: "ApexClass", Name: "New"}, {Type: "Layout", Name: "X-Y"}}
	got := Added(current, kept, []string{"ApexClass"})
	if len(got) != 1 || got[0] != (Component{"ApexClass", "New"}) {
		t.Fatalf("got %v, want only ApexClass New (case-insensitive names, other types left alone)", got)
	}
}
