package metadata

import (
	"errors"
	"strings"
	"testing"
)

func TestParseXML(t *testing.T) {
	doc := "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- note -->\r\n" +
		`<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">` + "\r\n" +
		`  <label>Tier &amp; Rank &#x263A; &#65;</label>` + "\r\n" +
		`  <fields><fullName>A__c</fullName><formula><![CDATA[IF(a < b, "x", 'y')]]></formula></fields>` +
		`  <empty/>` +
		`</CustomObject>`
	n, err := ParseXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "CustomObject" || n.NS != MetadataNS || len(n.Children) != 3 {
		t.Fatalf("root %+v", n)
	}
	if got := n.ChildText("label"); got != "Tier & Rank ☺ A" {
		t.Errorf("label %q", got)
	}
	if got := n.Child("fields").ChildText("formula"); got != `IF(a < b, "x", 'y')` {
		t.Errorf("formula %q", got)
	}
}

func TestParseXMLRefusesHostileAndBroken(t *testing.T) {
	tests := map[string]string{
		"DTD":             `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`,
		"ExternalEntity":  `<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>`,
		"UnknownEntity":   `<x>&nbsp;</x>`,
		"BareAmpersand":   `<x>a & b</x>`,
		"Mismatched":      `<x><y></x></y>`,
		"Unclosed":        `<x><y>`,
		"TwoRoots":        `<x/><y/>`,
		"TextOutsideRoot": `hello<x/>`,
		"Empty":           ``,
		"BadCharRef":      `<x>&#0;</x>`,
		"UnquotedAttr":    `<x a=1/>`,
		"EmptyLocalName":  `<:/>`,
		"NameNotAName":    `<:!/>`,
		"DigitFirst":      `<1x/>`,
		"BadAttrName":     `<x :="1"/>`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseXML([]byte(doc)); err == nil {
				t.Errorf("ParseXML should refuse %q", doc)
			}
		})
	}
	_, err := ParseXML([]byte(tests["DTD"]))
	if !errors.Is(err, ErrDTD) {
		t.Errorf("DTD error should be ErrDTD: %v", err)
	}
	deep := strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300)
	if _, err := ParseXML([]byte(deep)); err == nil {
		t.Error("nesting beyond the limit should be refused")
	}
}

// Canonical content ignores what Salesforce ignores.
func TestCanonicalIgnoresFormatting(t *testing.T) {
	a := `<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Sales</label>
    <fieldPermissions>
        <editable>true</editable>
        <field>Account.Tier__c</field>
    </fieldPermissions>
    <x b="2" a="1"/>
</PermissionSet>
`
	b := "<PermissionSet xmlns=\"http://soap.sforce.com/2006/04/metadata\"><label>Sales</label>\r\n\t<fieldPermissions><editable>true</editable><field>Account.Tier__c</field></fieldPermissions><x a='1' b=\"2\"></x></PermissionSet>"
	na, err := ParseXML([]byte(a))
	if err != nil {
		t.Fatal(err)
	}
	nb, err := ParseXML([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if string(na.Canonical(false)) != string(nb.Canonical(false)) {
		t.Errorf("canonical forms differ:\n%s\n%s", na.Canonical(false), nb.Canonical(false))
	}
	c := strings.Replace(a, "<editable>true</editable>", "<editable>false</editable>", 1)
	nc, _ := ParseXML([]byte(c))
	if string(na.Canonical(false)) == string(nc.Canonical(false)) {
		t.Error("a real change must change the canonical form")
	}
	reordered := `<PermissionSet><x a="1" b="2"/><fieldPermissions><editable>true</editable><field>Account.Tier__c</field></fieldPermissions><label>Sales</label></PermissionSet>`
	nr, _ := ParseXML([]byte(reordered))
	if string(na.Canonical(true)) != string(nr.Canonical(true)) {
		t.Error("unordered canonical form should ignore top-level order")
	}
	if string(na.Canonical(false)) == string(nr.Canonical(false)) {
		t.Error("ordered canonical form should see the reorder")
	}
}

func TestMarshalRoundTrips(t *testing.T) {
	src := `<CustomLabels xmlns="http://soap.sforce.com/2006/04/metadata"><labels><fullName>Hi</fullName><value>a &lt; b &amp; "c"</value><protected>false</protected></labels><empty/></CustomLabels>`
	n, err := ParseXML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out := n.Marshal()
	if !strings.HasPrefix(string(out), `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<CustomLabels xmlns="http://soap.sforce.com/2006/04/metadata">`+"\n    <labels>\n") {
		t.Errorf("unexpected layout:\n%s", out)
	}
	back, err := ParseXML(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Canonical(false)) != string(n.Canonical(false)) {
		t.Errorf("round trip changed content:\n%s", out)
	}
}
