package orgsim

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// A second Apex check, after the bracket check: what the compiler rejects
// in code teams write every day — a missing semicolon, a type or class
// that exists nowhere, a method a class does not have, a custom field an
// sObject does not have, a literal of the wrong type in a declaration or
// assignment — with Salesforce's problem text, line and column. It stays
// silent when unsure: a valid deploy refused is worse than a bad one let
// through.

type apexTok struct {
	kind      byte // 'i' identifier or keyword, 'n' number, 's' string, 'p' punctuation, 'q' SOQL/SOSL block
	text      string
	line, col int
}

// lexApex splits src into tokens, dropping comments; a [SELECT …] or
// [FIND …] block is one token.
func lexApex(src string) []apexTok {
	var out []apexTok
	line, col := 1, 1
	adv := func(s string) {
		for _, r := range s {
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r':
			adv(src[i : i+1])
			i++
		case strings.HasPrefix(src[i:], "//"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			adv(src[i : i+j])
			i += j
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				return out
			}
			adv(src[i : i+2+j+2])
			i += 2 + j + 2
		case c == '\'':
			j := i + 1
			for j < len(src) && src[j] != '\'' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			out = append(out, apexTok{'s', src[i:j], line, col})
			adv(src[i:j])
			i = j
		case c == '[' && soqlStart.MatchString(src[i+1:]):
			depth, j := 0, i
			for ; j < len(src); j++ {
				if src[j] == '[' {
					depth++
				} else if src[j] == ']' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			j = min(j+1, len(src))
			out = append(out, apexTok{'q', src[i:j], line, col})
			adv(src[i:j])
			i = j
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			out = append(out, apexTok{'i', src[i:j], line, col})
			adv(src[i:j])
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'L' || src[j] == 'l') {
				j++
			}
			out = append(out, apexTok{'n', src[i:j], line, col})
			adv(src[i:j])
			i = j
		default:
			n := 1
			for _, op := range []string{">>>=", "<<=", ">>=", "===", "!==", "==", "!=", "<=", ">=", "&&", "||", "++", "--", "+=", "-=", "*=", "/=", "=>", "?."} {
				if strings.HasPrefix(src[i:], op) {
					n = len(op)
					break
				}
			}
			out = append(out, apexTok{'p', src[i : i+n], line, col})
			adv(src[i : i+n])
			i += n
		}
	}
	return out
}

var soqlStart = regexp.MustCompile(`^\s*(?i:select|find)\b`)

// apexKeywords are words that are never a type or a variable.
var apexKeywords = set("abstract", "and", "as", "break", "catch", "class", "continue", "do", "else", "enum", "extends", "false", "final",
	"finally", "for", "global", "if", "implements", "instanceof", "interface", "new", "null", "on", "override", "private", "protected",
	"public", "return", "static", "super", "switch", "testmethod", "this", "throw", "transient", "true", "try", "virtual", "void",
	"webservice", "when", "while", "with", "without", "sharing", "inherited", "insert", "update", "upsert", "delete", "undelete", "merge",
	"trigger")

// apexModifiers may precede a declaration.
var apexModifiers = set("public", "private", "protected", "global", "static", "final", "transient", "override", "virtual", "abstract", "webservice", "testmethod")

// apexStatementStarts are keywords that begin a statement.
var apexStatementStarts = set("return", "if", "for", "while", "do", "insert", "update", "upsert", "delete", "undelete", "merge", "throw", "try", "break", "continue")

