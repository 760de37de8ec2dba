// Regression test runs: started on a schedule, after Salesforce upgrades,
// and compared with the run before.

package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// StartRegression queues a run of the org's local tests, labelled with why.
func StartRegression(ctx context.Context, st *store.Store, c *Client, orgID int64, why string) error {
	_, err := RunRegressionNow(alm.WithActor(ctx, alm.Actor{Label: why}), st, c, orgID)
	return err
}

// RunRegressionNow queues a regression run (the org's local tests, whose
// failures are compared with the run before) as the actor in ctx, and
// returns it.
func RunRegressionNow(ctx context.Context, st *store.Store, c *Client, orgID int64) (alm.TestRun, error) {
	return st.CreateTestRun(ctx, orgID, nil, nil, "RunLocalTests", TestRunJob(c))
}

// AlertNewFailures raises an alert when a local-tests run fails tests the
// org's previous one passed: a regression, perhaps from a Salesforce
// upgrade or a change made outside the pipeline.
func AlertNewFailures(ctx context.Context, deps Deps, t alm.TestRun, results []alm.TestResult) error {
	if t.TestLevel != "RunLocalTests" {
		return nil
	}
	prev, ok, err := deps.Store.PreviousLocalRun(ctx, t.OrgID, t.ID)
	if err != nil || !ok {
		return err
	}
	fresh := alm.NewFailures(prev.Results, results)
	if len(fresh) == 0 {
		return nil
	}
	org, err := deps.Store.OrgByID(ctx, t.OrgID)
	if err != nil {
		return err
	}
	var names []string
	for _, r := range fresh {
		names = append(names, r.Class+"."+r.Method+": "+r.Message)
	}
	_, err = deps.Store.CreateAlert(ctx, store.NewAlert{Kind: alm.AlertTestFailure, Severity: alm.SevWarning, OrgID: t.OrgID,
		Title:  fmt.Sprintf("%s newly failing in %s", alm.Count(len(fresh), "test"), org.Name),
		Body:   fmt.Sprintf("Test run #%d (%s) fails tests that passed in run #%d: %s", t.ID, t.StartedBy, prev.ID, strings.Join(names, "; ")),
		Notify: NotifyJob(running(ctx))})
	return err
}
