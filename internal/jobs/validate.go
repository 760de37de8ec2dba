package jobs

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gitflow"
	"github.com/trellis-alm/trellis/internal/salesforce"
)

// ValidateArgs runs a check-only deploy of a build into an org.
type ValidateArgs struct {
	ValidationID int64 `json:"validation_id"`
}

// Kind names the job.
func (ValidateArgs) Kind() string { return "validate" }

// InsertOpts puts validations on the deploy queue.
func (ValidateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeploy, MaxAttempts: 5, UniqueOpts: uniqueLive}
}

// ValidateWorker starts the check-only deploy (or, after a restart, picks
// up the one it started: the deploy id is stored before waiting) and
// records component failures, test failures and coverage.
type ValidateWorker struct {
	river.WorkerDefaults[ValidateArgs]
	deps Deps
}

// Timeout: validations with tests take a while on big orgs.
func (w *ValidateWorker) Timeout(*river.Job[ValidateArgs]) time.Duration { return 2 * time.Hour }

// Work runs one validation.
func (w *ValidateWorker) Work(ctx context.Context, job *river.Job[ValidateArgs]) error {
	st := w.deps.Store
	v, err := st.ValidationByID(ctx, job.Args.ValidationID)
	if err != nil {
		return gone(err)
	}
	if v.Finished != nil {
		return nil
	}
	res, err := w.run(ctx, v)
	if err != nil {
		if ferr := st.FinishValidation(context.WithoutCancel(ctx), v.ID, "error", alm.ValidationResult{}, snapshotError(err)); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	status := "failed"
	if res.Success {
		status = "succeeded"
	}
	if err := st.FinishValidation(ctx, v.ID, status, resultOf(res), res.ErrorMessage); err != nil {
		return err
	}
	w.reportToHost(ctx, v.ID)
	return nil
}

// reportToHost puts the outcome on the pull requests of the promotions
// carrying the build; a host that cannot be reached is noted on them.
func (w *ValidateWorker) reportToHost(ctx context.Context, id int64) {
	if w.deps.Repos == nil {
		return
	}
	v, err := w.deps.Store.ValidationByID(ctx, id)
	if err != nil {
		return
	}
	if err := gitflow.New(w.deps.Store, w.deps.Repos).WithLinks(w.deps.BaseURL).ReportValidation(ctx, v.BuildID, v); err != nil {
		if w.deps.Logger != nil {
			w.deps.Logger.Warn("validation status not reported to the git host", "validation", id, "err", err)
		}
	}
}

func (w *ValidateWorker) run(ctx context.Context, v alm.Validation) (*salesforce.DeployResult, error) {
	if w.deps.Orgs == nil {
		return nil, alm.Errorf(alm.CodeUnavailable, "Orgs are not configured on this worker.")
	}
	org, err := w.deps.Store.OrgByID(ctx, v.OrgID)
	if err != nil {
		return nil, err
	}
	client, err := w.deps.Orgs.Client(ctx, org)
	if err != nil {
		return nil, err
	}
	id := v.DeployID
	if id == "" {
		zip, err := w.deps.Store.BuildArtifact(ctx, v.BuildID)
		if err != nil {
			return nil, err
		}
		id, err = client.Deploy(ctx, zip, salesforce.DeployOptions{CheckOnly: true, TestLevel: salesforce.TestLevel(v.TestLevel),
			RollbackOnError: true, IgnoreWarnings: true, SinglePackage: true})
		if err != nil {
			return nil, err
		}
		if err := w.deps.Store.StartValidation(ctx, v.ID, id); err != nil {
			return nil, fmt.Errorf("record deploy id %s: %w", id, err)
		}
	}
	return client.WaitDeploy(ctx, id, nil)
}

// resultOf keeps what people need from a deploy result.
func resultOf(r *salesforce.DeployResult) alm.ValidationResult {
	out := alm.ValidationResult{Components: r.NumberComponentsTotal, Tests: r.NumberTestsTotal,
		ComponentErrors: []alm.ValidationProblem{}, TestFailures: []alm.ValidationProblem{}}
	for _, f := range r.Details.ComponentFailures {
		out.ComponentErrors = append(out.ComponentErrors, alm.ValidationProblem{Where: f.ComponentType + " " + f.FullName + " (" + f.FileName + ")", Line: f.LineNumber, Message: f.Problem})
	}
	if t := r.Details.RunTestResult; t != nil {
		for _, f := range t.Failures {
			out.TestFailures = append(out.TestFailures, alm.ValidationProblem{Where: f.Name + "." + f.MethodName, Message: f.Message, Stack: f.StackTrace})
		}
		for _, c := range t.CodeCoverage {
			out.Coverage = append(out.Coverage, alm.ClassCoverage{Name: c.Name, Percent: int(math.Floor(c.Percent())), Lines: c.NumLocations, Uncovered: c.NumLocationsNotCovered})
		}
	}
	return out
}
