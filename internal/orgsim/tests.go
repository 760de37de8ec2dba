package orgsim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/metadata"
)

// coverage is a class's or trigger's cumulative coverage
// (ApexCodeCoverageAggregate).
type coverage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Trigger   bool   `json:"trigger"`
	Lines     []int  `json:"lines"`
	Uncovered []int  `json:"uncovered"`
}

// testRun is an asynchronous test run (AsyncApexJob 707…).
type testRun struct {
	id       string
	runID    string // ApexTestRunResult 05m…
	created  time.Time
	step     time.Duration
	classes  []*classRun
	out      *testRunOutcome
	set      *metadata.Set // the code the run saw
	aborted  time.Time
	recorded bool
}

type classRun struct {
	name, classID, queueID string
	methods                []testMethod
	resultIDs              []string
}

func (t *testRun) classEnd(i int) time.Time { return t.created.Add(time.Duration(i+2) * t.step) }

func (t *testRun) end() time.Time {
	e := t.created.Add(t.step)
	if len(t.classes) > 0 {
		e = t.classEnd(len(t.classes) - 1)
	}
	if !t.aborted.IsZero() && t.aborted.Before(e) {
		return t.aborted
	}
	return e
}

func (t *testRun) classStatus(i int, now time.Time) string {
	if !t.aborted.IsZero() && now.After(t.aborted) && t.aborted.Before(t.classEnd(i)) {
		return "Aborted"
	}
	switch {
	case now.Before(t.classEnd(i).Add(-t.step)):
		return "Queued"
	case now.Before(t.classEnd(i)):
		return "Processing"
	}
	return "Completed"
}

