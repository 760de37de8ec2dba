package orgsim

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strings"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// checkApex finds the first error that keeps Apex from compiling, as far
// as a bracket-and-declaration check can: unbalanced or mismatched
// brackets, unterminated strings and comments, a body that declares no
// class, interface, enum or trigger. Line and column are 1-based.
func checkApex(src string, trigger bool) (line, col int, problem string, bad bool) {
	type open struct {
		c         byte
		line, col int
		isFor     bool // the parentheses of a for loop, where ; belongs
	}
	var stack []open
	line, col = 1, 0
	firstWord, lastWord := "", ""
	declared := false
	pairs := map[byte]byte{')': '(', ']': '[', '}': '{'}
	closer := map[byte]byte{'(': ')', '[': ']', '{': '}'}
	for i := 0; i < len(src); i++ {
		c := src[i]
		col++
		if c == '\n' {
			line, col = line+1, 0
			continue
		}
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			l, cl := line, col
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return l, cl, "Unexpected token '/*'.", true
			}
			for _, ch := range src[i : i+2+end+2] {
				if ch == '\n' {
					line, col = line+1, 0
				} else {
					col++
				}
			}
			col--
			i += 2 + end + 1
			continue
		case c == '\'':
			l, cl := line, col
			j := i + 1
			for ; j < len(src) && src[j] != '\'' && src[j] != '\n'; j++ {
				if src[j] == '\\' {
					j++
				}
			}
			if j >= len(src) || src[j] == '\n' {
				return l, cl, "Unexpected token '''.", true
			}
			col += j - i
			i = j
			continue
		case c == '(' || c == '[' || c == '{':
			if c == '{' && len(stack) == 0 && !declared {
				return line, col, fmt.Sprintf("Unexpected token '%s'.", nonEmpty(firstWord, "{")), true
			}
			stack = append(stack, open{c, line, col, c == '(' && lastWord == "for"})
		case c == ';' && len(stack) > 0 && stack[len(stack)-1].c != '{' && !stack[len(stack)-1].isFor:
			top := stack[len(stack)-1]
			return line, col, fmt.Sprintf("Missing '%c' at ';'", closer[top.c]), true
		case c == ')' || c == ']' || c == '}':
			if len(stack) == 0 {
				return line, col, fmt.Sprintf("Extra '%c', at '%c'.", c, c), true
			}
			top := stack[len(stack)-1]
			if top.c != pairs[c] {
				return line, col, fmt.Sprintf("Missing '%c' at '%c'", closer[top.c], c), true
			}
			stack = stack[:len(stack)-1]
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			word := strings.ToLower(src[i:j])
			lastWord = word
			if firstWord == "" && !strings.HasPrefix(word, "@") {
				firstWord = src[i:j]
			}
			if len(stack) == 0 {
				switch word {
				case "class", "interface", "enum":
					declared = declared || !trigger
				case "trigger":
					declared = declared || trigger
				}
			}
			col += j - i - 1
			i = j - 1
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		_ = top
		return line, col + 1, fmt.Sprintf("Missing '%c' at '<EOF>'", closer[top.c]), true
	}
	if !declared {
		what := "class, interface or enum"
		if trigger {
			what = "trigger"
		}
		return 1, 1, "Expecting a " + what + " declaration", true
	}
	return 0, 0, "", false
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '@' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9'
}

// locate finds the first whole-word occurrence of name in src.
func locate(src, name string) (line, col int) {
	re, err := regexp.Compile(`(?i)\b` + regexp.QuoteMeta(name) + `\b`)
	if err != nil {
		return 1, 1
	}
	loc := re.FindStringIndex(src)
	if loc == nil {
		return 1, 1
	}
	before := src[:loc[0]]
	line = strings.Count(before, "\n") + 1
	col = loc[0] - strings.LastIndexByte(before, '\n')
	return line, col
}

var (
	isTestClassRe = regexp.MustCompile(`(?is)@isTest\b[^{]*?\bclass\b`)
	testMethodRe  = regexp.MustCompile(`(?is)(@isTest(?:\s*\([^)]*\))?\s+(?:(?:public|private|global|static|override)\s+)*|(?:(?:public|private|global|static)\s+)*testMethod\s+)(?:static\s+)?void\s+(\w+)\s*\(\s*\)`)
	triggerOnRe   = regexp.MustCompile(`(?i)\btrigger\s+\w+\s+on\s+(\w+)`)
)

// isTestClass reports whether an Apex class is a test class.
func isTestClass(c *metadata.Component) bool {
	return c.Type.Name == "ApexClass" && isTestClassRe.MatchString(apexSource(c))
}

