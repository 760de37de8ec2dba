// Package synth generates a large, realistic-shaped Salesforce project with
// a long git history, for benchmarks: objects with thousands of fields,
// classes, triggers, bundles, layouts, flows, permission sets, labels,
// workflows, reports in folders, static resources and more (over 40
// types), and commits that edit, add, rename and delete components the way
// teams do. Generation is deterministic for the same options.
package synth

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Options size the project.
type Options struct {
	Objects         int // custom objects
	FieldsPerObject int
	Classes         int
	Bundles         int // LWC bundles
	Commits         int // commits after the initial one
	Seed            int64
}

// Large is the benchmark size: about 55,000 files over 40+ types and
// 1,000 commits of history.
var Large = Options{Objects: 12, FieldsPerObject: 3000, Classes: 4000, Bundles: 600, Commits: 1000, Seed: 42}

// Small is a tenth of Large, for comparing how costs grow.
var Small = Options{Objects: 3, FieldsPerObject: 1000, Classes: 400, Bundles: 60, Commits: 1000, Seed: 42}

// Repo is a generated repository.
type Repo struct {
	Dir     string // the work tree (checked out at HEAD)
	Files   int    // files at HEAD
	First   string // the initial commit
	Head    string
	Commits int
	Changed int // files changed between First and Head
}

const header = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
const ns = `xmlns="http://soap.sforce.com/2006/04/metadata"`
const base = "force-app/main/default/"

type project struct {
	files map[string]string
	rnd   *rand.Rand
	opts  Options
	next  int
}

// Generate builds the project under dir (reusing it when a previous run
// with the same options left it complete) and returns it.
func Generate(dir string, o Options) (*Repo, error) {
	sum := sha256.Sum256([]byte(fmt.Sprintf("v4 %+v", o)))
	dir = filepath.Join(dir, "synth-"+hex.EncodeToString(sum[:6]))
	if r, err := load(dir); err == nil {
		return r, nil
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &project{files: map[string]string{}, rnd: rand.New(rand.NewSource(o.Seed)), opts: o}
	p.initial()
	if err := run(dir, "git", "init", "-q", "-b", "main"); err != nil {
		return nil, err
	}
	if err := p.fastImport(dir); err != nil {
		return nil, err
	}
	if err := run(dir, "git", "checkout", "-q", "-f", "main"); err != nil {
		return nil, err
	}
	// fast-import deltas each new version against the one before; a real
	// repository (after git gc) keeps recent versions whole. Repack so
	// reading HEAD costs what it costs in a real project.
	if err := run(dir, "git", "repack", "-q", "-a", "-d", "-f", "--depth=50", "--window=10"); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "synth-complete"), []byte("ok"), 0o644); err != nil {
		return nil, err
	}
	return load(dir)
}

func load(dir string) (*Repo, error) {
	if _, err := os.Stat(filepath.Join(dir, ".git", "synth-complete")); err != nil {
		return nil, err
	}
	out := func(args ...string) string {
		b, _ := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
		return strings.TrimSpace(string(b))
	}
	r := &Repo{Dir: dir, Head: out("rev-parse", "HEAD"), First: out("rev-list", "--max-parents=0", "HEAD")}
	r.Files = len(strings.Split(out("ls-files"), "\n"))
	fmt.Sscan(out("rev-list", "--count", "HEAD"), &r.Commits)
	r.Commits--
	r.Changed = len(strings.Split(out("diff", "--name-only", r.First, r.Head), "\n"))
	return r, nil
}

func run(dir string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", name, args, err, out)
	}
	return nil
}

func (p *project) put(path, content string) { p.files[path] = content }

func xmlDoc(root, body string) string {
	return header + "<" + root + " " + ns + ">\n" + body + "</" + root + ">\n"
}

func el(name, value string) string { return "    <" + name + ">" + value + "</" + name + ">\n" }

func objName(i int) string   { return fmt.Sprintf("Obj%02d__c", i) }
func fieldName(i int) string { return fmt.Sprintf("Field%04d__c", i) }

