package metadata

import (
	"testing"
)

func mustParse(t *testing.T, s string) *Node {
	t.Helper()
	n, err := ParseXML([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDiffXMLPermissionSet(t *testing.T) {
	a := mustParse(t, `<PermissionSet>
  <label>Invoicing</label>
  <fieldPermissions><editable>true</editable><field>Invoice__c.Status__c</field><readable>true</readable></fieldPermissions>
  <fieldPermissions><editable>false</editable><field>Invoice__c.Total__c</field><readable>true</readable></fieldPermissions>
  <classAccesses><apexClass>A</apexClass><enabled>true</enabled></classAccesses>
</PermissionSet>`)
	b := mustParse(t, `<PermissionSet>
  <label>Invoicing team</label>
  <classAccesses><apexClass>A</apexClass><enabled>true</enabled></classAccesses>
  <fieldPermissions><editable>true</editable><field>Invoice__c.Total__c</field><readable>true</readable></fieldPermissions>
  <fieldPermissions><editable>true</editable><field>Invoice__c.Account__c</field><readable>true</readable></fieldPermissions>
</PermissionSet>`)
	got := DiffXML(a, b)
	want := []XMLChange{
		{Path: "fieldPermissions[Invoice__c.Status__c]", Kind: Deleted, Old: "editable=true, field=Invoice__c.Status__c, readable=true"},
		{Path: "fieldPermissions[Invoice__c.Total__c]/editable", Kind: Changed, Old: "false", New: "true"},
		{Path: "fieldPermissions[Invoice__c.Account__c]", Kind: Added, New: "editable=true, field=Invoice__c.Account__c, readable=true"},
		{Path: "label", Kind: Changed, Old: "Invoicing", New: "Invoicing team"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d changes: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if d := DiffXML(a, a); len(d) != 0 {
		t.Errorf("no changes expected, got %+v", d)
	}
}

func TestBuildPackageIsDeterministicAndChecked(t *testing.T) {
	set := readBasic(t, true).Set
	spec := PackageSpec{Components: set, Version: "62.0", Deletions: map[DestructiveKind][]Key{
		DestructivePost: {{"ApexClass", "OldService"}, {"CustomField", "Invoice__c.Legacy__c"}},
	}}
	a, err := BuildPackage(spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildPackage(spec)
	if err != nil {
		t.Fatal(err)
	}
	if a.Checksum != b.Checksum || len(a.Checksum) != 64 {
		t.Errorf("checksums %s %s", a.Checksum, b.Checksum)
	}
	files, err := ReadZip(a.Zip, DefaultZipLimits)
	if err != nil {
		t.Fatal(err)
	}
	post, err := ParseManifest(files["destructiveChangesPost.xml"])
	if err != nil || !post.Has("CustomField", "Invoice__c.Legacy__c") {
		t.Errorf("destructiveChangesPost.xml: %v %s", err, files["destructiveChangesPost.xml"])
	}
	pkg, _ := ParseManifest(files["package.xml"])
	if !pkg.Has("Report", "Sales") || !pkg.Has("Report", "Sales/Pipeline") || !pkg.Has("CustomField", "Invoice__c.Total__c") {
		t.Errorf("package.xml lacks members:\n%s", files["package.xml"])
	}
	_, err = BuildPackage(PackageSpec{Version: "62.0", Deletions: map[DestructiveKind][]Key{DestructiveDefault: {{"Settings", "Account"}}}})
	if err == nil {
		t.Error("deleting Settings must be refused")
	}
	if _, err := BuildPackage(PackageSpec{Version: "abc"}); err == nil {
		t.Error("a bad API version must be refused")
	}
	empty, err := BuildPackage(PackageSpec{Version: "62.0", Deletions: map[DestructiveKind][]Key{DestructiveDefault: {{"ApexClass", "Gone"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := empty.Files["package.xml"]; !ok {
		t.Error("a delete-only package still needs package.xml")
	}
}
