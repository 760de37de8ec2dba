package artifact

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
)

// capture reads metadata-format files as the snapshot job stores them and
// returns the capture of the named component.
func capture(t *testing.T, item, typ, name string, files map[string]string) Capture {
	t.Helper()
	fs := map[string][]byte{}
	for p, c := range files {
		fs[p] = []byte(c)
	}
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(fs), metadata.ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Set.Components() {
		if c.Type.Name == typ && c.Name == name {
			one := metadata.NewSet()
			one.Add(c)
			out, err := metadata.WriteMetadataFormat(one)
			if err != nil {
				t.Fatal(err)
			}
			return Capture{WorkItem: item, Type: typ, Name: name, Change: "changed", Hash: c.Hash, Content: snapshot.EncodeFiles(out)}
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return Capture{}
}

func object(fields ...string) map[string]string {
	s := `<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
`
	for _, f := range fields {
		s += "    <fields><fullName>" + f + "</fullName><label>" + f + "</label><length>40</length><type>Text</type></fields>\n"
	}
	return map[string]string{"objects/Account.object": s + "</CustomObject>\n"}
}

func class(body string) map[string]string {
	return map[string]string{
		"classes/Quotes.cls":          body,
		"classes/Quotes.cls-meta.xml": `<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>`,
	}
}

func TestComposeAndPackage(t *testing.T) {
	t.Parallel()
	tier := capture(t, "CRM-1", "CustomField", "Account.Tier__c", object("Tier__c"))
	region := capture(t, "CRM-2", "CustomField", "Account.Region__c", object("Region__c"))
	quotesA := capture(t, "CRM-1", "ApexClass", "Quotes", class("public class Quotes { }"))
	quotesB := capture(t, "CRM-2", "ApexClass", "Quotes", class("public class Quotes { Integer n; }"))
	same := tier
	same.WorkItem = "CRM-3" // the same content from a third item agrees
	gone := Capture{WorkItem: "CRM-2", Type: "ApexClass", Name: "OldHelper", Change: "deleted"}

	p := Compose([]Capture{tier, region, quotesA, quotesB, same, gone}, nil)
	if len(p.Conflicts) != 1 || p.Conflicts[0].Name != "Quotes" || len(p.Conflicts[0].Options) != 2 {
		t.Fatalf("conflicts: %+v", p.Conflicts)
	}
	if _, err := Package(p, "62.0"); err == nil {
		t.Fatal("a plan with conflicts must not package")
	}

	p = Compose([]Capture{tier, region, quotesA, quotesB, same, gone}, map[string]string{p.Conflicts[0].Key(): "CRM-2"})
	if len(p.Conflicts) != 0 || len(p.Components) != 4 {
		t.Fatalf("resolved plan: %+v", p)
	}
	a, err := Package(p, "62.0")
	if err != nil {
		t.Fatal(err)
	}
	files := unzip(t, a.Zip)
	obj := string(files["objects/Account.object"])
	if !strings.Contains(obj, "Tier__c") || !strings.Contains(obj, "Region__c") {
		t.Errorf("the two fields recompose into one object file:\n%s", obj)
	}
	if !strings.Contains(string(files["classes/Quotes.cls"]), "Integer n") {
		t.Error("the resolution picked CRM-2's class")
	}
	if !strings.Contains(string(files["package.xml"]), "<members>Account.Tier__c</members>") {
		t.Errorf("package.xml:\n%s", files["package.xml"])
	}
	if !strings.Contains(string(files["destructiveChangesPost.xml"]), "<members>OldHelper</members>") {
		t.Errorf("destructive changes:\n%s", files["destructiveChangesPost.xml"])
	}
	again, err := Package(Compose([]Capture{gone, same, region, quotesB, tier, quotesA}, map[string]string{"ApexClass\x00quotes": "CRM-2"}), "62.0")
	if err != nil {
		t.Fatal(err)
	}
	if again.Checksum != a.Checksum {
		t.Error("the same plan in another order must give the same artifact")
	}
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, _ := f.Open()
		out[f.Name], _ = io.ReadAll(r)
		r.Close()
	}
	return out
}

func layoutCapture(t *testing.T, item string) Capture {
	return capture(t, item, "Layout", "Account-Account Layout", map[string]string{"layouts/Account-Account Layout.layout": `<?xml version="1.0" encoding="UTF-8"?>
<Layout xmlns="http://soap.sforce.com/2006/04/metadata">
    <layoutSections><label>Info</label><layoutColumns><layoutItems><behavior>Edit</behavior><field>Tier__c</field></layoutItems><layoutItems><behavior>Edit</behavior><field>Gone__c</field></layoutItems></layoutColumns><style>OneColumn</style></layoutSections>
</Layout>
`})
}

func TestCheckAgainstATarget(t *testing.T) {
	t.Parallel()
	layout := layoutCapture(t, "CRM-1")
	target := snapshot.Manifest{
		{Type: "CustomObject", Name: "Account", Hash: "x"},
		{Type: "CustomField", Name: "Account.Gone__c", Hash: "y"},
		{Type: "ApexClass", Name: "Old", Hash: "z"},
		{Type: "StandardValueSet", Name: "LeadSource", Hash: "w"},
	}
	p := Compose([]Capture{layout,
		{WorkItem: "CRM-2", Type: "ApexClass", Name: "Old", Change: "deleted"},
		{WorkItem: "CRM-2", Type: "ApexClass", Name: "NeverThere", Change: "deleted"},
		{WorkItem: "CRM-2", Type: "StandardValueSet", Name: "LeadSource", Change: "deleted"},
		{WorkItem: "CRM-3", Type: "CustomField", Name: "Account.Gone__c", Change: "deleted"},
	}, nil)
	c, err := CheckAgainst(p, target)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Missing) != 1 || c.Missing[0].To.Name != "Account.Tier__c" {
		t.Fatalf("missing: %+v (the layout's Tier__c is neither in the build nor in the target)", c.Missing)
	}
	when := map[string]string{}
	for _, s := range c.Deletions {
		when[s.Name] = s.When
	}
	want := map[string]string{"Old": "post", "NeverThere": "skip", "LeadSource": "manual", "Account.Gone__c": "manual"}
	for k, v := range want {
		if when[k] != v {
			t.Errorf("%s: %s, want %s (%+v)", k, when[k], v, c.Deletions)
		}
	}
}