func (p *project) field(obj string, i, rev int) string {
	types := []string{"Text", "Number", "Checkbox", "Date", "Currency", "Picklist", "LongTextArea", "Email"}
	t := types[i%len(types)]
	body := el("fullName", fieldName(i)) + el("label", fmt.Sprintf("Field %d rev %d", i, rev)) + el("type", t)
	switch t {
	case "Text", "Email":
		body += el("length", "80")
	case "Number", "Currency":
		body += el("precision", "18") + el("scale", "2")
	case "LongTextArea":
		body += el("length", "32000") + el("visibleLines", "3")
	case "Picklist":
		body += "    <valueSet><valueSetDefinition><value><fullName>A</fullName><default>false</default><label>A</label></value><value><fullName>B</fullName><default>false</default><label>B</label></value></valueSetDefinition></valueSet>\n"
	}
	return xmlDoc("CustomField", body)
}

func (p *project) class(i, rev int) string {
	obj := objName(i % p.opts.Objects)
	return fmt.Sprintf(`public with sharing class Service%04d {
    // revision %d
    public static List<%s> recent(Integer n) {
        return [SELECT Id, Name, %s, %s FROM %s ORDER BY CreatedDate DESC LIMIT :n];
    }
    public static Decimal total(List<%s> rows) {
        Decimal sum = 0;
        for (%s r : rows) { sum += r.%s == null ? 0 : 1; }
        return sum;
    }
}
`, i, rev, obj, fieldName(1), fieldName(2), obj, obj, obj, fieldName(3))
}

