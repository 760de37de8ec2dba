package metadata

import (
	"regexp"
	"strings"
	"testing"
)

var (
	typeNameRe = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	dirRe      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
	suffixRe   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)
)

// TestRegistryEntriesAreWellFormed checks every entry of the table.
func TestRegistryEntriesAreWellFormed(t *testing.T) {
	r := DefaultRegistry
	if n := len(r.Types()); n < 150 {
		t.Fatalf("registry has %d types, want at least 150", n)
	}
	for _, ty := range r.Types() {
		if !typeNameRe.MatchString(ty.Name) {
			t.Errorf("%s: bad name", ty.Name)
		}
		if !dirRe.MatchString(ty.Dir) {
			t.Errorf("%s: bad directory %q", ty.Name, ty.Dir)
		}
		switch {
		case ty.Shape == ShapeBundle && ty.Suffix != "" && ty.Name != "DigitalExperienceBundle":
			t.Errorf("%s: bundles have no suffix", ty.Name)
		case ty.Shape != ShapeBundle && ty.Shape != ShapeMixed && !suffixRe.MatchString(ty.Suffix):
			t.Errorf("%s: needs a suffix", ty.Name)
		}
		if ty.Folder != "" {
			f := r.Type(ty.Folder)
			if f == nil || f.FolderOf != ty.Name || f.Dir != ty.Dir {
				t.Errorf("%s: folder type %s missing or not pointing back", ty.Name, ty.Folder)
			}
			if ty.Wildcard {
				t.Errorf("%s: in-folder types do not support *", ty.Name)
			}
		}
		if ty.FolderOf != "" && r.Type(ty.FolderOf) == nil {
			t.Errorf("%s: folder of unknown type %s", ty.Name, ty.FolderOf)
		}
		if ty.IsChild() {
			p := r.Parent(ty)
			if p == nil {
				t.Errorf("%s: parent %s missing", ty.Name, ty.Parent)
				continue
			}
			if ty.Tag == "" {
				t.Errorf("%s: child type without tag=", ty.Name)
			}
			if p.ChildByTag(ty.Tag) != ty {
				t.Errorf("%s: tag %s is not unique in %s", ty.Name, ty.Tag, p.Name)
			}
			if ty.Key == "" {
				t.Errorf("%s: child type without key", ty.Name)
			}
		} else if ty.Tag != "" {
			t.Errorf("%s: tag= on a top-level type", ty.Name)
		}
		if ty.Decomp != "" && len(ty.Children()) == 0 {
			t.Errorf("%s: decomposed but without children", ty.Name)
		}
	}
}

