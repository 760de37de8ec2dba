package orgsim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// fieldDef describes a field of an sObject.
type fieldDef struct {
	Name       string
	Label      string
	Type       string // id, string, textarea, email, phone, url, boolean, int, double, currency, percent, date, datetime, reference, picklist
	Length     int
	Ref        string // referenceTo
	RelName    string // relationship name for references
	ChildRel   string // how the referenced object names its children (custom lookups)
	Calculated bool
	Nillable   bool
	Createable bool
	Updateable bool
	External   bool
	Unique     bool
	AutoNumber bool
	Custom     bool
	Picklist   []string
}

// objDef describes an sObject.
type objDef struct {
	Name, Label, LabelPlural, KeyPrefix string
	Custom                              bool
	Fields                              []fieldDef
}

func (d *objDef) field(name string) *fieldDef {
	for i := range d.Fields {
		if strings.EqualFold(d.Fields[i].Name, name) {
			return &d.Fields[i]
		}
	}
	return nil
}

// relation finds a reference field by its relationship name (Owner,
// Account, Parent__r).
func (d *objDef) relation(rel string) *fieldDef {
	for i := range d.Fields {
		if d.Fields[i].Type == "reference" && strings.EqualFold(d.Fields[i].RelName, rel) {
			return &d.Fields[i]
		}
	}
	return nil
}

func sysFields(owner bool) []fieldDef {
	f := []fieldDef{
		{Name: "Id", Label: "Record ID", Type: "id", Length: 18},
		{Name: "IsDeleted", Label: "Deleted", Type: "boolean"},
		{Name: "CreatedDate", Label: "Created Date", Type: "datetime"},
		{Name: "CreatedById", Label: "Created By ID", Type: "reference", Ref: "User", RelName: "CreatedBy", Length: 18},
		{Name: "LastModifiedDate", Label: "Last Modified Date", Type: "datetime"},
		{Name: "LastModifiedById", Label: "Last Modified By ID", Type: "reference", Ref: "User", RelName: "LastModifiedBy", Length: 18},
		{Name: "SystemModstamp", Label: "System Modstamp", Type: "datetime"},
	}
	if owner {
		f = append(f, fieldDef{Name: "OwnerId", Label: "Owner ID", Type: "reference", Ref: "User", RelName: "Owner", Length: 18, Createable: true, Updateable: true})
	}
	return f
}

func editable(fs ...fieldDef) []fieldDef {
	for i := range fs {
		if !fs[i].Calculated && !fs[i].AutoNumber {
			fs[i].Createable, fs[i].Updateable, fs[i].Nillable = true, true, true
		}
	}
	return fs
}

