package server_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
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
	"github.com/trellis-alm/trellis/internal/build"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/promote"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

const greeter = "public with sharing class Greeter {\n    public static String greet(String name) {\n        return 'Hello ' + name;\n    }\n}\n"
const greeterTest = "@isTest\nprivate class GreeterTest {\n    @isTest static void greets() {\n        System.assertEquals('Hello Ada', Greeter.greet('Ada'));\n    }\n}\n"

// releaseFixture is a project with a release of one work item capturing
// an Apex class, its test and a deletion of a class no org has, connected
// to simulated orgs.
type releaseFixture struct {
	sd    planSeed
	tok   string
	orgs  map[string]alm.Org
	build alm.Build
}

func connectSimOrg(t *testing.T, b *testBundle, tok string, sim *orgsim.Org, name string, kind alm.OrgKind) alm.Org {
	t.Helper()
	key := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sim.JWTKey())}))
	body, _ := json.Marshal(map[string]string{"name": name, "kind": string(kind), "login_url": sim.Info().LoginURL,
		"client_id": sim.ClientID(), "username": sim.Username(), "private_key": key})
	res := b.api("POST", "/api/v1/orgs", tok, strings.NewReader(string(body)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	return decode[alm.Org](t, res)
}

func newReleaseFixture(t *testing.T, b *testBundle, stages string) releaseFixture {
	t.Helper()
	f := releaseFixture{sd: seedPlan(t, b), orgs: map[string]alm.Org{}}
	_, err := b.store.SetWorkItemRelease(b.ctx, f.sd.item.Key, &f.sd.release.ID)
	require.NoError(t, err)
	sn, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "x"})
	require.NoError(t, err)
	_, err = b.store.PutBlobs(b.ctx, []store.Blob{
		{Hash: "g1", Data: snapshot.EncodeFiles(map[string][]byte{"classes/Greeter.cls": []byte(greeter), "classes/Greeter.cls-meta.xml": []byte(testClassMeta)})},
		{Hash: "gt1", Data: snapshot.EncodeFiles(map[string][]byte{"classes/GreeterTest.cls": []byte(greeterTest), "classes/GreeterTest.cls-meta.xml": []byte(testClassMeta)})}})
	require.NoError(t, err)
	require.NoError(t, b.store.FinishSnapshot(b.ctx, sn.ID, snapshot.Manifest{{Type: "ApexClass", Name: "Greeter", Hash: "g1"}, {Type: "ApexClass", Name: "GreeterTest", Hash: "gt1"}}, 0, nil))
	require.NoError(t, b.store.CaptureComponents(b.ctx, f.sd.item.Key, sn.ID, sn.ID, []store.Capture{
		{Type: "ApexClass", Name: "Greeter", Change: "new", Hash: "g1"}, {Type: "ApexClass", Name: "GreeterTest", Change: "new", Hash: "gt1"},
		{Type: "ApexClass", Name: "Ghost", Change: "deleted"}}))
	f.tok = b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	for _, so := range b.sim.Orgs() {
		name := so.Name
		kind := alm.OrgFullSandbox
		if name == "prod" {
			kind = alm.OrgProduction
		}
		f.orgs[name] = connectSimOrg(t, b, f.tok, b.sim.Org(name), strings.ToUpper(name), kind)
		id := f.orgs[name].ID
		target, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "org", OrgID: &id})
		require.NoError(t, err)
		require.NoError(t, b.store.FinishSnapshot(b.ctx, target.ID, snapshot.Manifest{}, 0, nil))
	}
	stages = strings.NewReplacer("$INT", fmt.Sprint(f.orgs["int"].ID), "$UAT", fmt.Sprint(f.orgs["uat"].ID), "$PROD", fmt.Sprint(f.orgs["prod"].ID)).Replace(stages)
	res := b.api("PUT", "/api/v1/projects/CRM/pipeline", f.tok, strings.NewReader(stages))
	require.Equal(t, http.StatusOK, res.status, res.body)
	res = b.api("POST", fmt.Sprintf("/api/v1/releases/%d/builds", f.sd.release.ID), f.tok, nil)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	f.build = decode[alm.Build](t, res)
	return f
}