// apexStandard are the standard classes, namespaces, interfaces and
// primitive types code names (the simulator's knowledge of the standard
// library), lower-cased.
var apexStandard = set("system", "string", "integer", "long", "decimal", "double", "boolean", "date", "datetime", "time", "id", "blob",
	"object", "list", "set", "map", "database", "schema", "test", "math", "json", "jsongenerator", "jsonparser", "limits", "userinfo", "http",
	"httprequest", "httpresponse", "crypto", "encodingutil", "exception", "dmlexception", "queryexception", "nullpointerexception",
	"listexception", "mathexception", "typeexception", "stringexception", "calloutexception", "asyncexception", "securityexception",
	"noaccessexception", "illegalargumentexception", "jsonexception", "limitexception", "finalexception", "sobjectexception",
	"handledexception", "assertexception", "messaging", "pattern", "matcher", "url", "assert", "type", "trigger", "apexpages",
	"pagereference", "sobject", "approval", "label", "site", "network", "auth", "flow", "queueable", "queueablecontext", "schedulable",
	"schedulablecontext", "iterable", "iterator", "comparable", "callable", "process", "dom", "xmlstreamreader", "xmlstreamwriter",
	"savepoint", "sobjecttype", "sobjectfield", "describesobjectresult", "describefieldresult", "eventbus", "metadata", "connectapi",
	"cache", "reports", "search", "quickaction", "invocable", "invocablemethod", "invocablevariable", "auraenabled", "restresource",
	"restcontext", "restrequest", "restresponse", "httpget", "httppost", "future", "testvisible", "istest", "testsetup", "readonly",
	"remoteaction", "deprecated", "suppresswarnings", "jsonaccess", "namespaceaccessible", "featuremanagement", "address", "location",
	"uuid", "formula", "domain", "slack", "commercepayments", "lxscheduler", "stubprovider", "timezone", "version", "batchablecontext",
	"emailmessage", "single", "inboundemail", "inboundenvelope", "inboundemailresult", "platformcache", "orgcache", "sessioncache",
	"usermanagement", "passwords", "accessleveL", "accesstype", "securitytype", "soapfault", "webservicecallout", "continuation",
	"asyncoptions", "asyncinfo", "finalizer", "finalizercontext", "dataweave", "loggingLevel", "logginglevel", "statuscode", "describe",
	"comparator", "triggeroperation", "ordinal", "getglobaldescribe",
	// Standard sObjects beyond the ones the simulator models.
	"lead", "task", "event", "campaign", "campaignmember", "product2", "pricebook2", "pricebookentry", "opportunitylineitem",
	"opportunitycontactrole", "accountcontactrelation", "asset", "contract", "order", "orderitem", "quote", "quotelineitem", "group",
	"groupmember", "profile", "permissionset", "permissionsetassignment", "recordtype", "attachment", "contentversion", "contentdocument",
	"contentdocumentlink", "document", "note", "feeditem", "feedcomment", "emailtemplate", "orgwideemailaddress", "crontrigger",
	"asyncapexjob", "apexclass", "apextrigger", "businesshours", "holiday", "userrole", "solution", "idea", "entitlement",
	"servicecontract", "workorder", "workorderlineitem", "casecomment", "accountteammember", "opportunityteammember", "accountshare",
	"opportunityshare", "caseshare", "leadshare", "contactshare", "organization", "topic", "topicassignment", "customnotificationtype",
	"queuesobject", "individual", "usage", "collaborationgroup", "processinstance", "processinstanceworkitem", "emailmessagerelation",
	"staticresource", "setupauditTrail", "setupaudittrail", "loginhistory", "fieldpermissions", "objectpermissions", "recordaction",
	"dashboard", "report", "folder", "userlicense", "territory2", "knowledge__kav", "casehistory", "accounthistory", "opportunityhistory",
	"leadhistory", "contacthistory", "opportunityfieldhistory", "userpreference", "apexlog", "apextestresult", "apextestqueueitem",
	"security", "request", "quiddity", "sobjectaccessdecision", "dataweavescriptresource", "contentdistribution", "fielddefinition",
	"entitydefinition", "setupentityaccess", "appmenuitem", "permissionsetgroup", "unsupportedoperationexception", "system.type",
	"accessleveL", "accesslevel", "userrecordaccess", "recordvisibility", "knowledgearticleversion", "namedcredential", "externalcredential")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[strings.ToLower(w)] = true
	}
	return m
}

// apexUniverse is what Apex code may name in an org: its classes (with
// their methods and inner types) and sObjects (with their custom fields).
type apexUniverse struct {
	classes map[string]*apexClassInfo // lower-cased top-level name
	objects map[string]map[string]bool
}