// standardObjects are the sObjects every simulated org has.
var standardObjects = []objDef{
	{Name: "Account", Label: "Account", LabelPlural: "Accounts", KeyPrefix: "001", Fields: append(sysFields(true), editable(
		fieldDef{Name: "Name", Label: "Account Name", Type: "string", Length: 255},
		fieldDef{Name: "Type", Label: "Account Type", Type: "picklist", Length: 255, Picklist: []string{"Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"}},
		fieldDef{Name: "Industry", Label: "Industry", Type: "picklist", Length: 255, Picklist: []string{"Agriculture", "Banking", "Energy", "Healthcare", "Manufacturing", "Retail", "Technology"}},
		fieldDef{Name: "AnnualRevenue", Label: "Annual Revenue", Type: "currency"},
		fieldDef{Name: "NumberOfEmployees", Label: "Employees", Type: "int"},
		fieldDef{Name: "Phone", Label: "Account Phone", Type: "phone", Length: 40},
		fieldDef{Name: "Website", Label: "Website", Type: "url", Length: 255},
		fieldDef{Name: "BillingCity", Label: "Billing City", Type: "string", Length: 40},
		fieldDef{Name: "BillingCountry", Label: "Billing Country", Type: "string", Length: 80},
		fieldDef{Name: "ParentId", Label: "Parent Account ID", Type: "reference", Ref: "Account", RelName: "Parent", Length: 18},
		fieldDef{Name: "Description", Label: "Account Description", Type: "textarea", Length: 32000},
	)...)},
	{Name: "Contact", Label: "Contact", LabelPlural: "Contacts", KeyPrefix: "003", Fields: append(append(sysFields(true), editable(
		fieldDef{Name: "FirstName", Label: "First Name", Type: "string", Length: 40},
		fieldDef{Name: "LastName", Label: "Last Name", Type: "string", Length: 80},
		fieldDef{Name: "Email", Label: "Email", Type: "email", Length: 80},
		fieldDef{Name: "Phone", Label: "Business Phone", Type: "phone", Length: 40},
		fieldDef{Name: "Title", Label: "Title", Type: "string", Length: 128},
		fieldDef{Name: "AccountId", Label: "Account ID", Type: "reference", Ref: "Account", RelName: "Account", Length: 18},
	)...), fieldDef{Name: "Name", Label: "Full Name", Type: "string", Length: 121, Calculated: true})},
	{Name: "Opportunity", Label: "Opportunity", LabelPlural: "Opportunities", KeyPrefix: "006", Fields: append(sysFields(true), editable(
		fieldDef{Name: "Name", Label: "Name", Type: "string", Length: 120},
		fieldDef{Name: "StageName", Label: "Stage", Type: "picklist", Length: 255, Picklist: []string{"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}},
		fieldDef{Name: "CloseDate", Label: "Close Date", Type: "date"},
		fieldDef{Name: "Amount", Label: "Amount", Type: "currency"},
		fieldDef{Name: "Probability", Label: "Probability (%)", Type: "percent"},
		fieldDef{Name: "AccountId", Label: "Account ID", Type: "reference", Ref: "Account", RelName: "Account", Length: 18},
	)...)},
	{Name: "Case", Label: "Case", LabelPlural: "Cases", KeyPrefix: "500", Fields: append(append(sysFields(true), editable(
		fieldDef{Name: "Subject", Label: "Subject", Type: "string", Length: 255},
		fieldDef{Name: "Status", Label: "Status", Type: "picklist", Length: 255, Picklist: []string{"New", "Working", "Escalated", "Closed"}},
		fieldDef{Name: "Priority", Label: "Priority", Type: "picklist", Length: 255, Picklist: []string{"High", "Medium", "Low"}},
		fieldDef{Name: "Origin", Label: "Case Origin", Type: "picklist", Length: 255, Picklist: []string{"Phone", "Email", "Web"}},
		fieldDef{Name: "AccountId", Label: "Account ID", Type: "reference", Ref: "Account", RelName: "Account", Length: 18},
		fieldDef{Name: "ContactId", Label: "Contact ID", Type: "reference", Ref: "Contact", RelName: "Contact", Length: 18},
		fieldDef{Name: "Description", Label: "Description", Type: "textarea", Length: 32000},
	)...), fieldDef{Name: "CaseNumber", Label: "Case Number", Type: "string", Length: 30, AutoNumber: true})},
	{Name: "User", Label: "User", LabelPlural: "Users", KeyPrefix: "005", Fields: append(sysFields(false),
		fieldDef{Name: "Username", Label: "Username", Type: "string", Length: 80},
		fieldDef{Name: "Name", Label: "Full Name", Type: "string", Length: 121},
		fieldDef{Name: "Email", Label: "Email", Type: "email", Length: 128},
		fieldDef{Name: "IsActive", Label: "Active", Type: "boolean"},
	)},
	// The org itself, one read-only row: the Salesforce CLI reads it
	// before a deploy or retrieve to learn what sort of org it talks to.
	{Name: "Organization", Label: "Organization", LabelPlural: "Organizations", KeyPrefix: "00D", Fields: []fieldDef{
		{Name: "Id", Label: "Organization ID", Type: "id", Length: 18}, {Name: "Name", Label: "Name", Type: "string", Length: 80},
		{Name: "IsSandbox", Label: "Is Sandbox", Type: "boolean"}, {Name: "OrganizationType", Label: "Edition", Type: "picklist", Length: 40},
		{Name: "InstanceName", Label: "Instance Name", Type: "string", Length: 5}, {Name: "NamespacePrefix", Label: "Namespace Prefix", Type: "string", Length: 15, Nillable: true},
		{Name: "TrialExpirationDate", Label: "Trial Expiration Date", Type: "datetime", Nillable: true}, {Name: "LanguageLocaleKey", Label: "Language", Type: "picklist", Length: 40},
		{Name: "TimeZoneSidKey", Label: "Time Zone", Type: "picklist", Length: 40}, {Name: "DefaultLocaleSidKey", Label: "Locale", Type: "picklist", Length: 40},
		{Name: "CreatedDate", Label: "Created Date", Type: "datetime"}, {Name: "SystemModstamp", Label: "System Modstamp", Type: "datetime"},
	}},
	{Name: "SetupAuditTrail", Label: "Setup Audit Trail", LabelPlural: "Setup Audit Trail", KeyPrefix: "0Ym", Fields: []fieldDef{
		{Name: "Id", Type: "id", Length: 18}, {Name: "Action", Type: "string", Length: 255}, {Name: "Section", Type: "string", Length: 255},
		{Name: "Display", Type: "string", Length: 1000}, {Name: "CreatedDate", Type: "datetime"},
		{Name: "CreatedById", Type: "reference", Ref: "User", RelName: "CreatedBy", Length: 18}, {Name: "DelegateUser", Type: "string", Length: 80},
		{Name: "SystemModstamp", Type: "datetime"},
	}},
}

// schema returns the sObject named name (case-insensitively): a standard
// object with the custom fields deployed on it, or a deployed custom
// object. o.mu is held.
func (o *Org) schema(name string) *objDef {
	var def *objDef
	for i := range standardObjects {
		if strings.EqualFold(standardObjects[i].Name, name) {
			d := standardObjects[i]
			d.Fields = append([]fieldDef(nil), d.Fields...)
			def = &d
		}
	}
	if def == nil {
		obj := o.set.Get(metadata.Key{Type: "CustomObject", Name: canonicalObject(o.set, name)})
		if obj == nil || !strings.HasSuffix(strings.ToLower(obj.Name), "__c") {
			return nil
		}
		label := obj.Name
		plural := obj.Name
		if obj.XML != nil {
			label = nonEmpty(obj.XML.ChildText("label"), label)
			plural = nonEmpty(obj.XML.ChildText("pluralLabel"), label)
		}
		def = &objDef{Name: obj.Name, Label: label, LabelPlural: plural, Custom: true, KeyPrefix: customPrefix(obj.Name), Fields: sysFields(true)}
		nameField := fieldDef{Name: "Name", Label: label + " Name", Type: "string", Length: 80, Createable: true, Updateable: true}
		if obj.XML != nil {
			if nf := obj.XML.Child("nameField"); nf != nil && nf.ChildText("type") == "AutoNumber" {
				nameField = fieldDef{Name: "Name", Label: nonEmpty(nf.ChildText("label"), "Name"), Type: "string", Length: 80, AutoNumber: true}
			}
		}
		def.Fields = append(def.Fields, nameField)
	}
	for _, c := range o.set.Components() {
		if c.Type.Name != "CustomField" || !strings.EqualFold(c.Parent, def.Name) {
			continue
		}
		_, fname, _ := strings.Cut(c.Name, ".")
		if def.field(fname) != nil || !strings.HasSuffix(fname, "__c") {
			continue
		}
		def.Fields = append(def.Fields, customField(fname, c.XML))
	}
	return def
}

func nonEmpty(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// canonicalObject finds the spelling under which the org knows an object.
func canonicalObject(s *metadata.Set, name string) string {
	for _, c := range s.Components() {
		if c.Type.Name == "CustomObject" && strings.EqualFold(c.Name, name) {
			return c.Name
		}
	}
	return name
}

func customPrefix(name string) string {
	h := 0
	for _, c := range strings.ToLower(name) {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return fmt.Sprintf("a0%c", base62[10+h%26])
}

// customField maps a CustomField's XML to a field of the data API.
func customField(name string, x *metadata.Node) fieldDef {
	f := fieldDef{Name: name, Label: name, Type: "string", Length: 255, Custom: true, Createable: true, Updateable: true, Nillable: true}
	if x == nil {
		return f
	}
	f.Label = nonEmpty(x.ChildText("label"), name)
	if x.ChildText("formula") != "" {
		f.Calculated, f.Createable, f.Updateable = true, false, false
	}
	f.External = x.ChildText("externalId") == "true"
	f.Unique = x.ChildText("unique") == "true"
	switch x.ChildText("type") {
	case "Checkbox":
		f.Type, f.Nillable = "boolean", false
	case "Number":
		f.Type = "double"
		if x.ChildText("scale") == "0" {
			f.Type = "int"
		}
	case "Currency":
		f.Type = "currency"
	case "Percent":
		f.Type = "percent"
	case "Date":
		f.Type = "date"
	case "DateTime":
		f.Type = "datetime"
	case "Email":
		f.Type = "email"
	case "Phone":
		f.Type = "phone"
	case "Url":
		f.Type = "url"
	case "TextArea", "LongTextArea", "Html":
		f.Type = "textarea"
	case "Picklist", "MultiselectPicklist":
		f.Type = "picklist"
	case "AutoNumber":
		f.AutoNumber, f.Createable, f.Updateable = true, false, false
	case "Lookup", "MasterDetail":
		f.Type = "reference"
		f.Ref = x.ChildText("referenceTo")
		f.RelName = strings.TrimSuffix(name, "__c") + "__r"
		if rn := x.ChildText("relationshipName"); rn != "" {
			f.ChildRel = rn + "__r"
		}
		f.Length = 18
	}
	return f
}

// sobjectNames lists the queryable sObjects, standard first.
func (o *Org) sobjectNames() []string {
	var out []string
	for _, d := range standardObjects {
		out = append(out, d.Name)
	}
	var custom []string
	for _, c := range o.set.Components() {
		if c.Type.Name == "CustomObject" && strings.HasSuffix(strings.ToLower(c.Name), "__c") {
			custom = append(custom, c.Name)
		}
	}
	sort.Strings(custom)
	return append(out, custom...)
}

// seed gives a new org its standard metadata and some records.
func (o *Org) seed() {
	epoch := time.Unix(0, 0).UTC()
	files := map[string][]byte{}
	for _, obj := range []string{"Account", "Contact", "Opportunity", "Case"} {
		files["objects/"+obj+".object"] = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <enableFeeds>false</enableFeeds>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
`)
		files["layouts/"+obj+"-"+obj+" Layout.layout"] = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Layout xmlns="http://soap.sforce.com/2006/04/metadata">
    <layoutSections>
        <label>Information</label>
        <style>TwoColumnsTopToBottom</style>
    </layoutSections>
</Layout>
`)
	}
	files["profiles/Admin.profile"] = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Profile xmlns="http://soap.sforce.com/2006/04/metadata">
    <custom>false</custom>
    <userLicense>Salesforce</userLicense>
</Profile>
`)
	if res, err := metadata.ReadMetadataFormat(metadata.MemFS(files), metadata.ReadOptions{KeepContent: true}); err == nil {
		o.set = res.Set
	}
	for _, c := range o.set.Components() {
		o.st.Meta[metaKey(c.Key())] = &componentMeta{ID: "", Created: epoch, Modified: epoch, ModifiedBy: "Admin User"}
	}
	o.seedRecords()
}

var (
	seedCompanies = []string{"Acme Corporation", "Globex", "Initech", "Umbrella Health", "Stark Industries", "Wayne Enterprises",
		"Wonka Foods", "Soylent Energy", "Cyberdyne Systems", "Tyrell Retail", "Hooli", "Pied Piper", "Vandelay Imports",
		"Massive Dynamic", "Oceanic Air", "Gringotts Banking", "Nakatomi Trading", "Monarch Solutions", "Virtucon", "Prestige Worldwide"}
	seedPeople = []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Linus Torvalds", "Margaret Hamilton",
		"Dennis Ritchie", "Barbara Liskov", "Ken Thompson", "Frances Allen", "Edsger Dijkstra", "Radia Perlman",
		"Donald Knuth", "Hedy Lamarr", "Tim Berners-Lee", "Shafi Goldwasser", "John McCarthy", "Adele Goldberg",
		"Niklaus Wirth", "Sophie Wilson", "Guido Rossum", "Jean Sammet", "Bjarne Stroustrup", "Carol Shaw",
		"Vint Cerf", "Lynn Conway", "Whitfield Diffie", "Mary Wilkes", "Leslie Lamport", "Karen Jones"}
)

func (o *Org) seedRecords() {
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	user := Record{"Id": o.st.UserID, "Username": o.st.Username, "Name": "Admin User", "Email": o.st.Username, "IsActive": true}
	o.stamp(user, "User", base)
	o.st.Records["User"] = []Record{user}
	industries := []string{"Technology", "Banking", "Healthcare", "Energy", "Retail", "Manufacturing", "Agriculture"}
	var accounts []Record
	for i, name := range seedCompanies {
		r := Record{"Name": name, "Industry": industries[i%len(industries)], "Type": "Customer - Direct",
			"AnnualRevenue": float64(1_000_000 * (i + 1)), "NumberOfEmployees": float64(50 * (i + 1)),
			"Phone": fmt.Sprintf("+1 415 555 %04d", 100+i), "Website": "https://" + strings.ToLower(strings.Fields(name)[0]) + ".example",
			"BillingCity": []string{"San Francisco", "London", "Berlin", "Tokyo", "Sydney"}[i%5], "BillingCountry": []string{"USA", "UK", "Germany", "Japan", "Australia"}[i%5]}
		o.insertSeed("Account", r, base.Add(time.Duration(i)*24*time.Hour))
		accounts = append(accounts, r)
	}
	for i, name := range seedPeople {
		first, last, _ := strings.Cut(name, " ")
		acc := accounts[i%len(accounts)]
		r := Record{"FirstName": first, "LastName": last, "Name": name, "Email": strings.ToLower(first+"."+last) + "@example.com",
			"Title": []string{"CTO", "Engineer", "Buyer", "VP Sales"}[i%4], "AccountId": acc["Id"]}
		o.insertSeed("Contact", r, base.Add(time.Duration(i)*12*time.Hour))
	}
	stages := []string{"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}
	for i := 0; i < 18; i++ {
		acc := accounts[(i*3)%len(accounts)]
		r := Record{"Name": fmt.Sprintf("%s renewal %d", acc["Name"], 2026+i%2), "StageName": stages[i%len(stages)],
			"CloseDate": base.AddDate(0, i%9, 0).Format("2006-01-02"), "Amount": float64(5000 * (i + 2)), "Probability": float64(10 * (i%10 + 1)), "AccountId": acc["Id"]}
		o.insertSeed("Opportunity", r, base.Add(time.Duration(i)*36*time.Hour))
	}
	for i := 0; i < 12; i++ {
		acc := accounts[(i*7)%len(accounts)]
		r := Record{"Subject": []string{"Cannot log in", "Invoice question", "Feature request", "Outage report"}[i%4],
			"Status": []string{"New", "Working", "Escalated", "Closed"}[i%4], "Priority": []string{"High", "Medium", "Low"}[i%3],
			"Origin": []string{"Phone", "Email", "Web"}[i%3], "AccountId": acc["Id"], "CaseNumber": fmt.Sprintf("%08d", 1001+i)}
		o.insertSeed("Case", r, base.Add(time.Duration(i)*48*time.Hour))
	}
}

// organizationRow keeps the Organization sObject's one row in step with
// the org (on every start, so orgs saved before it existed have it too).
func (o *Org) organizationRow() {
	edition, instance := map[Kind]string{Production: "Enterprise Edition", Sandbox: "Enterprise Edition", Developer: "Developer Edition"}[o.st.Kind], "NA224"
	if o.st.Kind == Sandbox {
		instance = "CS42"
	}
	ts := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000+0000")
	o.st.Records["Organization"] = []Record{{"Id": o.st.ID, "Name": "Orgsim " + o.Name, "IsSandbox": o.st.Kind == Sandbox,
		"OrganizationType": edition, "InstanceName": instance, "NamespacePrefix": nil, "TrialExpirationDate": nil,
		"LanguageLocaleKey": "en_US", "TimeZoneSidKey": "America/Los_Angeles", "DefaultLocaleSidKey": "en_US", "CreatedDate": ts, "SystemModstamp": ts}}
}

func (o *Org) insertSeed(obj string, r Record, at time.Time) {
	def := o.schema(obj)
	r["Id"] = o.nextID(def.KeyPrefix)
	r["OwnerId"] = o.st.UserID
	o.stamp(r, obj, at)
	o.st.Records[obj] = append(o.st.Records[obj], r)
}

// stamp sets the system fields of a row written at t.
func (o *Org) stamp(r Record, obj string, t time.Time) {
	ts := t.UTC().Format("2006-01-02T15:04:05.000+0000")
	if _, ok := r["CreatedDate"]; !ok {
		r["CreatedDate"] = ts
		r["CreatedById"] = o.st.UserID
	}
	r["LastModifiedDate"] = ts
	r["LastModifiedById"] = o.st.UserID
	r["SystemModstamp"] = ts
	if _, ok := r["IsDeleted"]; !ok {
		r["IsDeleted"] = false
	}
}

// readOnly reports the sObjects no API call writes.
func readOnly(name string) bool { return name == "SetupAuditTrail" || name == "Organization" }
