package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/crashpoint"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/store"
)

// DeployArgs runs one deployment: a promotion's deploy or a rollback.
type DeployArgs struct {
	DeploymentID int64 `json:"deployment_id"`
}

// Kind names the job.
func (DeployArgs) Kind() string { return "deploy" }

// InsertOpts puts deployments on the deploy queue. Attempts are for a
// worker that died or an org that was briefly unreachable: every attempt
// resumes the stored deploy id rather than deploying again.
func (DeployArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeploy, MaxAttempts: 10, UniqueOpts: uniqueLive}
}

// DeployWorker deploys: it snapshots the affected components in the
// target, sends the deploy (a quick deploy when a recent validation of the
// same artifact allows it), stores the org's deploy id before waiting,
// follows it live, honours cancel requests, and records the outcome.
type DeployWorker struct {
	river.WorkerDefaults[DeployArgs]
	deps Deps
}

// Timeout: deploys with tests take a while on big orgs.
func (w *DeployWorker) Timeout(*river.Job[DeployArgs]) time.Duration { return 3 * time.Hour }

// QuickDeployAge is how long a validation can be reused by a quick deploy.
const QuickDeployAge = 10 * 24 * time.Hour

// Work runs one deployment.
func (w *DeployWorker) Work(ctx context.Context, job *river.Job[DeployArgs]) error {
	st := w.deps.Store
	d, err := st.DeploymentByID(ctx, job.Args.DeploymentID)
	if err != nil {
		return gone(err)
	}
	if d.Finished != nil {
		return nil
	}
	res, err := w.run(ctx, d)
	if err != nil {
		lastTry := job.MaxAttempts > 0 && job.Attempt >= job.MaxAttempts
		if (ctx.Err() != nil || isTransient(err)) && !lastTry {
			// The worker is stopping or the org is briefly unreachable:
			// River tries again and the next attempt resumes the stored
			// deploy id.
			return err
		}
		msg := snapshotError(err)
		if now, _ := st.DeploymentByID(context.WithoutCancel(ctx), d.ID); lastTry && now.DeployID != "" {
			msg = fmt.Sprintf("Gave up following deploy %s after %d attempts (%s). Check the org's Deployment Status page, then retry or roll back.", now.DeployID, job.Attempt, msg)
		}
		if ferr := w.finish(context.WithoutCancel(ctx), d, "failed", alm.ValidationResult{Notes: res.Notes}, msg); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	status := "failed"
	switch {
	case res.canceled:
		status = "canceled"
	case res.success:
		status = "succeeded"
	}
	return w.finish(ctx, d, status, res.ValidationResult, res.message)
}

type deployOutcome struct {
	alm.ValidationResult
	success, canceled bool
	message           string
}

// isTransient reports an org that was unreachable or answered 5xx: worth
// another attempt, which resumes rather than redeploys.
func isTransient(err error) bool {
	var se *salesforce.Error
	if !errors.As(err, &se) || errors.Is(err, salesforce.ErrNoSession) || errors.Is(err, salesforce.ErrBudget) {
		return false
	}
	return se.Status >= 500 || (se.Status == 0 && se.Code == "" && se.Err != nil) || errors.Is(err, salesforce.ErrMalformed)
}

func (w *DeployWorker) run(ctx context.Context, d alm.Deployment) (deployOutcome, error) {
	var out deployOutcome
	st := w.deps.Store
	if w.deps.Orgs == nil {
		return out, alm.Errorf(alm.CodeUnavailable, "Orgs are not configured on this worker.")
	}
	if d.CancelRequested && d.DeployID == "" {
		out.canceled, out.message = true, "Canceled before it was sent to the org."
		return out, nil
	}
	org, err := st.OrgByID(ctx, d.OrgID)
	if err != nil {
		return out, err
	}
	client, err := w.deps.Orgs.Client(ctx, org)
	if err != nil {
		return out, err
	}
	id := d.DeployID
	switch {
	case id == "" && d.SubmittedAt != nil:
		// Sent, but the worker stopped before the org's id was stored:
		// sending again could deploy twice, so find it in the org instead.
		found, err := w.findSent(ctx, client, org, d)
		if err != nil {
			return out, err
		}
		if err := st.StartDeployment(ctx, d.ID, found); err != nil {
			return out, fmt.Errorf("record deploy id %s: %w", found, err)
		}
		id = found
		out.Notes = append(out.Notes, fmt.Sprintf("The worker stopped after sending this deploy and before recording its id; Trellis found it in the org (%s) and followed it.", found))
	case id == "":
		if err := st.DeploymentProgress(ctx, d.ID, "snapshotting", "pre-deploy snapshot", 0, d.Total); err != nil {
			return out, err
		}
		if err := w.preDeploySnapshot(ctx, client, org.APIVersion, d); err != nil {
			return out, fmt.Errorf("pre-deploy snapshot: %w", err)
		}
		crashpoint.At("deploy.snapshotted")
		if d.CancelRequested || w.cancelRequested(ctx, d.ID) {
			out.canceled, out.message = true, "Canceled before it was sent to the org."
			return out, nil
		}
		kind, valID, notes := w.chooseQuickDeploy(ctx, d)
		out.Notes = notes
		if err := st.SubmittingDeployment(ctx, d.ID, kind, valID, notes); err != nil {
			return out, err
		}
		if kind == "quick_deploy" {
			v, _ := st.ValidationByID(ctx, valID)
			id, err = client.DeployRecentValidation(ctx, v.DeployID)
			if err != nil && !isTransient(err) {
				// The org would not reuse the validation (used already, or
				// too old by its clock): deploy in full instead.
				out.Notes = append(out.Notes, "The org refused the quick deploy ("+alm.ErrorMessage(err)+"); deployed in full instead.")
				if err := st.SubmittingDeployment(ctx, d.ID, "deploy", 0, out.Notes); err != nil {
					return out, err
				}
				id, err = w.fullDeploy(ctx, client, d)
			}
		} else {
			id, err = w.fullDeploy(ctx, client, d)
		}
		if err != nil {
			return out, err
		}
		crashpoint.At("deploy.sent")
		if err := st.StartDeployment(ctx, d.ID, id); err != nil {
			return out, fmt.Errorf("record deploy id %s: %w", id, err)
		}
		crashpoint.At("deploy.recorded")
	}
	asked := false
	r, err := client.WaitDeploy(ctx, id, func(r *salesforce.DeployResult) {
		done, total := r.NumberComponentsDeployed+r.NumberComponentErrors, r.NumberComponentsTotal
		phase := r.Status
		if r.StateDetail != "" {
			phase += ": " + r.StateDetail
		}
		if r.NumberTestsTotal > 0 && done >= total {
			done, total = r.NumberTestsCompleted+r.NumberTestErrors, r.NumberTestsTotal
			phase = fmt.Sprintf("running tests (%s)", r.Status)
		}
		_ = st.DeploymentProgress(ctx, d.ID, "deploying", phase, done, total)
		crashpoint.At("deploy.polling")
		if !asked && w.cancelRequested(ctx, d.ID) {
			asked = true
			if _, err := client.CancelDeploy(ctx, id); err != nil {
				w.logf("cancel deploy %s: %v", id, err)
			}
		}
	})
	if err != nil {
		return out, err
	}
	crashpoint.At("deploy.org_finished")
	vr := resultOf(r)
	vr.Notes = append(out.Notes, vr.Notes...)
	out.ValidationResult = vr
	out.success = r.Success && r.Status == salesforce.StatusSucceeded
	out.canceled = r.Status == salesforce.StatusCanceled
	out.message = r.ErrorMessage
	if !out.success && !out.canceled && out.message == "" {
		out.message = fmt.Sprintf("The deploy %s: %s, %s.", strings.ToLower(r.Status), alm.Count(len(vr.ComponentErrors), "component error"), alm.Count(len(vr.TestFailures), "test failure"))
	}
	return out, nil
}

// findSent looks in the org for a deploy this deployment sent but did not
// record: a DeployRequest made by Trellis's user from a minute before it
// was sent, that no other deployment of the org claims. No such deploy
// means it never arrived, and the deployment fails saying so (a retry is
// safe); more than one is for a person to sort out.
func (w *DeployWorker) findSent(ctx context.Context, client *salesforce.Client, org alm.Org, d alm.Deployment) (string, error) {
	since := d.SubmittedAt.Add(-time.Minute)
	rows, err := client.DeploysSince(ctx, since, false)
	if err != nil {
		return "", fmt.Errorf("look for the sent deploy in the org: %w", err)
	}
	claimed, err := w.deps.Store.DeployIDsSince(ctx, org.ID, since)
	if err != nil {
		return "", err
	}
	var candidates []string
	for _, r := range rows {
		if org.SFUserID != "" && !sameSFID(r.CreatedByID, org.SFUserID) {
			continue
		}
		if c := r.Created(); !c.IsZero() && c.Before(since) {
			continue
		}
		if claimed[r.ID[:min(15, len(r.ID))]] {
			continue
		}
		candidates = append(candidates, r.ID)
	}
	switch len(candidates) {
	case 1:
		return candidates[0], nil
	case 0:
		return "", alm.Errorf(alm.CodeConflict, "The worker stopped between sending this deploy and recording the org's deploy id, and the org has no deploy from then: it never arrived. Nothing is deploying; retry when ready.")
	}
	return "", alm.Errorf(alm.CodeConflict, "The worker stopped between sending this deploy and recording the org's deploy id, and the org has %d deploys from then (%s). Trellis does not guess: check the org's Deployment Status page, then retry or roll back.",
		len(candidates), strings.Join(candidates, ", "))
}

// sameSFID compares Salesforce ids in their 15- or 18-character forms.
func sameSFID(a, b string) bool { return a[:min(15, len(a))] == b[:min(15, len(b))] }

func (w *DeployWorker) fullDeploy(ctx context.Context, client *salesforce.Client, d alm.Deployment) (string, error) {
	zip, err := w.deps.Store.DeploymentArtifact(ctx, d.ID)
	if err != nil {
		return "", err
	}
	return client.Deploy(ctx, zip, salesforce.DeployOptions{TestLevel: salesforce.TestLevel(d.TestLevel),
		RollbackOnError: true, IgnoreWarnings: true, SinglePackage: true})
}

// chooseQuickDeploy finds a validation of the same artifact in the same
// org, passed with tests at the stage's level or above, less than ten days
// old: then the deploy reuses it instead of running the tests again.
func (w *DeployWorker) chooseQuickDeploy(ctx context.Context, d alm.Deployment) (kind string, validationID int64, notes []string) {
	if d.Kind == "rollback" || d.BuildID == nil {
		return d.Kind, 0, nil
	}
	v, err := w.deps.Store.LatestValidation(ctx, *d.BuildID, d.OrgID)
	if err != nil {
		return "deploy", 0, nil
	}
	age := w.deps.Store.Now().Sub(v.StartedAt)
	switch {
	case v.Status != "succeeded" || v.DeployID == "":
		return "deploy", 0, nil
	case v.TestLevel == "NoTestRun" || alm.TestLevelRank(v.TestLevel) < alm.TestLevelRank(d.TestLevel):
		return "deploy", 0, []string{fmt.Sprintf("Validation #%d ran %s, not the %s a quick deploy needs: deployed in full.", v.ID, v.TestLevel, d.TestLevel)}
	case age >= QuickDeployAge:
		return "deploy", 0, []string{fmt.Sprintf("Validation #%d is %d days old (quick deploy needs under 10): deployed in full.", v.ID, int(age.Hours()/24))}
	}
	return "quick_deploy", v.ID, []string{fmt.Sprintf("Quick deploy of validation #%d (%s, %s).", v.ID, v.TestLevel, v.StartedAt.Format("2006-01-02 15:04"))}
}

func (w *DeployWorker) cancelRequested(ctx context.Context, id int64) bool {
	d, err := w.deps.Store.DeploymentByID(ctx, id)
	return err == nil && d.CancelRequested
}

// preDeploySnapshot retrieves what the target holds of the components the
// deployment touches and stores it, so a rollback can put it back.
func (w *DeployWorker) preDeploySnapshot(ctx context.Context, client *salesforce.Client, apiVersion string, d alm.Deployment) error {
	comps, err := w.deps.Store.DeploymentComponents(ctx, d.ID)
	if err != nil {
		return err
	}
	members := map[string][]string{}
	for _, c := range comps {
		members[c.Type] = append(members[c.Type], c.Name)
	}
	if len(members) == 0 {
		return w.deps.Store.RecordPreDeploy(ctx, d.ID, nil)
	}
	r, err := client.Retrieve(ctx, salesforce.RetrieveRequest{APIVersion: apiVersion, Unpackaged: members}, nil)
	if err != nil {
		return err
	}
	if r.Status != salesforce.StatusSucceeded {
		return alm.Errorf(alm.CodeInvalid, "The target could not retrieve the components first: %s %s", r.ErrorStatusCode, r.ErrorMessage)
	}
	entries, blobs, err := componentsOf(r.ZipFile)
	if err != nil {
		return err
	}
	if _, err := w.deps.Store.PutNewBlobs(ctx, blobs); err != nil {
		return err
	}
	return w.deps.Store.RecordPreDeploy(ctx, d.ID, promote.PreviousVersions(entries))
}

// finish records the outcome; a promotion reaching the last stage of its
// pipeline releases its release and queues the announcement.
func (w *DeployWorker) finish(ctx context.Context, d alm.Deployment, status string, res alm.ValidationResult, msg string) error {
	st := w.deps.Store
	if res.ComponentErrors == nil {
		res.ComponentErrors = []alm.ValidationProblem{}
	}
	if res.TestFailures == nil {
		res.TestFailures = []alm.ValidationProblem{}
	}
	full := false
	if d.Kind == "rollback" && d.RollbackOf != nil {
		mine, err := st.DeploymentComponents(ctx, d.ID)
		if err != nil {
			return err
		}
		orig, err := st.DeploymentComponents(ctx, *d.RollbackOf)
		if err != nil {
			return err
		}
		full = promote.FullRollback(mine, orig)
	}
	final, err := w.releaseFinal(ctx, d, status)
	if err != nil {
		return err
	}
	return st.FinishDeployment(ctx, d.ID, status, res, msg, full, final, GitPushJob(running(ctx)))
}

// releaseFinal is, for a deploy that succeeded into the last stage of its
// pipeline, its release's notes and announcement, so that the release is
// released with the deployment's outcome, in one transaction.
func (w *DeployWorker) releaseFinal(ctx context.Context, d alm.Deployment, status string) (*store.ReleaseFinal, error) {
	st := w.deps.Store
	if status != "succeeded" || d.Kind == "rollback" || d.PromotionID == nil {
		return nil, nil
	}
	p, err := st.PromotionByID(ctx, *d.PromotionID)
	if err != nil || p.ReleaseID == nil {
		return nil, err
	}
	stages, err := st.Pipeline(ctx, p.ProjectID)
	if err != nil || len(stages) == 0 || !strings.EqualFold(stages[len(stages)-1].Name, p.StageName) {
		return nil, err
	}
	rel, err := st.ReleaseByID(ctx, p.ProjectID, *p.ReleaseID)
	if err != nil {
		return nil, err
	}
	notes, err := st.ReleaseNotes(ctx, rel)
	if err != nil {
		return nil, err
	}
	return &store.ReleaseFinal{ReleaseID: rel.ID, Notes: notes, Announce: AnnounceJob(running(ctx), p.ID)}, nil
}

func (w *DeployWorker) logf(format string, args ...any) {
	if w.deps.Logger != nil {
		w.deps.Logger.Warn(fmt.Sprintf(format, args...))
	}
}

// RunDeployment runs one deployment in the calling goroutine exactly as
// the job's first attempt does: for tests that stop a worker part-way, and
// the benchmark.
func RunDeployment(ctx context.Context, deps Deps, id int64) error {
	return RunDeploymentAttempt(ctx, deps, id, 1)
}

// RunDeploymentAttempt is RunDeployment as River's attempt number attempt.
func RunDeploymentAttempt(ctx context.Context, deps Deps, id int64, attempt int) error {
	w := &DeployWorker{deps: deps}
	row := &rivertype.JobRow{Attempt: attempt, MaxAttempts: DeployArgs{}.InsertOpts().MaxAttempts}
	return w.Work(ctx, &river.Job[DeployArgs]{JobRow: row, Args: DeployArgs{DeploymentID: id}})
}
