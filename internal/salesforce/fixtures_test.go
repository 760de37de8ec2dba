package salesforce_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/salesforce"
)

// The recorded Salesforce answers in testdata/fixtures (copied from
// ../shared/fixtures/salesforce; provenance in their README) are played
// back over HTTP to the client, and what it decodes is checked value by
// value.

type canned struct {
	status  int
	ctype   string
	body    []byte
	headers map[string]string
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unwrapped returns a cassette's "response" (or the file as is).
func unwrapped(t *testing.T, name string) []byte {
	b := fixture(t, name)
	var w struct {
		Response json.RawMessage `json:"response"`
	}
	if json.Unmarshal(b, &w) == nil && len(w.Response) > 0 {
		return w.Response
	}
	return b
}

func xmlAnswer(t *testing.T, name string) canned {
	status := 200
	if strings.Contains(name, "fault") {
		status = 500
	}
	return canned{status: status, ctype: "text/xml", body: fixture(t, name)}
}

func jsonAnswer(t *testing.T, status int, name string) canned {
	return canned{status: status, ctype: "application/json", body: unwrapped(t, name)}
}

// replay serves answers in order and records the requests.
func replay(t *testing.T, answers ...canned) (*salesforce.Client, *[]*http.Request) {
	t.Helper()
	var mu sync.Mutex
	var reqs []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		reqs = append(reqs, r)
		if len(reqs) > len(answers) {
			http.Error(w, "no more answers", http.StatusTeapot)
			return
		}
		a := answers[len(reqs)-1]
		for k, v := range a.headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		w.Write(a.body)
	}))
	t.Cleanup(srv.Close)
	c, err := salesforce.New(salesforce.Config{Name: "recorded", APIVersion: "58.0",
		Credentials: salesforce.StaticCredentials{Tok: &salesforce.Token{AccessToken: "00Dx0000000BV7z!token", InstanceURL: srv.URL}},
		Retry:       salesforce.RetryPolicy{Attempts: 1}, Poll: salesforce.PollPolicy{First: time.Millisecond, Max: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c, &reqs
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRecordedMetadataSOAP(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	t.Run("deploy queued", func(t *testing.T) {
		c, reqs := replay(t, xmlAnswer(t, "metadata-soap/deploy-response-queued.xml"))
		id, err := c.Deploy(bg, []byte("PK"), salesforce.DeployOptions{RollbackOnError: true, RunTests: []string{"ATest"}, TestLevel: salesforce.RunSpecifiedTests})
		if err != nil || id != "0Af3B00001CMyfASAT" {
			t.Fatal(err, id)
		}
		if (*reqs)[0].URL.Path != "/services/Soap/m/58.0" || (*reqs)[0].Header.Get("SOAPAction") != `""` {
			t.Errorf("request: %s %v", (*reqs)[0].URL.Path, (*reqs)[0].Header)
		}
	})
	t.Run("checkDeployStatus failed", func(t *testing.T) {
		c, _ := replay(t, xmlAnswer(t, "metadata-soap/checkDeployStatus-failed-component-failure.xml"))
		r, err := c.CheckDeployStatus(bg, "0Af3D00001NVD0TSAX", true)
		if err != nil {
			t.Fatal(err)
		}
		f := r.Details.ComponentFailures
		if !r.Done || r.Status != "Failed" || r.Success || !r.CheckOnly || r.ID != "0Af3D00001NVD0TSAX" || r.CreatedBy != "0053D0000052Xaq" ||
			r.CreatedByName != "User User" || !r.CompletedDate.Equal(at("2020-10-28T13:37:48Z")) || !r.StartDate.Equal(at("2020-10-28T13:37:47Z")) ||
			r.NumberComponentErrors != 0 || len(f) != 1 || f[0].FileName != "package.xml" || f[0].Problem != "No package.xml found" ||
			f[0].ProblemType != "Error" || f[0].ComponentType != "" || r.Details.RunTestResult == nil || r.Details.RunTestResult.TotalTime != 0 || !r.Finished() {
			t.Errorf("decoded: %+v", r)
		}
	})
	t.Run("checkDeployStatus in progress", func(t *testing.T) {
		c, _ := replay(t, xmlAnswer(t, "metadata-soap/checkDeployStatus-inprogress.xml"))
		r, err := c.CheckDeployStatus(bg, "0Af3D00001NW8mnSAD", false)
		if err != nil || r.Status != "InProgress" || r.Done || r.Finished() || r.NumberComponentsDeployed != 2 || r.NumberComponentsTotal != 3 ||
			!r.CompletedDate.IsZero() || !r.LastModifiedDate.Equal(at("2020-10-28T17:37:08Z")) {
			t.Errorf("decoded: %v %+v", err, r)
		}
	})
	t.Run("checkDeployStatus pending", func(t *testing.T) {
		c, _ := replay(t, xmlAnswer(t, "metadata-soap/checkDeployStatus-pending-checkonly.xml"))
		r, err := c.CheckDeployStatus(bg, "0Af3D00001NViC1SAL", false)
		if err != nil || r.Status != "Pending" || !r.CheckOnly || !r.StartDate.IsZero() || r.Finished() || r.ID != "0Af3D00001NViC1SAL" {
			t.Errorf("decoded: %v %+v", err, r)
		}
	})
	t.Run("checkDeployStatus succeeded", func(t *testing.T) {
		c, _ := replay(t, xmlAnswer(t, "metadata-soap/checkDeployStatus-succeeded.xml"))
		r, err := c.CheckDeployStatus(bg, "x", true)
		if err != nil || r.Status != "Succeeded" || !r.Success {
			t.Fatal(err, r)
		}
		var pkg, apex *salesforce.DeployMessage
		for i, s := range r.Details.ComponentSuccesses {
			switch s.FullName {
			case "package.xml":
				pkg = &r.Details.ComponentSuccesses[i]
			case "Apex":
				apex = &r.Details.ComponentSuccesses[i]
			}
		}
		if pkg == nil || pkg.ComponentType != "" || pkg.FileName != "shape/package.xml" || apex == nil || apex.ComponentType != "ApexSettings" || !apex.Changed || apex.FileName != "shape/settings/Apex.settings" {
			t.Errorf("successes: %+v", r.Details.ComponentSuccesses)
		}
	})
	t.Run("checkRetrieveStatus with messages", func(t *testing.T) {
		c, _ := replay(t, xmlAnswer(t, "metadata-soap/checkRetrieveStatus-succeeded-with-not-found-messages.xml"))
		r, err := c.CheckRetrieveStatus(bg, "09S1m000001EKBkEAO", true)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != "Succeeded" || !r.Success || !r.Done || r.ID != "09S1m000001EKBkEAO" || len(r.Messages) != 12 ||
			r.Messages[0].Problem != "Entity of type 'CustomField' named 'Delivery_Item__c.Food_Expiration_Date__c' cannot be found" ||
			r.Messages[0].FileName != "unpackaged/package.xml" || len(r.FileProperties) != 1 || r.FileProperties[0].Type != "Package" ||
			r.FileProperties[0].ID != "" || !r.FileProperties[0].CreatedDate.Equal(at("2023-10-09T08:47:44.875Z")) {
			t.Errorf("decoded: %+v", r)
		}
		files, err := metadata.ReadZip(r.ZipFile, metadata.DefaultZipLimits)
		if err != nil || len(files) != 1 || files["unpackaged/package.xml"] == nil {
			t.Errorf("zip: %v %v", err, keys(files))
		}
	})
	t.Run("describeMetadata", func(t *testing.T) {
		c, _ := replay(t, xmlAnswer(t, "metadata-soap/describeMetadata-response-single-type.xml"))
		r, err := c.DescribeMetadata(bg)
		if err != nil || len(r.MetadataObjects) != 1 || r.MetadataObjects[0].TypeName != "Workflow" || r.MetadataObjects[0].DirectoryName != "workflows" ||
			r.MetadataObjects[0].ChildXMLNames[0] != "WorkflowFieldUpdate" || r.MetadataObjects[0].Suffix != "workflow" || !r.PartialSaveAllowed || r.TestRequired {
			t.Errorf("decoded: %v %+v", err, r)
		}
	})
	t.Run("fault", func(t *testing.T) {
		c, _ := replay(t, xmlAnswer(t, "metadata-soap/fault-invalid-session-id.xml"))
		_, err := c.ListMetadata(bg, []salesforce.ListMetadataQuery{{Type: "ApexClass"}})
		var e *salesforce.Error
		if salesforce.Code(err) != "INVALID_SESSION_ID" || !strings.Contains(err.Error(), "Invalid Session ID found in SessionHeader: Illegal Session") ||
			!errorsAs(err, &e) || e.Status != 500 {
			t.Errorf("fault: %v", err)
		}
	})
	t.Run("legacy API 23", func(t *testing.T) {
		c, _ := replay(t, xmlAnswer(t, "metadata-soap/legacy-api23/listMetadata-CustomObject.xml"))
		props, err := c.ListMetadata(bg, []salesforce.ListMetadataQuery{{Type: "CustomObject"}})
		if err != nil || len(props) != 2 || props[0].FullName != "ContractContactRole" || props[0].ID != "" || props[0].CreatedDate.Unix() != 0 || props[0].FileName != "objects/ContractContactRole.object" {
			t.Errorf("listMetadata: %v %+v", err, props)
		}
		c, _ = replay(t, xmlAnswer(t, "metadata-soap/legacy-api23/listMetadata-empty.xml"))
		if props, err := c.ListMetadata(bg, []salesforce.ListMetadataQuery{{Type: "CustomObject"}}); err != nil || len(props) != 0 {
			t.Errorf("empty listMetadata: %v %+v", err, props)
		}
		c, _ = replay(t, xmlAnswer(t, "metadata-soap/legacy-api23/describeMetadata-success.xml"))
		if d, err := c.DescribeMetadata(bg); err != nil || len(d.MetadataObjects) != 29 || d.MetadataObjects[0].TypeName != "CustomLabels" {
			t.Errorf("describe: %v %d", err, len(d.MetadataObjects))
		}
		c, _ = replay(t, xmlAnswer(t, "metadata-soap/legacy-api23/retrieve-response-inprogress.xml"))
		if id, err := c.StartRetrieve(bg, salesforce.RetrieveRequest{Unpackaged: map[string][]string{"ApexClass": {"*"}}}); err != nil || id != "04sU0000000WkdIIAS" {
			t.Errorf("retrieve: %v %s", err, id)
		}
		c, _ = replay(t, xmlAnswer(t, "metadata-soap/legacy-api23/deploy-response-inprogress.xml"))
		if id, err := c.Deploy(bg, []byte("PK"), salesforce.DeployOptions{}); err != nil || id != "04sU0000000WNWoIAO" {
			t.Errorf("deploy: %v %s", err, id)
		}
		c, _ = replay(t, xmlAnswer(t, "metadata-soap/legacy-api23/checkRetrieveStatus-success.xml"))
		r, err := c.CheckRetrieveStatus(bg, "04s", true)
		if err != nil || len(r.FileProperties) == 0 || r.FileProperties[0].FullName != "TestClass" || len(r.ZipFile) == 0 {
			t.Errorf("checkRetrieveStatus: %v %+v", err, r)
		}
		for _, f := range []string{"checkDeployResult-pre-v29-success.xml", "checkDeployResult-pre-v29-no-package-xml.xml"} {
			c, _ = replay(t, xmlAnswer(t, "metadata-soap/legacy-api23/"+f))
			r, err := c.CheckDeployStatus(bg, "04s", true)
			if err != nil || !strings.HasPrefix(r.ID, "04sU0000000WR") {
				t.Errorf("%s: the obsolete shape should still parse: %v %+v", f, err, r)
			}
		}
	})
}

func errorsAs(err error, e **salesforce.Error) bool {
	x, ok := err.(*salesforce.Error)
	if ok {
		*e = x
	}
	return ok
}

func TestRecordedDeployResultsAsJSON(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	c, _ := replay(t, jsonAnswer(t, 200, "metadata-rest/deployRequest-get-succeeded-checkonly.json"))
	dr, err := c.DeployRequestStatus(bg, "0Af7A00000l6BaoSAE", true)
	if err != nil {
		t.Fatal(err)
	}
	r := dr.DeployResult
	if dr.ID != "0Af7A00000l6BaoSAE" || dr.ValidatedDeployRequestID != "" || r.Status != "Succeeded" || !r.CheckOnly || r.NumberComponentsDeployed != 1 ||
		len(r.Details.ComponentSuccesses) != 2 || r.Details.ComponentSuccesses[0].ComponentType != "SharingReason" ||
		r.Details.ComponentSuccesses[0].FullName != "Event_Registration__c.Share_Participants_with_Users__c" ||
		!r.Details.ComponentSuccesses[0].CreatedDate.Equal(at("2021-05-10T04:33:16Z")) || r.Details.ComponentSuccesses[0].LineNumber != 0 {
		t.Errorf("REST deploy result: %+v", dr)
	}
	// sf CLI --json wraps the same DeployResult (converted by jsforce).
	var cli struct {
		Result json.RawMessage `json:"result"`
	}
	json.Unmarshal(fixture(t, "cli/sf-project-deploy-start-compile-error.json"), &cli)
	c, _ = replay(t, canned{status: 200, ctype: "application/json", body: []byte(`{"id":"0AfXXXXXXXXXXXXXXX","deployResult":` + string(cli.Result) + `}`)})
	dr, err = c.DeployRequestStatus(bg, "0AfXXXXXXXXXXXXXXX", true)
	if err != nil {
		t.Fatal(err)
	}
	f := dr.DeployResult.Details.ComponentFailures
	if dr.DeployResult.Status != "Failed" || dr.DeployResult.NumberComponentErrors != 1 || len(f) != 1 || f[0].LineNumber != 1 || f[0].ColumnNumber != 37 ||
		f[0].Problem != "Variable does not exist: y" || f[0].FileName != "classes/BadDeploy.cls" {
		t.Errorf("compile error: %+v", dr.DeployResult)
	}
	json.Unmarshal(fixture(t, "cli/sf-project-deploy-validate-test-failure.json"), &cli)
	c, _ = replay(t, canned{status: 200, ctype: "application/json", body: []byte(`{"id":"0AfIi000000onyXKAQ","deployResult":` + string(cli.Result) + `}`)})
	dr, err = c.DeployRequestStatus(bg, "0AfIi000000onyXKAQ", true)
	if err != nil {
		t.Fatal(err)
	}
	rt := dr.DeployResult.Details.RunTestResult
	if rt == nil || dr.DeployResult.NumberTestErrors != 1 || dr.DeployResult.NumberTestsTotal != 6 || len(rt.Failures) == 0 ||
		rt.Failures[0].StackTrace != "External entry point\nClass.SomeClassTest.methodName: line 7, column 1" || rt.Failures[0].Time != 95 ||
		len(rt.CodeCoverage) != 6 || rt.CodeCoverage[0].Name != "SomeClass" || rt.CodeCoverage[0].Percent() != 0 || rt.CodeCoverage[1].NumLocations != 9 ||
		len(rt.CodeCoverage[4].LocationsNotCovered) != 5 || rt.CodeCoverage[4].LocationsNotCovered[0].Line != 39 {
		t.Errorf("validation: %+v", rt)
	}
}

func TestRecordedOAuth(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	serve := func(status int, name string) *salesforce.OAuthConfig {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(fixture(t, name))
		}))
		t.Cleanup(srv.Close)
		return &salesforce.OAuthConfig{LoginURL: srv.URL, ClientID: "3MVG9", ClientSecret: "shh-its-a-secret"}
	}
	tok, err := serve(200, "oauth/token-response-password-or-code.json").Password(bg, "u@example.com", "pw")
	if err != nil || tok.InstanceURL != "https://na1.salesforce.com" || tok.OrgID() != "00Dx0000000BV7z" || tok.UserID() != "005x00000012Q9P" ||
		tok.IssuedAt != "1278448832702" || tok.Signature != "0CmxinZir53Yex7nE0TD+zMpvIWYGb/bdJh6XfOH6EQ=" || !strings.HasPrefix(tok.AccessToken, "00Dx0000000BV7z!AR8AQ") {
		t.Errorf("token: %v %+v", err, tok)
	}
	for _, tc := range []struct{ file, code, desc string }{
		{"oauth/token-error-invalid-client-id.json", "invalid_client_id", "client identifier invalid"},
		{"oauth/token-error-invalid-grant-password.json", "invalid_grant", "authentication failure - Invalid Password"},
		{"oauth/token-error-invalid-grant-refresh.json", "invalid_grant", "expired access/refresh token"},
		{"oauth/token-error-jwt-not-approved.json", "invalid_grant", "user hasn't approved this consumer"},
	} {
		_, err := serve(400, tc.file).Refresh(bg, "5Aep861refresh")
		var e *salesforce.Error
		if !errorsAs(err, &e) || e.Code != tc.code || e.Message != tc.desc || e.Status != 400 {
			t.Errorf("%s: %v", tc.file, err)
		}
	}
}