// initial lays out the first commit: ~55,000 files at the Large size.
func (p *project) initial() {
	o := p.opts
	p.put("sfdx-project.json", `{"packageDirectories":[{"path":"force-app","default":true}],"name":"synth","sourceApiVersion":"62.0"}`+"\n")
	p.put(".forceignore", "**/jsconfig.json\n**/__tests__/**\n")
	p.put("README.md", "# synthetic project\n")
	classMeta := xmlDoc("ApexClass", el("apiVersion", "62.0")+el("status", "Active"))
	for i := 0; i < o.Objects; i++ {
		obj := objName(i)
		dir := base + "objects/" + obj + "/"
		p.put(dir+obj+".object-meta.xml", xmlDoc("CustomObject", el("deploymentStatus", "Deployed")+el("label", obj)+el("pluralLabel", obj+"s")+el("sharingModel", "ReadWrite")+"    <nameField><label>Name</label><type>Text</type></nameField>\n"))
		for f := 0; f < o.FieldsPerObject; f++ {
			p.put(dir+"fields/"+fieldName(f)+".field-meta.xml", p.field(obj, f, 0))
		}
		for v := 0; v < 20; v++ {
			p.put(fmt.Sprintf("%svalidationRules/Rule%02d.validationRule-meta.xml", dir, v), xmlDoc("ValidationRule", el("fullName", fmt.Sprintf("Rule%02d", v))+el("active", "true")+el("errorConditionFormula", "ISBLANK("+fieldName(v)+")")+el("errorMessage", "Required")))
			p.put(fmt.Sprintf("%slistViews/View%02d.listView-meta.xml", dir, v), xmlDoc("ListView", el("fullName", fmt.Sprintf("View%02d", v))+el("columns", fieldName(v))+el("filterScope", "Everything")+el("label", "View")))
		}
		for r := 0; r < 5; r++ {
			p.put(fmt.Sprintf("%srecordTypes/Type%d.recordType-meta.xml", dir, r), xmlDoc("RecordType", el("fullName", fmt.Sprintf("Type%d", r))+el("active", "true")+el("label", fmt.Sprintf("Type %d", r))))
			p.put(fmt.Sprintf("%swebLinks/Link%d.webLink-meta.xml", dir, r), xmlDoc("WebLink", el("fullName", fmt.Sprintf("Link%d", r))+el("displayType", "button")+el("linkType", "url")+el("url", "https://example.com")))
			p.put(fmt.Sprintf("%sfieldSets/Set%d.fieldSet-meta.xml", dir, r), xmlDoc("FieldSet", el("fullName", fmt.Sprintf("Set%d", r))+"    <displayedFields><field>"+fieldName(r)+"</field></displayedFields>\n"+el("label", "Set")))
			p.put(fmt.Sprintf("%scompactLayouts/Compact%d.compactLayout-meta.xml", dir, r), xmlDoc("CompactLayout", el("fullName", fmt.Sprintf("Compact%d", r))+el("fields", fieldName(r))+el("label", "Compact")))
		}
		for l := 0; l < 10; l++ {
			p.put(fmt.Sprintf("%slayouts/%s-Layout %d.layout-meta.xml", base, obj, l), xmlDoc("Layout", "    <layoutSections><layoutColumns><layoutItems><behavior>Edit</behavior><field>"+fieldName(l)+"</field></layoutItems></layoutColumns><style>OneColumn</style></layoutSections>\n"))
		}
		p.put(base+"tabs/"+obj+".tab-meta.xml", xmlDoc("CustomTab", el("customObject", "true")+el("motif", "Custom1: Heart")))
		p.put(base+"workflows/"+obj+".workflow-meta.xml", p.workflow(obj, 0))
		p.put(base+"sharingRules/"+obj+".sharingRules-meta.xml", xmlDoc("SharingRules", "    <sharingCriteriaRules><fullName>Share</fullName><accessLevel>Read</accessLevel><label>Share</label><sharedTo><allInternalUsers></allInternalUsers></sharedTo><criteriaItems><field>Name</field><operation>notEqual</operation><value>x</value></criteriaItems></sharingCriteriaRules>\n"))
	}
	for i := 0; i < o.Classes; i++ {
		p.put(fmt.Sprintf("%sclasses/Service%04d.cls", base, i), p.class(i, 0))
		p.put(fmt.Sprintf("%sclasses/Service%04d.cls-meta.xml", base, i), classMeta)
	}
	for i := 0; i < o.Classes/8; i++ {
		obj := objName(i % o.Objects)
		p.put(fmt.Sprintf("%striggers/Trigger%04d.trigger", base, i), fmt.Sprintf("trigger Trigger%04d on %s (before insert) {\n}\n", i, obj))
		p.put(fmt.Sprintf("%striggers/Trigger%04d.trigger-meta.xml", base, i), xmlDoc("ApexTrigger", el("apiVersion", "62.0")+el("status", "Active")))
		p.put(fmt.Sprintf("%spages/Page%04d.page", base, i), "<apex:page>Hello</apex:page>\n")
		p.put(fmt.Sprintf("%spages/Page%04d.page-meta.xml", base, i), xmlDoc("ApexPage", el("apiVersion", "62.0")+el("label", "Page")))
	}
	for i := 0; i < o.Bundles; i++ {
		d := fmt.Sprintf("%slwc/cmp%04d/", base, i)
		name := fmt.Sprintf("cmp%04d", i)
		p.put(d+name+".js", p.lwc(i, 0))
		p.put(d+name+".html", "<template><p>{label}</p></template>\n")
		p.put(d+name+".css", ":host { display: block; }\n")
		p.put(d+name+".js-meta.xml", xmlDoc("LightningComponentBundle", el("apiVersion", "62.0")+el("isExposed", "true")))
		p.put(d+"__tests__/"+name+".test.js", "describe('x', () => {});\n")
	}
	p.put(base+"lwc/jsconfig.json", "{}\n")
	for i := 0; i < o.Bundles/3; i++ {
		d := fmt.Sprintf("%saura/Aura%04d/", base, i)
		name := fmt.Sprintf("Aura%04d", i)
		p.put(d+name+".cmp", "<aura:component>Hi</aura:component>\n")
		p.put(d+name+".cmp-meta.xml", xmlDoc("AuraDefinitionBundle", el("apiVersion", "62.0")))
		p.put(d+name+"Controller.js", "({ init: function(c) {} })\n")
		p.put(d+name+"Helper.js", "({})\n")
	}
	n := o.Classes / 4
	for i := 0; i < n; i++ {
		obj := objName(i % o.Objects)
		p.put(fmt.Sprintf("%sflows/Flow%04d.flow-meta.xml", base, i), xmlDoc("Flow", el("apiVersion", "62.0")+el("label", "Flow")+el("processType", "AutoLaunchedFlow")+"    <recordLookups><name>Get</name><object>"+obj+"</object><filters><field>"+fieldName(1)+"</field><operator>EqualTo</operator><value><stringValue>x</stringValue></value></filters></recordLookups>\n"+el("status", "Active")))
		p.put(fmt.Sprintf("%sflexipages/Page%04d.flexipage-meta.xml", base, i), xmlDoc("FlexiPage", el("masterLabel", "Page")+el("sobjectType", obj)+el("type", "RecordPage")))
		p.put(fmt.Sprintf("%squickActions/%s.Action%04d.quickAction-meta.xml", base, obj, i), xmlDoc("QuickAction", el("label", "Action")+el("type", "Create")))
		p.put(fmt.Sprintf("%scustomMetadata/Config.Record%04d.md-meta.xml", base, i), xmlDoc("CustomMetadata", el("label", "Record")+el("protected", "false")))
		p.put(fmt.Sprintf("%sreports/Folder%02d/Report%04d.report-meta.xml", base, i%20, i), xmlDoc("Report", el("format", "Tabular")+el("name", "Report")+el("reportType", obj)))
	}
	for i := 0; i < 20; i++ {
		p.put(fmt.Sprintf("%sreports/Folder%02d.reportFolder-meta.xml", base, i), xmlDoc("ReportFolder", el("accessType", "Public")+el("name", "Folder")))
		p.put(fmt.Sprintf("%sdashboards/Dash%02d.dashboardFolder-meta.xml", base, i), xmlDoc("DashboardFolder", el("accessType", "Public")+el("name", "Dash")))
		p.put(fmt.Sprintf("%sdashboards/Dash%02d/Board.dashboard-meta.xml", base, i), xmlDoc("Dashboard", el("title", "Board")))
		p.put(fmt.Sprintf("%semail/Mail%02d.emailFolder-meta.xml", base, i), xmlDoc("EmailFolder", el("accessType", "Public")+el("name", "Mail")))
		p.put(fmt.Sprintf("%semail/Mail%02d/Note.email", base, i), "Hello {!Contact.Name}\n")
		p.put(fmt.Sprintf("%semail/Mail%02d/Note.email-meta.xml", base, i), xmlDoc("EmailTemplate", el("available", "true")+el("name", "Note")+el("type", "text")))
		p.put(fmt.Sprintf("%sstaticresources/lib%02d.resource-meta.xml", base, i), xmlDoc("StaticResource", el("cacheControl", "Public")+el("contentType", "application/zip")))
		p.put(fmt.Sprintf("%sstaticresources/lib%02d/js/lib.js", base, i), "window.lib = 1;\n")
		p.put(fmt.Sprintf("%sstaticresources/lib%02d/css/lib.css", base, i), "body {}\n")
		p.put(fmt.Sprintf("%sapplications/App%02d.app-meta.xml", base, i), xmlDoc("CustomApplication", el("label", "App")+el("navType", "Standard")))
		p.put(fmt.Sprintf("%sglobalValueSets/Set%02d.globalValueSet-meta.xml", base, i), xmlDoc("GlobalValueSet", el("masterLabel", "Set")+el("sorted", "false")))
		p.put(fmt.Sprintf("%sremoteSiteSettings/Site%02d.remoteSite-meta.xml", base, i), xmlDoc("RemoteSiteSetting", el("isActive", "true")+el("url", "https://example.com")))
		p.put(fmt.Sprintf("%scustomPermissions/Perm%02d.customPermission-meta.xml", base, i), xmlDoc("CustomPermission", el("label", "Perm")))
		p.put(fmt.Sprintf("%smessageChannels/Channel%02d.messageChannel-meta.xml", base, i), xmlDoc("LightningMessageChannel", el("masterLabel", "Channel")))
		p.put(fmt.Sprintf("%snamedCredentials/Cred%02d.namedCredential-meta.xml", base, i), xmlDoc("NamedCredential", el("label", "Cred")))
		p.put(fmt.Sprintf("%sprofiles/Profile%02d.profile-meta.xml", base, i), xmlDoc("Profile", el("custom", "true")+el("userLicense", "Salesforce")))
		p.put(fmt.Sprintf("%sroles/Role%02d.role-meta.xml", base, i), xmlDoc("Role", el("name", "Role")))
		p.put(fmt.Sprintf("%sgroups/Group%02d.group-meta.xml", base, i), xmlDoc("Group", el("name", "Group")))
		p.put(fmt.Sprintf("%squeues/Queue%02d.queue-meta.xml", base, i), xmlDoc("Queue", el("name", "Queue")))
	}
	for i := 0; i < 100; i++ {
		p.put(fmt.Sprintf("%spermissionsets/Set%03d.permissionset-meta.xml", base, i), p.permset(i, 0))
	}
	p.put(base+"labels/CustomLabels.labels-meta.xml", p.labels(0))
	p.put(base+"settings/Account.settings-meta.xml", xmlDoc("AccountSettings", el("enableAccountOwnerReport", "true")))
	p.put(base+"settings/Case.settings-meta.xml", xmlDoc("CaseSettings", el("closeCaseOnSwitchToPersonAccount", "false")))
}