// universalMethods every object, sObject or enum value answers.
var universalMethods = set("clone", "equals", "hashcode", "tostring", "values", "valueof", "name", "ordinal", "getsobjecttype")

type apexClassInfo struct {
	mentions map[string]int // lower-cased name → occurrences of "name(" in the source
	name     string
	methods  map[string][]int // lower-cased name → parameter counts
	inner    map[string]bool
	open     bool // extends or implements something: its methods are not all its own
}

var (
	callNameRe   = regexp.MustCompile(`(\w+)\s*\(`)
	extendsRe    = regexp.MustCompile(`(?i)\b(extends|implements)\b`)
	classDeclRe  = regexp.MustCompile(`(?i)\b(class|interface|enum)\s+(\w+)`)
	methodDeclRe = regexp.MustCompile(`(?im)^\s*(?:@\w+(?:\([^)]*\))?\s*)*(?:(?:public|private|protected|global|static|virtual|abstract|override|testmethod|webservice|final)\s+)*[\w.<>\[\], ]+?\s+(\w+)\s*\(([^)]*)\)\s*(?:\{|;)`)
)

// universeOf describes the org after a deploy: every class of the set,
// and every sObject the schema or the set knows. o.mu is held.
func (o *Org) universeOf(s *metadata.Set) *apexUniverse {
	u := &apexUniverse{classes: map[string]*apexClassInfo{}, objects: map[string]map[string]bool{}}
	for _, c := range s.Components() {
		switch c.Type.Name {
		case "ApexClass":
			src := apexSource(c)
			info := &apexClassInfo{name: c.Name, methods: map[string][]int{}, inner: map[string]bool{}, mentions: map[string]int{}, open: extendsRe.MatchString(src)}
			for i, m := range classDeclRe.FindAllStringSubmatch(src, -1) {
				if i > 0 {
					info.inner[strings.ToLower(m[2])] = true
				} else if !strings.EqualFold(m[1], "class") {
					info.open = true // an enum's or interface's methods are not all declared as a class's
				}
			}
			for _, m := range callNameRe.FindAllStringSubmatch(src, -1) {
				info.mentions[strings.ToLower(m[1])]++
			}
			for _, m := range methodDeclRe.FindAllStringSubmatch(src, -1) {
				n := 0
				if strings.TrimSpace(m[2]) != "" {
					n = len(splitTop(m[2]))
				}
				k := strings.ToLower(m[1])
				info.methods[k] = append(info.methods[k], n)
			}
			u.classes[strings.ToLower(c.Name)] = info
		case "CustomObject":
			u.object(c.Name)
		case "CustomField":
			obj, f, _ := strings.Cut(c.Name, ".")
			f = strings.ToLower(f)
			u.object(obj)[f] = true
			u.object(obj)[strings.TrimSuffix(f, "__c")+"__r"] = true
			if c.XML != nil {
				if ref, rel := c.XML.ChildText("referenceTo"), c.XML.ChildText("relationshipName"); ref != "" && rel != "" {
					u.object(ref)[strings.ToLower(rel)+"__r"] = true
				}
			}
		}
	}
	for _, n := range o.sobjectNames() {
		d := o.schema(n)
		fields := u.object(d.Name)
		for _, f := range d.Fields {
			fields[strings.ToLower(f.Name)] = true
			if f.RelName != "" {
				fields[strings.ToLower(f.RelName)] = true
			}
		}
	}
	return u
}

func (u *apexUniverse) object(name string) map[string]bool {
	k := strings.ToLower(name)
	if u.objects[k] == nil {
		u.objects[k] = map[string]bool{}
	}
	return u.objects[k]
}