// testClassNames lists the test classes of a set, sorted.
func testClassNames(s *metadata.Set) []string {
	var out []string
	for _, c := range s.Components() {
		if isTestClass(c) {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out
}

// testMethod is one test method's outcome.
type testMethod struct {
	class, method string
	pass          bool
	message       string
	stack         string
	ms            int
}

// testRunOutcome is what running some test classes gives.
type testRunOutcome struct {
	classes []string
	methods []testMethod
	covered map[string]bool // names of the classes and triggers the tests reach
}

// runTests runs the named test classes of s: every method passes unless
// its body holds a failure marker (System.assert(false…, Assert.fail(…).
// Durations are derived from the names, so runs repeat exactly. It
// returns the names that are not test classes of s.
func runTests(s *metadata.Set, classes []string, idFor func(metadata.Key) string) (*testRunOutcome, []string) {
	out := &testRunOutcome{covered: map[string]bool{}}
	var missing []string
	var sources []string
	for _, name := range classes {
		name = strings.TrimSpace(name)
		c := s.Get(metadata.Key{Type: "ApexClass", Name: name})
		if c == nil {
			for _, x := range s.Components() {
				if x.Type.Name == "ApexClass" && strings.EqualFold(x.Name, name) {
					c = x
				}
			}
		}
		if c == nil || !isTestClass(c) {
			missing = append(missing, name)
			continue
		}
		out.classes = append(out.classes, c.Name)
		src := apexSource(c)
		sources = append(sources, src)
		out.methods = append(out.methods, testMethods(c.Name, src)...)
	}
	all := strings.Join(sources, "\n")
	for _, c := range s.Components() {
		if (c.Type.Name != "ApexClass" && c.Type.Name != "ApexTrigger") || isTestClass(c) {
			continue
		}
		names := []string{c.Name}
		if c.Type.Name == "ApexTrigger" {
			if m := triggerOnRe.FindStringSubmatch(apexSource(c)); m != nil {
				names = append(names, m[1])
			}
		}
		for _, n := range names {
			if regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(n) + `\b`).MatchString(all) {
				out.covered[c.Name] = true
			}
		}
	}
	return out, missing
}

func testMethods(class, src string) []testMethod {
	var out []testMethod
	for _, m := range testMethodRe.FindAllStringSubmatchIndex(src, -1) {
		name := src[m[4]:m[5]]
		body, bodyStart := methodBody(src, m[1])
		tm := testMethod{class: class, method: name, pass: true, ms: durationOf(class + "." + name)}
		for _, loc := range anonAssertRe.FindAllStringIndex(body, -1) {
			msg, fails := assertionFails(body[loc[0]:])
			if !fails {
				continue
			}
			line := strings.Count(src[:bodyStart+loc[0]], "\n") + 1
			tm.pass = false
			tm.message = "System.AssertException: Assertion Failed"
			if msg != "" {
				tm.message += ": " + msg
			}
			tm.stack = fmt.Sprintf("Class.%s.%s: line %d, column 1", class, name, line)
			break
		}
		out = append(out, tm)
	}
	return out
}

// methodBody returns the text between the braces after position i.
func methodBody(src string, i int) (string, int) {
	start := strings.IndexByte(src[i:], '{')
	if start < 0 {
		return "", i
	}
	start += i
	depth := 0
	for j := start; j < len(src); j++ {
		switch src[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return src[start+1 : j], start + 1
			}
		}
	}
	return src[start+1:], start + 1
}

func assertMessage(rest string) string {
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "'") {
		if end := strings.IndexByte(rest[1:], '\''); end >= 0 {
			return rest[1 : end+1]
		}
	}
	return ""
}

func durationOf(s string) int {
	h := fnv.New32a()
	h.Write([]byte(s))
	return 5 + int(h.Sum32()%120)
}

// executableLines are the lines that count for coverage: code that is not
// blank, a comment, a lone brace or a declaration line.
func executableLines(src string) []int {
	var out []int
	inComment := false
	for i, l := range strings.Split(src, "\n") {
		t := strings.TrimSpace(l)
		if inComment {
			if strings.Contains(t, "*/") {
				inComment = false
			}
			continue
		}
		switch {
		case t == "", t == "{", t == "}", t == "};", strings.HasPrefix(t, "//"), strings.HasPrefix(t, "@"):
			continue
		case strings.HasPrefix(t, "/*"):
			inComment = !strings.Contains(t, "*/")
			continue
		}
		low := strings.ToLower(t)
		if strings.Contains(low, " class ") || strings.HasPrefix(low, "class ") || strings.HasPrefix(low, "trigger ") {
			continue
		}
		out = append(out, i+1)
	}
	return out
}

