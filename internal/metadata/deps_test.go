package metadata

import (
	"strings"
	"testing"
)

func TestReferences(t *testing.T) {
	set := readBasic(t, true).Set
	refs := References(set)
	var got []string
	for _, r := range refs {
		got = append(got, r.From.String()+" -> "+r.To.String())
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		"ApexClass AccountService -> CustomObject Account",
		"ApexClass AccountService -> CustomField Account.Tier__c",
		"ApexTrigger InvoiceTrigger -> CustomObject Invoice__c",
		"CustomField Invoice__c.Account__c -> CustomObject Account",
		"CustomField Invoice__c.Total__c -> CustomField Invoice__c.Account__c",
		"ValidationRule Account.Tier_Required -> CustomField Account.Tier__c",
		"Layout Invoice__c-Invoice %28Sales%29 Layout -> CustomField Invoice__c.Missing__c",
		"Layout Invoice__c-Invoice %28Sales%29 Layout -> CustomField Invoice__c.Status__c",
		"PermissionSet Invoicing -> ApexClass AccountService",
		"PermissionSet Invoicing -> CustomField Invoice__c.Total__c",
		"PermissionSet Invoicing -> CustomObject Invoice__c",
		"LightningComponentBundle invoiceList -> CustomField Invoice__c.Status__c",
		"LightningComponentBundle invoiceList -> ApexClass AccountService",
		"Flow Invoice_Follow_Up -> CustomField Invoice__c.Status__c",
		"WorkflowFieldUpdate Invoice__c.Set_Status -> CustomField Invoice__c.Status__c",
		"WorkflowRule Invoice__c.Send_Invoice -> CustomField Invoice__c.Total__c",
		"EmailTemplate Billing/Reminder -> CustomField Invoice__c.Total__c",
		"CustomTab Invoice__c -> CustomObject Invoice__c",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing reference %s", want)
		}
	}

	missing := Missing(refs, set, nil)
	var miss []string
	for _, r := range missing {
		miss = append(miss, r.To.String())
	}
	if strings.Join(miss, ",") != "CustomField Invoice__c.Missing__c" {
		t.Errorf("missing = %v, want only the layout's Missing__c", miss)
	}
	target := NewSet()
	target.Add(&Component{Type: DefaultRegistry.Type("CustomField"), Name: "Invoice__c.Missing__c", Parent: "Invoice__c"})
	if m := Missing(refs, set, target); len(m) != 0 {
		t.Errorf("present in the target should not be missing: %v", m)
	}
}

func TestApexScanIgnoresCommentsAndStandardThings(t *testing.T) {
	var got []string
	apexRefs(`// SELECT Id FROM Ghost__c
	/* Phantom__c.Field__c */
	List<Order__c> orders = [SELECT Id, Name, Amount__c, Account__r.Name FROM Order__c WHERE Paid__c = true];
	Order__c o = new Order__c(Paid__c = true);
	Schema.SObjectType t = Line__c.SObjectType;
	Decimal d = o.Amount__c;`, func(typ, name, where string) { got = append(got, typ+" "+name) })
	joined := strings.Join(got, "\n")
	for _, want := range []string{"CustomObject Order__c", "CustomField Order__c.Amount__c", "CustomObject Line__c"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %s in\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "Ghost__c") || strings.Contains(joined, "Phantom__c") {
		t.Errorf("references inside comments:\n%s", joined)
	}
	if !isStandard(Key{"CustomField", "Account.Name"}) || isStandard(Key{"CustomField", "Account.Tier__c"}) || !isStandard(Key{"CustomObject", "Contact"}) {
		t.Error("standard detection")
	}
}
