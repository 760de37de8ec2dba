package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
)

// TestInbox: the overview starts with what waits for the signed-in user —
// the approval a release manager can give (gone once given), the question
// on a product owner's requirement, a failed validation of one's own,
// feedback to triage — each a line with a link; someone with nothing
// waiting is told so.
func TestInbox(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sd := seedRecords(t, b)
	rm := b.user(alm.RoleReleaseManager, "rm@example.com")
	po := b.user(alm.RoleProductOwner, "po@example.com")
	dev := b.user(alm.RoleDeveloper, "dev@example.com")
	require.NoError(t, b.store.SavePipeline(b.ctx, sd.project.ID, []alm.Stage{{Name: "UAT", OrgID: &sd.promotion.OrgID, ApprovalsRequired: 1,
		ApproverRoles: []alm.Role{alm.RoleReleaseManager}, TestLevel: "NoTestRun"}}))
	_, err := b.store.Pool().Exec(b.ctx, `UPDATE promotions SET stage_position = 0, status = 'open' WHERE id = $1`, sd.promotion.ID)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE requirements SET owner_id = $2 WHERE id = $1`, sd.req.ID, po.ID)
	require.NoError(t, err)
	devCtx := alm.WithActor(context.Background(), alm.Actor{UserID: &dev.ID, Label: dev.Email})
	v, err := b.store.CreateValidation(devCtx, sd.build.ID, sd.promotion.OrgID, "RunLocalTests", nil)
	require.NoError(t, err)
	require.NoError(t, b.store.FinishValidation(b.ctx, v.ID, "failed", alm.ValidationResult{}, "1 component error"))

	inbox := func(u alm.User) string {
		page := b.signedIn(u).get("/")
		require.Equal(t, http.StatusOK, page.status)
		return page.doc(t).Find(`[data-testid="inbox"]`).Text()
	}
	got := inbox(rm)
	require.Contains(t, got, "Approve Spring #1 into UAT")
	require.NotContains(t, got, "Question")
	require.Contains(t, inbox(po), "Which quotes?", "the question on the PO's requirement")
	require.Contains(t, inbox(po), "Quotes page is slow", "feedback to triage")
	require.Contains(t, inbox(dev), "Validation #", "the developer's failed validation")
	require.NotContains(t, inbox(dev), "Approve")

	res := b.api("POST", "/api/v1/promotions/"+itoa(sd.promotion.ID)+"/approve", b.token(rm), strings.NewReader(`{"note":"ok"}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.NotContains(t, inbox(rm), "Approve Spring", "an approval given leaves the inbox")
	viewer := b.user(alm.RoleViewer, "viewer@example.com")
	require.Contains(t, inbox(viewer), "Nothing waits for you")

	res = b.api("GET", "/api/v1/me/inbox", b.token(po), nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	items := decode[struct{ Items []alm.InboxItem }](t, res).Items
	require.NotEmpty(t, items)
	for _, it := range items {
		require.NotEmpty(t, it.Href)
	}
}

// TestDemoSettingUpBanner: while the demo still seeds, every page says so;
// once it is ready the banner goes.
func TestDemoSettingUpBanner(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	b := setup(t, setupOpts{DemoSettingUp: func() bool { return !ready.Load() }})
	br := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	require.Contains(t, br.get("/").doc(t).Find(`[data-testid="demo-setting-up"]`).Text(), "still being set up")
	ready.Store(true)
	require.Equal(t, 0, br.get("/").doc(t).Find(`[data-testid="demo-setting-up"]`).Length())
}