const twoStages = `{"stages":[
	{"name":"UAT","org_id":$UAT,"approvals_required":2,"approver_roles":["release_manager"],"no_self_approval":true,"test_level":"NoTestRun"},
	{"name":"Production","org_id":$PROD,"approvals_required":1,"approver_roles":["release_manager","admin"],"no_self_approval":true,"validation_required":true,"test_level":"RunLocalTests","coverage_threshold":75}]}`

func waitDeployment(t *testing.T, b *testBundle, tok string, id int64) alm.Deployment {
	t.Helper()
	var d alm.Deployment
	require.Eventually(t, func() bool {
		res := b.api("GET", fmt.Sprintf("/api/v1/deployments/%d", id), tok, nil)
		d = decode[struct{ Deployment alm.Deployment }](t, res).Deployment
		return d.Finished != nil
	}, 60*time.Second, 50*time.Millisecond)
	return d
}

func classesIn(t *testing.T, b *testBundle, org alm.Org) map[string]bool {
	t.Helper()
	c, err := b.orgs.Client(b.ctx, org)
	require.NoError(t, err)
	props, err := c.ListMetadata(b.ctx, []salesforce.ListMetadataQuery{{Type: "ApexClass"}})
	require.NoError(t, err)
	out := map[string]bool{}
	for _, p := range props {
		out[p.FullName] = true
	}
	return out
}