// runTestsAsync is POST /tooling/runTestsAsynchronous.
func (o *Org) runTestsAsync(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ClassIDs   string `json:"classids"`
		ClassNames string `json:"classNames"`
		SuiteIDs   string `json:"suiteids"`
		SuiteNames string `json:"suiteNames"`
		Tests      []struct {
			ClassName   string   `json:"className"`
			ClassID     string   `json:"classId"`
			TestMethods []string `json:"testMethods"`
		} `json:"tests"`
		TestLevel string `json:"testLevel"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		restError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not valid JSON: "+err.Error())
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	type pick struct {
		name    string
		methods []string
	}
	var picks []pick
	byID := func(id string) string {
		for _, c := range o.set.Components() {
			if c.Type.Name == "ApexClass" && sameID(o.idFor(c.Key()), strings.TrimSpace(id)) {
				return c.Name
			}
		}
		return ""
	}
	level := nonEmpty(body.TestLevel, "RunSpecifiedTests")
	switch level {
	case "RunLocalTests", "RunAllTestsInOrg":
		for _, n := range testClassNames(o.set) {
			picks = append(picks, pick{name: n})
		}
	case "RunSpecifiedTests":
		for _, t := range body.Tests {
			name := t.ClassName
			if name == "" {
				name = byID(t.ClassID)
			}
			picks = append(picks, pick{name: name, methods: t.TestMethods})
		}
		for _, id := range splitList(body.ClassIDs) {
			picks = append(picks, pick{name: byID(id)})
		}
		for _, n := range splitList(body.ClassNames) {
			picks = append(picks, pick{name: n})
		}
		if body.SuiteIDs != "" || body.SuiteNames != "" {
			restError(w, http.StatusBadRequest, "INVALID_INPUT", "test suites are not supported by this org")
			return
		}
	default:
		restError(w, http.StatusBadRequest, "INVALID_INPUT", "Invalid testLevel: "+level)
		return
	}
	if len(picks) == 0 {
		restError(w, http.StatusBadRequest, "INVALID_INPUT", "No test classes were specified")
		return
	}
	names := make([]string, 0, len(picks))
	for _, p := range picks {
		names = append(names, p.name)
	}
	out, missing := runTests(o.set, names, o.idFor)
	if len(missing) > 0 {
		restError(w, http.StatusBadRequest, "INVALID_INPUT", "No test class found for: "+strings.Join(missing, ", "))
		return
	}
	snapshot := metadata.NewSet()
	for _, c := range o.set.Components() {
		snapshot.Add(c)
	}
	t := &testRun{id: o.nextID("707"), runID: o.nextID("05m"), created: time.Now(), step: o.sim.opts.Step, out: out, set: snapshot}
	for _, p := range picks {
		cr := &classRun{name: p.name, classID: o.idFor(metadata.Key{Type: "ApexClass", Name: p.name}), queueID: o.nextID("709")}
		for _, m := range out.methods {
			if !strings.EqualFold(m.class, p.name) {
				continue
			}
			if len(p.methods) > 0 && !contains(p.methods, m.method) {
				continue
			}
			cr.methods = append(cr.methods, m)
			cr.resultIDs = append(cr.resultIDs, o.nextID("07M"))
		}
		t.classes = append(t.classes, cr)
	}
	o.testRuns[t.id] = t
	// The answer is a bare JSON string: the 15-character job id.
	writeJSON(w, http.StatusOK, t.id[:15])
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// recordTestRunLocked keeps a finished run's results and coverage.
func (o *Org) recordTestRunLocked(t *testRun) {
	now := t.end()
	for i := range t.classes {
		if t.classStatus(i, now.Add(time.Millisecond)) != "Completed" {
			continue
		}
		for _, row := range o.testResultRows(t, i) {
			o.st.TestResults = append(o.st.TestResults, row)
		}
	}
	if len(o.st.TestResults) > 20000 {
		o.st.TestResults = o.st.TestResults[len(o.st.TestResults)-20000:]
	}
	for _, c := range t.set.Components() {
		if (c.Type.Name != "ApexClass" && c.Type.Name != "ApexTrigger") || isTestClass(c) {
			continue
		}
		lines, unc := coverageOf(c, t.out.covered[c.Name])
		prev := o.st.Coverage[c.Name]
		cov := &coverage{ID: o.idFor(c.Key()), Name: c.Name, Trigger: c.Type.Name == "ApexTrigger", Lines: lines, Uncovered: unc}
		if prev != nil && len(prev.Uncovered) < len(unc) && sameLines(prev.Lines, lines) {
			cov.Uncovered = prev.Uncovered // coverage is cumulative across runs
		}
		o.st.Coverage[c.Name] = cov
	}
	o.saveLocked()
}

func sameLines(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (o *Org) testResultRows(t *testRun, i int) []Record {
	cr := t.classes[i]
	var rows []Record
	ts := restTime(t.classEnd(i))
	for k, m := range cr.methods {
		outcome, msg, stack := "Pass", any(nil), any(nil)
		if !m.pass {
			outcome, msg, stack = "Fail", m.message, m.stack
		}
		rows = append(rows, Record{
			"Id": cr.resultIDs[k], "QueueItemId": cr.queueID, "AsyncApexJobId": t.id, "ApexClassId": cr.classID,
			"ApexClass":  Record{"attributes": attrs("ApexClass", cr.classID, true), "Id": cr.classID, "Name": cr.name, "NamespacePrefix": nil},
			"MethodName": m.method, "Outcome": outcome, "Message": msg, "StackTrace": stack, "RunTime": float64(m.ms),
			"TestTimestamp": ts, "ApexLogId": nil, "IsTestSetup": false,
		})
	}
	return rows
}

// toolingTable returns the rows of a Tooling API object. o.mu is held.
func (o *Org) toolingTable(name string) ([]Record, bool) {
	now := time.Now()
	switch strings.ToLower(name) {
	case "apexclass", "apextrigger":
		typ := "ApexClass"
		if strings.EqualFold(name, "ApexTrigger") {
			typ = "ApexTrigger"
		}
		var rows []Record
		for _, c := range o.set.Components() {
			if c.Type.Name != typ {
				continue
			}
			src := apexSource(c)
			m := o.st.Meta[metaKey(c.Key())]
			row := Record{"Id": o.idFor(c.Key()), "Name": c.Name, "NamespacePrefix": nil, "Status": "Active", "Body": src,
				"LengthWithoutComments": float64(len(src)), "ApiVersion": 64.0, "IsValid": true}
			if c.XML != nil {
				if v := c.XML.ChildText("apiVersion"); v != "" {
					row["ApiVersion"] = v
				}
			}
			if m != nil {
				row["LastModifiedDate"], row["CreatedDate"] = restTime(m.Modified), restTime(m.Created)
			}
			if typ == "ApexTrigger" {
				if mm := triggerOnRe.FindStringSubmatch(src); mm != nil {
					row["TableEnumOrId"] = mm[1]
				}
			}
			rows = append(rows, row)
		}
		return rows, true
	case "apextestrunresult":
		var rows []Record
		for _, t := range o.sortedRuns() {
			status := "Completed"
			completed, failed, methods := 0, 0, 0
			for i, cr := range t.classes {
				methods += len(cr.methods)
				if t.classStatus(i, now) == "Completed" {
					completed++
					for _, m := range cr.methods {
						if !m.pass {
							failed++
						}
					}
				}
			}
			switch {
			case !t.aborted.IsZero() && !now.Before(t.aborted):
				status = "Aborted"
			case now.Before(t.created.Add(t.step)):
				status = "Queued"
			case now.Before(t.end()):
				status = "Processing"
			}
			row := Record{"Id": t.runID, "AsyncApexJobId": t.id, "Status": status, "ClassesEnqueued": float64(len(t.classes)),
				"ClassesCompleted": float64(completed), "MethodsEnqueued": float64(methods), "MethodsCompleted": float64(methodsDone(t, now)),
				"MethodsFailed": float64(failed), "StartTime": restTime(t.created), "EndTime": nil, "TestTime": nil,
				"UserId": o.st.UserID, "IsAllTests": false, "JobName": nil, "Source": "REST"}
			row["TestSetupTime"] = nil
			if status == "Completed" || status == "Aborted" {
				row["EndTime"] = restTime(t.end())
				row["TestTime"] = float64(t.end().Sub(t.created).Milliseconds())
				row["TestSetupTime"] = float64(0)
			}
			rows = append(rows, row)
		}
		return rows, true
	case "apextestqueueitem":
		var rows []Record
		for _, t := range o.sortedRuns() {
			for i, cr := range t.classes {
				st := t.classStatus(i, now)
				ext := any(nil)
				if st == "Completed" || st == "Processing" {
					done := len(cr.methods)
					if st == "Processing" {
						done /= 2
					}
					ext = "(" + itoa(done) + "/" + itoa(len(cr.methods)) + ")"
				}
				rows = append(rows, Record{"Id": cr.queueID, "ApexClassId": cr.classID, "Status": st, "ExtendedStatus": ext,
					"ParentJobId": t.id, "TestRunResultId": t.runID,
					"ApexClass": Record{"attributes": attrs("ApexClass", cr.classID, true), "Name": cr.name}})
			}
		}
		return rows, true
	case "apextestresult":
		rows := make([]Record, 0, len(o.st.TestResults))
		for _, r := range o.st.TestResults {
			// Results saved by an older simulator lack fields the CLI asks for.
			if c, ok := r["ApexClass"].(map[string]any); ok {
				if _, has := c["Id"]; !has {
					r = maps.Clone(r)
					c = maps.Clone(c)
					c["Id"], c["NamespacePrefix"] = r["ApexClassId"], nil
					r["ApexClass"] = c
				}
			}
			rows = append(rows, r)
		}
		for _, t := range o.sortedRuns() {
			if t.recorded {
				continue
			}
			for i := range t.classes {
				if t.classStatus(i, now) == "Completed" {
					rows = append(rows, o.testResultRows(t, i)...)
				}
			}
		}
		return rows, true
	case "apexcodecoverageaggregate":
		var rows []Record
		names := make([]string, 0, len(o.st.Coverage))
		for n := range o.st.Coverage {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			c := o.st.Coverage[n]
			var covered []int
			unc := map[int]bool{}
			for _, l := range c.Uncovered {
				unc[l] = true
			}
			for _, l := range c.Lines {
				if !unc[l] {
					covered = append(covered, l)
				}
			}
			typ := "ApexClass"
			if c.Trigger {
				typ = "ApexTrigger"
			}
			rows = append(rows, Record{"Id": "715" + c.ID[3:], "ApexClassOrTriggerId": c.ID,
				"ApexClassOrTrigger": Record{"attributes": attrs(typ, c.ID, true), "Id": c.ID, "Name": c.Name},
				"NumLinesCovered":    float64(len(covered)), "NumLinesUncovered": float64(len(c.Uncovered)),
				"Coverage": map[string]any{"coveredLines": nonNilInts(covered), "uncoveredLines": nonNilInts(c.Uncovered)}})
		}
		return rows, true
	case "apexcodecoverage":
		// Per test class: the simulator keeps coverage per covered class,
		// so each test class that ran is credited with the org's coverage
		// through its first method.
		agg, _ := o.toolingTable("ApexCodeCoverageAggregate")
		var rows []Record
		seen := map[string]bool{}
		for _, t := range o.sortedRuns() {
			for _, cr := range t.classes {
				if seen[cr.classID] || len(cr.methods) == 0 {
					continue
				}
				seen[cr.classID] = true
				for _, a := range agg {
					row := Record{"Id": "71a" + cr.classID[3:], "ApexTestClassId": cr.classID, "TestMethodName": cr.methods[0].method}
					for _, k := range []string{"ApexClassOrTriggerId", "ApexClassOrTrigger", "NumLinesCovered", "NumLinesUncovered", "Coverage"} {
						row[k] = a[k]
					}
					rows = append(rows, row)
				}
			}
		}
		return rows, true
	case "apexorgwidecoverage":
		total, covered := 0, 0
		for _, c := range o.st.Coverage {
			total += len(c.Lines)
			covered += len(c.Lines) - len(c.Uncovered)
		}
		pct := 0
		if total > 0 {
			pct = 100 * covered / total
		}
		return []Record{{"Id": "716000000000001AAA", "PercentCovered": float64(pct)}}, true
	case "deployrequest":
		var rows []Record
		seen := map[string]bool{}
		for _, d := range o.st.Deploys {
			seen[d.ID] = true
			rows = append(rows, Record{"Id": d.ID, "Status": d.Status, "CheckOnly": d.CheckOnly, "StartDate": restTime(d.Created),
				"CompletedDate": restTime(d.Completed), "CreatedDate": restTime(d.Created), "NumberComponentErrors": float64(d.Errors),
				"NumberComponentsDeployed": float64(d.Components), "NumberComponentsTotal": float64(d.Components + d.Errors), "NumberTestErrors": float64(d.TestErrors),
				"CreatedBy": Record{"attributes": attrs("User", o.st.UserID, false), "Name": "Admin User"}, "CreatedById": o.st.UserID})
		}
		// Deploys still in flight are listed as Salesforce lists them:
		// Pending or InProgress, not yet completed.
		now := time.Now()
		for _, j := range o.deploys {
			if seen[j.id] {
				continue
			}
			v := o.deployView(j, now, false)
			row := Record{"Id": j.id, "Status": v.Status, "CheckOnly": j.opts.CheckOnly, "CreatedDate": restTime(j.created), "StartDate": nil,
				"CompletedDate": nil, "NumberComponentErrors": float64(v.NumberComponentErrors), "NumberComponentsDeployed": float64(v.NumberComponentsDeployed),
				"NumberComponentsTotal": float64(v.NumberComponentsTotal), "NumberTestErrors": float64(v.NumberTestErrors),
				"CreatedBy": Record{"attributes": attrs("User", o.st.UserID, false), "Name": "Admin User"}, "CreatedById": o.st.UserID}
			if v.StartDate != nil {
				row["StartDate"] = restTime(j.phasesStart())
			}
			rows = append(rows, row)
		}
		sort.Slice(rows, func(a, b int) bool { return fmt.Sprint(rows[a]["CreatedDate"]) < fmt.Sprint(rows[b]["CreatedDate"]) })
		return rows, true
	case "apexlog":
		return append([]Record(nil), o.logs...), true
	}
	return nil, false
}

// toolingDescribe describes a Tooling object the simulator serves; others
// (SourceMember among them: the simulator's orgs do not track source)
// answer as an org without them does.
func (o *Org) toolingDescribe(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	o.mu.Lock()
	rows, ok := o.toolingTable(name)
	o.mu.Unlock()
	if !ok {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	seen := map[string]bool{"Id": true}
	fields := []map[string]any{{"name": "Id", "type": "id", "label": "ID"}}
	for _, row := range rows {
		for k, v := range row {
			if seen[k] || k == "attributes" {
				continue
			}
			seen[k] = true
			typ := "string"
			switch v.(type) {
			case bool:
				typ = "boolean"
			case float64:
				typ = "double"
			case Record:
				continue
			}
			fields = append(fields, map[string]any{"name": k, "type": typ, "label": k})
		}
	}
	sort.Slice(fields[1:], func(i, j int) bool { return fields[1+i]["name"].(string) < fields[1+j]["name"].(string) })
	canon := toolingName(name)
	writeJSON(w, http.StatusOK, map[string]any{"name": canon, "label": canon, "labelPlural": canon, "custom": false, "queryable": true,
		"createable": false, "updateable": false, "deletable": false, "retrieveable": true, "fields": fields, "childRelationships": []any{},
		"urls": map[string]string{"describe": o.base(r) + "/tooling/sobjects/" + canon + "/describe", "sobject": o.base(r) + "/tooling/sobjects/" + canon}})
}

func nonNilInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

func methodsDone(t *testRun, now time.Time) int {
	n := 0
	for i, cr := range t.classes {
		if t.classStatus(i, now) == "Completed" {
			n += len(cr.methods)
		}
	}
	return n
}

func (o *Org) sortedRuns() []*testRun {
	runs := make([]*testRun, 0, len(o.testRuns))
	for _, t := range o.testRuns {
		runs = append(runs, t)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].created.Before(runs[j].created) })
	return runs
}

// abortQueueItem is PATCH …/sobjects/ApexTestQueueItem/{id} {"Status":"Aborted"}.
func (o *Org) abortQueueItem(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, t := range o.testRuns {
		for _, cr := range t.classes {
			if sameID(cr.queueID, id) {
				if t.aborted.IsZero() {
					t.aborted = time.Now()
				}
				return true
			}
		}
	}
	return false
}

func itoa(n int) string { return strconv.Itoa(n) }

// attrs is a record's "attributes".
func attrs(typ, id string, tooling bool) map[string]any {
	p := "/services/data/v" + itoa(maxVersion) + ".0/"
	if tooling {
		p += "tooling/"
	}
	return map[string]any{"type": typ, "url": p + "sobjects/" + typ + "/" + id}
}
