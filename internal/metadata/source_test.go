package metadata

import (
	"os"
	"sort"
	"strings"
	"testing"
)

func readBasic(t *testing.T, keep bool) *ReadResult {
	t.Helper()
	proj, err := LoadProject(os.DirFS("testdata/basic"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ReadSource(proj, ReadOptions{KeepContent: keep})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func keysOf(s *Set) []string {
	var out []string
	for _, c := range s.Components() {
		out = append(out, c.Key().String())
	}
	return out
}

func TestReadSourceFindsEveryComponent(t *testing.T) {
	res := readBasic(t, true)
	want := []string{
		"ApexClass AccountService", "ApexClass AccountServiceTest", "ApexTrigger InvoiceTrigger",
		"AuraDefinitionBundle Hello",
		"CustomField Account.Tier__c", "CustomField Invoice__c.Account__c", "CustomField Invoice__c.Status__c", "CustomField Invoice__c.Total__c",
		"CustomLabel Farewell", "CustomLabel Greeting",
		"CustomObject Account", "CustomObject Invoice__c",
		"CustomObjectTranslation Invoice__c-es", "CustomTab Invoice__c",
		"Document Shared/terms.txt", "DocumentFolder Shared",
		"EmailFolder Billing", "EmailTemplate Billing/Reminder",
		"Flow Invoice_Follow_Up",
		"Layout Invoice__c-Invoice %28Sales%29 Layout",
		"LightningComponentBundle invoiceList",
		"ListView Invoice__c.All",
		"PermissionSet Invoicing", "Profile Admin",
		"RecordType Invoice__c.Standard",
		"Report Sales/Pipeline", "ReportFolder Sales",
		"Settings Account",
		"StaticResource lib", "StaticResource logo",
		"ValidationRule Account.Tier_Required",
		"WorkflowFieldUpdate Invoice__c.Set_Status", "WorkflowRule Invoice__c.Send_Invoice",
	}
	got := keysOf(res.Set)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("components:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	sort.Strings(res.Skipped)
	if len(res.Skipped) != 0 {
		t.Errorf("skipped %v", res.Skipped)
	}
	if res.Ignored != 2 {
		t.Errorf("ignored %d files, want 2 (jsconfig.json and the jest test)", res.Ignored)
	}
	lwc := res.Set.Get(Key{"LightningComponentBundle", "invoiceList"})
	var parts []string
	for _, p := range lwc.Parts {
		parts = append(parts, p.Name)
	}
	if strings.Join(parts, ",") != "invoiceList.html,invoiceList.js,invoiceList.js-meta.xml" {
		t.Errorf("bundle parts %v", parts)
	}
	lib := res.Set.Get(Key{"StaticResource", "lib"})
	if len(lib.Parts) != 2 || lib.Parts[0].Name != "css/lib.css" {
		t.Errorf("folder resource parts %+v", lib.Parts)
	}
	tr := res.Set.Get(Key{"CustomObjectTranslation", "Invoice__c-es"})
	if tr.XML.Child("fields") == nil || tr.XML.Child("fields").ChildText("label") != "Estado" {
		t.Errorf("field translation not merged: %s", tr.XML.Canonical(false))
	}
	for _, c := range res.Set.Components() {
		if len(c.Hash) != 64 {
			t.Errorf("%s has no hash", c.Key())
		}
	}
}

func TestReadSourceWithoutContentKeepsHashes(t *testing.T) {
	full, light := readBasic(t, true), readBasic(t, false)
	for _, c := range light.Set.Components() {
		if c.XML != nil || c.Parts != nil {
			t.Errorf("%s kept content", c.Key())
		}
		if full.Set.Get(c.Key()).Hash != c.Hash {
			t.Errorf("%s hash differs without content", c.Key())
		}
	}
}