func TestRecordedSOAPLogin(t *testing.T) {
	t.Parallel()
	serve := func(status int, name string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(status)
			w.Write(fixture(t, name))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	tok, err := salesforce.SOAPLogin(context.Background(), serve(200, "soap-login/login-response-partner.xml"), "23.0", "u", "pw", nil)
	if err != nil || tok.AccessToken == "" || !strings.HasPrefix(tok.InstanceURL, "https://") || tok.OrgID() == "" {
		t.Errorf("login: %v %+v", err, tok)
	}
	for _, f := range []string{"soap-login/login-fault-invalid-login.xml", "soap-login/login-fault-invalid-login-sf-prefix.xml"} {
		_, err := salesforce.SOAPLogin(context.Background(), serve(500, f), "23.0", "u", "secret-password", nil)
		if salesforce.Code(err) != "INVALID_LOGIN" || strings.Contains(err.Error(), "secret-password") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestRecordedREST(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	t.Run("query pages", func(t *testing.T) {
		c, reqs := replay(t, jsonAnswer(t, 200, "rest/query-page1-done-false.json"), jsonAnswer(t, 200, "rest/query-page2-done-true.json"))
		recs, err := c.Query(bg, "SELECT Text_Label FROM Whizbang")
		if err != nil || len(recs) != 2 || recs[0].String("Text_Label") != "First Page" || recs[1].String("Text_Label") != "Last Page" || recs[0].Type() != "Whizbang" {
			t.Fatal(err, recs)
		}
		if (*reqs)[1].URL.Path != "/services/data/v26.0/query/01gD" {
			t.Errorf("the second page should follow nextRecordsUrl: %s", (*reqs)[1].URL.Path)
		}
	})
	t.Run("describeGlobal", func(t *testing.T) {
		c, _ := replay(t, jsonAnswer(t, 200, "rest/describeGlobal-response.json"))
		g, err := c.DescribeGlobal(bg)
		if err != nil || g.MaxBatchSize != 200 || g.Encoding != "UTF-8" || len(g.SObjects) < 100 || g.SObjects[0].Name != "Account" || g.SObjects[0].KeyPrefix != "001" || !g.SObjects[0].Queryable {
			t.Errorf("%v %+v", err, g.SObjects[:1])
		}
	})
	t.Run("describe Account", func(t *testing.T) {
		c, _ := replay(t, jsonAnswer(t, 200, "rest/sobject-describe-Account.json"))
		d, err := c.Describe(bg, "Account")
		if err != nil || d.Name != "Account" || d.KeyPrefix != "001" {
			t.Fatal(err, d.Name)
		}
		var parent, billing *salesforce.Field
		for i, f := range d.Fields {
			switch f.Name {
			case "ParentId":
				parent = &d.Fields[i]
			case "BillingCity":
				billing = &d.Fields[i]
			}
		}
		if parent == nil || parent.Type != "reference" || parent.RelationshipName != "Parent" || parent.ReferenceTo[0] != "Account" ||
			billing == nil || billing.CompoundFieldName != "BillingAddress" || d.ChildRelationships[0].RelationshipName != "ChildAccounts" {
			t.Errorf("fields: %+v %+v", parent, billing)
		}
	})
	t.Run("limits", func(t *testing.T) {
		c, _ := replay(t, jsonAnswer(t, 200, "rest/limits-response.json"))
		l, err := c.Limits(bg)
		if err != nil || l["DailyApiRequests"].Max != 15000 || l["DailyApiRequests"].Remaining != 14998 || c.Usage().Used != 2 {
			t.Errorf("%v %+v %+v", err, l["DailyApiRequests"], c.Usage())
		}
		c, _ = replay(t, jsonAnswer(t, 200, "rest/limits-recordCount.json"))
		n, err := c.RecordCount(bg, "Account")
		if err != nil || n["Account"] != 1 {
			t.Errorf("recordCount: %v %v", err, n)
		}
	})
	t.Run("versions", func(t *testing.T) {
		c, _ := replay(t, jsonAnswer(t, 200, "rest/versions-response.json"))
		v, err := c.Versions(bg)
		if err != nil || len(v) != 2 || v[0].Version != "20.0" || v[0].Label != "Winter '11" || v[1].URL != "/services/data/v100" {
			t.Errorf("%v %+v", err, v)
		}
	})
	t.Run("create and upsert", func(t *testing.T) {
		c, _ := replay(t, jsonAnswer(t, 201, "rest/sobject-create-response.json"))
		id, err := c.CreateRecord(bg, "Account", map[string]any{"Name": "xyzzy", "AccountNumber": "420"})
		if err != nil || id != "0015500001QdQWfAAN" {
			t.Errorf("create: %v %s", err, id)
		}
		c, _ = replay(t, jsonAnswer(t, 200, "rest/composite-sobjects-upsert-by-Id-one.json"))
		res, err := c.UpsertRecords(bg, "Account", "Id", []salesforce.Record{{"attributes": map[string]any{"type": "Account"}, "Name": "Sitwell-Bluth"}}, false)
		if err != nil || len(res) != 1 || !res[0].Created || res[0].ID != "0015500001QdQWaAAN" {
			t.Errorf("upsert one: %v %+v", err, res)
		}
		var many struct {
			Request struct {
				Body struct {
					Records []salesforce.Record `json:"records"`
				} `json:"body"`
			} `json:"_request"`
		}
		json.Unmarshal(fixture(t, "rest/composite-sobjects-upsert-by-Id-many.json"), &many)
		c, _ = replay(t, jsonAnswer(t, 200, "rest/composite-sobjects-upsert-by-Id-many.json"))
		res, err = c.UpsertRecords(bg, "Contact", "Id", many.Request.Body.Records, false)
		if err != nil || len(res) != 16 {
			t.Fatalf("upsert many: %v %d", err, len(res))
		}
		c, _ = replay(t, canned{status: 300, ctype: "application/json", body: fixture(t, "rest/upsert-300-multiple-choices.json")})
		_, err = c.UpsertRecord(bg, "Whizbang", "External__c", "1", map[string]any{"Name": "x"})
		if salesforce.Code(err) != "MULTIPLE_CHOICES" || !strings.Contains(err.Error(), "/services/data/v23.0/sobjects/Whizbang/bar") {
			t.Errorf("300: %v", err)
		}
	})
	t.Run("collections errors", func(t *testing.T) {
		c, _ := replay(t, jsonAnswer(t, 200, "docs-examples/composite-sobjects-create-allornone-false-duplicate.json"))
		res, err := c.CreateRecords(bg, []salesforce.Record{{}, {}}, false)
		if err != nil || res[0].Success || res[0].Errors[0].Code() != "DUPLICATES_DETECTED" || !res[1].Success || res[1].ID != "003RM0000068xVCYAY" {
			t.Errorf("%v %+v", err, res)
		}
		c, _ = replay(t, jsonAnswer(t, 200, "docs-examples/composite-sobjects-update-allornone-true-failure.json"))
		res, err = c.UpdateRecords(bg, []salesforce.Record{{}, {}}, true)
		if err != nil || res[0].Errors[0].Code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[1].Errors[0].Code() != "MALFORMED_ID" || res[1].Errors[0].Fields[0] != "Id" {
			t.Errorf("%v %+v", err, res)
		}
	})
	t.Run("error arrays", func(t *testing.T) {
		for _, tc := range []struct {
			file   string
			status int
			code   string
			msg    string
		}{
			{"rest/error-invalid-field.json", 400, "INVALID_FIELD", "No such column 'foo' on sobject of type Bar"},
			{"rest/error-not-found.json", 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: rid"},
			{"docs-examples/bulk2-error-not-found.json", 404, "NOT_FOUND", "The requested resource does not exist"},
		} {
			c, _ := replay(t, jsonAnswer(t, tc.status, tc.file))
			_, err := c.Query(bg, "SELECT foo FROM Bar")
			var e *salesforce.Error
			if !errorsAs(err, &e) || e.Code != tc.code || e.Message != tc.msg || e.Status != tc.status {
				t.Errorf("%s: %v", tc.file, err)
			}
		}
		// An expired session is refreshed once; static credentials cannot.
		c, _ := replay(t, jsonAnswer(t, 401, "rest/error-invalid-session-id.json"))
		if _, err := c.Query(bg, "SELECT Id FROM Account"); salesforce.Code(err) != "INVALID_SESSION_ID" && !strings.Contains(err.Error(), "re-authorised") {
			t.Errorf("401: %v", err)
		}
	})
	t.Run("composite", func(t *testing.T) {
		c, _ := replay(t, jsonAnswer(t, 200, "rest/composite-query-invalid-type.json"))
		res, err := c.Composite(bg, false, []salesforce.CompositeRequest{{Method: "GET", URL: "/services/data/v58.0/query/?q=select+count()+from+Account", ReferenceID: "refAccount"}})
		if err != nil || len(res) != 2 || res[0].Err() != nil || salesforce.Code(res[1].Err()) != "INVALID_TYPE" || !strings.Contains(res[1].Err().Error(), "XYZZY") {
			t.Errorf("%v %+v", err, res)
		}
		c, _ = replay(t, jsonAnswer(t, 200, "rest/composite-subrequest-404.json"))
		res, err = c.Composite(bg, false, []salesforce.CompositeRequest{{Method: "GET", URL: "/services/data/v58.0/sobjects/Foo", ReferenceID: "x"}})
		if err != nil || salesforce.Code(res[0].Err()) != "NOT_FOUND" || res[0].HTTPStatusCode != 404 {
			t.Errorf("%v %+v", err, res)
		}
	})
}

func TestRecordedBulk(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	c, reqs := replay(t, jsonAnswer(t, 200, "docs-examples/bulk2-query-create-response.json"), jsonAnswer(t, 200, "docs-examples/bulk2-query-job-info-jobcomplete.json"))
	j, err := c.StartBulkQuery(bg, "SELECT Id, Name FROM Account", false)
	if err != nil || j.ID != "750R0000000zlh9IAA" || j.State != "UploadComplete" || j.APIVersion != 46 || !j.CreatedDate.Equal(at("2018-12-10T17:50:19Z")) {
		t.Fatal(err, j)
	}
	var sent map[string]string
	json.Unmarshal(fixture(t, "docs-examples/bulk2-query-create-request.json"), &sent)
	if (*reqs)[0].Method != "POST" || (*reqs)[0].URL.Path != "/services/data/v58.0/jobs/query" {
		t.Errorf("create request: %s %s", (*reqs)[0].Method, (*reqs)[0].URL)
	}
	done, err := c.WaitBulkQuery(bg, j.ID, nil)
	if err != nil || done.State != "JobComplete" || done.NumberRecordsProcessed != 500 {
		t.Fatal(err, done)
	}
	var pages struct {
		Pages []struct {
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
		} `json:"pages"`
	}
	json.Unmarshal(fixture(t, "docs-examples/bulk2-query-results-pages.json"), &pages)
	var answers []canned
	for _, p := range pages.Pages {
		answers = append(answers, canned{status: 200, ctype: "text/csv", body: []byte(p.Body), headers: p.Headers})
	}
	c, reqs = replay(t, answers...)
	var counts []int
	var bodies []string
	err = c.BulkQueryResults(bg, "750R0000000zlh9IAA", 2, func(b []byte, n int) error {
		counts = append(counts, n)
		bodies = append(bodies, string(b))
		return nil
	})
	if len(counts) != 2 || counts[0] != 2 || counts[1] != 1 || !strings.Contains(bodies[1], "Pat Wilson") {
		t.Errorf("pages: %v %q", counts, bodies)
	}
	if err != nil || len(*reqs) != 2 || (*reqs)[1].URL.Query().Get("locator") != "MjAwMDAw" || (*reqs)[1].URL.Query().Get("maxRecords") != "2" {
		t.Fatalf("the second page should ask for the locator: %v %d", err, len(*reqs))
	}
	c, _ = replay(t, jsonAnswer(t, 200, "docs-examples/bulk2-tooling-query-job-info-jobcomplete.json"))
	if tj, err := c.BulkQueryStatus(bg, "750R0000000$H8AAU"); err != nil || tj.Object != "MetadataComponentDependency" || tj.State != "JobComplete" {
		t.Errorf("tooling job: %v %+v", err, tj)
	}
}

func TestRecordedTooling(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	c, reqs := replay(t, jsonAnswer(t, 200, "tooling/runTestsAsynchronous-classids.json"))
	id, err := c.RunTestsAsynchronous(bg, salesforce.TestRequest{ClassIDs: []string{"01p1700000PXJMTAA5", "01p1700000PXJMRAA5", "01p1700000PXUjaAAH"}})
	if err != nil || id != "7071700002rbUCv" {
		t.Fatal(err, id)
	}
	if (*reqs)[0].URL.Path != "/services/data/v58.0/tooling/runTestsAsynchronous" {
		t.Errorf("path %s", (*reqs)[0].URL.Path)
	}
	c, _ = replay(t,
		canned{200, "application/json", []byte(`{"size":0,"totalSize":0,"done":true,"records":[]}`), nil}, // ApexTestRunResult
		jsonAnswer(t, 200, "tooling/query-ApexTestQueueItem-processing.json"),
		canned{200, "application/json", []byte(`{"size":0,"totalSize":0,"done":true,"records":[]}`), nil},
		jsonAnswer(t, 200, "tooling/query-ApexTestQueueItem-completed.json"),
		canned{200, "application/json", []byte(`{"size":0,"totalSize":0,"done":true,"records":[]}`), nil},
		jsonAnswer(t, 200, "tooling/query-ApexTestQueueItem-completed.json"),
		jsonAnswer(t, 200, "tooling/query-ApexTestResult-with-limits.json"),
	)
	run, err := c.WaitTests(bg, "7071700002rbUCv", nil)
	if err != nil || !run.Finished() || len(run.QueueItems) != 3 || len(run.Results) != 3 || run.Failed() != 0 ||
		run.Results[2].MethodName != "fillInFirstNameTest" || run.Results[2].RunTime != 340 || run.Results[0].ApexClassID != "01p1700000PXUjaAAH" ||
		!run.Results[0].TestTimestamp.Equal(at("2022-01-05T13:45:52Z")) {
		t.Fatalf("run: %v %+v", err, run)
	}
	c, _ = replay(t, jsonAnswer(t, 200, "tooling/query-ApexTestQueueItem-failed-none.json"))
	var failed []salesforce.ApexTestQueueItem
	if err := c.ToolingQueryAll(bg, "SELECT Id FROM ApexTestQueueItem WHERE Status = 'Failed'", &failed); err != nil || len(failed) != 0 {
		t.Errorf("%v %+v", err, failed)
	}
	c, _ = replay(t, jsonAnswer(t, 200, "tooling/query-ApexCodeCoverageAggregate.json"))
	cov, err := c.CodeCoverage(bg, nil)
	if err != nil || len(cov) != 4 || cov[0].Name() != "SampleClass" || cov[0].NumLinesCovered != 6 || cov[1].Percent() != 50 {
		t.Errorf("coverage: %v %+v", err, cov)
	}
	c, _ = replay(t, jsonAnswer(t, 200, "tooling/query-ApexOrgWideCoverage.json"))
	if pct, err := c.OrgWideCoverage(bg); err != nil || pct != 91 {
		t.Errorf("org-wide: %v %d", err, pct)
	}
	c, _ = replay(t, jsonAnswer(t, 200, "tooling/query-ApexClass-test-classes.json"))
	var classes []struct{ ID, Name string }
	if err := c.ToolingQueryAll(bg, "SELECT Id, Name FROM ApexClass", &classes); err != nil || len(classes) != 3 || classes[1].Name != "SampleClass_TEST" {
		t.Errorf("classes: %v %+v", err, classes)
	}
	c, _ = replay(t, jsonAnswer(t, 200, "tooling/runTestsSynchronous-response.json"))
	rt, err := c.RunTestsSynchronous(bg, "Tests_T")
	if err != nil || rt.NumTestsRun != 1 || rt.TotalTime != 140 || rt.CodeCoverage[0].Type != "Trigger" || len(rt.CodeCoverage[0].LocationsNotCovered) != 3 ||
		len(rt.CodeCoverageWarnings) != 2 || rt.Successes[0].Time != 138 {
		t.Errorf("sync: %v %+v", err, rt)
	}
}
