package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TestRequest selects the Apex tests of an asynchronous run.
type TestRequest struct {
	ClassNames []string
	ClassIDs   []string
	SuiteNames []string
	Tests      []TestItem // classes with chosen methods
	TestLevel  TestLevel  // RunSpecifiedTests (default), RunLocalTests, RunAllTestsInOrg
	// MaxFailedTests stops the run after this many failures plus one;
	// nil means no limit.
	MaxFailedTests   *int
	SkipCodeCoverage bool
}

// TestItem is a test class, optionally narrowed to some methods.
type TestItem struct {
	ClassName   string   `json:"className,omitempty"`
	ClassID     string   `json:"classId,omitempty"`
	TestMethods []string `json:"testMethods,omitempty"`
}

// RunTestsAsynchronous starts an Apex test run and returns the
// AsyncApexJob id (707...).
func (c *Client) RunTestsAsynchronous(ctx context.Context, req TestRequest) (string, error) {
	body := map[string]any{"skipCodeCoverage": req.SkipCodeCoverage}
	level := req.TestLevel
	if level == "" {
		level = RunSpecifiedTests
	}
	body["testLevel"] = level
	if req.MaxFailedTests != nil {
		body["maxFailedTests"] = *req.MaxFailedTests
	}
	if level == RunSpecifiedTests {
		switch {
		case len(req.Tests) > 0:
			body["tests"] = req.Tests
		case len(req.ClassNames) > 0:
			body["classNames"] = strings.Join(req.ClassNames, ",")
		case len(req.ClassIDs) > 0:
			body["classids"] = strings.Join(req.ClassIDs, ",")
		case len(req.SuiteNames) > 0:
			body["suiteNames"] = strings.Join(req.SuiteNames, ",")
		default:
			return "", &Error{Op: "runTestsAsynchronous", Org: c.cfg.Name, Message: "no tests named for RunSpecifiedTests"}
		}
	}
	var id string
	if _, err := c.restJSON(ctx, "runTestsAsynchronous", http.MethodPost, c.dataPath("/tooling/runTestsAsynchronous"), nil, body, &id, false); err != nil {
		return "", err
	}
	if id == "" {
		return "", &Error{Op: "runTestsAsynchronous", Org: c.cfg.Name, Message: "no job id in the answer", Err: ErrMalformed}
	}
	return id, nil
}

// ApexTestRunResult is the summary of a test run.
type ApexTestRunResult struct {
	ID               string `json:"Id"`
	AsyncApexJobID   string `json:"AsyncApexJobId"`
	Status           string `json:"Status"`
	ClassesEnqueued  int    `json:"ClassesEnqueued"`
	ClassesCompleted int    `json:"ClassesCompleted"`
	MethodsEnqueued  int    `json:"MethodsEnqueued"`
	MethodsCompleted int    `json:"MethodsCompleted"`
	MethodsFailed    int    `json:"MethodsFailed"`
	StartTime        Time   `json:"StartTime"`
	EndTime          Time   `json:"EndTime"`
	TestTime         int    `json:"TestTime"`
}

// ApexTestQueueItem is one class of a run.
type ApexTestQueueItem struct {
	ID             string `json:"Id"`
	ApexClassID    string `json:"ApexClassId"`
	Status         string `json:"Status"`
	ExtendedStatus string `json:"ExtendedStatus"`
	ParentJobID    string `json:"ParentJobId"`
}

// ApexTestResult is one test method's outcome.
type ApexTestResult struct {
	ID             string `json:"Id"`
	QueueItemID    string `json:"QueueItemId"`
	AsyncApexJobID string `json:"AsyncApexJobId"`
	ApexClassID    string `json:"ApexClassId"`
	ApexClass      *struct {
		Name string `json:"Name"`
	} `json:"ApexClass"`
	MethodName    string `json:"MethodName"`
	Outcome       string `json:"Outcome"` // Pass, Fail, CompileFail, Skip
	Message       string `json:"Message"`
	StackTrace    string `json:"StackTrace"`
	RunTime       int    `json:"RunTime"`
	TestTimestamp Time   `json:"TestTimestamp"`
}

