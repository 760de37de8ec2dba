// Validations (check-only deploys) and Apex test runs, with their results.

package alm

import "time"

// Validation is a check-only deploy of a build into an org.
type Validation struct {
	ID          int64            `json:"id"`
	BuildID     int64            `json:"build_id"`
	BuildNumber int              `json:"build_number"`
	OrgID       int64            `json:"org_id"`
	OrgName     string           `json:"org_name"`
	TestLevel   string           `json:"test_level"`
	Status      string           `json:"status"` // queued, running, succeeded, failed
	DeployID    string           `json:"deploy_id,omitempty"`
	Result      ValidationResult `json:"result"`
	Error       string           `json:"error,omitempty"`
	StartedBy   string           `json:"started_by"`
	StartedAt   time.Time        `json:"started_at"`
	Finished    *time.Time       `json:"finished_at"`
}

// ValidationResult is what a validation found.
type ValidationResult struct {
	Components      int                 `json:"components"`
	ComponentErrors []ValidationProblem `json:"component_errors"`
	Tests           int                 `json:"tests"`
	TestFailures    []ValidationProblem `json:"test_failures"`
	Coverage        []ClassCoverage     `json:"coverage,omitempty"`
	Notes           []string            `json:"notes,omitempty"` // e.g. why a quick deploy fell back to a full one
}

// ClassCoverage is one Apex class's or trigger's coverage in a deploy's
// test run.
type ClassCoverage struct {
	Name      string `json:"name"`
	Percent   int    `json:"percent"`
	Lines     int    `json:"lines"`
	Uncovered int    `json:"uncovered"`
}

// ValidationProblem is one component failure (file, line, problem) or
// test failure (class.method, message, stack trace).
type ValidationProblem struct {
	Where   string `json:"where"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

// TestRun is an on-demand Apex test run on an org.
type TestRun struct {
	ID        int64        `json:"id"`
	OrgID     int64        `json:"org_id"`
	Classes   []string     `json:"classes"`
	Suites    []string     `json:"suites"`
	TestLevel string       `json:"test_level"` // RunSpecifiedTests or RunLocalTests
	Status    string       `json:"status"`     // queued, running, passed, failed, error
	Passed    int          `json:"passed"`
	Failed    int          `json:"failed"`
	Results   []TestResult `json:"results"`
	Error     string       `json:"error,omitempty"`
	StartedBy string       `json:"started_by"`
	StartedAt time.Time    `json:"started_at"`
	Finished  *time.Time   `json:"finished_at"`
}

// TestResult is one test method's outcome.
type TestResult struct {
	Class   string `json:"class"`
	Method  string `json:"method"`
	Outcome string `json:"outcome"` // Pass, Fail, CompileFail, Skip
	Message string `json:"message,omitempty"`
	Stack   string `json:"stack,omitempty"`
	Millis  int    `json:"ms"`
}