// TestPromoteThroughPipeline takes one release build through UAT and
// Production over the API: approvals with self-approval refused, a deploy
// with a deletion of something absent, UAT sign-off, a validation in
// production reused by a quick deploy, the release announced, the
// component's history, and a rollback.
func TestPromoteThroughPipeline(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"uat", "prod"}})
	f := newReleaseFixture(t, b, twoStages)
	var hookMu sync.Mutex
	var hooks []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &m)
		hookMu.Lock()
		hooks = append(hooks, m)
		hookMu.Unlock()
	}))
	t.Cleanup(hook.Close)
	res := b.api("PUT", "/api/v1/projects/CRM/announcements", f.tok, strings.NewReader(`{"emails":[],"webhooks":["`+hook.URL+`/services/T000/B000/secret"]}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.NotContains(t, res.body, "secret", "webhook paths are secrets: never shown again")

	// Open a promotion into the first stage it is not deployed in.
	res = b.api("POST", "/api/v1/promotions", f.tok, strings.NewReader(fmt.Sprintf(`{"build_id":%d}`, f.build.ID)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	p := decode[alm.Promotion](t, res)
	require.Equal(t, "UAT", p.StageName)
	res = b.api("POST", "/api/v1/promotions", f.tok, strings.NewReader(fmt.Sprintf(`{"build_id":%d,"stage":"UAT"}`, f.build.ID)))
	require.Equal(t, http.StatusConflict, res.status, "one promotion per build and stage")

	// Gates: no deploy without approvals; the page's Deploy button says
	// what it waits for.
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", p.ID), f.tok, nil)
	require.Equal(t, http.StatusConflict, res.status)
	require.Contains(t, res.body, "0 of 2 approvals")
	rmPage := b.signedIn(b.user(alm.RoleReleaseManager, "rm-viewer@example.com")).get(fmt.Sprintf("/promotions/%d", p.ID)).doc(t)
	_, disabled := rmPage.Find(`[data-testid="deploy"]`).Attr("disabled")
	require.True(t, disabled, "a blocked deploy is disabled")
	require.Contains(t, rmPage.Find(`[data-testid="deploy-blocked"]`).Text(), "approvals")

	// Self-approval refused: the work item's assignee is a release manager.
	rm1 := b.user(alm.RoleReleaseManager, "rm1@example.com")
	_, err := b.store.Pool().Exec(b.ctx, `UPDATE work_items SET assignee_id = $2 WHERE key = $1`, f.sd.item.Key, rm1.ID)
	require.NoError(t, err)
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), b.token(rm1), nil)
	require.Equal(t, http.StatusForbidden, res.status)
	require.Contains(t, res.body, "self-approval")
	dev := b.token(b.user(alm.RoleDeveloper, "dev2@example.com"))
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), dev, nil)
	require.Equal(t, http.StatusForbidden, res.status, "developers are not UAT approvers")
	rm2 := b.token(b.user(alm.RoleReleaseManager, "rm2@example.com"))
	rm3 := b.token(b.user(alm.RoleReleaseManager, "rm3@example.com"))
	for _, tk := range []string{rm2, rm3} {
		res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), tk, strings.NewReader(`{"note":"looks right"}`))
		require.Equal(t, http.StatusOK, res.status, res.body)
	}
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", p.ID), rm2, nil)
	require.Equal(t, http.StatusConflict, res.status, "one approval per person")
	detail := b.api("GET", fmt.Sprintf("/api/v1/promotions/%d", p.ID), f.tok, nil)
	require.Contains(t, detail.body, `"ready": true`)
	require.Contains(t, detail.body, `"change": "absent"`, "Ghost is not in UAT: its deletion is harmless")

	// Deploy; the deletion of Ghost (absent) does not fail it.
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", p.ID), rm2, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	d := waitDeployment(t, b, f.tok, decode[alm.Deployment](t, res).ID)
	require.Equal(t, "succeeded", d.Status, "%+v", d)
	require.Equal(t, "deploy", d.Kind)
	require.True(t, classesIn(t, b, f.orgs["uat"])["Greeter"])
	comps := decode[struct{ Components []alm.DeploymentComponent }](t, b.api("GET", fmt.Sprintf("/api/v1/deployments/%d", d.ID), f.tok, nil)).Components
	for _, c := range comps {
		require.NotNil(t, c.Existed, "pre-deploy snapshot of %s", c.Name)
		require.False(t, *c.Existed, "%s was not in UAT before", c.Name)
	}
	detail = b.api("GET", fmt.Sprintf("/api/v1/promotions/%d", p.ID), f.tok, nil)
	require.Contains(t, detail.body, `"status": "deployed"`)

	// UAT sign-off per work item; the requirement shows the stage reached.
	// The tester checks the requirement's acceptance criteria off as they
	// sign off.
	poUser := b.user(alm.RoleProductOwner, "po@example.com")
	po := b.token(poUser)
	crit := must(b.store.RequirementByKey(b.ctx, f.sd.req.Key)).Criteria
	require.NotEmpty(t, crit)
	require.Contains(t, b.signedIn(poUser).get(fmt.Sprintf("/promotions/%d", p.ID)).doc(t).Find(`[data-testid="criteria-`+f.sd.item.Key+`"]`).Text(), crit[0].Text)
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/signoffs", p.ID), po,
		strings.NewReader(fmt.Sprintf(`{"work_item":%q,"decision":"signed_off","note":"tested quotes","criteria":[%d]}`, f.sd.item.Key, crit[0].ID)))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, "tested quotes")
	require.True(t, must(b.store.RequirementByKey(b.ctx, f.sd.req.Key)).Criteria[0].Met, "the criterion is met")
	reqPage := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get("/requirements/" + f.sd.req.Key)
	require.Contains(t, reqPage.doc(t).Find(`[data-testid="stage-`+f.sd.item.Key+`"]`).Text(), "UAT")
	// The board follows the pipeline: the item is "In release" after UAT,
	// and its timeline says where it went.
	item, err := b.store.WorkItemByKey(b.ctx, f.sd.item.Key)
	require.NoError(t, err)
	require.Equal(t, alm.WorkInRelease, item.Status)
	events, err := b.store.Timeline(b.ctx, "work_item", item.ID, 10)
	require.NoError(t, err)
	require.Contains(t, fmt.Sprint(events), fmt.Sprintf("deployed to UAT by promotion #%d; moved from Backlog to In release", p.ID))
	rel, err := b.store.ReleaseByID(b.ctx, f.sd.project.ID, f.sd.release.ID)
	require.NoError(t, err)
	require.Equal(t, alm.RelInTest, rel.Status, "built, then deployed short of the last stage: in test")

	// Production: the previous stage is met, validation required first.
	res = b.api("POST", "/api/v1/promotions", f.tok, strings.NewReader(fmt.Sprintf(`{"build_id":%d}`, f.build.ID)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	pp := decode[alm.Promotion](t, res)
	require.Equal(t, "Production", pp.StageName)
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/approve", pp.ID), rm2, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", pp.ID), rm2, nil)
	require.Equal(t, http.StatusConflict, res.status)
	require.Contains(t, res.body, "Validate this build")
	res = b.api("POST", fmt.Sprintf("/api/v1/builds/%d/validations", f.build.ID), f.tok, strings.NewReader(fmt.Sprintf(`{"org_id":%d,"test_level":"RunLocalTests"}`, f.orgs["prod"].ID)))
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	require.Eventually(t, func() bool {
		v, err := b.store.LatestValidation(b.ctx, f.build.ID, f.orgs["prod"].ID)
		return err == nil && v != nil && v.Finished != nil
	}, 60*time.Second, 50*time.Millisecond)
	v, _ := b.store.LatestValidation(b.ctx, f.build.ID, f.orgs["prod"].ID)
	require.Equal(t, "succeeded", v.Status, "%+v", v)
	require.NotEmpty(t, v.Result.Coverage, "coverage per class is kept")
	res = b.api("POST", fmt.Sprintf("/api/v1/promotions/%d/deploy", pp.ID), rm2, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	pd := waitDeployment(t, b, f.tok, decode[alm.Deployment](t, res).ID)
	require.Equal(t, "succeeded", pd.Status, "%+v", pd)
	require.Equal(t, "quick_deploy", pd.Kind, "a passed validation under 10 days old is reused")
	require.Equal(t, 1, b.sim.Org("prod").DeployCount(false), "one real deploy into production")
	require.True(t, classesIn(t, b, f.orgs["prod"])["Greeter"])

	item, err = b.store.WorkItemByKey(b.ctx, f.sd.item.Key)
	require.NoError(t, err)
	require.Equal(t, alm.WorkDone, item.Status, "deployed into the last stage: done")

	// The release is released, its notes final, and announced.
	relRes := b.api("GET", fmt.Sprintf("/api/v1/projects/CRM/releases/%d", f.sd.release.ID), f.tok, nil)
	require.Contains(t, relRes.body, `"status": "released"`)
	require.Eventually(t, func() bool { hookMu.Lock(); defer hookMu.Unlock(); return len(hooks) == 1 }, 30*time.Second, 50*time.Millisecond)
	hookMu.Lock()
	require.Contains(t, hooks[0]["text"], "is live in Production")
	require.Equal(t, "MessageCard", hooks[0]["@type"], "Teams reads the same body")
	hookMu.Unlock()

	// Why is Greeter in production? Its history names the build, work item
	// and requirement.
	res = b.api("GET", fmt.Sprintf("/api/v1/orgs/%d/components/ApexClass/Greeter/history", f.orgs["prod"].ID), f.tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	hist := decode[struct{ Items []alm.ComponentHistoryEntry }](t, res).Items
	require.Len(t, hist, 1)
	require.Equal(t, []string{f.sd.item.Key}, hist[0].WorkItems)
	require.Equal(t, []string{f.sd.req.Key}, hist[0].Requirements)

	lin := b.api("GET", "/api/v1/requirements/"+f.sd.req.Key+"/lineage", f.tok, nil)
	require.Equal(t, http.StatusOK, lin.status, lin.body)
	require.Contains(t, lin.body, `"kind": "quick_deploy"`, "the requirement's lineage reaches the production deployment")
	require.Contains(t, lin.body, `"stage": "Production"`)

	// Roll production back: Greeter and its test go away again.
	res = b.api("POST", fmt.Sprintf("/api/v1/deployments/%d/rollback", pd.ID), rm2, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	rb := waitDeployment(t, b, f.tok, decode[alm.Deployment](t, res).ID)
	require.Equal(t, "succeeded", rb.Status, "%+v", rb)
	require.False(t, classesIn(t, b, f.orgs["prod"])["Greeter"])
	detail = b.api("GET", fmt.Sprintf("/api/v1/promotions/%d", pp.ID), f.tok, nil)
	require.Contains(t, detail.body, `"status": "rolled_back"`)
	res = b.api("GET", fmt.Sprintf("/api/v1/orgs/%d/components/ApexClass/Greeter/history", f.orgs["prod"].ID), f.tok, nil)
	require.Len(t, decode[struct{ Items []alm.ComponentHistoryEntry }](t, res).Items, 2, "the rollback is a deployment in the lineage")

	// Delivery metrics see one production deployment, rolled back: a 100%
	// change failure rate restored by the rollback.
	res = b.api("GET", "/api/v1/projects/CRM/metrics?weeks=4", f.tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	m := decode[struct{ Metrics alm.DORA }](t, res).Metrics
	require.Equal(t, 1, m.Totals.Deployments)
	require.Equal(t, 1, m.Totals.Failures)
	require.InDelta(t, 1.0, *m.Totals.ChangeFailureRate, 1e-9)
	require.NotNil(t, m.Totals.LeadTimeHours, "the work item's first capture to production")
	require.NotNil(t, m.Totals.TimeToRestoreHours)
	page := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get("/projects/CRM/metrics")
	require.Equal(t, http.StatusOK, page.status)
	require.Equal(t, 4, page.doc(t).Find(`figure.chart svg`).Length())
}

// TestPromotionFaults: a rejected approval, a freeze with an admin
// override, an expired validation, a worker stopped mid-deploy, and an org
// failing mid-deploy.
func TestPromotionFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"uat", "prod"}})
	f := newReleaseFixture(t, b, strings.ReplaceAll(twoStages, `"approvals_required":2`, `"approvals_required":0,"frozen":true,"freeze_reason":"quarter end"`))
	admin := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
	ctx := alm.WithActor(b.ctx, alm.Actor{UserID: &admin.ID, Label: admin.Email})
	svc := promote.New(b.store, nil)

	// Rejected: the work item goes back to development, flagged.
	p, err := svc.Open(ctx, f.build.ID, "UAT")
	require.NoError(t, err)
	require.Error(t, svc.Reject(ctx, admin, admin.Role, p.ID, " "), "a reason is required")
	require.NoError(t, svc.Reject(ctx, admin, admin.Role, p.ID, "wrong discount"))
	it, err := b.store.WorkItemByKey(b.ctx, f.sd.item.Key)
	require.NoError(t, err)
	require.Equal(t, alm.WorkInProgress, it.Status)
	require.Contains(t, it.ReturnedReason, "wrong discount")
	_, err = svc.Deploy(ctx, admin, admin.Role, p.ID, false, "")
	require.Equal(t, alm.CodeConflict, alm.ErrorCode(err), "a rejected promotion is closed")

	// Frozen: refused, then an admin override is recorded.
	p, err = svc.Open(ctx, f.build.ID, "UAT")
	require.NoError(t, err)
	_, err = svc.Deploy(ctx, admin, admin.Role, p.ID, false, "")
	require.ErrorContains(t, err, "quarter end")
	rm := b.user(alm.RoleReleaseManager, "rm@example.com")
	_, err = svc.Deploy(ctx, rm, rm.Role, p.ID, true, "urgent fix")
	require.Equal(t, alm.CodeForbidden, alm.ErrorCode(err), "only admins override: %v", err)
	require.ErrorContains(t, err, "Only admins can override a freeze or change window")
	_, err = svc.Deploy(ctx, admin, admin.Role, p.ID, true, "  ")
	require.Equal(t, alm.CodeInvalid, alm.ErrorCode(err), "an override needs a reason")
	require.Contains(t, alm.FieldErrors(err)["reason"], "Say why")
	d, err := svc.Deploy(ctx, admin, admin.Role, p.ID, true, "pricing bug costs us orders")
	require.NoError(t, err)
	require.Contains(t, d.Override, "quarter end")
	require.Contains(t, d.Override, "pricing bug costs us orders")
	audit, err := b.store.ListAudit(b.ctx, store.AuditFilter{})
	require.NoError(t, err)
	found := false
	for _, e := range audit {
		found = found || strings.Contains(e.Summary, "Reason: pricing bug costs us orders")
	}
	require.True(t, found, "the override and its reason are in the audit log")

	// The worker is stopped once the org's deploy id is stored; the next
	// attempt resumes polling it and the org sees one deploy, not two.
	uat := b.sim.Org("uat")
	before := uat.DeployCount(false)
	stop, cancel := context.WithCancel(b.ctx)
	go func() {
		for stop.Err() == nil {
			if x, _ := b.store.DeploymentByID(b.ctx, d.ID); x.DeployID != "" {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	err = jobs.RunDeployment(stop, b.jobDeps, d.ID)
	require.Error(t, err, "stopped mid-deploy")
	x, err := b.store.DeploymentByID(b.ctx, d.ID)
	require.NoError(t, err)
	require.Nil(t, x.Finished)
	require.NotEmpty(t, x.DeployID)
	// The org is unreachable for a while: the attempt fails as transient
	// and River would try again; nothing is lost.
	uat.SetFaults(orgsim.Faults{FailNext: 1000})
	err = jobs.RunDeployment(b.ctx, b.jobDeps, d.ID)
	require.Error(t, err)
	x, _ = b.store.DeploymentByID(b.ctx, d.ID)
	require.Nil(t, x.Finished, "an unreachable org does not end the deployment")
	uat.SetFaults(orgsim.Faults{})
	require.NoError(t, jobs.RunDeployment(b.ctx, b.jobDeps, d.ID))
	x, _ = b.store.DeploymentByID(b.ctx, d.ID)
	require.Equal(t, "succeeded", x.Status, "%+v", x)
	require.Equal(t, before+1, uat.DeployCount(false), "never deployed twice")

	// Production: a validation 11 days old is not reused; a full deploy.
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE pipeline_stages SET validation_required = false WHERE name = 'Production'`)
	require.NoError(t, err)
	prodOrg := f.orgs["prod"]
	val, err := b.store.CreateValidation(ctx, f.build.ID, prodOrg.ID, "RunLocalTests", nil)
	require.NoError(t, err)
	require.NoError(t, b.store.StartValidation(b.ctx, val.ID, "0Af000000000001AAA"))
	require.NoError(t, b.store.FinishValidation(b.ctx, val.ID, "succeeded", alm.ValidationResult{}, ""))
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE validations SET started_at = started_at - interval '11 days' WHERE id = $1`, val.ID)
	require.NoError(t, err)
	pp, err := svc.Open(ctx, f.build.ID, "Production")
	require.NoError(t, err)
	require.NoError(t, svc.Approve(ctx, must(b.store.UserByEmail(b.ctx, "rm@example.com")), alm.RoleReleaseManager, pp.ID, ""))
	pd, err := svc.Deploy(ctx, admin, admin.Role, pp.ID, false, "")
	require.NoError(t, err)
	require.NoError(t, jobs.RunDeployment(b.ctx, b.jobDeps, pd.ID))
	pd, _ = b.store.DeploymentByID(b.ctx, pd.ID)
	require.Equal(t, "succeeded", pd.Status, "%+v", pd)
	require.Equal(t, "deploy", pd.Kind)
	require.Contains(t, strings.Join(pd.Result.Notes, " "), "11 days old")

	// A deploy the org fails: the promotion is failed with the reason and
	// can be retried (or rolled back).
	_, err = b.store.PutBlobs(b.ctx, []store.Blob{{Hash: "broken", Data: snapshot.EncodeFiles(map[string][]byte{
		"classes/Greeter.cls": []byte("public class Greeter {\n  Integer x = (1 + 2;\n}\n"), "classes/Greeter.cls-meta.xml": []byte(testClassMeta)})}})
	require.NoError(t, err)
	sn, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "y"})
	require.NoError(t, err)
	require.NoError(t, b.store.CaptureComponents(b.ctx, f.sd.item.Key, sn.ID, sn.ID, []store.Capture{{Type: "ApexClass", Name: "Greeter", Change: "changed", Hash: "broken"}}))
	bad, err := build.New(b.store).Build(ctx, f.sd.release.ID, "", nil)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE pipeline_stages SET frozen = false, approvals_required = 0`)
	require.NoError(t, err)
	bp, err := svc.Open(ctx, bad.ID, "UAT")
	require.NoError(t, err)
	bd, err := svc.Deploy(ctx, admin, admin.Role, bp.ID, false, "")
	require.NoError(t, err)
	require.NoError(t, jobs.RunDeployment(b.ctx, b.jobDeps, bd.ID))
	bd, _ = b.store.DeploymentByID(b.ctx, bd.ID)
	require.Equal(t, "failed", bd.Status)
	require.NotEmpty(t, bd.Result.ComponentErrors, "%+v", bd)
	bp, _ = b.store.PromotionByID(b.ctx, bp.ID)
	require.Equal(t, alm.PromoFailed, bp.Status)
	require.True(t, bp.Status.Allows(alm.ActRetry))
}
