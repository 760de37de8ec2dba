package server_test

import (
	"archive/zip"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/browsertest"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

const testClassMeta = `<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>`

// TestBuildARelease captures components onto two work items of a release
// (one class captured differently by both), sees the build refused with
// the conflict, settles it, and downloads the artifact.
func TestBuildARelease(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sd := seedPlan(t, b)
	second, err := b.store.CreateWorkItem(b.ctx, sd.project.ID, alm.WorkItemInput{Title: "Other"})
	require.NoError(t, err)
	for _, key := range []string{sd.item.Key, second.Key} {
		_, err := b.store.SetWorkItemRelease(b.ctx, key, &sd.release.ID)
		require.NoError(t, err)
	}
	sn, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "x"})
	require.NoError(t, err)
	blob := func(hash, body string) store.Blob {
		return store.Blob{Hash: hash, Data: snapshot.EncodeFiles(map[string][]byte{"classes/Quotes.cls": []byte(body), "classes/Quotes.cls-meta.xml": []byte(testClassMeta)})}
	}
	_, err = b.store.PutBlobs(b.ctx, []store.Blob{blob("h1", "public class Quotes { }"), blob("h2", "public class Quotes { Integer n; }")})
	require.NoError(t, err)
	require.NoError(t, b.store.CaptureComponents(b.ctx, sd.item.Key, sn.ID, sn.ID, []store.Capture{{Type: "ApexClass", Name: "Quotes", Change: "changed", Hash: "h1"}}))
	require.NoError(t, b.store.CaptureComponents(b.ctx, second.Key, sn.ID, sn.ID, []store.Capture{
		{Type: "ApexClass", Name: "Quotes", Change: "changed", Hash: "h2"}, {Type: "ApexClass", Name: "Legacy", Change: "deleted"}}))

	rm := b.user(alm.RoleReleaseManager, "rm@example.com")
	tok := b.token(rm)
	res := b.api("POST", fmt.Sprintf("/api/v1/releases/%d/builds", sd.release.ID), tok, nil)
	require.Equal(t, http.StatusConflict, res.status, res.body)
	require.Contains(t, res.body, `"key": "ApexClass\u0000quotes"`)
	require.Contains(t, res.body, sd.item.Key)

	// The page shows the choice and builds with it.
	br := b.signedIn(rm)
	page := br.post(fmt.Sprintf("/projects/CRM/releases/%d/builds", sd.release.ID), nil)
	require.Equal(t, http.StatusConflict, page.status)
	require.Equal(t, 2, page.doc(t).Find(`[data-testid="build-conflicts"] input[type="radio"]`).Length())
	page = br.post(fmt.Sprintf("/projects/CRM/releases/%d/builds", sd.release.ID), map[string][]string{"resolve:ApexClass\x00quotes": {second.Key}})
	require.Equal(t, http.StatusSeeOther, page.status, page.body)

	res = b.api("GET", fmt.Sprintf("/api/v1/releases/%d/builds", sd.release.ID), tok, nil)
	list := decode[struct{ Items []alm.Build }](t, res).Items
	require.Len(t, list, 1)
	require.Equal(t, 1, list[0].Deletes)
	res = b.api("GET", fmt.Sprintf("/api/v1/builds/%d/artifact", list[0].ID), tok, nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, list[0].Checksum, res.header.Get("X-Checksum-SHA256"))
	zr, err := zip.NewReader(bytes.NewReader([]byte(res.body)), int64(len(res.body)))
	require.NoError(t, err)
	names := map[string]string{}
	for _, f := range zr.File {
		r, _ := f.Open()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r)
		r.Close()
		names[f.Name] = buf.String()
	}
	require.Contains(t, names["classes/Quotes.cls"], "Integer n", "the chosen version")
	require.Contains(t, names["destructiveChangesPost.xml"], "<members>Legacy</members>")
	require.True(t, strings.Contains(names["package.xml"], "<members>Quotes</members>"))

	// The same captures build to the same bytes: a second build has the
	// same checksum (a change means a new build number, not new content).
	res = b.api("POST", fmt.Sprintf("/api/v1/releases/%d/builds", sd.release.ID), tok, strings.NewReader(`{"resolutions":{"ApexClass\u0000quotes":"`+second.Key+`"}}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	again := decode[alm.Build](t, res)
	require.Equal(t, 2, again.Number)
	require.Equal(t, list[0].Checksum, again.Checksum)
	detail := b.api("GET", fmt.Sprintf("/api/v1/builds/%d", again.ID), tok, nil)
	require.Contains(t, detail.body, `"work_item": "`+second.Key+`"`)

	// The build page checks it against an org's latest snapshot.
	org, err := b.store.CreateOrg(b.ctx, alm.NewOrg{Name: "UAT", Kind: alm.OrgFullSandbox, LoginURL: "https://test.salesforce.com"},
		store.OrgAuth{AuthKind: "jwt"}, func(int64) (string, error) { return "", nil })
	require.NoError(t, err)
	bp := br.get(fmt.Sprintf("/builds/%d?org=%d", again.ID, org.ID))
	require.Equal(t, http.StatusOK, bp.status)
	require.Contains(t, bp.doc(t).Text(), "no finished snapshot yet")
	target, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "org", OrgID: &org.ID})
	require.NoError(t, err)
	require.NoError(t, b.store.FinishSnapshot(b.ctx, target.ID, snapshot.Manifest{{Type: "ApexClass", Name: "Quotes", Hash: "old"}}, 0, nil))
	bp = br.get(fmt.Sprintf("/builds/%d?org=%d", again.ID, org.ID))
	doc := bp.doc(t)
	require.Contains(t, doc.Find(`[data-testid="check-result"]`).Text(), "Complete")
	require.Contains(t, doc.Find(`[data-testid="deletions"]`).Text(), "not in the target", "Legacy is absent there: skipped")
	require.Equal(t, 2, doc.Find(`[data-testid="build-components"] tbody tr`).Length())
	require.Contains(t, doc.Text(), "Static checks")

	// In a real browser: the release's builds and the checked build page.
	tab := browsertest.Shared(t).NewTab(t)
	signIn(tab, b.srv.URL, "rm@example.com")
	tab.Do(chromedp.Navigate(fmt.Sprintf("%s/projects/CRM/releases/%d", b.srv.URL, sd.release.ID)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="build-list"]`)))
	tab.Screenshot("release-builds")
	tab.Do(chromedp.Navigate(fmt.Sprintf("%s/builds/%d?org=%d", b.srv.URL, again.ID, org.ID)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="check-result"]`)))
	tab.Screenshot("build-checked")

	dev := b.token(b.user(alm.RoleDeveloper, "dev@example.com"))
	res = b.api("POST", fmt.Sprintf("/api/v1/releases/%d/builds", sd.release.ID), dev, nil)
	require.Equal(t, http.StatusForbidden, res.status)
}

// TestValidateABuild runs a check-only deploy of a build into a simulated
// org through the API and the job, and checks nothing was deployed.
func TestValidateABuild(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true})
	sd := seedPlan(t, b)
	_, err := b.store.SetWorkItemRelease(b.ctx, sd.item.Key, &sd.release.ID)
	require.NoError(t, err)
	sn, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "x"})
	require.NoError(t, err)
	_, err = b.store.PutBlobs(b.ctx, []store.Blob{{Hash: "v1", Data: snapshot.EncodeFiles(map[string][]byte{
		"classes/Validated.cls": []byte("public class Validated { }"), "classes/Validated.cls-meta.xml": []byte(testClassMeta)})}})
	require.NoError(t, err)
	require.NoError(t, b.store.CaptureComponents(b.ctx, sd.item.Key, sn.ID, sn.ID, []store.Capture{{Type: "ApexClass", Name: "Validated", Change: "new", Hash: "v1"}}))

	dev := b.sim.Org("dev")
	tok := b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	key := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(dev.JWTKey())}))
	body, _ := json.Marshal(map[string]string{"name": "Dev", "kind": "developer_sandbox", "login_url": dev.Info().LoginURL,
		"client_id": dev.ClientID(), "username": dev.Username(), "private_key": key})
	res := b.api("POST", "/api/v1/orgs", tok, strings.NewReader(string(body)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	org := decode[alm.Org](t, res)

	res = b.api("POST", fmt.Sprintf("/api/v1/releases/%d/builds", sd.release.ID), tok, nil)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	bl := decode[alm.Build](t, res)
	res = b.api("POST", fmt.Sprintf("/api/v1/builds/%d/validations", bl.ID), tok, strings.NewReader(fmt.Sprintf(`{"org_id":%d,"test_level":"Sometimes"}`, org.ID)))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	res = b.api("POST", fmt.Sprintf("/api/v1/builds/%d/validations", bl.ID), tok, strings.NewReader(fmt.Sprintf(`{"org_id":%d,"test_level":"NoTestRun"}`, org.ID)))
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	v := decode[alm.Validation](t, res)
	require.Eventually(t, func() bool {
		res := b.api("GET", fmt.Sprintf("/api/v1/builds/%d/validations", bl.ID), tok, nil)
		list := decode[struct{ Items []alm.Validation }](t, res).Items
		v = list[0]
		return v.Finished != nil
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "succeeded", v.Status, "%+v", v)
	require.NotEmpty(t, v.DeployID, "the deploy id is kept")
	require.Equal(t, 1, v.Result.Components)

	page := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get("/work-items/" + sd.item.Key)
	require.Contains(t, page.doc(t).Find(`[data-testid="item-validations"]`).Text(), "succeeded", "the work item shows its validations")

	c, err := b.orgs.Client(b.ctx, org)
	require.NoError(t, err)
	props, err := c.ListMetadata(b.ctx, []salesforce.ListMetadataQuery{{Type: "ApexClass"}})
	require.NoError(t, err)
	for _, p := range props {
		require.NotEqual(t, "Validated", p.FullName, "a validation deploys nothing")
	}

	// Apex tests on demand: deploy a test class, run it through the API.
	zipBytes, err := metadata.WriteZip(map[string][]byte{
		"package.xml":                     []byte(`<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>QuotesTest</members><name>ApexClass</name></types><version>62.0</version></Package>`),
		"classes/QuotesTest.cls":          []byte("@isTest private class QuotesTest { @isTest static void totals() { System.assertEquals(2, 1 + 1); } }"),
		"classes/QuotesTest.cls-meta.xml": []byte(testClassMeta),
	})
	require.NoError(t, err)
	depID, err := c.Deploy(b.ctx, zipBytes, salesforce.DeployOptions{SinglePackage: true})
	require.NoError(t, err)
	dr, err := c.WaitDeploy(b.ctx, depID, nil)
	require.NoError(t, err)
	require.True(t, dr.Success, "%+v", dr)
	res = b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/test-runs", org.ID), tok, strings.NewReader(`{}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, "say what to run")
	res = b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/test-runs", org.ID), tok, strings.NewReader(`{"classes":["QuotesTest"]}`))
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	var run alm.TestRun
	require.Eventually(t, func() bool {
		res := b.api("GET", fmt.Sprintf("/api/v1/orgs/%d/test-runs", org.ID), tok, nil)
		run = decode[struct{ Items []alm.TestRun }](t, res).Items[0]
		return run.Finished != nil
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "passed", run.Status, "%+v", run)
	require.Equal(t, 1, run.Passed)
	require.Equal(t, "QuotesTest", run.Results[0].Class)
	orgPage := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get(fmt.Sprintf("/orgs/%d", org.ID))
	require.Contains(t, orgPage.doc(t).Find(`[data-testid="test-runs"]`).Text(), "1 passed")
}

