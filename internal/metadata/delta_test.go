package metadata

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// basicFiles loads the fixture project into memory.
func basicFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	root := "testdata/basic"
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// changesBetween lists what differs between two file maps, as git would.
func changesBetween(a, b map[string][]byte) []FileChange {
	var out []FileChange
	for p, x := range a {
		y, ok := b[p]
		switch {
		case !ok:
			out = append(out, FileChange{Status: 'D', Path: p})
		case string(x) != string(y):
			out = append(out, FileChange{Status: 'M', Path: p})
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, FileChange{Status: 'A', Path: p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func toFS(files map[string][]byte) fstest.MapFS {
	m := fstest.MapFS{}
	for p, b := range files {
		m[p] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return m
}

const d = "force-app/main/default/"

func TestDelta(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(f map[string][]byte)
		pkg, destr  []string
		notMetadata []string
		ignored     []string
	}{
		{name: "MetaFileOnlyChange", edit: func(f map[string][]byte) {
			f[d+"classes/AccountService.cls-meta.xml"] = []byte(strings.Replace(string(f[d+"classes/AccountService.cls-meta.xml"]), "62.0", "63.0", 1))
		}, pkg: []string{"ApexClass AccountService"}},
		{name: "ChangedFieldIsTheFieldOnly", edit: func(f map[string][]byte) {
			p := d + "objects/Invoice__c/fields/Status__c.field-meta.xml"
			f[p] = []byte(strings.Replace(string(f[p]), "<length>20</length>", "<length>40</length>", 1))
		}, pkg: []string{"CustomField Invoice__c.Status__c"}},
		{name: "ReformattingIsNoChange", edit: func(f map[string][]byte) {
			p := d + "objects/Invoice__c/fields/Status__c.field-meta.xml"
			f[p] = []byte(strings.ReplaceAll(strings.ReplaceAll(string(f[p]), "\n    ", "\n\t"), "\n", "\r\n"))
		}},
		{name: "ChangedLabelInsideTheLabelsFile", edit: func(f map[string][]byte) {
			p := d + "labels/CustomLabels.labels-meta.xml"
			f[p] = []byte(strings.Replace(string(f[p]), "<value>Bye</value>", "<value>Goodbye</value>", 1))
		}, pkg: []string{"CustomLabel Farewell"}},
		{name: "LabelAddedAndRemoved", edit: func(f map[string][]byte) {
			p := d + "labels/CustomLabels.labels-meta.xml"
			s := strings.Replace(string(f[p]), "<fullName>Greeting</fullName>", "<fullName>Welcome</fullName>", 1)
			f[p] = []byte(s)
		}, pkg: []string{"CustomLabel Welcome"}, destr: []string{"CustomLabel Greeting"}},
		// An org has one CustomLabels, whatever a project calls its files.
		{name: "LabelsFileOfAnotherName", edit: func(f map[string][]byte) {
			f[d+"labels/Marketing.labels-meta.xml"] = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<CustomLabels xmlns="http://soap.sforce.com/2006/04/metadata">
    <labels>
        <fullName>Promo</fullName>
        <language>en_US</language>
        <protected>false</protected>
        <shortDescription>Promo</shortDescription>
        <value>Half price</value>
    </labels>
</CustomLabels>
`)
		}, pkg: []string{"CustomLabel Promo"}},
		{name: "WorkflowRuleWithItsContainer", edit: func(f map[string][]byte) {
			p := d + "workflows/Invoice__c.workflow-meta.xml"
			f[p] = []byte(strings.Replace(string(f[p]), "onCreateOnly", "onAllChanges", 1))
		}, pkg: []string{"Workflow Invoice__c", "WorkflowRule Invoice__c.Send_Invoice"}},
		{name: "FileDeletedInsideBundleIsAChange", edit: func(f map[string][]byte) {
			delete(f, d+"aura/Hello/HelloController.js")
		}, pkg: []string{"AuraDefinitionBundle Hello"}},
		{name: "WholeBundleDeleted", edit: func(f map[string][]byte) {
			for p := range f {
				if strings.HasPrefix(p, d+"lwc/invoiceList/") {
					delete(f, p)
				}
			}
		}, destr: []string{"LightningComponentBundle invoiceList"}, ignored: []string{d + "lwc/invoiceList/__tests__/invoiceList.test.js"}},
		{name: "RenamedClass", edit: func(f map[string][]byte) {
			for _, ext := range []string{".cls", ".cls-meta.xml"} {
				f[d+"classes/InvoiceService"+ext] = f[d+"classes/AccountService"+ext]
				delete(f, d+"classes/AccountService"+ext)
			}
		}, pkg: []string{"ApexClass InvoiceService"}, destr: []string{"ApexClass AccountService"}},
		{name: "FolderResourceFile", edit: func(f map[string][]byte) {
			f[d+"staticresources/lib/js/lib.js"] = []byte("window.lib = 2;\n")
		}, pkg: []string{"StaticResource lib"}},
		{name: "DocumentAndReport", edit: func(f map[string][]byte) {
			f[d+"documents/Shared/terms.txt"] = []byte("New terms.\n")
			p := d + "reports/Sales/Pipeline.report-meta.xml"
			f[p] = []byte(strings.Replace(string(f[p]), "Tabular", "Summary", 1))
		}, pkg: []string{"Document Shared/terms.txt", "Report Sales/Pipeline"}},
		{name: "DeletedFieldAndNewObject", edit: func(f map[string][]byte) {
			delete(f, d+"objects/Invoice__c/fields/Total__c.field-meta.xml")
			f[d+"objects/Payment__c/Payment__c.object-meta.xml"] = []byte(`<CustomObject><label>Payment</label></CustomObject>`)
			f[d+"objects/Payment__c/fields/Amount__c.field-meta.xml"] = []byte(`<CustomField><fullName>Amount__c</fullName><type>Currency</type></CustomField>`)
		}, pkg: []string{"CustomField Payment__c.Amount__c", "CustomObject Payment__c"}, destr: []string{"CustomField Invoice__c.Total__c"}},
		{name: "FieldTranslationChangesItsObjectTranslation", edit: func(f map[string][]byte) {
			p := d + "objectTranslations/Invoice__c-es/Status__c.fieldTranslation-meta.xml"
			f[p] = []byte(strings.Replace(string(f[p]), "Estado", "Situación", 1))
		}, pkg: []string{"CustomObjectTranslation Invoice__c-es"}},
		{name: "NotMetadataAndIgnored", edit: func(f map[string][]byte) {
			f["README.md"] = []byte("changed")
			f[d+"lwc/jsconfig.json"] = []byte(`{"x":1}`)
			f["scripts/deploy.sh"] = []byte("#!/bin/sh")
		}, notMetadata: []string{"README.md", "scripts/deploy.sh"}, ignored: []string{d + "lwc/jsconfig.json"}},
		{name: "LayoutWithEncodedName", edit: func(f map[string][]byte) {
			p := d + "layouts/Invoice__c-Invoice %28Sales%29 Layout.layout-meta.xml"
			f[p] = []byte(strings.Replace(string(f[p]), "OneColumn", "TwoColumnsLeftToRight", 1))
		}, pkg: []string{"Layout Invoice__c-Invoice %28Sales%29 Layout"}},
		// Salesforce's fullNames keep the file name's encoding: listMetadata
		// and the CLI name this profile "Custom%3A Marketing Profile".
		{name: "ProfileWithEncodedNameAddedAndRemoved", edit: func(f map[string][]byte) {
			f[d+"profiles/Custom%3A Marketing Profile.profile-meta.xml"] = f[d+"profiles/Admin.profile-meta.xml"]
			delete(f, d+"layouts/Invoice__c-Invoice %28Sales%29 Layout.layout-meta.xml")
		}, pkg: []string{"Profile Custom%3A Marketing Profile"}, destr: []string{"Layout Invoice__c-Invoice %28Sales%29 Layout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := basicFiles(t)
			after := basicFiles(t)
			tt.edit(after)
			res, err := Delta(toFS(before), toFS(after), changesBetween(before, after), DeltaOptions{})
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, m *Manifest, want []string) {
				var got []string
				for _, k := range m.Keys() {
					got = append(got, k.String())
				}
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("package", res.Package, tt.pkg)
			check("destructive", res.Destructive, tt.destr)
			if strings.Join(res.NotMetadata, "|") != strings.Join(tt.notMetadata, "|") {
				t.Errorf("not metadata %v, want %v", res.NotMetadata, tt.notMetadata)
			}
			if strings.Join(res.Ignored, "|") != strings.Join(tt.ignored, "|") {
				t.Errorf("ignored %v, want %v", res.Ignored, tt.ignored)
			}
		})
	}
}

func TestDeltaCopyFilesIncludeWhatADeployNeeds(t *testing.T) {
	before, after := basicFiles(t), basicFiles(t)
	p := d + "objects/Invoice__c/fields/Status__c.field-meta.xml"
	after[p] = []byte(strings.Replace(string(after[p]), "<length>20<", "<length>30<", 1))
	after[d+"classes/AccountService.cls"] = []byte("public class AccountService {}\n")
	res, err := Delta(toFS(before), toFS(after), changesBetween(before, after), DeltaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{d + "classes/AccountService.cls", d + "classes/AccountService.cls-meta.xml", d + "objects/Invoice__c/Invoice__c.object-meta.xml", p}
	if strings.Join(res.CopyFiles, "\n") != strings.Join(want, "\n") {
		t.Errorf("copy files:\n%s\nwant:\n%s", strings.Join(res.CopyFiles, "\n"), strings.Join(want, "\n"))
	}
	if res.Package.Version != "62.0" {
		t.Errorf("version from sourceApiVersion: %s", res.Package.Version)
	}
}

// Differences from sfdx-git-delta found on real projects, each with why.
func TestDeltaWhereWeDifferFromSfdxGitDelta(t *testing.T) {
	t.Run("CaseOnlyRenameIsAChangeNeverADeletion", func(t *testing.T) {
		// apex-recipes renamed fields/accountId__c to fields/AccountId__c.
		// Listing accountId__c for deletion beside AccountId__c would delete
		// the field: Salesforce compares API names without case.
		before, after := basicFiles(t), basicFiles(t)
		old := d + "objects/Invoice__c/fields/Status__c.field-meta.xml"
		after[d+"objects/Invoice__c/fields/STATUS__c.field-meta.xml"] = []byte(strings.Replace(string(after[old]), "Status__c", "STATUS__c", 1))
		delete(after, old)
		res, err := Delta(toFS(before), toFS(after), changesBetween(before, after), DeltaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Destructive.Empty() {
			t.Errorf("destructive changes must stay empty: %v", res.Destructive.Keys())
		}
		if !res.Package.Has("CustomField", "Invoice__c.STATUS__c") {
			t.Errorf("the renamed field is a change: %v", res.Package.Keys())
		}
	})
	t.Run("MovedFileWithTheSameContentIsNoChange", func(t *testing.T) {
		// ebikes-lwc moved messageChannel/ to messageChannels/ and
		// apex-recipes moved classes between folders. sfdx-git-delta
		// redeploys them; the org sees no change, so Trellis lists none
		// and reports them as unchanged.
		before, after := basicFiles(t), basicFiles(t)
		for _, ext := range []string{".cls", ".cls-meta.xml"} {
			after[d+"classes/services/AccountService"+ext] = after[d+"classes/AccountService"+ext]
			delete(after, d+"classes/AccountService"+ext)
		}
		res, err := Delta(toFS(before), toFS(after), changesBetween(before, after), DeltaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Package.Empty() || !res.Destructive.Empty() {
			t.Errorf("nothing to deploy or delete: %v %v", res.Package.Keys(), res.Destructive.Keys())
		}
		if len(res.Unchanged) != 1 || res.Unchanged[0] != (Key{"ApexClass", "AccountService"}) {
			t.Errorf("unchanged %v", res.Unchanged)
		}
	})
	t.Run("ReindentedXMLIsNoChange", func(t *testing.T) {
		// ebikes-lwc re-indented one line of a FlexiPage; sfdx-git-delta
		// redeploys it. Whitespace between elements means nothing to
		// Salesforce.
		before, after := basicFiles(t), basicFiles(t)
		p := d + "flows/Invoice_Follow_Up.flow-meta.xml"
		after[p] = []byte(strings.Replace(string(after[p]), "    <status>", "        <status>", 1))
		res, err := Delta(toFS(before), toFS(after), changesBetween(before, after), DeltaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Package.Empty() || len(res.Unchanged) != 1 {
			t.Errorf("package %v unchanged %v", res.Package.Keys(), res.Unchanged)
		}
	})
}

func TestDiffMatchesNamesWithoutCase(t *testing.T) {
	a, b := NewSet(), NewSet()
	ft := DefaultRegistry.Type("CustomField")
	a.Add(&Component{Type: ft, Name: "Invoice__c.status__c", Parent: "Invoice__c", Hash: "1"})
	b.Add(&Component{Type: ft, Name: "Invoice__c.Status__c", Parent: "Invoice__c", Hash: "1"})
	got := Diff(a, b)
	if len(got) != 1 || got[0].Change != Unchanged {
		t.Errorf("case-only difference: %+v", got)
	}
}
