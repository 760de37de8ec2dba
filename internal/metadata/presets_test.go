package metadata

import (
	"strings"
	"testing"
)

// A project that opts into decomposed Workflow, SharingRules and
// CustomLabels keeps each rule and label in its own file; its components
// and their hashes must be exactly those of the monolithic layout.
func TestPresetLayoutsReadTheSame(t *testing.T) {
	mono := readBasic(t, true).Set
	proj, err := ParseProject([]byte(`{"packageDirectories":[{"path":"force-app","default":true}],
		"sourceBehaviorOptions":["decomposeWorkflowBeta","decomposeCustomLabelsBeta2","decomposeSharingRulesBeta"]}`))
	if err != nil {
		t.Fatal(err)
	}
	files, err := WriteSource(mono, SourceLayout{Base: "force-app/main/default", Project: proj})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"force-app/main/default/workflows/Invoice__c/workflowRules/Send_Invoice.workflowRule-meta.xml",
		"force-app/main/default/workflows/Invoice__c/workflowFieldUpdates/Set_Status.workflowFieldUpdate-meta.xml",
		"force-app/main/default/labels/Greeting.label-meta.xml",
	} {
		if _, ok := files[p]; !ok {
			t.Errorf("decomposed layout lacks %s", p)
		}
	}
	if _, ok := files["force-app/main/default/labels/CustomLabels.labels-meta.xml"]; ok {
		t.Error("with the labels preset there is no CustomLabels file")
	}
	files["sfdx-project.json"] = []byte(`{"packageDirectories":[{"path":"force-app","default":true}],
		"sourceBehaviorOptions":["decomposeWorkflowBeta","decomposeCustomLabelsBeta2","decomposeSharingRulesBeta"]}`)
	loaded, err := LoadProject(MemFS(files))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ReadSource(loaded, ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	sameSets(t, "preset layout", mono, res.Set)
}

// A permission set split by decomposePermissionSetBeta2 reads as the one
// permission set it recomposes to, whatever the order of its pieces.
func TestDecomposedPermissionSetMatchesMonolithic(t *testing.T) {
	mono := readBasic(t, true).Set.Get(Key{"PermissionSet", "Invoicing"})
	base := "force-app/main/default/permissionsets/Invoicing/"
	ns := `xmlns="http://soap.sforce.com/2006/04/metadata"`
	files := map[string][]byte{
		"sfdx-project.json":                          []byte(`{"packageDirectories":[{"path":"force-app"}],"sourceBehaviorOptions":["decomposePermissionSetBeta2"]}`),
		base + "Invoicing.permissionset-meta.xml":    []byte(`<PermissionSet ` + ns + `><label>Invoicing</label></PermissionSet>`),
		base + "AccountService.classAccess-meta.xml": []byte(`<PermissionSet ` + ns + `><classAccesses><apexClass>AccountService</apexClass><enabled>true</enabled></classAccesses></PermissionSet>`),
		base + "objectSettings/Invoice__c.objectSettings-meta.xml": []byte(`<PermissionSet ` + ns + `>
			<objectPermissions><allowCreate>true</allowCreate><allowDelete>false</allowDelete><allowEdit>true</allowEdit><allowRead>true</allowRead><modifyAllRecords>false</modifyAllRecords><object>Invoice__c</object><viewAllRecords>false</viewAllRecords></objectPermissions>
			<fieldPermissions><editable>false</editable><field>Invoice__c.Total__c</field><readable>true</readable></fieldPermissions>
			<fieldPermissions><editable>true</editable><field>Invoice__c.Status__c</field><readable>true</readable></fieldPermissions>
		</PermissionSet>`),
	}
	proj, err := LoadProject(MemFS(files))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ReadSource(proj, ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Set.Get(Key{"PermissionSet", "Invoicing"})
	if got == nil || res.Set.Len() != 1 {
		t.Fatalf("want one permission set, got %v", keysOf(res.Set))
	}
	if got.Hash != mono.Hash {
		t.Errorf("decomposed hash differs from monolithic:\n%s\n%s", got.XML.Canonical(true), mono.XML.Canonical(true))
	}
}

func TestBotsAndVersions(t *testing.T) {
	ns := `xmlns="http://soap.sforce.com/2006/04/metadata"`
	files := map[string][]byte{
		"sfdx-project.json":                            []byte(`{"packageDirectories":[{"path":"force-app"}]}`),
		"force-app/bots/Helper/Helper.bot-meta.xml":    []byte(`<Bot ` + ns + `><label>Helper</label></Bot>`),
		"force-app/bots/Helper/v1.botVersion-meta.xml": []byte(`<BotVersion ` + ns + `><fullName>v1</fullName><entryDialog>Welcome</entryDialog></BotVersion>`),
	}
	proj, _ := LoadProject(MemFS(files))
	res, err := ReadSource(proj, ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keysOf(res.Set), ",") != "Bot Helper,BotVersion Helper.v1" {
		t.Fatalf("components %v", keysOf(res.Set))
	}
	md, err := WriteMetadataFormat(res.Set)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md["bots/Helper.bot"]), "<botVersions>") {
		t.Errorf("bot version not recomposed:\n%s", md["bots/Helper.bot"])
	}
	back, err := ReadMetadataFormat(MemFS(md), ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	sameSets(t, "bot round trip", res.Set, back.Set)
}
