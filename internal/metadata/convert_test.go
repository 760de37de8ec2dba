package metadata

import (
	"strings"
	"testing"
	"testing/fstest"
)

func mapFS(files map[string][]byte) fstest.MapFS {
	m := fstest.MapFS{}
	for p, b := range files {
		m[p] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return m
}

// sameSets fails unless a and b hold the same components with equal hashes.
func sameSets(t *testing.T, what string, a, b *Set) {
	t.Helper()
	for _, e := range Diff(a, b) {
		if e.Change != Unchanged {
			detail := ""
			if e.Old != nil && e.New != nil && e.Old.XML != nil && e.New.XML != nil {
				detail = "\n" + string(e.Old.XML.Canonical(false)) + "\n" + string(e.New.XML.Canonical(false))
			}
			t.Errorf("%s: %s %s%s", what, e.Key, e.Change, detail)
		}
	}
}

// Converting source → metadata → source keeps every component and its
// content: the property that makes both formats comparable.
func TestConvertRoundTrips(t *testing.T) {
	src := readBasic(t, true).Set
	md, err := WriteMetadataFormat(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"objects/Invoice__c.object", "classes/AccountService.cls", "classes/AccountService.cls-meta.xml",
		"staticresources/lib.resource", "documents/Shared/terms.txt", "documents/Shared/terms.txt-meta.xml", "documents/Shared-meta.xml",
		"reports/Sales/Pipeline.report", "reports/Sales-meta.xml", "labels/CustomLabels.labels", "workflows/Invoice__c.workflow",
		"settings/Account.settings", "layouts/Invoice__c-Invoice %28Sales%29 Layout.layout", "lwc/invoiceList/invoiceList.js",
		"objectTranslations/Invoice__c-es.objectTranslation", "email/Billing/Reminder.email"} {
		if _, ok := md[p]; !ok {
			t.Errorf("metadata format lacks %s", p)
		}
	}
	obj := string(md["objects/Invoice__c.object"])
	if !strings.Contains(obj, "<fields>") || strings.Index(obj, "<deploymentStatus>") > strings.Index(obj, "<fields>") {
		t.Errorf("object not recomposed in element order:\n%s", obj)
	}
	back, err := ReadMetadataFormat(mapFS(md), ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Skipped) > 0 {
		t.Errorf("metadata reader skipped %v", back.Skipped)
	}
	sameSets(t, "source→metadata", src, back.Set)

	files, err := WriteSource(back.Set, SourceLayout{Base: "force-app/main/default"})
	if err != nil {
		t.Fatal(err)
	}
	files["sfdx-project.json"] = []byte(`{"packageDirectories":[{"path":"force-app","default":true}]}`)
	proj, err := LoadProject(mapFS(files))
	if err != nil {
		t.Fatal(err)
	}
	again, err := ReadSource(proj, ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	sameSets(t, "metadata→source", src, again.Set)
	for _, p := range []string{"force-app/main/default/objects/Invoice__c/fields/Total__c.field-meta.xml",
		"force-app/main/default/staticresources/lib/js/lib.js", "force-app/main/default/staticresources/logo.png",
		"force-app/main/default/objectTranslations/Invoice__c-es/Status__c.fieldTranslation-meta.xml",
		"force-app/main/default/labels/CustomLabels.labels-meta.xml"} {
		if _, ok := files[p]; !ok {
			t.Errorf("source format lacks %s", p)
		}
	}
}

func TestWriteMetadataFormatIsDeterministic(t *testing.T) {
	a, _ := WriteMetadataFormat(readBasic(t, true).Set)
	b, _ := WriteMetadataFormat(readBasic(t, true).Set)
	za, err := WriteZip(a)
	if err != nil {
		t.Fatal(err)
	}
	zb, _ := WriteZip(b)
	if string(za) != string(zb) {
		t.Error("the same project must convert to the same bytes")
	}
}

// An Experience Builder site keeps its XML as name.site-meta.xml in both
// formats (as retrieves and source-deploy-retrieve write it); the bare
// ".site" spelling is still read.
func TestExperienceBundleInMetadataFormat(t *testing.T) {
	site := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<ExperienceBundle xmlns="http://soap.sforce.com/2006/04/metadata"><label>Help</label><type>ChatterNetworkPicasso</type></ExperienceBundle>`)
	proj, err := LoadProject(mapFS(map[string][]byte{
		"sfdx-project.json": []byte(`{"packageDirectories":[{"path":"force-app","default":true}]}`),
		"force-app/main/default/experiences/Help1.site-meta.xml":       site,
		"force-app/main/default/experiences/Help1/config/help.json":    []byte(`{"type":"site"}`),
		"force-app/main/default/experiences/Help1/views/home.json":     []byte(`{"id":"home"}`),
		"force-app/main/default/experiences/Help1/routes/home.json":    []byte(`{"route":"/"}`),
		"force-app/main/default/experiences/Help1/brandingSets/b.json": []byte(`{}`),
	}))
	if err != nil {
		t.Fatal(err)
	}
	src, err := ReadSource(proj, ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	md, err := WriteMetadataFormat(src.Set)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"experiences/Help1.site-meta.xml", "experiences/Help1/config/help.json", "experiences/Help1/views/home.json"} {
		if _, ok := md[p]; !ok {
			t.Errorf("metadata format lacks %s", p)
		}
	}
	back, err := ReadMetadataFormat(mapFS(md), ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	sameSets(t, "source→metadata", src.Set, back.Set)

	md["experiences/Help1.site"] = md["experiences/Help1.site-meta.xml"]
	delete(md, "experiences/Help1.site-meta.xml")
	legacy, err := ReadMetadataFormat(mapFS(md), ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	sameSets(t, "legacy .site", src.Set, legacy.Set)
}

// A standard object retrieved for its fields alone has no elements of its
// own. Source-deploy-retrieve writes an empty Account.object-meta.xml for
// it; projects keep none (the trailhead apps have fields of Account and
// Contact without one), so we write none, and nothing is lost: reading the
// source back gives the same components.
func TestWriteSourceSkipsEmptyParents(t *testing.T) {
	md := map[string][]byte{
		"objects/Account.object": []byte(`<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <fields><fullName>Tier__c</fullName><label>Tier</label><type>Text</type><length>10</length></fields>
</CustomObject>`),
		"package.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>Account.Tier__c</members><name>CustomField</name></types><version>62.0</version></Package>`),
	}
	res, err := ReadMetadataFormat(mapFS(md), ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := WriteSource(res.Set, SourceLayout{Base: "force-app/main/default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["force-app/main/default/objects/Account/fields/Tier__c.field-meta.xml"]; !ok {
		t.Errorf("the field is missing: %v", files)
	}
	if _, ok := files["force-app/main/default/objects/Account/Account.object-meta.xml"]; ok {
		t.Error("an object with no elements of its own should get no object-meta.xml")
	}
	files["sfdx-project.json"] = []byte(`{"packageDirectories":[{"path":"force-app","default":true}]}`)
	proj, err := LoadProject(mapFS(files))
	if err != nil {
		t.Fatal(err)
	}
	again, err := ReadSource(proj, ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Set.Get(Key{Type: "CustomField", Name: "Account.Tier__c"}) == nil {
		t.Errorf("reading back lost the field: %v", again.Set.Components())
	}
}

// Static resources that are not archives get the extension the MIME
// registry gives their content type, as the Salesforce CLI names them.
func TestStaticResourceExtensions(t *testing.T) {
	for _, tc := range []struct{ contentType, want string }{
		{"audio/mp4", "m4a"},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
		{"image/PNG", "png"},
		{"text/javascript", "js"},
		{"application/x-unknown", "bin"},
	} {
		c := &Component{XML: mustParse(t, `<StaticResource><contentType>`+tc.contentType+`</contentType></StaticResource>`)}
		if got := resourceExt(c); got != tc.want {
			t.Errorf("%s: got .%s, want .%s", tc.contentType, got, tc.want)
		}
	}
}
