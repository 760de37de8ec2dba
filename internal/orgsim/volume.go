package orgsim

import (
	"fmt"
	"strings"
	"time"
)

// LoadVolume fills the org with n generated records spread over objects
// objects: the standard ones it has, then custom objects Volume01__c… it
// creates (each with a text, a number, a date and a lookup to Account),
// for benchmarks and demos that need volume without a million API calls.
// Records are written straight into the org's state, stamped a minute
// apart back from now.
func (o *Org) LoadVolume(n, objects int) error {
	std := []string{"Account", "Contact", "Opportunity", "Case"}
	var names []string
	for i := 0; i < objects; i++ {
		if i < len(std) {
			names = append(names, std[i])
			continue
		}
		name := fmt.Sprintf("Volume%02d__c", i-len(std)+1)
		if err := o.ChangeInSetup(SetupChange{Type: "CustomObject", FullName: name, User: "Admin User",
			XML: `<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata"><label>` + name + `</label><pluralLabel>` + name +
				`</pluralLabel><nameField><label>Name</label><type>Text</type></nameField><deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel></CustomObject>`}); err != nil {
			return err
		}
		for _, f := range []string{
			`<fields><fullName>Note__c</fullName><label>Note</label><type>Text</type><length>255</length></fields>`,
			`<fields><fullName>Amount__c</fullName><label>Amount</label><type>Number</type><precision>18</precision><scale>2</scale></fields>`,
			`<fields><fullName>Due__c</fullName><label>Due</label><type>Date</type></fields>`,
			`<fields><fullName>Account__c</fullName><label>Account</label><type>Lookup</type><referenceTo>Account</referenceTo><relationshipName>Volume</relationshipName></fields>`,
		} {
			field, _, _ := strings.Cut(strings.TrimPrefix(f, "<fields><fullName>"), "</fullName>")
			full := name + "." + field
			if err := o.ChangeInSetup(SetupChange{Type: "CustomField", FullName: full, XML: f, User: "Admin User"}); err != nil {
				return err
			}
		}
		names = append(names, name)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var acct string
	if accts := o.st.Records["Account"]; len(accts) > 0 {
		acct, _ = accts[0]["Id"].(string)
	}
	now := time.Now()
	per := n / len(names)
	for oi, obj := range names {
		count := per
		if oi == len(names)-1 {
			count = n - per*(len(names)-1)
		}
		rows := make([]Record, 0, count)
		for i := range count {
			r := Record{}
			switch obj {
			case "Account":
				r["Name"], r["Industry"], r["AnnualRevenue"] = fmt.Sprintf("Volume Account %07d", i), "Technology", float64(1000*i)
			case "Contact":
				r["FirstName"], r["LastName"], r["Email"], r["AccountId"] = "Vol", fmt.Sprintf("Contact %07d", i), fmt.Sprintf("c%07d@volume.example", i), acct
			case "Opportunity":
				r["Name"], r["StageName"], r["CloseDate"], r["Amount"] = fmt.Sprintf("Volume Deal %07d", i), "Prospecting", "2026-12-31", float64(500*i)
			case "Case":
				r["Subject"], r["Status"], r["Origin"] = fmt.Sprintf("Volume case %07d", i), "New", "Web"
			default:
				r["Name"], r["Note__c"], r["Amount__c"], r["Due__c"], r["Account__c"] = fmt.Sprintf("V-%07d", i), "generated for volume", float64(i), "2026-06-30", acct
			}
			def := o.schema(obj)
			r["Id"] = o.nextID(def.KeyPrefix)
			r["OwnerId"] = o.st.UserID
			o.stamp(r, obj, now.Add(-time.Duration(count-i)*time.Minute))
			rows = append(rows, r)
		}
		o.st.Records[obj] = append(o.st.Records[obj], rows...)
	}
	return o.saveLocked()
}
