// Package checks runs static checks on captured metadata before it is
// validated against an org: the mistakes that pass a deploy and fail
// later. Each finding has a severity a stage policy can block on.
package checks

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Severity ranks findings.
type Severity string

// The severities, most serious first.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// File is one file of a component, in Metadata API format.
type File struct {
	Component string // "ApexClass Quotes"
	Type      string
	Path      string
	Data      []byte
}

// Finding is one problem in one place.
type Finding struct {
	Rule      string   `json:"rule"`
	Severity  Severity `json:"severity"`
	Component string   `json:"component"`
	Path      string   `json:"path"`
	Line      int      `json:"line,omitempty"`
	Message   string   `json:"message"`
}

// Options tune the checks.
type Options struct {
	// OrgAPIVersion is the target org's version, e.g. "64.0"; components
	// more than MaxVersionLag behind it are flagged. "" skips that rule.
	OrgAPIVersion string
	MaxVersionLag float64 // default 10 releases
}

// recordID matches a Salesforce id in a string literal: 15 or 18
// characters starting with a key prefix (letters and digits, the third
// character a digit or letter), as found in hard-coded ids.
var recordID = regexp.MustCompile(`['"]([a-zA-Z0-9]{3}[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?)['"]`)

// looksLikeID filters the matches that are ids, not words: ids mix
// digits and letters and have a zero-padded body.
func looksLikeID(s string) bool {
	digits, letters := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		default:
			letters++
		}
	}
	return digits >= 4 && letters >= 2 && strings.Contains(s[3:], "0")
}

var (
	loopStart  = regexp.MustCompile(`(?i)\b(for|while|do)\b\s*[({]`)
	soqlOrDML  = regexp.MustCompile(`(?i)(\[\s*select\b|\bdatabase\.(query|insert|update|upsert|delete)\b|\b(insert|update|upsert|delete|undelete)\s+[a-z_][a-z0-9_]*\s*;)`)
	isTest     = regexp.MustCompile(`(?i)@istest\b`)
	apiVersion = regexp.MustCompile(`<apiVersion>([0-9.]+)</apiVersion>`)
)

// Run checks the files of a change set. New Apex classes without a test
// class among the files are flagged; newClasses names the classes that are
// new (not changed) in the change set.
func Run(files []File, newClasses []string, opts Options) []Finding {
	if opts.MaxVersionLag == 0 {
		opts.MaxVersionLag = 10
	}
	var out []Finding
	testText := strings.Builder{}
	for _, f := range files {
		text := string(f.Data)
		lower := strings.ToLower(f.Path)
		switch {
		case strings.HasSuffix(lower, ".cls") || strings.HasSuffix(lower, ".trigger"):
			out = append(out, apexFindings(f, text)...)
			if isTest.MatchString(text) {
				testText.WriteString(strings.ToLower(text))
			}
		case strings.HasSuffix(lower, ".flow") || strings.HasSuffix(lower, ".flow-meta.xml"):
			out = append(out, idFindings(f, text, "Flow")...)
		case f.Type == "Profile":
			out = append(out, Finding{Rule: "profile-edit", Severity: Warning, Component: f.Component, Path: f.Path,
				Message: "A profile is changed: grant access with a permission set instead, so it can be assigned and removed without touching profiles."})
		}
		if opts.OrgAPIVersion != "" {
			if m := apiVersion.FindStringSubmatch(text); m != nil {
				have, _ := strconv.ParseFloat(m[1], 64)
				want, _ := strconv.ParseFloat(opts.OrgAPIVersion, 64)
				if want-have > opts.MaxVersionLag {
					out = append(out, Finding{Rule: "old-api-version", Severity: Warning, Component: f.Component, Path: f.Path,
						Message: fmt.Sprintf("API version %s is %.0f releases behind the org's %s.", m[1], want-have, opts.OrgAPIVersion)})
				}
			}
		}
	}
	tests := testText.String()
	for _, c := range newClasses {
		if !strings.Contains(tests, strings.ToLower(c)) && !strings.HasSuffix(strings.ToLower(c), "test") {
			out = append(out, Finding{Rule: "untested-apex", Severity: Error, Component: "ApexClass " + c,
				Message: fmt.Sprintf("The new class %s has no test class in this change set that uses it.", c)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Component != out[j].Component {
			return out[i].Component < out[j].Component
		}
		return out[i].Line < out[j].Line
	})
	return out
}

func apexFindings(f File, text string) []Finding {
	out := idFindings(f, text, "Apex")
	// SOQL or DML inside a loop: track brace depth of loop bodies.
	lines := strings.Split(text, "\n")
	var loopDepths []int
	depth := 0
	pendingLoop := false
	for i, line := range lines {
		code := line
		if j := strings.Index(code, "//"); j >= 0 {
			code = code[:j]
		}
		if loopStart.MatchString(code) {
			pendingLoop = true
		}
		if len(loopDepths) > 0 && soqlOrDML.MatchString(code) {
			out = append(out, Finding{Rule: "soql-dml-in-loop", Severity: Error, Component: f.Component, Path: f.Path, Line: i + 1,
				Message: "SOQL or DML inside a loop: it runs once per record and hits governor limits on bulk data. Query or save once, outside the loop."})
		}
		for _, r := range code {
			switch r {
			case '{':
				depth++
				if pendingLoop {
					loopDepths = append(loopDepths, depth)
					pendingLoop = false
				}
			case '}':
				if n := len(loopDepths); n > 0 && loopDepths[n-1] == depth {
					loopDepths = loopDepths[:n-1]
				}
				depth--
			}
		}
	}
	return out
}

func idFindings(f File, text, what string) []Finding {
	var out []Finding
	for i, line := range strings.Split(text, "\n") {
		for _, m := range recordID.FindAllStringSubmatch(line, -1) {
			if looksLikeID(m[1]) {
				out = append(out, Finding{Rule: "hardcoded-id", Severity: Error, Component: f.Component, Path: f.Path, Line: i + 1,
					Message: fmt.Sprintf("%s holds the record id %s: ids differ between orgs, so this breaks after promotion. Look the record up by a stable field instead.", what, m[1])})
			}
		}
	}
	return out
}