func (p *project) lwc(i, rev int) string {
	obj := objName(i % p.opts.Objects)
	return fmt.Sprintf("import { LightningElement } from 'lwc';\nimport F from '@salesforce/schema/%s.%s';\n// revision %d\nexport default class Cmp%04d extends LightningElement { label = 'x'; }\n", obj, fieldName(4), rev, i)
}

func (p *project) workflow(obj string, rev int) string {
	return xmlDoc("Workflow", fmt.Sprintf("    <fieldUpdates><fullName>Stamp</fullName><field>%s</field><literalValue>x</literalValue><name>Stamp</name><operation>Literal</operation></fieldUpdates>\n    <rules><fullName>Rule</fullName><active>true</active><formula>%s &gt; %d</formula><triggerType>onAllChanges</triggerType></rules>\n", fieldName(1), fieldName(2), rev))
}

func (p *project) permset(i, rev int) string {
	var b strings.Builder
	for f := 0; f < 30+rev; f++ {
		obj := objName((i + f) % p.opts.Objects)
		fmt.Fprintf(&b, "    <fieldPermissions><editable>true</editable><field>%s.%s</field><readable>true</readable></fieldPermissions>\n", obj, fieldName(f))
	}
	return xmlDoc("PermissionSet", b.String()+el("label", fmt.Sprintf("Set %d", i)))
}

