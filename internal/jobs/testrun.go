package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/salesforce"
)

// TestRunArgs runs Apex tests on an org.
type TestRunArgs struct {
	TestRunID int64 `json:"test_run_id"`
}

// Kind names the job.
func (TestRunArgs) Kind() string { return "apex_tests" }

// InsertOpts puts test runs on their queue.
func (TestRunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTest, MaxAttempts: 3, UniqueOpts: uniqueLive}
}

// TestRunWorker starts the run (or resumes the one it started: the org's
// run id is stored before waiting) and records every method's outcome.
type TestRunWorker struct {
	river.WorkerDefaults[TestRunArgs]
	deps Deps
}

// Timeout: local tests of a big org take a while.
func (w *TestRunWorker) Timeout(*river.Job[TestRunArgs]) time.Duration { return 2 * time.Hour }

// Work runs one test run.
func (w *TestRunWorker) Work(ctx context.Context, job *river.Job[TestRunArgs]) error {
	st := w.deps.Store
	t, err := st.TestRunByID(ctx, job.Args.TestRunID)
	if err != nil {
		return gone(err)
	}
	if t.Finished != nil {
		return nil
	}
	results, err := w.run(ctx, t)
	if err != nil {
		if ferr := st.FinishTestRun(context.WithoutCancel(ctx), t.ID, "error", nil, snapshotError(err)); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	status := "passed"
	for _, r := range results {
		if r.Outcome != "Pass" && r.Outcome != "Skip" {
			status = "failed"
		}
	}
	if err := st.FinishTestRun(ctx, t.ID, status, results, ""); err != nil {
		return err
	}
	return AlertNewFailures(ctx, w.deps, t, results)
}

func (w *TestRunWorker) run(ctx context.Context, t alm.TestRun) ([]alm.TestResult, error) {
	if w.deps.Orgs == nil {
		return nil, alm.Errorf(alm.CodeUnavailable, "Orgs are not configured on this worker.")
	}
	org, err := w.deps.Store.OrgByID(ctx, t.OrgID)
	if err != nil {
		return nil, err
	}
	client, err := w.deps.Orgs.Client(ctx, org)
	if err != nil {
		return nil, err
	}
	id, err := w.deps.Store.AsyncTestRun(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if id == "" {
		id, err = client.RunTestsAsynchronous(ctx, salesforce.TestRequest{ClassNames: t.Classes, SuiteNames: t.Suites, TestLevel: salesforce.TestLevel(t.TestLevel)})
		if err != nil {
			return nil, err
		}
		if err := w.deps.Store.StartTestRun(ctx, t.ID, id); err != nil {
			return nil, fmt.Errorf("record test run id %s: %w", id, err)
		}
	}
	run, err := client.WaitTests(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	var out []alm.TestResult
	for _, r := range run.Results {
		out = append(out, alm.TestResult{Class: r.ClassName(), Method: r.MethodName, Outcome: r.Outcome, Message: r.Message, Stack: r.StackTrace, Millis: r.RunTime})
	}
	return out, nil
}
