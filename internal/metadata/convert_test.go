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
		"settings/Account.settings", "layouts/Invoice__c-Invoice (Sales) Layout.layout", "lwc/invoiceList/invoiceList.js",
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