func (p *project) labels(rev int) string {
	var b strings.Builder
	for i := 0; i < 1500; i++ {
		v := "Value"
		if i%97 == rev%97 && rev > 0 {
			v = fmt.Sprintf("Value rev %d", rev)
		}
		fmt.Fprintf(&b, "    <labels><fullName>Label%04d</fullName><language>en_US</language><protected>false</protected><shortDescription>L</shortDescription><value>%s</value></labels>\n", i, v)
	}
	return xmlDoc("CustomLabels", b.String())
}

// commit applies one change of the kind teams make and returns the paths
// touched (content "" deletes).
func (p *project) commit(rev int) map[string]string {
	o := p.opts
	ch := map[string]string{}
	obj := objName(p.rnd.Intn(o.Objects))
	switch p.rnd.Intn(10) {
	case 0, 1: // edit a few fields
		for k := 0; k < 1+p.rnd.Intn(4); k++ {
			f := p.rnd.Intn(o.FieldsPerObject)
			ch[base+"objects/"+obj+"/fields/"+fieldName(f)+".field-meta.xml"] = p.field(obj, f, rev)
		}
	case 2: // edit a class
		i := p.rnd.Intn(o.Classes)
		ch[fmt.Sprintf("%sclasses/Service%04d.cls", base, i)] = p.class(i, rev)
	case 3: // add a field and reference it from a permission set
		f := o.FieldsPerObject + rev
		ch[base+"objects/"+obj+"/fields/"+fieldName(f)+".field-meta.xml"] = p.field(obj, f, rev)
		i := p.rnd.Intn(100)
		ch[fmt.Sprintf("%spermissionsets/Set%03d.permissionset-meta.xml", base, i)] = p.permset(i, rev%20)
	case 4: // delete a field
		f := p.rnd.Intn(o.FieldsPerObject)
		ch[base+"objects/"+obj+"/fields/"+fieldName(f)+".field-meta.xml"] = ""
	case 5: // edit an LWC
		i := p.rnd.Intn(o.Bundles)
		ch[fmt.Sprintf("%slwc/cmp%04d/cmp%04d.js", base, i, i)] = p.lwc(i, rev)
	case 6: // change a label
		ch[base+"labels/CustomLabels.labels-meta.xml"] = p.labels(rev)
	case 7: // edit a workflow rule
		ch[base+"workflows/"+obj+".workflow-meta.xml"] = p.workflow(obj, rev)
	case 8: // a non-metadata change
		ch["README.md"] = fmt.Sprintf("# synthetic project\nrevision %d\n", rev)
	default: // edit a layout and a flow
		ch[fmt.Sprintf("%slayouts/%s-Layout %d.layout-meta.xml", base, obj, p.rnd.Intn(10))] = xmlDoc("Layout", fmt.Sprintf("    <layoutSections><layoutColumns><layoutItems><behavior>Required</behavior><field>%s</field></layoutItems></layoutColumns><style>TwoColumns%d</style></layoutSections>\n", fieldName(rev%50), rev))
		ch[fmt.Sprintf("%sflows/Flow%04d.flow-meta.xml", base, p.rnd.Intn(o.Classes/4))] = xmlDoc("Flow", el("apiVersion", "62.0")+el("label", fmt.Sprintf("Flow rev %d", rev))+el("processType", "AutoLaunchedFlow")+el("status", "Active"))
	}
	return ch
}