// TestAddMissingDependencyToRelease checks a build against an org that
// lacks a field the build's Apex queries, adds the field to the release
// from the snapshot the class was captured from ("add to release"), and
// builds again with it; a reference no source snapshot holds is refused
// with a reason.
func TestAddMissingDependencyToRelease(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sd := seedPlan(t, b)
	_, err := b.store.SetWorkItemRelease(b.ctx, sd.item.Key, &sd.release.ID)
	require.NoError(t, err)
	class := snapshot.EncodeFiles(map[string][]byte{
		"classes/Quotes.cls":          []byte("public class Quotes {\n  public static List<Account> tiers() { return [SELECT Id, Tier__c, Region__c FROM Account]; }\n}\n"),
		"classes/Quotes.cls-meta.xml": []byte(testClassMeta)})
	// Snapshots keep each component laid out in metadata format: a field
	// is its object file holding just that field.
	field := snapshot.EncodeFiles(map[string][]byte{"objects/Account.object": []byte(
		`<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="http://soap.sforce.com/2006/04/metadata"><fields><fullName>Tier__c</fullName><label>Tier</label><type>Text</type><length>20</length></fields></CustomObject>`)})
	_, err = b.store.PutBlobs(b.ctx, []store.Blob{{Hash: "quotes1", Data: class}, {Hash: "tier1", Data: field}})
	require.NoError(t, err)
	base, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "main"})
	require.NoError(t, err)
	require.NoError(t, b.store.FinishSnapshot(b.ctx, base.ID, snapshot.Manifest{}, 0, nil))
	src, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "git", Ref: "feature"})
	require.NoError(t, err)
	require.NoError(t, b.store.FinishSnapshot(b.ctx, src.ID, snapshot.Manifest{
		{Type: "ApexClass", Name: "Quotes", Hash: "quotes1"}, {Type: "CustomField", Name: "Account.Tier__c", Hash: "tier1"}}, 0, nil))
	require.NoError(t, b.store.CaptureComponents(b.ctx, sd.item.Key, base.ID, src.ID, []store.Capture{{Type: "ApexClass", Name: "Quotes", Change: "new", Hash: "quotes1"}}))

	rm := b.user(alm.RoleReleaseManager, "rm@example.com")
	tok := b.token(rm)
	res := b.api("POST", fmt.Sprintf("/api/v1/releases/%d/builds", sd.release.ID), tok, nil)
	require.Equal(t, http.StatusCreated, res.status, res.body)
	first := decode[alm.Build](t, res)
	org, err := b.store.CreateOrg(b.ctx, alm.NewOrg{Name: "UAT", Kind: alm.OrgFullSandbox, LoginURL: "https://test.salesforce.com"},
		store.OrgAuth{AuthKind: "jwt"}, func(int64) (string, error) { return "", nil })
	require.NoError(t, err)
	target, err := b.store.CreateSnapshot(b.ctx, store.NewSnapshot{Source: "org", OrgID: &org.ID})
	require.NoError(t, err)
	require.NoError(t, b.store.FinishSnapshot(b.ctx, target.ID, snapshot.Manifest{{Type: "ApexClass", Name: "Other", Hash: "o"}}, 0, nil))

	br := b.signedIn(rm)
	doc := br.get(fmt.Sprintf("/builds/%d?org=%d", first.ID, org.ID)).doc(t)
	rows := doc.Find(`[data-testid="missing"] tbody tr`)
	require.Equal(t, 2, rows.Length(), rows.Text())
	require.Equal(t, 1, doc.Find(`[data-testid="add-Account.Tier__c"]`).Length(), "the field is in the snapshot Quotes came from")
	require.Contains(t, rows.Text(), "capture it from a comparison", "Region__c is in no source snapshot")

	page := br.post(fmt.Sprintf("/builds/%d/dependencies", first.ID), map[string][]string{"org": {fmt.Sprint(org.ID)}, "ref": {"CustomField/Account.Tier__c"}})
	require.Equal(t, http.StatusSeeOther, page.status, page.body)
	doc = br.get(fmt.Sprintf("/builds/%d?org=%d", first.ID, org.ID)).doc(t)
	require.Contains(t, doc.Find(`[data-testid="missing"]`).Text(), "added: build again")
	require.Equal(t, 1, doc.Find(`[data-testid="build-again"]`).Length())
	caps, err := b.store.CapturedComponents(b.ctx, sd.item.Key, false)
	require.NoError(t, err)
	require.Len(t, caps, 2)
	var tier alm.CapturedComponent
	for _, c := range caps {
		if c.Name == "Account.Tier__c" {
			tier = c
		}
	}
	require.Equal(t, "ApexClass Quotes", tier.DependencyOf)
	require.Equal(t, "tier1", tier.Hash)
	require.Equal(t, src.ID, *tier.ToSnapshot)

	// The API refuses what no source holds, and what was already added.
	body := fmt.Sprintf(`{"org_id": %d, "components": [{"type": "CustomField", "name": "Account.Region__c"}]}`, org.ID)
	res = b.api("POST", fmt.Sprintf("/api/v1/builds/%d/dependencies", first.ID), tok, strings.NewReader(body))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	require.Contains(t, res.body, "no snapshot the release")
	body = fmt.Sprintf(`{"org_id": %d, "components": [{"type": "CustomField", "name": "account.tier__c"}]}`, org.ID)
	res = b.api("POST", fmt.Sprintf("/api/v1/builds/%d/dependencies", first.ID), tok, strings.NewReader(body))
	require.Equal(t, http.StatusUnprocessableEntity, res.status, res.body)
	require.Contains(t, res.body, "already on "+sd.item.Key)
	viewer := b.token(b.user(alm.RoleViewer, "viewer@example.com"))
	res = b.api("POST", fmt.Sprintf("/api/v1/builds/%d/dependencies", first.ID), viewer, strings.NewReader(body))
	require.Equal(t, http.StatusForbidden, res.status)

	// Built again, the release carries the field; only Region__c is missing.
	page = br.post(fmt.Sprintf("/projects/CRM/releases/%d/builds", sd.release.ID), nil)
	require.Equal(t, http.StatusSeeOther, page.status, page.body)
	res = b.api("GET", fmt.Sprintf("/api/v1/releases/%d/builds", sd.release.ID), tok, nil)
	list := decode[struct{ Items []alm.Build }](t, res).Items
	require.Len(t, list, 2)
	second := list[0]
	require.Equal(t, 2, second.Number)
	require.Equal(t, 2, second.Components)
	doc = br.get(fmt.Sprintf("/builds/%d?org=%d", second.ID, org.ID)).doc(t)
	rows = doc.Find(`[data-testid="missing"] tbody tr`)
	require.Equal(t, 1, rows.Length(), rows.Text())
	require.Contains(t, rows.Text(), "Region__c")
}
