package metadata

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

func TestManifestRoundTripAndOrder(t *testing.T) {
	m := NewManifest("62.0")
	m.Add("CustomField", "Invoice__c.Total__c")
	m.Add("ApexClass", "Zeta")
	m.Add("ApexClass", "*")
	m.Add("ApexClass", "Alpha")
	m.Add("ApexClass", "Alpha")
	m.Add("Layout", "Account-Account Layout & More")
	out := string(m.Marshal())
	want := `<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types>
        <members>*</members>
        <members>Alpha</members>
        <members>Zeta</members>
        <name>ApexClass</name>
    </types>
    <types>
        <members>Invoice__c.Total__c</members>
        <name>CustomField</name>
    </types>
    <types>
        <members>Account-Account Layout &amp; More</members>
        <name>Layout</name>
    </types>
    <version>62.0</version>
</Package>
`
	if out != want {
		t.Errorf("got:\n%s", out)
	}
	back, err := ParseManifest([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Marshal()) != out {
		t.Error("round trip changed the manifest")
	}
	if back.Count() != 5 || !back.Has("Layout", "Account-Account Layout & More") {
		t.Errorf("parsed %+v", back)
	}
}

func TestManifestValidate(t *testing.T) {
	m := NewManifest("62.0")
	m.Add("Report", "*")
	m.Add("NoSuchType", "X")
	m.Add("ApexClass", "*")
	m.Add("ApexClass", "A")
	m.Add("ApexTrigger", "*")
	m.Add("ApexTrigger", "T")
	problems := m.Validate(DefaultRegistry, false)
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"Report *: this type does not support *", "NoSuchType X: unknown metadata type", "ApexTrigger *: this type cannot combine"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "ApexClass") {
		t.Errorf("ApexClass allows * with names:\n%s", joined)
	}
	d := NewManifest("")
	d.Add("ApexClass", "*")
	d.Add("Settings", "Account")
	d.Add("CustomField", "Account.Tier__c")
	got = nil
	for _, p := range d.Validate(DefaultRegistry, true) {
		got = append(got, p.String())
	}
	joined = strings.Join(got, "\n")
	if !strings.Contains(joined, "wildcards are not allowed") || !strings.Contains(joined, "cannot delete this type") || strings.Contains(joined, "CustomField") {
		t.Errorf("destructive problems:\n%s", joined)
	}
	if p := NewManifest("sixty").Validate(DefaultRegistry, false); len(p) != 1 {
		t.Errorf("bad version: %v", p)
	}
}

func TestParseManifestRefusesOthers(t *testing.T) {
	for _, doc := range []string{`<Other/>`, `<Package><types><members>X</members></types></Package>`, `<!DOCTYPE Package><Package/>`} {
		if _, err := ParseManifest([]byte(doc)); err == nil {
			t.Errorf("should refuse %s", doc)
		}
	}
}

// TestManifestNamesMembersAsSalesforce lists a project's members as
// listMetadata and the Salesforce CLI do: percent-encoded file names stay
// encoded, and the labels container is CustomLabels whatever its file is
// called.
func TestManifestNamesMembersAsSalesforce(t *testing.T) {
	files := fstest.MapFS{"sfdx-project.json": {Data: []byte(`{"packageDirectories":[{"path":"force-app","default":true}]}`)}}
	const d = "force-app/main/default/"
	files[d+"labels/Marketing.labels-meta.xml"] = &fstest.MapFile{Data: []byte(`<?xml version="1.0" encoding="UTF-8"?>
<CustomLabels xmlns="http://soap.sforce.com/2006/04/metadata"><labels><fullName>Promo</fullName><language>en_US</language><protected>false</protected><shortDescription>Promo</shortDescription><value>Half price</value></labels></CustomLabels>`)}
	profile := []byte(`<?xml version="1.0" encoding="UTF-8"?><Profile xmlns="http://soap.sforce.com/2006/04/metadata"><custom>true</custom></Profile>`)
	files[d+"profiles/Custom%3A Marketing Profile.profile-meta.xml"] = &fstest.MapFile{Data: profile}
	files[d+"layouts/Account-Account %28Marketing%29 Layout.layout-meta.xml"] = &fstest.MapFile{Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Layout xmlns="http://soap.sforce.com/2006/04/metadata"><showRunAssignRulesCheckbox>false</showRunAssignRulesCheckbox></Layout>`)}
	files[d+"reports/Sales.reportFolder-meta.xml"] = &fstest.MapFile{Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><ReportFolder xmlns="http://soap.sforce.com/2006/04/metadata"><name>Sales</name></ReportFolder>`)}
	files[d+"reports/Sales/Pipeline.report-meta.xml"] = &fstest.MapFile{Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Report xmlns="http://soap.sforce.com/2006/04/metadata"><name>Pipeline</name></Report>`)}
	proj, err := LoadProject(files)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ReadSource(proj, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := ManifestFromSet(res.Set, "62.0")
	got := m.Types
	want := map[string][]string{
		"Report":       {"Sales/", "Sales/Pipeline"},
		"CustomLabel":  {"Promo"},
		"CustomLabels": {"CustomLabels"},
		"Layout":       {"Account-Account %28Marketing%29 Layout"},
		"Profile":      {"Custom%3A Marketing Profile"},
	}
	for k := range got {
		sort.Strings(got[k])
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("members = %v, want %v", got, want)
	}
	// Read back, the folder is the folder, slash or not.
	back, err := ParseManifest(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if r := back.Types["Report"]; !slices.Contains(r, "Sales") || !slices.Contains(r, "Sales/Pipeline") {
		t.Errorf("parsed back: %v", r)
	}
}
