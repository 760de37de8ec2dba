package metadata

import (
	"regexp"
	"sort"
	"strings"
)

// Reference is one component pointing at another: what a deploy fails
// without.
type Reference struct {
	From  Key    `json:"from"`
	To    Key    `json:"to"`
	Where string `json:"where"` // the element or construct, e.g. "fieldPermissions/field", "SOQL"
}

// References lists what the components of s reference: objects, fields and
// record types from layouts, flexipages, permission sets, profiles,
// formulas, validation rules, flows and field updates; objects and fields
// from Apex (a static scan of SOQL and sObject tokens); fields, classes,
// labels and resources from LWC imports. s must have been read with
// KeepContent. The result is sorted and free of duplicates.
func References(s *Set) []Reference {
	seen := map[Reference]bool{}
	var out []Reference
	add := func(from Key, typ, name, where string) {
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " {}$") {
			return
		}
		r := Reference{From: from, To: Key{typ, name}, Where: where}
		if r.To == from || seen[r] {
			return
		}
		seen[r] = true
		out = append(out, r)
	}
	for _, c := range s.Components() {
		refsOf(c, func(typ, name, where string) { add(c.Key(), typ, name, where) })
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return keyLess(out[i].From, out[j].From)
		}
		if out[i].To != out[j].To {
			return keyLess(out[i].To, out[j].To)
		}
		return out[i].Where < out[j].Where
	})
	return out
}

type refFunc func(typ, name, where string)

func refsOf(c *Component, add refFunc) {
	x := c.XML
	switch c.Type.Name {
	case "Layout":
		obj, _, _ := strings.Cut(c.Name, "-")
		add("CustomObject", obj, "layout object")
		walk(x, func(path string, n *Node) {
			switch {
			case strings.HasSuffix(path, "layoutItems/field"):
				add("CustomField", obj+"."+n.Text, "layoutItems/field")
			case strings.HasSuffix(path, "layoutItems/customLink"):
				add("WebLink", obj+"."+n.Text, "layoutItems/customLink")
			case strings.HasSuffix(path, "quickActionListItems/quickActionName") && !strings.Contains(n.Text, "."):
				add("QuickAction", obj+"."+n.Text, "quickActionListItems")
			}
		})
	case "FlexiPage":
		obj := x.ChildText("sobjectType")
		add("CustomObject", obj, "sobjectType")
		walk(x, func(path string, n *Node) {
			if strings.HasSuffix(path, "fieldItem") && obj != "" {
				if f, ok := strings.CutPrefix(n.Text, "Record."); ok {
					add("CustomField", obj+"."+f, "fieldItem")
				}
			}
		})
	case "PermissionSet", "Profile", "MutingPermissionSet":
		permissionRefs(x, add)
	case "CustomField":
		obj := c.Parent
		if ref := x.ChildText("referenceTo"); ref != "" {
			add("CustomObject", ref, "referenceTo")
		}
		if f := x.ChildText("formula"); f != "" {
			formulaRefs(obj, f, "formula", add)
		}
		if f := x.Child("lookupFilter"); f != nil {
			walk(f, func(path string, n *Node) {
				if strings.HasSuffix(path, "field") && strings.HasPrefix(n.Text, x.ChildText("referenceTo")+".") {
					add("CustomField", n.Text, "lookupFilter")
				}
			})
		}
	case "ValidationRule":
		formulaRefs(c.Parent, x.ChildText("errorConditionFormula"), "errorConditionFormula", add)
	case "WorkflowFieldUpdate":
		if f := x.ChildText("field"); f != "" {
			add("CustomField", c.Parent+"."+f, "field")
		}
		formulaRefs(c.Parent, x.ChildText("formula"), "formula", add)
	case "WorkflowRule":
		formulaRefs(c.Parent, x.ChildText("formula"), "formula", add)
	case "ListView", "CompactLayout", "FieldSet":
		walk(x, func(path string, n *Node) {
			if strings.HasSuffix(path, "columns") || strings.HasSuffix(path, "fields") || strings.HasSuffix(path, "displayedFields/field") {
				if len(n.Children) == 0 && strings.Contains(n.Text, "__") && !strings.Contains(n.Text, ".") {
					add("CustomField", c.Parent+"."+n.Text, path)
				}
			}
		})
	case "RecordType":
		walk(x, func(path string, n *Node) {
			if strings.HasSuffix(path, "picklistValues/picklist") {
				add("CustomField", c.Parent+"."+n.Text, "picklistValues")
			}
		})
	case "CustomTab":
		if x.ChildText("customObject") == "true" {
			add("CustomObject", c.Name, "customObject")
		}
	case "QuickAction":
		if obj := x.ChildText("targetObject"); obj != "" {
			add("CustomObject", obj, "targetObject")
			walk(x, func(path string, n *Node) {
				if strings.HasSuffix(path, "quickActionLayoutItems/field") {
					add("CustomField", obj+"."+n.Text, "quickActionLayoutItems/field")
				}
			})
		}
	case "Flow":
		flowRefs(x, add)
	case "ApexClass", "ApexTrigger":
		if len(c.Parts) > 0 {
			apexRefs(string(c.Parts[0].Data), add)
		}
	case "LightningComponentBundle", "AuraDefinitionBundle":
		for _, p := range c.Parts {
			bundleRefs(c.Type.Name, string(p.Data), add)
		}
	case "EmailTemplate":
		if len(c.Parts) > 0 {
			for _, m := range mergeFieldRe.FindAllStringSubmatch(string(c.Parts[0].Data), -1) {
				add("CustomField", m[1]+"."+m[2], "merge field")
			}
		}
	}
}