// ClassName is the test class's name when the query asked for it.
func (r ApexTestResult) ClassName() string {
	if r.ApexClass != nil {
		return r.ApexClass.Name
	}
	return ""
}

// TestRun is the state of a test run.
type TestRun struct {
	Run        ApexTestRunResult
	QueueItems []ApexTestQueueItem
	Results    []ApexTestResult
}

// Finished reports whether the run reached a final status.
func (t *TestRun) Finished() bool {
	switch t.Run.Status {
	case "Completed", "Failed", "Aborted":
		return true
	}
	if len(t.QueueItems) == 0 {
		return false
	}
	for _, q := range t.QueueItems {
		switch q.Status {
		case "Completed", "Failed", "Aborted":
		default:
			return false
		}
	}
	return true
}

// Failed counts the results that did not pass.
func (t *TestRun) Failed() int {
	n := 0
	for _, r := range t.Results {
		if r.Outcome == "Fail" || r.Outcome == "CompileFail" {
			n++
		}
	}
	return n
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// TestRunStatus reads a run's summary, its classes and (once done) its
// method results.
func (c *Client) TestRunStatus(ctx context.Context, jobID string, results bool) (*TestRun, error) {
	var out TestRun
	var runs []ApexTestRunResult
	if err := c.ToolingQueryAll(ctx, "SELECT Id, AsyncApexJobId, Status, ClassesEnqueued, ClassesCompleted, MethodsEnqueued, MethodsCompleted, MethodsFailed, StartTime, EndTime, TestTime FROM ApexTestRunResult WHERE AsyncApexJobId = "+quote(jobID), &runs); err != nil {
		return nil, err
	}
	if len(runs) > 0 {
		out.Run = runs[0]
	}
	if err := c.ToolingQueryAll(ctx, "SELECT Id, ApexClassId, Status, ExtendedStatus, ParentJobId FROM ApexTestQueueItem WHERE ParentJobId = "+quote(jobID), &out.QueueItems); err != nil {
		return nil, err
	}
	if results {
		if err := c.ToolingQueryAll(ctx, "SELECT Id, QueueItemId, AsyncApexJobId, ApexClassId, ApexClass.Name, MethodName, Outcome, Message, StackTrace, RunTime, TestTimestamp FROM ApexTestResult WHERE AsyncApexJobId = "+quote(jobID)+" ORDER BY ApexClass.Name, MethodName", &out.Results); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// WaitTests polls a run until it finishes, then returns it with results.
func (c *Client) WaitTests(ctx context.Context, jobID string, progress func(*TestRun)) (*TestRun, error) {
	p := c.poller()
	for {
		t, err := c.TestRunStatus(ctx, jobID, false)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(t)
		}
		if t.Finished() {
			return c.TestRunStatus(ctx, jobID, true)
		}
		if err := p.wait(ctx); err != nil {
			return t, &Error{Op: "test run " + jobID, Org: c.cfg.Name, Err: err}
		}
	}
}

// AbortTests aborts the classes of a run that have not finished.
func (c *Client) AbortTests(ctx context.Context, jobID string) error {
	t, err := c.TestRunStatus(ctx, jobID, false)
	if err != nil {
		return err
	}
	for _, q := range t.QueueItems {
		switch q.Status {
		case "Completed", "Failed", "Aborted":
			continue
		}
		if _, err := c.restJSON(ctx, "abort tests", http.MethodPatch, c.dataPath("/sobjects/ApexTestQueueItem/"+url.PathEscape(q.ID)), nil, map[string]string{"Status": "Aborted"}, nil, true); err != nil {
			return err
		}
	}
	return nil
}

// CodeCoverage is a class's or trigger's cumulative coverage.
type CodeCoverage struct {
	ApexClassOrTriggerID string `json:"ApexClassOrTriggerId"`
	ApexClassOrTrigger   *struct {
		Name string `json:"Name"`
	} `json:"ApexClassOrTrigger"`
	NumLinesCovered   int `json:"NumLinesCovered"`
	NumLinesUncovered int `json:"NumLinesUncovered"`
	Coverage          struct {
		CoveredLines   []int `json:"coveredLines"`
		UncoveredLines []int `json:"uncoveredLines"`
	} `json:"Coverage"`
}

// Name of the class or trigger.
func (c CodeCoverage) Name() string {
	if c.ApexClassOrTrigger != nil {
		return c.ApexClassOrTrigger.Name
	}
	return ""
}

// Percent covered, 0–100.
func (c CodeCoverage) Percent() float64 {
	total := c.NumLinesCovered + c.NumLinesUncovered
	if total == 0 {
		return 100
	}
	return 100 * float64(c.NumLinesCovered) / float64(total)
}

// CodeCoverage reads the coverage aggregates (of the given class or
// trigger ids, or all).
func (c *Client) CodeCoverage(ctx context.Context, ids []string) ([]CodeCoverage, error) {
	q := "SELECT ApexClassOrTriggerId, ApexClassOrTrigger.Name, NumLinesCovered, NumLinesUncovered, Coverage FROM ApexCodeCoverageAggregate"
	if len(ids) > 0 {
		quoted := make([]string, len(ids))
		for i, id := range ids {
			quoted[i] = quote(id)
		}
		q += " WHERE ApexClassOrTriggerId IN (" + strings.Join(quoted, ", ") + ")"
	}
	var out []CodeCoverage
	return out, c.ToolingQueryAll(ctx, q, &out)
}

// OrgWideCoverage is the org's overall Apex coverage percentage.
func (c *Client) OrgWideCoverage(ctx context.Context) (int, error) {
	var rows []struct {
		PercentCovered int `json:"PercentCovered"`
	}
	if err := c.ToolingQueryAll(ctx, "SELECT PercentCovered FROM ApexOrgWideCoverage", &rows); err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0].PercentCovered, nil
}

// ToolingQueryAll runs a Tooling API query, following pages, decoding the
// records into out (a pointer to a slice).
func (c *Client) ToolingQueryAll(ctx context.Context, soql string, out any) error {
	return c.queryInto(ctx, "tooling query", "/tooling/query", soql, out)
}

// queryInto collects every page's records as JSON and decodes them once.
func (c *Client) queryInto(ctx context.Context, op, endpoint, soql string, out any) error {
	var all []json.RawMessage
	err := c.queryPages(ctx, op, endpoint, soql, func(p *queryPage) error {
		all = append(all, p.Records...)
		return nil
	})
	if err != nil {
		return err
	}
	b, _ := json.Marshal(all)
	if err := decodeJSON(b, out); err != nil {
		return &Error{Op: op, Org: c.cfg.Name, Message: fmt.Sprintf("records do not fit: %v", err), Err: ErrMalformed}
	}
	return nil
}

// DeployRequestRow is a deploy as the Tooling API's DeployRequest object
// lists it.
type DeployRequestRow struct {
	ID                    string  `json:"Id"`
	Status                string  `json:"Status"`
	CheckOnly             bool    `json:"CheckOnly"`
	CreatedDate           string  `json:"CreatedDate"`
	CreatedByID           string  `json:"CreatedById"`
	NumberComponentsTotal float64 `json:"NumberComponentsTotal"`
}

// Created parses CreatedDate (zero when it cannot be read).
func (d DeployRequestRow) Created() time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, d.CreatedDate); err == nil {
			return t
		}
	}
	return time.Time{}
}

// DeploysSince lists the org's deploys (or validations, with checkOnly)
// created at or after since, oldest first: what a caller that sent a
// deploy but lost its id searches to find it again.
func (c *Client) DeploysSince(ctx context.Context, since time.Time, checkOnly bool) ([]DeployRequestRow, error) {
	var out []DeployRequestRow
	soql := fmt.Sprintf("SELECT Id, Status, CheckOnly, CreatedDate, CreatedById, NumberComponentsTotal FROM DeployRequest WHERE CreatedDate >= %s AND CheckOnly = %v ORDER BY CreatedDate",
		since.UTC().Format("2006-01-02T15:04:05Z"), checkOnly)
	if err := c.ToolingQueryAll(ctx, soql, &out); err != nil {
		return nil, err
	}
	return out, nil
}
