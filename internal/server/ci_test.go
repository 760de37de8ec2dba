package server_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/ciclient"
)

// TestCICommandLine drives a build through the pipeline the way
// `trellis ci` does in a CI job: validate in an org named by name, deploy
// into a stage and wait, read the promotion's status, and see a gate's
// refusal and a bad token come back as a failure and an error.
func TestCICommandLine(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"uat", "prod"}})
	f := newReleaseFixture(t, b, `{"stages":[
		{"name":"UAT","org_id":$UAT,"test_level":"NoTestRun","approver_roles":[]},
		{"name":"Production","org_id":$PROD,"approvals_required":1,"approver_roles":["release_manager"],"test_level":"RunLocalTests"}]}`)
	c := &ciclient.Client{Server: b.srv.URL, Token: f.tok, Poll: 50 * time.Millisecond}
	ctx := t.Context()

	r, err := c.Validate(ctx, f.build.ID, "uat", "NoTestRun", true)
	require.NoError(t, err)
	require.Equal(t, ciclient.Succeeded, r.Outcome, r.Message)
	require.Equal(t, 0, r.Outcome.ExitCode())

	r, err = c.Deploy(ctx, f.build.ID, "UAT", 0, true)
	require.NoError(t, err)
	require.Equal(t, ciclient.Succeeded, r.Outcome, r.Message)
	require.Equal(t, "deployment", r.Kind)
	require.Contains(t, r.URL, fmt.Sprintf("/deployments/%d", r.ID))

	// Production needs an approval: the deploy is refused with the reason.
	r, err = c.Deploy(ctx, f.build.ID, "Production", 0, true)
	require.NoError(t, err)
	require.Equal(t, ciclient.Failed, r.Outcome)
	require.Equal(t, 1, r.Outcome.ExitCode())
	require.Contains(t, r.Message, "approval")

	p, err := c.Promote(ctx, f.build.ID, "Production")
	require.Equal(t, ciclient.Failed, p.Outcome, "the open promotion is still there: %v", err)
	st, err := c.Status(ctx, "promotion", 2, false)
	require.NoError(t, err)
	require.Equal(t, ciclient.Pending, st.Outcome, "waiting for its approval: %s", st.Message)
	require.Equal(t, 3, st.Outcome.ExitCode())

	bad := &ciclient.Client{Server: b.srv.URL, Token: "trl_nope", Poll: 50 * time.Millisecond}
	_, err = bad.Promote(ctx, f.build.ID, "UAT")
	var ae *ciclient.APIError
	require.True(t, errors.As(err, &ae), "%v", err)
	require.Equal(t, 401, ae.Status)
}
