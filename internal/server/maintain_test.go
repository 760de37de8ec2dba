package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/store"
)

const tierField = `<fields><fullName>Tier__c</fullName><label>Tier</label><type>Text</type><length>20</length></fields>`

// TestBackupDriftAndRestore backs a simulated production org up, changes
// it "in Setup" (one change explained by a Trellis deployment, one not),
// sees the drift alert name who made the unexplained one and reach a
// webhook, wipes the change, restores the backup, and finds the org's
// metadata hash for hash as it was; then keeps the drift by capturing it
// into a new bug.
func TestBackupDriftAndRestore(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"prod"}})
	sd := seedPlan(t, b)
	tok := b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	sim := b.sim.Org("prod")
	org := connectSimOrg(t, b, tok, sim, "PROD", alm.OrgProduction)

	var mu sync.Mutex
	var hooks []map[string]any
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		hooks = append(hooks, m)
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)
	res := b.api("POST", "/api/v1/alert-routes", tok, strings.NewReader(`{"kind":"*","min_severity":"info","channel":"webhook","target":"`+receiver.URL+`/hooks/secret-path"}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.NotContains(t, res.body, "secret-path", "webhook paths are secrets")
	res = b.api("POST", "/api/v1/alert-routes", tok, strings.NewReader(`{"kind":"drift","min_severity":"warning","channel":"email","target":"not an address"}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)

	backup := func() alm.Backup {
		t.Helper()
		res := b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/backups", org.ID), tok, nil)
		require.Equal(t, http.StatusAccepted, res.status, res.body)
		id := decode[alm.Snapshot](t, res).ID
		var got alm.Backup
		require.Eventually(t, func() bool {
			res := b.api("GET", fmt.Sprintf("/api/v1/orgs/%d/backups", org.ID), tok, nil)
			for _, x := range decode[struct{ Items []alm.Backup }](t, res).Items {
				if x.ID == id {
					got = x
				}
			}
			return got.Status.Finished() && (got.Status != alm.SnapDone || got.DiffNew != nil)
		}, 60*time.Second, 50*time.Millisecond)
		require.Equal(t, alm.SnapDone, got.Status, got.Error)
		require.True(t, got.Backup)
		return got
	}
	alerts := func() []alm.Alert {
		res := b.api("GET", "/api/v1/alerts?status=all", tok, nil)
		require.Equal(t, http.StatusOK, res.status, res.body)
		return decode[struct{ Items []alm.Alert }](t, res).Items
	}

	first := backup()
	require.Equal(t, first.Components, *first.DiffNew, "the first backup is all new")
	require.Empty(t, alerts())

	// Two changes in Setup; a Trellis deployment accounts for the layout.
	require.NoError(t, sim.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.Tier__c", XML: tierField, User: "Alex Admin"}))
	require.NoError(t, sim.ChangeInSetup(orgsim.SetupChange{Type: "Layout", FullName: "Account-Account Layout", User: "Sam Admin"}))
	d, err := b.store.CreateDeployment(b.ctx, store.NewDeployment{OrgID: org.ID, Kind: "deploy", TestLevel: "NoTestRun",
		Components: []alm.DeploymentComponent{{Type: "Layout", Name: "Account-Account Layout", Change: "changed"}}})
	require.NoError(t, err)
	require.NoError(t, b.store.FinishDeployment(b.ctx, d.ID, "succeeded", alm.ValidationResult{}, "", false, nil, nil))

	second := backup()
	require.Equal(t, 1, *second.DiffNew)
	require.Equal(t, 1, *second.DiffChanged)
	var drift alm.Alert
	require.Eventually(t, func() bool { l := alerts(); return len(l) == 1 && func() bool { drift = l[0]; return true }() }, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, alm.AlertDrift, drift.Kind)
	require.Len(t, drift.Drift, 1, "the deployed layout is not drift: %+v", drift.Drift)
	require.Equal(t, "Account.Tier__c", drift.Drift[0].Name)
	require.Equal(t, "new", drift.Drift[0].Change)
	require.Equal(t, "Alex Admin", drift.Drift[0].By, "who, from the setup audit trail")
	nav := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get("/maintain").doc(t)
	require.Equal(t, "1", nav.Find(`[data-testid="open-alerts-count"]`).Text(), "the open drift alert, on the navigation")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(hooks) == 1 }, 30*time.Second, 50*time.Millisecond)
	mu.Lock()
	require.Contains(t, hooks[0]["text"], "Account.Tier__c by Alex Admin")
	mu.Unlock()

	// Capturing the drifted field onto a work item explains it: the alert
	// is acknowledged and linked to the item.
	proj, err := b.store.CreateProject(b.ctx, alm.NewProject{Key: "OPS", Name: "Ops"})
	require.NoError(t, err)
	item, err := b.store.CreateWorkItem(b.ctx, proj.ID, alm.WorkItemInput{Title: "Keep the tier field"})
	require.NoError(t, err)
	res = b.api("POST", "/api/v1/work-items/"+item.Key+"/components", tok,
		strings.NewReader(fmt.Sprintf(`{"a":%d,"b":%d,"components":[{"type":"CustomField","name":"Account.Tier__c"}]}`, first.ID, second.ID)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	acked := alerts()[0]
	require.Equal(t, "acknowledged", acked.Status, "captured: acknowledged")
	require.Equal(t, item.Key, acked.WorkItem)

	// Someone deletes the field and edits the layout again: a critical drift.
	require.NoError(t, sim.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.Tier__c", Delete: true, User: "Alex Admin"}))
	require.NoError(t, sim.ChangeInSetup(orgsim.SetupChange{Type: "Layout", FullName: "Account-Account Layout", User: "Sam Admin"}))
	backup()
	require.Eventually(t, func() bool { return len(alerts()) == 2 }, 30*time.Second, 50*time.Millisecond)
	wiped := alerts()[0]
	require.Equal(t, alm.SevCritical, wiped.Severity, "a deletion is critical")

	// Restore both types from the second backup: a dry run first, then the
	// restore, after which the org matches that backup hash for hash.
	body := fmt.Sprintf(`{"snapshot_id":%d,"types":["CustomField","Layout"],"delete_added":true,"dry_run":true}`, second.ID)
	res = b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/backups/restore", org.ID), tok, strings.NewReader(body))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `"name": "Account.Tier__c"`)
	res = b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/backups/restore", org.ID), tok, strings.NewReader(strings.Replace(body, `"dry_run":true`, `"dry_run":false`, 1)))
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	rd := waitDeployment(t, b, tok, decode[alm.Deployment](t, res).ID)
	require.Equal(t, "succeeded", rd.Status, "%+v", rd)
	require.Equal(t, "restore", rd.Kind)
	after := backup()
	want, err := b.store.SnapshotManifest(b.ctx, second.ID)
	require.NoError(t, err)
	got, err := b.store.SnapshotManifest(b.ctx, after.ID)
	require.NoError(t, err)
	require.Equal(t, want, got, "restored: identical metadata")
	time.Sleep(300 * time.Millisecond)
	require.Len(t, alerts(), 2, "the restore explains its own changes: no new drift")
	for _, a := range alerts() {
		require.Equal(t, "resolved", a.Status, "the undo closes the drift it put back: %s", a.Title)
	}

	// Viewers read alerts but cannot restore or route them.
	viewer := b.token(b.user(alm.RoleViewer, "viewer@example.com"))
	res = b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/backups/restore", org.ID), viewer, strings.NewReader(body))
	require.Equal(t, http.StatusForbidden, res.status)
	res = b.api("PATCH", fmt.Sprintf("/api/v1/alerts/%d", wiped.ID), viewer, strings.NewReader(`{"status":"resolved"}`))
	require.Equal(t, http.StatusForbidden, res.status)
	res = b.api("PATCH", fmt.Sprintf("/api/v1/alerts/%d", wiped.ID), tok, strings.NewReader(`{"status":"resolved"}`))
	require.Equal(t, http.StatusOK, res.status, res.body)

	// Keep the first drift instead: capture it into a new bug.
	br := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	page := br.post(fmt.Sprintf("/alerts/%d/capture", drift.ID), map[string][]string{"project": {sd.project.Key}, "title": {"Tier field made in production"}})
	require.Equal(t, http.StatusSeeOther, page.status, page.body)
	items, err := b.store.ListWorkItems(b.ctx, sd.project.ID, store.ItemFilter{})
	require.NoError(t, err)
	var bug alm.WorkItem
	for _, it := range items.Items {
		if it.Title == "Tier field made in production" {
			bug = it
		}
	}
	require.Equal(t, alm.KindBug, bug.Kind)
	caps, err := b.store.CapturedComponents(b.ctx, bug.Key, false)
	require.NoError(t, err)
	require.Len(t, caps, 1)
	require.Equal(t, "Account.Tier__c", caps[0].Name)
	a, err := b.store.AlertByID(b.ctx, drift.ID)
	require.NoError(t, err)
	require.Equal(t, "resolved", a.Status)
	require.Equal(t, bug.Key, a.WorkItem)

	// The pages.
	for _, path := range []string{"/maintain", fmt.Sprintf("/orgs/%d/backups", org.ID), "/alerts?status=all", fmt.Sprintf("/alerts/%d", wiped.ID),
		fmt.Sprintf("/orgs/%d/backups/%d/restore", org.ID, second.ID)} {
		p := br.get(path)
		require.Equal(t, http.StatusOK, p.status, path)
	}
	hist := br.get(fmt.Sprintf("/orgs/%d/backups", org.ID)).doc(t)
	require.Equal(t, 4, hist.Find(`[data-testid="backup-history"] tbody tr`).Length())
	require.Contains(t, hist.Find(fmt.Sprintf(`[data-testid="diff-%d"]`, second.ID)).Text(), "+1")
	prev := br.post(fmt.Sprintf("/orgs/%d/backups/%d/restore", org.ID, second.ID), map[string][]string{"type": {"CustomField"}, "dry_run": {"1"}})
	require.Equal(t, http.StatusOK, prev.status)
	require.Contains(t, prev.doc(t).Find(`[data-testid="restore-preview"]`).Text(), "Account.Tier__c")
	bad := br.post(fmt.Sprintf("/orgs/%d/backups/%d/restore", org.ID, second.ID), map[string][]string{"components": {"ApexClass/Nope"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.status)
	require.Contains(t, bad.body, "ApexClass/Nope", "the typed text comes back with the error")

	// A restore is a deployment like any other: it can be rolled back,
	// which takes the field it put back away again.
	res = b.api("POST", fmt.Sprintf("/api/v1/deployments/%d/rollback", rd.ID), tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	rb := waitDeployment(t, b, tok, decode[alm.Deployment](t, res).ID)
	require.Equal(t, "succeeded", rb.Status, "%+v", rb)
	undone := backup()
	m2, err := b.store.SnapshotManifest(b.ctx, undone.ID)
	require.NoError(t, err)
	for _, e := range m2 {
		require.NotEqual(t, "Account.Tier__c", e.Name, "rolled back: the restored field is gone again")
	}
}

// TestRegressionAndHealth: a local-tests run failing a test the run before
// passed raises an alert; a test that keeps changing is shown as flaky;
// the daily health reading keeps API use and version, and a new API
// version (Salesforce upgraded the org) queues a regression run.
func TestRegressionAndHealth(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"prod"}})
	tok := b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	org := connectSimOrg(t, b, tok, b.sim.Org("prod"), "PROD", alm.OrgProduction)

	results := func(outcomes ...string) []alm.TestResult {
		var rs []alm.TestResult
		for i, o := range outcomes {
			rs = append(rs, alm.TestResult{Class: "QuoteTest", Method: fmt.Sprint("case", i), Outcome: o, Message: "boom"})
		}
		return rs
	}
	var last alm.TestRun
	for _, outcomes := range [][]string{{"Pass", "Pass"}, {"Fail", "Pass"}, {"Pass", "Pass"}, {"Fail", "Fail"}} {
		run, err := b.store.CreateTestRun(b.ctx, org.ID, nil, nil, "RunLocalTests", nil)
		require.NoError(t, err)
		status := "passed"
		if strings.Contains(strings.Join(outcomes, ""), "Fail") {
			status = "failed"
		}
		require.NoError(t, b.store.FinishTestRun(b.ctx, run.ID, status, results(outcomes...), ""))
		last, err = b.store.TestRunByID(b.ctx, run.ID)
		require.NoError(t, err)
	}
	require.NoError(t, jobs.AlertNewFailures(b.ctx, b.jobDeps, last, last.Results))
	list, err := b.store.ListAlerts(b.ctx, store.AlertFilter{Kind: alm.AlertTestFailure})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Contains(t, list[0].Title, "2 tests newly failing")

	require.NoError(t, jobs.CheckHealth(b.ctx, b.jobDeps, b.jobs, org.ID))
	res := b.api("GET", fmt.Sprintf("/api/v1/orgs/%d/health", org.ID), tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	h := decode[struct {
		Samples []store.HealthSample
		Flaky   []alm.FlakyTest
	}](t, res)
	require.Len(t, h.Samples, 1)
	require.Positive(t, h.Samples[0].APIMax)
	require.NotEmpty(t, h.Samples[0].APIVersion)
	require.Len(t, h.Flaky, 1, "case0 went pass, fail, pass, fail")
	require.Equal(t, "case0", h.Flaky[0].Method)

	// Salesforce upgrades the org: the version it reported moves on.
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE regression_policies SET last_api_version = '50.0' WHERE org_id = $1`, org.ID)
	require.NoError(t, err)
	require.NoError(t, jobs.CheckHealth(b.ctx, b.jobDeps, b.jobs, org.ID))
	runs, err := b.store.ListTestRuns(b.ctx, org.ID, 10)
	require.NoError(t, err)
	require.Equal(t, "after the upgrade to API "+h.Samples[0].APIVersion, runs[0].StartedBy)

	res = b.api("PUT", fmt.Sprintf("/api/v1/orgs/%d/regression", org.ID), tok, strings.NewReader(`{"enabled":true,"every_days":0}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	res = b.api("PUT", fmt.Sprintf("/api/v1/orgs/%d/regression", org.ID), tok, strings.NewReader(`{"enabled":true,"every_days":7}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Equal(t, 168, decode[alm.RegressionPolicy](t, res).EveryHours, "every_days still works: 7 days")
	res = b.api("PUT", fmt.Sprintf("/api/v1/orgs/%d/regression", org.ID), tok, strings.NewReader(`{"enabled":true,"every_hours":1}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	pol := decode[alm.RegressionPolicy](t, res)
	require.Equal(t, 1, pol.EveryHours, "a schedule may be as short as an hour")
	require.WithinDuration(t, b.clock.now().Add(time.Hour), pol.NextAt, time.Minute)
	res = b.api("PUT", fmt.Sprintf("/api/v1/orgs/%d/regression", org.ID), tok, strings.NewReader(`{"every_hours":0}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.body, "every hour")

	// Run now, from the API and from the page, outside the schedule.
	before, err := b.store.ListTestRuns(b.ctx, org.ID, 100)
	require.NoError(t, err)
	res = b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/regression/run", org.ID), tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	now := decode[alm.TestRun](t, res)
	require.Equal(t, "RunLocalTests", now.TestLevel)
	admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	res = admin.post(fmt.Sprintf("/orgs/%d/regression/run", org.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Contains(t, res.location(), "#test-runs")
	after, err := b.store.ListTestRuns(b.ctx, org.ID, 100)
	require.NoError(t, err)
	require.Len(t, after, len(before)+2)
	viewer := b.token(b.user(alm.RoleViewer, "viewer@example.com"))
	require.Equal(t, http.StatusForbidden, b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/regression/run", org.ID), viewer, nil).status)

	page := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get(fmt.Sprintf("/orgs/%d/backups", org.ID))
	require.Equal(t, http.StatusOK, page.status)
	doc := page.doc(t)
	require.Contains(t, doc.Find(`[data-testid="flaky"]`).Text(), "QuoteTest.case0")
	require.Equal(t, 1, doc.Find(`[data-testid="chart-api"]`).Length())
}