// walk visits every element with its path of names below n.
func walk(n *Node, fn func(path string, n *Node)) {
	if n == nil {
		return
	}
	var rec func(prefix string, n *Node)
	rec = func(prefix string, n *Node) {
		for _, c := range n.Children {
			p := c.Name
			if prefix != "" {
				p = prefix + "/" + c.Name
			}
			fn(p, c)
			rec(p, c)
		}
	}
	rec("", n)
}

func permissionRefs(x *Node, add refFunc) {
	for _, el := range x.Children {
		switch el.Name {
		case "objectPermissions":
			add("CustomObject", el.ChildText("object"), "objectPermissions/object")
		case "fieldPermissions":
			add("CustomField", el.ChildText("field"), "fieldPermissions/field")
		case "classAccesses":
			add("ApexClass", el.ChildText("apexClass"), "classAccesses/apexClass")
		case "pageAccesses":
			add("ApexPage", el.ChildText("apexPage"), "pageAccesses/apexPage")
		case "tabSettings", "tabVisibilities":
			if t := el.ChildText("tab"); !strings.HasPrefix(t, "standard-") {
				add("CustomTab", t, el.Name+"/tab")
			}
		case "recordTypeVisibilities":
			add("RecordType", el.ChildText("recordType"), "recordTypeVisibilities/recordType")
		case "applicationVisibilities":
			if a := el.ChildText("application"); !strings.HasPrefix(a, "standard__") {
				add("CustomApplication", a, "applicationVisibilities/application")
			}
		case "customPermissions":
			add("CustomPermission", el.ChildText("name"), "customPermissions/name")
		case "layoutAssignments":
			add("Layout", el.ChildText("layout"), "layoutAssignments/layout")
			add("RecordType", el.ChildText("recordType"), "layoutAssignments/recordType")
		case "flowAccesses":
			add("Flow", el.ChildText("flow"), "flowAccesses/flow")
		}
	}
}

