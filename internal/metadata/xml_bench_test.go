package metadata

import (
	"fmt"
	"strings"
	"testing"
)

// A permission set of 400 field permissions: the kind of file a delta
// parses on both sides of every change.
func benchPermissionSet() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n")
	for i := range 400 {
		fmt.Fprintf(&b, "    <fieldPermissions>\n        <editable>%t</editable>\n        <field>Account.Field_%d__c</field>\n        <readable>true</readable>\n    </fieldPermissions>\n", i%2 == 0, i)
	}
	b.WriteString("    <label>Sales &amp; Service</label>\n</PermissionSet>\n")
	return []byte(b.String())
}

func BenchmarkParseXML(b *testing.B) {
	data := benchPermissionSet()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseXML(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalHash(b *testing.B) {
	n, err := ParseXML(benchPermissionSet())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = n.Canonical(true)
	}
}
