package metadata

import (
	"strings"
	"testing"
)

func TestPlace(t *testing.T) {
	const classMeta = `<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>62.0</apiVersion>
    <status>Active</status>
</ApexClass>
`
	label := func(name, value string) string {
		return "    <labels>\n        <fullName>" + name + "</fullName>\n        <language>en_US</language>\n        <protected>false</protected>\n        <shortDescription>" + name + "</shortDescription>\n        <value>" + value + "</value>\n    </labels>\n"
	}
	labels := func(ls ...string) string {
		return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CustomLabels xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n" + strings.Join(ls, "") + "</CustomLabels>\n"
	}
	project := MemFS(map[string][]byte{
		"sfdx-project.json": []byte(`{"packageDirectories":[{"path":"core","default":true},{"path":"sales"}]}`),
		// A class kept in a second package directory, in a sub-folder.
		"sales/main/default/classes/quotes/Quote.cls":          []byte("public class Quote {}\n"),
		"sales/main/default/classes/quotes/Quote.cls-meta.xml": []byte(classMeta),
		"core/main/default/classes/Old.cls":                    []byte("public class Old {}\n"),
		"core/main/default/classes/Old.cls-meta.xml":           []byte(classMeta),
		"core/labels/CustomLabels.labels-meta.xml":             []byte(labels(label("Keep", "k"), label("Greeting", "Hello"))),
		"core/main/default/objects/Account/Account.object-meta.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Account</label>
</CustomObject>
`),
	})
	proj, err := LoadProject(project)
	if err != nil {
		t.Fatal(err)
	}
	// What a sandbox has: the changed class, a changed label, a new class,
	// a new field (all in metadata format, as an org gives them).
	org := MemFS(map[string][]byte{
		"package.xml":                []byte(`<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><version>62.0</version></Package>`),
		"classes/Quote.cls":          []byte("public class Quote { Decimal total; }\n"),
		"classes/Quote.cls-meta.xml": []byte(classMeta),
		"classes/Fresh.cls":          []byte("public class Fresh {}\n"),
		"classes/Fresh.cls-meta.xml": []byte(classMeta),
		"labels/CustomLabels.labels": []byte(labels(label("Greeting", "Hi"))),
		"objects/Account.object":     []byte(`<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="http://soap.sforce.com/2006/04/metadata"><fields><fullName>Tier__c</fullName><label>Tier</label><type>Text</type><length>10</length></fields><label>Account</label></CustomObject>`),
	})
	got, err := ReadMetadataFormat(org, ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	var put []*Component
	for _, k := range []Key{{"ApexClass", "Quote"}, {"ApexClass", "Fresh"}, {"CustomLabel", "Greeting"}, {"CustomField", "Account.Tier__c"}} {
		c := got.Set.Get(k)
		if c == nil {
			t.Fatalf("the org has no %v", k)
		}
		put = append(put, c)
	}
	pl, err := Place(proj, put, []Key{{"ApexClass", "Old"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"sales/main/default/classes/quotes/Quote.cls":                     "Decimal total",
		"core/main/default/classes/Fresh.cls":                             "class Fresh",
		"core/labels/CustomLabels.labels-meta.xml":                        "<value>Hi</value>",
		"core/main/default/objects/Account/fields/Tier__c.field-meta.xml": "<length>10</length>",
	}
	for p, w := range want {
		if !strings.Contains(string(pl.Write[p]), w) {
			t.Errorf("%s: want %q in %q (wrote %v)", p, w, pl.Write[p], keys(pl.Write))
		}
	}
	if !strings.Contains(string(pl.Write["core/labels/CustomLabels.labels-meta.xml"]), "<fullName>Keep</fullName>") {
		t.Errorf("the other labels in the file are kept:\n%s", pl.Write["core/labels/CustomLabels.labels-meta.xml"])
	}
	if strings.Join(pl.Remove, ",") != "core/main/default/classes/Old.cls,core/main/default/classes/Old.cls-meta.xml" {
		t.Errorf("removes %v", pl.Remove)
	}
	if _, ok := pl.Write["core/main/default/objects/Account/Account.object-meta.xml"]; ok {
		t.Errorf("the object itself was not picked, so its file is not rewritten")
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