var (
	formulaTokenRe = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*`)
	soqlRe         = regexp.MustCompile(`(?is)\[\s*SELECT\s+(.+?)\s+FROM\s+([A-Za-z][A-Za-z0-9_]*)`)
	sobjectRe      = regexp.MustCompile(`\b([A-Za-z][A-Za-z0-9_]*__(?:c|mdt|e|x|b))\s*(?:\.\s*(?:SObjectType|sObjectType)|\(|>|\s+[a-z]\w*\s*[=;,)])`)
	fieldAccessRe  = regexp.MustCompile(`\b([A-Za-z][A-Za-z0-9_]*__c)\.([A-Za-z][A-Za-z0-9_]*__c)\b`)
	triggerRe      = regexp.MustCompile(`(?i)\btrigger\s+\w+\s+on\s+([A-Za-z][A-Za-z0-9_]*)`)
	apexCommentRe  = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)
	schemaImportRe = regexp.MustCompile(`@salesforce/(schema|apex|label|resourceUrl|messageChannel|customPermission)/([A-Za-z0-9_.]+)`)
	auraControlRe  = regexp.MustCompile(`controller\s*=\s*"(?:[a-z0-9]+\.)?([A-Za-z][A-Za-z0-9_]*)"`)
	mergeFieldRe   = regexp.MustCompile(`\{!?\{?\{?!?([A-Za-z][A-Za-z0-9_]*__c)\.([A-Za-z][A-Za-z0-9_]*__c)\}`)
)

// formulaRefs adds the custom fields a formula names on its object. Cross-
// object paths (Account__r.Name) are followed only for their first hop.
func formulaRefs(obj, f, where string, add refFunc) {
	if f == "" || obj == "" {
		return
	}
	for _, tok := range formulaTokenRe.FindAllString(stripFormulaStrings(f), -1) {
		first, _, _ := strings.Cut(tok, ".")
		switch {
		case strings.HasSuffix(first, "__c"):
			add("CustomField", obj+"."+first, where)
		case strings.HasSuffix(first, "__r"):
			add("CustomField", obj+"."+strings.TrimSuffix(first, "__r")+"__c", where)
		}
	}
}

func stripFormulaStrings(f string) string {
	var b strings.Builder
	in := byte(0)
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case in != 0 && c == in:
			in = 0
		case in != 0:
		case c == '"' || c == '\'':
			in = c
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func flowRefs(x *Node, add refFunc) {
	var rec func(n *Node)
	rec = func(n *Node) {
		obj := n.ChildText("object")
		if obj == "" {
			obj = n.ChildText("objectType")
		}
		if obj != "" && len(n.Child("object").Children) == 0 {
			add("CustomObject", obj, "flow "+n.Name)
			for _, c := range n.Children {
				switch c.Name {
				case "filters", "inputAssignments", "outputAssignments", "queriedFields":
					f := c.ChildText("field")
					if c.Name == "queriedFields" {
						f = c.Text
					}
					if f != "" {
						add("CustomField", obj+"."+f, "flow "+n.Name+"/"+c.Name)
					}
				}
			}
		}
		if n.Name == "actionCalls" && n.ChildText("actionType") == "apex" {
			add("ApexClass", n.ChildText("actionName"), "flow actionCalls")
		}
		for _, c := range n.Children {
			rec(c)
		}
	}
	rec(x)
}

func apexRefs(src string, add refFunc) {
	src = apexCommentRe.ReplaceAllString(src, " ")
	if m := triggerRe.FindStringSubmatch(src); m != nil {
		add("CustomObject", m[1], "trigger")
	}
	for _, m := range soqlRe.FindAllStringSubmatch(src, -1) {
		obj := m[2]
		add("CustomObject", obj, "SOQL FROM")
		for _, f := range strings.Split(m[1], ",") {
			f = strings.TrimSpace(f)
			if strings.ContainsAny(f, " ()") || strings.Contains(f, ".") {
				continue
			}
			add("CustomField", obj+"."+f, "SOQL SELECT")
		}
	}
	for _, m := range sobjectRe.FindAllStringSubmatch(src, -1) {
		add("CustomObject", m[1], "sObject type")
	}
	for _, m := range fieldAccessRe.FindAllStringSubmatch(src, -1) {
		add("CustomField", m[1]+"."+m[2], "field token")
	}
}

func bundleRefs(bundleType, src string, add refFunc) {
	for _, m := range schemaImportRe.FindAllStringSubmatch(src, -1) {
		kind, name := m[1], m[2]
		switch kind {
		case "schema":
			if obj, field, ok := strings.Cut(name, "."); ok {
				add("CustomObject", obj, "@salesforce/schema")
				if !strings.Contains(field, ".") {
					add("CustomField", obj+"."+field, "@salesforce/schema")
				}
			} else {
				add("CustomObject", name, "@salesforce/schema")
			}
		case "apex":
			cls, _, _ := strings.Cut(name, ".")
			add("ApexClass", cls, "@salesforce/apex")
		case "label":
			add("CustomLabel", strings.TrimPrefix(name, "c."), "@salesforce/label")
		case "resourceUrl":
			add("StaticResource", name, "@salesforce/resourceUrl")
		case "messageChannel":
			add("LightningMessageChannel", name, "@salesforce/messageChannel")
		case "customPermission":
			add("CustomPermission", name, "@salesforce/customPermission")
		}
	}
	if bundleType == "AuraDefinitionBundle" {
		for _, m := range auraControlRe.FindAllStringSubmatch(src, -1) {
			add("ApexClass", m[1], "aura controller")
		}
	}
}

// isStandard reports whether a reference points at something every org
// has: a standard object or field (no "__" suffix).
func isStandard(k Key) bool {
	switch k.Type {
	case "CustomObject":
		return !strings.Contains(k.Name, "__")
	case "CustomField":
		_, f, ok := strings.Cut(k.Name, ".")
		return ok && !strings.Contains(f, "__")
	}
	return false
}

// Missing returns the references that neither included (the components
// being deployed) nor target (what the org already has; nil when unknown)
// satisfies. Standard objects and fields always exist. A field counts as
// present when its object is present and has it, or when it is listed.
func Missing(refs []Reference, included, target *Set) []Reference {
	var out []Reference
	present := func(k Key) bool {
		if isStandard(k) {
			return true
		}
		for _, s := range []*Set{included, target} {
			if s == nil {
				continue
			}
			if s.Get(k) != nil {
				return true
			}
			if k.Type == "CustomObject" && hasChildrenOf(s, k.Name) {
				return true
			}
		}
		return false
	}
	for _, r := range refs {
		if !present(r.To) {
			out = append(out, r)
		}
	}
	return out
}

// hasChildrenOf reports whether s has components of an object (a standard
// object's custom fields mean the object is there).
func hasChildrenOf(s *Set, obj string) bool {
	for k := range s.m {
		if p, _, ok := strings.Cut(k.Name, "."); ok && p == obj && DefaultRegistry.Type(k.Type) != nil && DefaultRegistry.Type(k.Type).Parent == "CustomObject" {
			return true
		}
	}
	return false
}
