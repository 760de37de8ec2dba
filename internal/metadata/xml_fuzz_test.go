package metadata

import "testing"

// FuzzParseXML checks the parser never panics and that whatever it accepts
// survives a Marshal round trip with the same canonical form.
func FuzzParseXML(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="http://soap.sforce.com/2006/04/metadata"><fields><fullName>A__c</fullName></fields></CustomObject>`,
		`<a x="1" y='&amp;'><b>t&lt;</b><![CDATA[c]]><!-- c --></a>`,
		`<!DOCTYPE a><a/>`,
		`<a>&#x41;&#66;</a>`,
		`<a><b>text</b>mixed<c/></a>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseXML(data)
		if err != nil {
			return
		}
		back, err := ParseXML(n.Marshal())
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, n.Marshal())
		}
		if string(back.Canonical(false)) != string(n.Canonical(false)) {
			t.Fatalf("round trip changed canonical form:\n%s\n%s", n.Canonical(false), back.Canonical(false))
		}
	})
}