// fastImport writes the whole history in one git fast-import stream.
func (p *project) fastImport(dir string) error {
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	paths := make([]string, 0, len(p.files))
	for path := range p.files {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	commitHeader(w, 0, "initial project")
	for _, path := range paths {
		blob(w, path, p.files[path])
	}
	for rev := 1; rev <= p.opts.Commits; rev++ {
		ch := p.commit(rev)
		commitHeader(w, rev, fmt.Sprintf("change %d", rev))
		keys := make([]string, 0, len(ch))
		for k := range ch {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, path := range keys {
			if ch[path] == "" {
				fmt.Fprintf(w, "D %s\n", quote(path))
				delete(p.files, path)
				continue
			}
			blob(w, path, ch[path])
			p.files[path] = ch[path]
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	in.Close()
	return cmd.Wait()
}

func commitHeader(w *bufio.Writer, rev int, msg string) {
	fmt.Fprintf(w, "commit refs/heads/main\ncommitter Synth <synth@example.com> %d +0000\ndata %d\n%s\n", 1700000000+rev*3600, len(msg), msg)
}

func blob(w *bufio.Writer, path, content string) {
	fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", quote(path), len(content), content)
}

func quote(p string) string {
	if strings.ContainsAny(p, " \"\\") {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), `"`, `\"`) + `"`
	}
	return p
}
