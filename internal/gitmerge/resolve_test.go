package gitmerge

import (
	"strings"
	"testing"

	"github.com/trellis-alm/trellis/internal/metadata"
)

func TestResolveTextHunks(t *testing.T) {
	marked := "a\n<<<<<<< ours\nb1\n=======\nb2\n>>>>>>> theirs\nc\n<<<<<<< ours\n=======\nd\n>>>>>>> theirs\n"
	if hs := Hunks([]byte(marked)); len(hs) != 2 || string(hs[0].Ours) != "b1\n" || string(hs[1].Theirs) != "d\n" || len(hs[1].Ours) != 0 {
		t.Fatalf("hunks %q", hs)
	}
	for _, tc := range []struct {
		choices []string
		want    string
		err     bool
	}{
		{[]string{"ours", "ours"}, "a\nb1\nc\n", false},
		{[]string{"theirs", "theirs"}, "a\nb2\nc\nd\n", false},
		{[]string{"both", "theirs"}, "a\nb1\nb2\nc\nd\n", false},
		{[]string{"ours"}, "", true},
		{[]string{"ours", "ours", "ours"}, "", true},
		{[]string{"ours", "mine"}, "", true},
	} {
		got, err := Resolve([]byte(marked), tc.choices)
		if (err != nil) != tc.err || string(got) != tc.want {
			t.Errorf("%v: %q %v", tc.choices, got, err)
		}
	}
}

// A permission set both sides changed in one field permission: the XML
// merge marks that element, and choosing either side yields valid XML.
func TestResolveMetadataConflict(t *testing.T) {
	perm := func(edit string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <fieldPermissions>
        <editable>` + edit + `</editable>
        <field>Account.Tier__c</field>
        <readable>true</readable>
    </fieldPermissions>
    <label>Sales</label>
</PermissionSet>
`)
	}
	r, err := metadata.MergeXML([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Sales</label>
</PermissionSet>
`), perm("true"), perm("false"))
	if err != nil || len(r.Conflicts) != 1 {
		t.Fatalf("want one conflict: %+v %v", r.Conflicts, err)
	}
	if n := len(Hunks(r.Data)); n != 1 {
		t.Fatalf("%d hunks in %s", n, r.Data)
	}
	for _, c := range []string{ChooseOurs, ChooseTheirs} {
		out, err := Resolve(r.Data, []string{c})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := metadata.ParseXML(out); err != nil {
			t.Fatalf("%s: not XML: %v\n%s", c, err, out)
		}
		want := "true"
		if c == ChooseTheirs {
			want = "false"
		}
		if !strings.Contains(string(out), "<editable>"+want+"</editable>") || strings.Contains(string(out), "<<<<<<<") {
			t.Fatalf("%s: %s", c, out)
		}
	}
}