// unknownType reports whether name is surely not a type the code may use:
// it is none the simulator knows, and it is a near miss (a typo) of a
// class or sObject the org has. A name that is merely unknown may be one
// of the standard library's thousands, so it passes.
func (u *apexUniverse) unknownType(name string, inner map[string]bool) bool {
	if u.knownType(name, inner) {
		return false
	}
	head, _, _ := strings.Cut(strings.ToLower(name), ".")
	near := func(k string) bool {
		limit := 1
		if len(head) > 8 {
			limit = 2
		}
		return k != head && len(head) > 3 && editDistance(k, head) <= limit
	}
	for k := range u.classes {
		if near(k) {
			return true
		}
	}
	for k := range u.objects {
		if near(k) {
			return true
		}
	}
	for k := range inner {
		if near(k) {
			return true
		}
	}
	return false
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// knownType reports whether name (possibly dotted, generic stripped) is a
// type the code may use, given the current class's inner types.
func (u *apexUniverse) knownType(name string, inner map[string]bool) bool {
	head, _, _ := strings.Cut(strings.ToLower(name), ".")
	if apexStandard[head] || apexKeywords[head] || inner[head] {
		return true
	}
	if _, ok := u.classes[head]; ok {
		return true
	}
	_, ok := u.objects[head]
	// Platform events, custom metadata, external and big objects, and the
	// share and history companions of custom objects are not modelled.
	return ok || strings.HasSuffix(head, "__e") || strings.HasSuffix(head, "__mdt") ||
		strings.HasSuffix(head, "__share") || strings.HasSuffix(head, "__history") || strings.HasSuffix(head, "__x") || strings.HasSuffix(head, "__b") ||
		strings.HasSuffix(head, "__changeevent") || strings.HasSuffix(head, "__feed")
}

func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '(', '[':
			depth++
		case '>', ')', ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// checkApexSemantics finds the first compile problem of a class or
// trigger's source against the universe (line and column are 1-based).
func checkApexSemantics(src, self string, u *apexUniverse) (line, col int, problem string, bad bool) {
	toks := lexApex(src)
	info := u.classes[strings.ToLower(self)]
	inner := map[string]bool{}
	if info != nil {
		inner = info.inner
	}
	// Variables by lower-cased name → declared type, lower-cased, for the
	// whole file: a name declared with two types is ambiguous ("?") and
	// not judged.
	vars := map[string]string{}
	declare := func(name, typ string) {
		t := strings.ToLower(baseType(typ))
		if strings.Contains(typ, "[") {
			t = "list"
		}
		k := strings.ToLower(name)
		if old, ok := vars[k]; ok && old != t {
			t = "?"
		}
		vars[k] = t
	}
	fail := func(t apexTok, msg string) (int, int, string, bool) { return t.line, t.col, msg, true }
	isValueEnd := func(t apexTok) bool {
		return t.kind == 'n' || t.kind == 's' || t.kind == 'q' || (t.kind == 'i' && !apexKeywords[strings.ToLower(t.text)] && !strings.HasPrefix(t.text, "@")) ||
			t.text == ")" || t.text == "]" || strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false") || strings.EqualFold(t.text, "null")
	}
	// typeAt reads a type name (dotted, generic, array) starting at i and
	// returns it and the index after it, or -1.
	typeAt := func(i int) (string, int) {
		if i >= len(toks) || toks[i].kind != 'i' || apexKeywords[strings.ToLower(toks[i].text)] {
			return "", -1
		}
		name := toks[i].text
		j := i + 1
		for j+1 < len(toks) && toks[j].text == "." && toks[j+1].kind == 'i' {
			name += "." + toks[j+1].text
			j += 2
		}
		if j < len(toks) && toks[j].text == "<" {
			depth := 0
			for ; j < len(toks); j++ {
				if toks[j].text == "<" {
					depth++
				} else if toks[j].text == ">" {
					depth--
				} else if toks[j].text == ">>" {
					depth -= 2
				} else if toks[j].kind != 'i' && toks[j].text != "," && toks[j].text != "." {
					return "", -1
				}
				if depth <= 0 {
					j++
					break
				}
			}
		}
		for j+1 < len(toks) && toks[j].text == "[" && toks[j+1].text == "]" {
			name += "[]"
			j += 2
		}
		return name, j
	}
	// Two passes: the first learns every declaration (a field may be
	// declared below the method using it), the second reports.
	for pass := 0; pass < 2; pass++ {
		report := pass == 1
		depth, parens := 0, 0
		stmtStart := true
		for i := 0; i < len(toks); i++ {
			t := toks[i]
			low := strings.ToLower(t.text)
			switch t.text {
			case "{":
				depth++
				stmtStart = true
				continue
			case "}":
				depth--
				stmtStart = true
				continue
			case ";":
				stmtStart = parens == 0
				continue
			case "(":
				parens++
			case ")":
				parens--
			}
			wasStart := stmtStart
			stmtStart = false
			// A declaration: [modifiers] Type name [= …] — the type must exist,
			// and a literal initializer must fit it.
			if depth >= 1 && (wasStart || (parens > 0 && i > 0 && (toks[i-1].text == "(" || toks[i-1].text == ","))) {
				k := i
				for k < len(toks) && (apexModifiers[strings.ToLower(toks[k].text)] || strings.HasPrefix(toks[k].text, "@")) {
					if strings.HasPrefix(toks[k].text, "@") && k+1 < len(toks) && toks[k+1].text == "(" {
						for k < len(toks) && toks[k].text != ")" {
							k++
						}
					}
					k++
				}
				if typ, j := typeAt(k); j > 0 && j < len(toks) && toks[j].kind == 'i' && !apexKeywords[strings.ToLower(toks[j].text)] &&
					j+1 < len(toks) && (toks[j+1].text == "=" || toks[j+1].text == ";" || toks[j+1].text == ":" || toks[j+1].text == "," || toks[j+1].text == ")" || toks[j+1].text == "{") {
					{
						if u.unknownType(baseType(typ), inner) {
							if report {
								return fail(toks[k], "Invalid type: "+baseType(typ))
							}
						}
						declare(toks[j].text, typ)
						// Integer a, b = 2; declares b too.
						for m, d := j+1, 0; m+1 < len(toks) && !(d == 0 && (toks[m].text == ";" || toks[m].text == ")" || toks[m].text == "{")); m++ {
							switch toks[m].text {
							case "(", "{", "[":
								d++
							case ")", "}", "]":
								d--
							case ",":
								if d == 0 && toks[m+1].kind == 'i' {
									declare(toks[m+1].text, typ)
								}
							}
						}
						if toks[j+1].text == "=" && j+3 < len(toks) && toks[j+3].text == ";" {
							if lt := literalType(toks[j+2]); lt != "" && !assignable(typ, lt) {
								if report {
									return fail(toks[j+2], fmt.Sprintf("Illegal assignment from %s to %s", lt, typ))
								}
							}
						}
					}
				}
			}
			// x = literal; on a declared variable.
			if wasStart && t.kind == 'i' && i+3 < len(toks) && toks[i+1].text == "=" && toks[i+3].text == ";" {
				if typ, ok := vars[low]; ok {
					if lt := literalType(toks[i+2]); lt != "" && !assignable(typ, lt) {
						if report {
							return fail(toks[i+2], fmt.Sprintf("Illegal assignment from %s to %s", lt, canonicalType(typ)))
						}
					}
				}
			}
			// A missing semicolon: a statement's value ends a line and the
			// next line starts another statement.
			if depth >= 2 && parens == 0 && i > 0 && !wasStart && toks[i-1].line < t.line && isValueEnd(toks[i-1]) &&
				!strings.EqualFold(toks[i-1].text, "else") && toks[i-1].text != "]" && !closesCondition(toks, i-1) {
				next := i+1 < len(toks)
				startsStmt := apexStatementStarts[low] ||
					(t.kind == 'i' && next && toks[i+1].kind == 'i' && !apexKeywords[low] && !apexKeywords[strings.ToLower(toks[i+1].text)]) ||
					(t.kind == 'i' && next && (toks[i+1].text == "=" || toks[i+1].text == "++" || toks[i+1].text == "--"))
				if startsStmt && !strings.EqualFold(toks[i-1].text, "return") {
					if report {
						return fail(t, fmt.Sprintf("Missing ';' at '%s'", t.text))
					}
				}
			}
			// new Foo( / new Foo< / new Foo[
			if low == "new" {
				if typ, j := typeAt(i + 1); j > 0 && u.unknownType(baseType(typ), inner) {
					if report {
						return fail(toks[i+1], "Invalid type: "+baseType(typ))
					}
				} else if j > 0 && j < len(toks) && toks[j].text == "(" {
					// new Account(Foo__c = …): the field must exist.
					if fields, ok := u.objects[strings.ToLower(baseType(typ))]; ok {
						for k := j + 1; k+1 < len(toks) && toks[k].text != ")"; k++ {
							if toks[k].kind == 'i' && toks[k+1].text == "=" && (k == j+1 || toks[k-1].text == ",") && isCustomName(toks[k].text) && !fields[strings.ToLower(toks[k].text)] {
								if report {
									return fail(toks[k], fmt.Sprintf("Invalid field %s for %s", toks[k].text, baseType(typ)))
								}
							}
						}
					}
				}
			}
			// Name.member(…) or var.field
			if t.kind == 'i' && i+2 < len(toks) && toks[i+1].text == "." && toks[i+2].kind == 'i' && (i == 0 || toks[i-1].text != ".") && !apexKeywords[low] &&
				!(i > 0 && strings.EqualFold(toks[i-1].text, "new")) && !inner[low] {
				member := toks[i+2]
				call := i+3 < len(toks) && toks[i+3].text == "("
				if typ, isVar := vars[low]; isVar {
					// A variable named like a type is left alone: which one the
					// compiler takes depends on scopes this check does not track.
					if !u.knownType(low, inner) {
						if fields, ok := u.objects[typ]; ok && !call && isCustomName(member.text) && !fields[strings.ToLower(member.text)] {
							if report {
								return fail(member, "Variable does not exist: "+member.text)
							}
						}
						if cls := u.classes[typ]; cls != nil && call {
							if problem := methodProblem(cls, member.text, toks, i+3, vars); problem != "" {
								if report {
									return fail(member, problem)
								}
							}
						}
					}
					continue
				}
				// A static call names the class as it is declared; another case
				// is more likely a variable this check did not see declared.
				if cls := u.classes[low]; cls != nil && t.text == cls.name {
					if call {
						if problem := methodProblem(cls, member.text, toks, i+3, vars); problem != "" {
							if report {
								return fail(member, problem)
							}
						}
					}
					continue
				}
				if call && u.unknownType(low, inner) && !(info != nil && info.methods[low] != nil) {
					if report {
						return fail(t, "Variable does not exist: "+t.text)
					}
				}
			}
		}
	}
	return 0, 0, "", false
}

// closesCondition reports whether toks[i] is the ')' of an if, for, while
// or catch, after which a statement may follow on the next line.
func closesCondition(toks []apexTok, i int) bool {
	if toks[i].text != ")" {
		return false
	}
	depth := 0
	for k := i; k >= 0; k-- {
		switch toks[k].text {
		case ")":
			depth++
		case "(":
			depth--
			if depth == 0 {
				if k == 0 {
					return false
				}
				switch strings.ToLower(toks[k-1].text) {
				case "if", "for", "while", "catch":
					return true
				}
				return strings.HasPrefix(toks[k-1].text, "@") // an annotation's arguments

			}
		}
	}
	return false
}

// methodProblem checks a call of cls.name with the arguments after the
// '(' at toks[open].
func methodProblem(cls *apexClassInfo, name string, toks []apexTok, open int, vars map[string]string) string {
	args, end := callArgs(toks, open)
	if end < 0 {
		return ""
	}
	lname := strings.ToLower(name)
	if universalMethods[lname] {
		return ""
	}
	counts, ok := cls.methods[lname]
	if cls.open && !ok {
		return ""
	}
	if ok && cls.mentions[lname] > len(counts) {
		return "" // used or declared in ways not all parsed: not judged
	}
	if ok {
		for _, n := range counts {
			if n == len(args) {
				return ""
			}
		}
	}
	var types []string
	for _, a := range args {
		t := "Object"
		if len(a) == 1 {
			if lt := literalType(a[0]); lt != "" {
				t = lt
			} else if vt, ok := vars[strings.ToLower(a[0].text)]; ok && a[0].kind == 'i' {
				t = canonicalType(vt)
			}
		}
		types = append(types, t)
	}
	return fmt.Sprintf("Method does not exist or incorrect signature: void %s(%s) from the type %s", name, strings.Join(types, ", "), cls.name)
}

// callArgs splits the arguments of the call whose '(' is toks[open].
func callArgs(toks []apexTok, open int) ([][]apexTok, int) {
	var args [][]apexTok
	var cur []apexTok
	depth := 0
	angles := 0 // inside new Map<String, String>: its comma is not an argument's
	for i := open; i < len(toks); i++ {
		switch toks[i].text {
		case "<":
			if afterNew(toks, i) {
				angles++
			}
		case ">":
			if angles > 0 {
				angles--
			}
		case "(", "[", "{":
			depth++
			if depth == 1 {
				continue
			}
		case ")", "]", "}":
			depth--
			if depth == 0 {
				if len(cur) > 0 {
					args = append(args, cur)
				}
				return args, i
			}
		case ",":
			if depth == 1 && angles == 0 {
				args = append(args, cur)
				cur = nil
				continue
			}
		}
		cur = append(cur, toks[i])
	}
	return nil, -1
}

// afterNew reports whether the '<' at toks[i] opens the type arguments of
// a new expression (new Map<…>, new List<…>).
func afterNew(toks []apexTok, i int) bool {
	for k := i - 1; k >= 0; k-- {
		switch {
		case toks[k].kind == 'i' && strings.EqualFold(toks[k].text, "new"):
			return true
		case toks[k].kind == 'i' || toks[k].text == "." || toks[k].text == "<" || toks[k].text == ",":
			continue
		}
		return false
	}
	return false
}

// isCustomName reports a custom field or relationship of this org's own
// (Tier__c, Account__r): a namespaced one (npe01__Tier__c) belongs to an
// installed package the simulator does not hold, so it is not judged.
func isCustomName(s string) bool {
	l := strings.ToLower(s)
	return (strings.HasSuffix(l, "__c") || strings.HasSuffix(l, "__r")) && strings.Count(l, "__") == 1
}

// baseType strips generics and arrays: List<Account> → List.
func baseType(t string) string {
	if i := strings.IndexAny(t, "<["); i >= 0 {
		return t[:i]
	}
	return t
}

// literalType is the Apex type of a literal token, or "".
func literalType(t apexTok) string {
	switch {
	case t.kind == 's':
		return "String"
	case t.kind == 'n' && strings.ContainsAny(t.text, "lL"):
		return "Long"
	case t.kind == 'n' && strings.Contains(t.text, "."):
		return "Decimal"
	case t.kind == 'n':
		return "Integer"
	case strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false"):
		return "Boolean"
	}
	return ""
}

var numericRank = map[string]int{"integer": 1, "long": 2, "decimal": 3, "double": 3}

// assignable reports whether a literal of type lit may initialise a
// variable of type to (only the simple types are judged).
func assignable(to, lit string) bool {
	t, l := strings.ToLower(baseType(to)), strings.ToLower(lit)
	switch t {
	case "object":
		return true
	case "string":
		return l == "string"
	case "id":
		return l == "string"
	case "boolean":
		return l == "boolean"
	case "integer", "long", "decimal", "double":
		r, ok := numericRank[l]
		return ok && r <= numericRank[t]
	case "date", "datetime", "time", "blob":
		return false
	}
	return true // sObjects, classes, collections: not judged here
}

func canonicalType(lower string) string {
	for _, t := range []string{"String", "Integer", "Long", "Decimal", "Double", "Boolean", "Id", "Date", "Datetime", "Time", "Blob", "Object"} {
		if strings.EqualFold(t, lower) {
			return t
		}
	}
	return lower
}