// coverageOf is the coverage a class or trigger gets from a run: every
// executable line when a test names it (or, for triggers, its object),
// except lines marked "orgsim:uncovered"; nothing otherwise.
func coverageOf(c *metadata.Component, reached bool) (lines, uncovered []int) {
	src := apexSource(c)
	all := strings.Split(src, "\n")
	lines = executableLines(src)
	for _, l := range lines {
		if !reached || strings.Contains(all[l-1], "orgsim:uncovered") {
			uncovered = append(uncovered, l)
		}
	}
	return lines, uncovered
}

func (r *testRunOutcome) failures() int {
	n := 0
	for _, m := range r.methods {
		if !m.pass {
			n++
		}
	}
	return n
}

// deployResult renders the run as a deploy's RunTestsResult.
func (r *testRunOutcome) deployResult(s *metadata.Set, idFor func(metadata.Key) string) *xRunTestsResult {
	out := &xRunTestsResult{NumTestsRun: len(r.methods), NumFailures: r.failures(), FlowCoverage: []any{}, FlowCoverageWarnings: []any{}}
	for _, m := range r.methods {
		id := idFor(metadata.Key{Type: "ApexClass", Name: m.class})
		out.TotalTime += float64(m.ms)
		if m.pass {
			out.Successes = append(out.Successes, xTestSuccess{ID: id, MethodName: m.method, Name: m.class, Time: float64(m.ms)})
		} else {
			out.Failures = append(out.Failures, xTestFailure{ID: id, Message: m.message, MethodName: m.method, Name: m.class,
				StackTrace: m.stack, Time: float64(m.ms), Type: "Class"})
		}
	}
	for _, c := range s.Components() {
		if (c.Type.Name != "ApexClass" && c.Type.Name != "ApexTrigger") || isTestClass(c) {
			continue
		}
		lines, unc := coverageOf(c, r.covered[c.Name])
		cc := xCodeCoverage{ID: idFor(c.Key()), Name: c.Name, NumLocations: len(lines), NumLocationsNotCovered: len(unc), Type: "Class",
			DMLInfo: []any{}, MethodInfo: []any{}, SOQLInfo: []any{}, SOSLInfo: []any{}, LocationsNotCovered: []xCodeLocation{}}
		if c.Type.Name == "ApexTrigger" {
			cc.Type = "Trigger"
		}
		for _, l := range unc {
			cc.LocationsNotCovered = append(cc.LocationsNotCovered, xCodeLocation{Column: 0, Line: l, NumExecutions: 1, Time: -1})
		}
		out.CodeCoverage = append(out.CodeCoverage, cc)
	}
	return out
}

// coverageWarnings applies production's 75% rule: for RunSpecifiedTests
// each deployed class and trigger, otherwise the org-wide average.
func coverageWarnings(after *metadata.Set, run *testRunOutcome, level string, deployed *metadata.Set, idFor func(metadata.Key) string) []xCodeCoverageWarning {
	var warnings []xCodeCoverageWarning
	total, covered := 0, 0
	for _, c := range after.Components() {
		if (c.Type.Name != "ApexClass" && c.Type.Name != "ApexTrigger") || isTestClass(c) {
			continue
		}
		lines, unc := coverageOf(c, run.covered[c.Name])
		total += len(lines)
		covered += len(lines) - len(unc)
		if level == "RunSpecifiedTests" && deployed.Get(c.Key()) != nil && len(lines) > 0 {
			pct := 100 * (len(lines) - len(unc)) / len(lines)
			if pct < 75 {
				kind := "Class"
				if c.Type.Name == "ApexTrigger" {
					kind = "Trigger"
				}
				warnings = append(warnings, xCodeCoverageWarning{ID: idFor(c.Key()), Name: c.Name,
					Message: fmt.Sprintf("Test coverage of selected Apex %s is %d%%, at least 75%% test coverage is required", kind, pct)})
			}
		}
	}
	if level != "RunSpecifiedTests" && total > 0 {
		pct := 100 * covered / total
		if pct < 75 {
			warnings = append(warnings, xCodeCoverageWarning{ID: "", Message: fmt.Sprintf("Average test coverage across all Apex Classes and Triggers is %d%%, at least 75%% test coverage is required.", pct)})
		}
	}
	return warnings
}
