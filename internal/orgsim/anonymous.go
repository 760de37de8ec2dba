package orgsim

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// The Apex SOAP API's executeAnonymous (/services/Soap/s/<version>), which
// `sf apex run` calls: the code is checked as the compiler would, then
// "run": System.debug lines reach the debug log, an assertion that cannot
// hold fails the run with its message. Each run leaves an ApexLog.

// anonPrefix wraps anonymous code in a class on its first line, so the
// class check applies and lines keep their numbers.
const anonPrefix = "public class AnonymousBlock { void run() { "

var (
	stringLiteralRe = regexp.MustCompile(`^'(?:[^'\\]|\\.)*'$`)
	debugCallRe     = regexp.MustCompile(`(?i)\bSystem\.debug\s*\(\s*(?:LoggingLevel\.(\w+)\s*,\s*)?('(?:[^'\\]|\\.)*'|[^;]*?)\s*\)\s*;`)
	anonAssertRe    = regexp.MustCompile(`(?i)\b(System\.assert(?:Equals|NotEquals)?|Assert\.(?:fail|isTrue|isFalse|areEqual|areNotEqual))\s*\(`)
)

func (o *Org) executeAnonymous(w http.ResponseWriter, r *http.Request) {
	v, ok := versionOK(chi.URLParam(r, "version"))
	if !ok || v < minVersion || v > maxVersion {
		soapFault(w, "UNSUPPORTED_API_VERSION", fmt.Sprintf("Invalid Api version specified on URL: %s", chi.URLParam(r, "version")))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	env, err := metadata.ParseXML(body)
	if err != nil || env.Name != "Envelope" || env.Child("Body") == nil {
		soapFault(w, "INVALID_REQUEST", "Unable to parse the request: not a SOAP envelope")
		return
	}
	sid, wantLog := "", false
	if h := env.Child("Header"); h != nil {
		if sh := h.Child("SessionHeader"); sh != nil {
			sid = strings.TrimSpace(sh.ChildText("sessionId"))
		}
		wantLog = h.Child("DebuggingHeader") != nil
	}
	exec := env.Child("Body").Child("executeAnonymous")
	if exec == nil {
		soapFault(w, "INVALID_REQUEST", "executeAnonymous expected")
		return
	}
	// The WSDL names the argument String; the CLI sends <apexcode>:
	// Salesforce takes the first element either way.
	code := ""
	for _, c := range exec.Children {
		if c.Name != "" {
			code = c.Text
			break
		}
	}
	o.mu.Lock()
	_, valid := o.st.Sessions[sid]
	o.mu.Unlock()
	if !valid {
		soapFault(w, "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
		return
	}

	res := map[string]any{"column": -1, "line": -1, "compiled": true, "success": true, "compileProblem": nil, "exceptionMessage": nil, "exceptionStackTrace": nil}
	start := time.Now()
	var lines []string
	logLine := func(event string, parts ...string) {
		ns := time.Since(start).Nanoseconds() + int64(len(lines)+1)*1000
		lines = append(lines, fmt.Sprintf("%s (%d)|%s", time.Now().UTC().Format("15:04:05.0"), ns, strings.Join(append([]string{event}, parts...), "|")))
	}
	o.mu.Lock()
	user := o.st.Username
	userID := o.st.UserID
	o.mu.Unlock()
	logLine("USER_INFO", "[EXTERNAL]", userID, user, "(GMT-08:00) Pacific Standard Time (America/Los_Angeles)", "GMT-08:00")
	logLine("EXECUTION_STARTED")
	logLine("CODE_UNIT_STARTED", "[EXTERNAL]", "execute_anonymous_apex")
	o.mu.Lock()
	universe := o.universeOf(o.set)
	o.mu.Unlock()
	line, col, problem, bad := checkApex(anonPrefix+code+"\n}}", false)
	if !bad {
		line, col, problem, bad = checkApexSemantics(anonPrefix+code+"\n}}", "AnonymousBlock", universe)
	}
	if bad {
		if line == 1 {
			col -= len(anonPrefix)
		}
		res["compiled"], res["success"], res["line"], res["column"], res["compileProblem"] = false, false, line, max(col, 1), problem
	} else {
		o.runAnonymous(code, &lines, logLine, res)
	}
	logLine("CODE_UNIT_FINISHED", "execute_anonymous_apex")
	logLine("EXECUTION_FINISHED")
	header := fmt.Sprintf("%s APEX_CODE,DEBUG;APEX_PROFILING,INFO;CALLOUT,INFO;DB,INFO;NBA,INFO;SYSTEM,DEBUG;VALIDATION,INFO;VISUALFORCE,INFO;WAVE,INFO;WORKFLOW,INFO", chi.URLParam(r, "version"))
	log := header + "\nExecute Anonymous: " + strings.ReplaceAll(strings.TrimRight(code, "\n"), "\n", "\nExecute Anonymous: ") + "\n" + strings.Join(lines, "\n") + "\n"
	status := "Success"
	if res["success"] != true {
		status = fmt.Sprint(nonNil(res["compileProblem"]))
		if res["exceptionMessage"] != nil {
			status = fmt.Sprint(res["exceptionMessage"])
		}
	}
	o.mu.Lock()
	id := o.nextID("07L")
	o.logs = append(o.logs, Record{"Id": id, "LogUserId": userID, "LogUser": Record{"attributes": attrs("User", userID, false), "Name": "Admin User"},
		"LogLength": float64(len(log)), "Operation": "/services/Soap/s/" + chi.URLParam(r, "version"), "Request": "Api", "Status": status,
		"StartTime": restTime(start), "DurationMilliseconds": float64(max(1, time.Since(start).Milliseconds())), "Location": "Monitoring",
		"Application": "Unknown", "LastModifiedDate": restTime(time.Now()), "SystemModstamp": restTime(time.Now())})
	if o.logBodies == nil {
		o.logBodies = map[string]string{}
	}
	o.logBodies[id] = log
	o.mu.Unlock()

	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/08/apex" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`)
	if wantLog {
		b.WriteString("<soapenv:Header><DebuggingInfo><debugLog>" + esc(log) + "</debugLog></DebuggingInfo></soapenv:Header>")
	}
	b.WriteString("<soapenv:Body><executeAnonymousResponse><result>")
	for _, k := range []string{"column", "compileProblem", "compiled", "exceptionMessage", "exceptionStackTrace", "line", "success"} {
		if res[k] == nil {
			fmt.Fprintf(&b, `<%s xsi:nil="true"/>`, k)
		} else {
			fmt.Fprintf(&b, "<%s>%s</%s>", k, esc(fmt.Sprint(res[k])), k)
		}
	}
	b.WriteString("</result></executeAnonymousResponse></soapenv:Body></soapenv:Envelope>")
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	io.WriteString(w, b.String())
}

// runAnonymous "runs" checked code: debug statements log, and the first
// assertion that is bound to fail ends the run with its message.
func (o *Org) runAnonymous(code string, lines *[]string, logLine func(string, ...string), res map[string]any) {
	type event struct {
		at   int
		emit func() bool // false stops the run
	}
	var events []event
	lineOf := func(at int) int { return strings.Count(code[:at], "\n") + 1 }
	for _, m := range debugCallRe.FindAllStringSubmatchIndex(code, -1) {
		level := "DEBUG"
		if m[2] >= 0 {
			level = strings.ToUpper(code[m[2]:m[3]])
		}
		arg := strings.TrimSpace(code[m[4]:m[5]])
		if strings.HasPrefix(arg, "'") && strings.HasSuffix(arg, "'") && len(arg) >= 2 {
			arg = strings.ReplaceAll(arg[1:len(arg)-1], `\'`, `'`)
		}
		at := m[0]
		events = append(events, event{at, func() bool {
			logLine("USER_DEBUG", fmt.Sprintf("[%d]", lineOf(at)), level, arg)
			return true
		}})
	}
	for _, m := range anonAssertRe.FindAllStringIndex(code, -1) {
		at := m[0]
		msg, fails := assertionFails(code[at:])
		if !fails {
			continue
		}
		events = append(events, event{at, func() bool {
			text := "System.AssertException: Assertion Failed"
			if msg != "" {
				text += ": " + msg
			}
			logLine("EXCEPTION_THROWN", fmt.Sprintf("[%d]", lineOf(at)), text)
			logLine("FATAL_ERROR", text)
			res["success"], res["exceptionMessage"] = false, text
			res["exceptionStackTrace"] = fmt.Sprintf("AnonymousBlock: line %d, column 1", lineOf(at))
			res["line"], res["column"] = lineOf(at), 1
			return false
		}})
	}
	// In source order.
	for i := 1; i < len(events); i++ {
		for j := i; j > 0 && events[j].at < events[j-1].at; j-- {
			events[j], events[j-1] = events[j-1], events[j]
		}
	}
	for _, e := range events {
		if !e.emit() {
			return
		}
	}
}

// assertionFails reports whether an assertion call (starting at the call)
// cannot hold, and its message: System.assert(false…), Assert.fail(…),
// Assert.isTrue(false…), and equality assertions between two different
// literals. The message is the last string literal argument.
func assertionFails(call string) (string, bool) {
	open := strings.IndexByte(call, '(')
	args := splitArgs(call[open+1:])
	name := strings.ToLower(strings.TrimSpace(call[:open]))
	lit := func(i int) string {
		if i < len(args) {
			return strings.TrimSpace(args[i])
		}
		return ""
	}
	msgAt := func(i int) string {
		s := lit(i)
		if stringLiteralRe.MatchString(s) {
			return strings.ReplaceAll(s[1:len(s)-1], `\'`, `'`)
		}
		return ""
	}
	// Only whole literals are compared: 1 + 1 is an expression, not 1.
	isLiteral := func(s string) bool {
		switch {
		case s == "":
			return false
		case stringLiteralRe.MatchString(s):
			return true
		case strings.EqualFold(s, "true") || strings.EqualFold(s, "false") || strings.EqualFold(s, "null"):
			return true
		}
		_, err := strconv.ParseFloat(strings.TrimRight(s, "lL"), 64)
		return err == nil
	}
	// Literals equal as Apex sees them: 2 and 2.0 are the same number.
	equal := func(a, b string) bool {
		x, errA := strconv.ParseFloat(strings.TrimRight(a, "lL"), 64)
		y, errB := strconv.ParseFloat(strings.TrimRight(b, "lL"), 64)
		if errA == nil && errB == nil {
			return x == y
		}
		return a == b
	}
	switch name {
	case "system.assert", "assert.istrue":
		return msgAt(1), strings.EqualFold(lit(0), "false")
	case "assert.isfalse":
		return msgAt(1), strings.EqualFold(lit(0), "true")
	case "assert.fail":
		return msgAt(0), true
	case "system.assertequals", "assert.areequal":
		a, b := lit(0), lit(1)
		if isLiteral(a) && isLiteral(b) && !equal(a, b) {
			m := msgAt(2)
			if m == "" {
				m = fmt.Sprintf("Expected: %s, Actual: %s", strings.Trim(a, "'"), strings.Trim(b, "'"))
			} else {
				m = fmt.Sprintf("%s: Expected: %s, Actual: %s", m, strings.Trim(a, "'"), strings.Trim(b, "'"))
			}
			return m, true
		}
	case "system.assertnotequals", "assert.arenotequal":
		a, b := lit(0), lit(1)
		if isLiteral(a) && isLiteral(b) && equal(a, b) {
			m := msgAt(2)
			if m == "" {
				m = "Same value: " + strings.Trim(a, "'")
			} else {
				m += ": Same value: " + strings.Trim(a, "'")
			}
			return m, true
		}
	}
	return "", false
}

// splitArgs splits a call's argument text (after its '(') at top-level
// commas, up to the closing ')'.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			for i++; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth == 0 {
				if strings.TrimSpace(s[start:i]) != "" {
					out = append(out, s[start:i])
				}
				return out
			}
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return out
}

// apexLogBody serves an ApexLog's text (`sf apex get log`).
func (o *Org) apexLogBody(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	o.mu.Lock()
	var body string
	found := false
	for lid, b := range o.logBodies {
		if sameID(lid, id) {
			body, found = b, true
		}
	}
	o.mu.Unlock()
	if !found {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	io.WriteString(w, body)
}