// The protocol reference's table of common types must all be present with
// the same directory and suffix.
func TestRegistryCoversTheProtocolTable(t *testing.T) {
	want := map[string][2]string{
		"ApexClass": {"classes", "cls"}, "ApexTrigger": {"triggers", "trigger"}, "ApexPage": {"pages", "page"},
		"ApexComponent": {"components", "component"}, "ApexTestSuite": {"testSuites", "testSuite"},
		"StaticResource": {"staticresources", "resource"}, "AuraDefinitionBundle": {"aura", ""},
		"LightningComponentBundle": {"lwc", ""}, "LightningMessageChannel": {"messageChannels", "messageChannel"},
		"CustomObject": {"objects", "object"}, "CustomField": {"fields", "field"}, "RecordType": {"recordTypes", "recordType"},
		"ListView": {"listViews", "listView"}, "ValidationRule": {"validationRules", "validationRule"},
		"CompactLayout": {"compactLayouts", "compactLayout"}, "WebLink": {"webLinks", "webLink"},
		"FieldSet": {"fieldSets", "fieldSet"}, "BusinessProcess": {"businessProcesses", "businessProcess"},
		"SharingReason": {"sharingReasons", "sharingReason"}, "Index": {"indexes", "index"},
		"CustomTab": {"tabs", "tab"}, "CustomApplication": {"applications", "app"}, "Layout": {"layouts", "layout"},
		"FlexiPage": {"flexipages", "flexipage"}, "QuickAction": {"quickActions", "quickAction"},
		"PathAssistant": {"pathAssistants", "pathAssistant"}, "Flow": {"flows", "flow"},
		"FlowDefinition": {"flowDefinitions", "flowDefinition"}, "Workflow": {"workflows", "workflow"},
		"WorkflowRule": {"workflowRules", "workflowRule"}, "WorkflowFieldUpdate": {"workflowFieldUpdates", "workflowFieldUpdate"},
		"WorkflowAlert": {"workflowAlerts", "workflowAlert"}, "ApprovalProcess": {"approvalProcesses", "approvalProcess"},
		"AssignmentRules": {"assignmentRules", "assignmentRules"}, "AutoResponseRules": {"autoResponseRules", "autoResponseRules"},
		"EscalationRules": {"escalationRules", "escalationRules"}, "SharingRules": {"sharingRules", "sharingRules"},
		"SharingCriteriaRule": {"sharingCriteriaRules", "sharingCriteriaRule"}, "SharingOwnerRule": {"sharingOwnerRules", "sharingOwnerRule"},
		"CustomLabels": {"labels", "labels"}, "CustomLabel": {"labels", "label"}, "CustomMetadata": {"customMetadata", "md"},
		"CustomPermission": {"customPermissions", "customPermission"}, "PermissionSet": {"permissionsets", "permissionset"},
		"PermissionSetGroup": {"permissionsetgroups", "permissionsetgroup"}, "Profile": {"profiles", "profile"},
		"Role": {"roles", "role"}, "Group": {"groups", "group"}, "Queue": {"queues", "queue"}, "Report": {"reports", "report"},
		"ReportType": {"reportTypes", "reportType"}, "Dashboard": {"dashboards", "dashboard"}, "Document": {"documents", "document"},
		"EmailTemplate": {"email", "email"}, "GlobalValueSet": {"globalValueSets", "globalValueSet"},
		"StandardValueSet": {"standardValueSets", "standardValueSet"}, "CustomObjectTranslation": {"objectTranslations", "objectTranslation"},
		"Translations": {"translations", "translation"}, "RemoteSiteSetting": {"remoteSiteSettings", "remoteSite"},
		"NamedCredential": {"namedCredentials", "namedCredential"}, "ExternalCredential": {"externalCredentials", "externalCredential"},
		"ConnectedApp": {"connectedApps", "connectedApp"}, "CspTrustedSite": {"cspTrustedSites", "cspTrustedSite"},
		"CustomSite": {"sites", "site"}, "ExperienceBundle": {"experiences", ""}, "DigitalExperienceBundle": {"digitalExperiences", "digitalExperience"},
		"Network": {"networks", "network"}, "DuplicateRule": {"duplicateRules", "duplicateRule"}, "MatchingRules": {"matchingRules", "matchingRule"},
		"CustomNotificationType": {"notificationtypes", "notiftype"}, "ContentAsset": {"contentassets", "asset"},
		"Settings": {"settings", "settings"}, "InstalledPackage": {"installedPackages", "installedPackage"}, "Bot": {"bots", "bot"},
	}
	for name, ds := range want {
		ty := DefaultRegistry.Type(name)
		if ty == nil {
			t.Errorf("%s missing", name)
			continue
		}
		if ty.Dir != ds[0] || ty.Suffix != ds[1] {
			t.Errorf("%s: dir %q suffix %q, want %q %q", name, ty.Dir, ty.Suffix, ds[0], ds[1])
		}
	}
	for _, in := range []string{"Report", "Dashboard", "Document", "EmailTemplate", "StandardValueSet"} {
		if DefaultRegistry.Type(in).Wildcard {
			t.Errorf("%s must not allow *", in)
		}
	}
	obj := DefaultRegistry.Type("CustomObject")
	var kids []string
	for _, c := range obj.Children() {
		kids = append(kids, c.Name)
	}
	if strings.Join(kids, ",") != "BusinessProcess,CompactLayout,CustomField,FieldSet,Index,ListView,RecordType,SharingReason,ValidationRule,WebLink" {
		t.Errorf("CustomObject children: %v", kids)
	}
}

func TestParseRegistryRejectsBadLines(t *testing.T) {
	for _, table := range []string{
		"Foo bar",
		"Foo foos foo bogus",
		"  Orphan kids kid tag=x",
		"Foo foos foo\nFoo foos foo",
		"Foo foos foo decomp=sideways",
	} {
		if _, err := ParseRegistry(table); err == nil {
			t.Errorf("ParseRegistry(%q) should fail", table)
		}
	}
}
