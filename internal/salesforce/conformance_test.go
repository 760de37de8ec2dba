package salesforce_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/salesforce"
)

type env struct {
	org *orgsim.Org
	c   *salesforce.Client
}

// deployApex deploys a class and its test class and waits.
func deployApex(t *testing.T, e env, opts salesforce.DeployOptions, files map[string]string) *salesforce.DeployResult {
	t.Helper()
	id, err := e.c.Deploy(ctx(t), zipOf(t, files), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "0Af") || len(id) != 18 {
		t.Errorf("deploy id %q should be an 18-character 0Af id", id)
	}
	var seen []string
	res, err := e.c.WaitDeploy(ctx(t), id, func(r *salesforce.DeployResult) {
		if len(seen) == 0 || seen[len(seen)-1] != r.Status {
			seen = append(seen, r.Status)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// The states come in order; a loaded machine may poll too late to see
	// the first ones, so only the order and the end are checked.
	order := map[string]int{"Pending": 0, "InProgress": 1, "Canceling": 2, "Succeeded": 3, "SucceededPartial": 3, "Failed": 3, "Canceled": 3}
	for i := 1; i < len(seen); i++ {
		if order[seen[i]] < order[seen[i-1]] {
			t.Errorf("a deploy's states go Pending → InProgress → final, saw %v", seen)
		}
	}
	if len(seen) == 0 || order[seen[len(seen)-1]] != 3 {
		t.Errorf("a deploy should end in a final state, saw %v", seen)
	}
	return res
}

var okClass = map[string]string{
	"classes/Greeter.cls":          "public with sharing class Greeter {\n    public static String greet(String name) {\n        return 'Hello ' + name;\n    }\n}\n",
	"classes/Greeter.cls-meta.xml": classMeta,
	"classes/GreeterTest.cls": "@isTest\nprivate class GreeterTest {\n    @isTest static void greets() {\n        System.assertEquals('Hello Ada', Greeter.greet('Ada'));\n    }\n" +
		"    @isTest static void greetsEmpty() {\n        System.assertEquals('Hello ', Greeter.greet(''));\n    }\n}\n",
	"classes/GreeterTest.cls-meta.xml": classMeta,
}

func withPackage(files map[string]string, types map[string][]string) map[string]string {
	out := map[string]string{"package.xml": pkg("64.0", types)}
	for k, v := range files {
		out[k] = v
	}
	return out
}

var okPackage = withPackage(okClass, map[string][]string{"ApexClass": {"Greeter", "GreeterTest"}})

// TestConformance runs every client operation against the simulator over
// real HTTP.
func TestConformance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		org  string
		run  func(t *testing.T, e env)
	}{
		{"Versions", "dev", func(t *testing.T, e env) {
			vs, err := e.c.Versions(ctx(t))
			if err != nil || len(vs) == 0 || vs[0].Version != "31.0" || vs[len(vs)-1].URL == "" {
				t.Fatalf("versions: %v %+v", err, vs)
			}
		}},
		{"DeployAndRetrieve", "dev", func(t *testing.T, e env) {
			res := deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, okPackage)
			if res.Status != salesforce.StatusSucceeded || !res.Success || res.NumberComponentsDeployed != 2 || res.NumberComponentsTotal != 2 {
				t.Fatalf("deploy: %+v", res)
			}
			if len(res.Details.ComponentSuccesses) != 3 { // 2 classes + package.xml
				t.Errorf("successes: %+v", res.Details.ComponentSuccesses)
			}
			r, err := e.c.Retrieve(ctx(t), salesforce.RetrieveRequest{Unpackaged: map[string][]string{"ApexClass": {"*"}, "CustomObject": {"Account", "Nope__c"}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			files, err := metadata.ReadZip(r.ZipFile, metadata.DefaultZipLimits)
			if err != nil {
				t.Fatal(err)
			}
			if string(files["unpackaged/classes/Greeter.cls"]) != okClass["classes/Greeter.cls"] || files["unpackaged/objects/Account.object"] == nil || files["unpackaged/package.xml"] == nil {
				t.Errorf("retrieved files: %v", keys(files))
			}
			if len(r.Messages) != 1 || !strings.Contains(r.Messages[0].Problem, "Nope__c") {
				t.Errorf("a missing member should be a message: %+v", r.Messages)
			}
			found := false
			for _, fp := range r.FileProperties {
				if fp.FullName == "Greeter" && fp.Type == "ApexClass" && strings.HasPrefix(fp.ID, "01p") && fp.FileName == "unpackaged/classes/Greeter.cls" {
					found = true
				}
			}
			if !found {
				t.Errorf("fileProperties: %+v", r.FileProperties)
			}
		}},
		{"CompileErrorHasLineAndColumn", "dev", func(t *testing.T, e env) {
			files := withPackage(map[string]string{
				"classes/Broken.cls": "public class Broken {\n    public void run() {\n        Integer x = (1 + 2;\n    }\n}\n", "classes/Broken.cls-meta.xml": classMeta,
			}, map[string][]string{"ApexClass": {"Broken"}})
			res := deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, files)
			if res.Status != salesforce.StatusFailed || len(res.Details.ComponentFailures) != 1 {
				t.Fatalf("deploy: %+v", res)
			}
			f := res.Details.ComponentFailures[0]
			if f.FileName != "classes/Broken.cls" || f.ComponentType != "ApexClass" || f.LineNumber != 3 || f.ColumnNumber == 0 || f.Problem == "" || f.ProblemType != "Error" {
				t.Errorf("failure: %+v", f)
			}
		}},
		{"MissingReferenceFails", "dev", func(t *testing.T, e env) {
			files := withPackage(map[string]string{
				"layouts/Invoice__c-Invoice Layout.layout": `<?xml version="1.0" encoding="UTF-8"?><Layout xmlns="http://soap.sforce.com/2006/04/metadata"><layoutSections><layoutColumns><layoutItems><field>Total__c</field></layoutItems></layoutColumns></layoutSections></Layout>`,
			}, map[string][]string{"Layout": {"Invoice__c-Invoice Layout"}})
			res := deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, files)
			if res.Status != salesforce.StatusFailed || len(res.Details.ComponentFailures) == 0 || !strings.Contains(res.Details.ComponentFailures[0].Problem, "Invoice__c") {
				t.Fatalf("a layout of a missing object should fail: %+v", res.Details.ComponentFailures)
			}
		}},
		{"DeleteMissingIsAWarning", "dev", func(t *testing.T, e env) {
			files := map[string]string{"package.xml": pkg("64.0", nil), "destructiveChanges.xml": pkg("64.0", map[string][]string{"ApexClass": {"Ghost"}})}
			res := deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, files)
			if res.Status != salesforce.StatusFailed || res.Details.ComponentFailures[0].ProblemType != "Warning" || res.Details.ComponentFailures[0].Problem != "No ApexClass named: Ghost found" {
				t.Fatalf("a missing deletion should fail as a warning: %+v", res)
			}
			res = deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true, IgnoreWarnings: true}, files)
			if res.Status != salesforce.StatusSucceeded {
				t.Fatalf("with ignoreWarnings it should succeed: %+v", res)
			}
		}},
		{"DestructiveChangesDelete", "dev", func(t *testing.T, e env) {
			deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, okPackage)
			files := map[string]string{"package.xml": pkg("64.0", nil), "destructiveChangesPost.xml": pkg("64.0", map[string][]string{"ApexClass": {"Greeter", "GreeterTest"}})}
			res := deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, files)
			if res.Status != salesforce.StatusSucceeded {
				t.Fatalf("delete: %+v", res)
			}
			deleted := 0
			for _, s := range res.Details.ComponentSuccesses {
				if s.Deleted {
					deleted++
				}
			}
			props, err := e.c.ListMetadata(ctx(t), []salesforce.ListMetadataQuery{{Type: "ApexClass"}})
			if err != nil || deleted != 2 || len(props) != 0 {
				t.Fatalf("after deleting: %v, %d deleted, %+v left", err, deleted, props)
			}
		}},
		{"ValidateThenQuickDeploy", "prod", func(t *testing.T, e env) {
			res := deployApex(t, e, salesforce.DeployOptions{CheckOnly: true, RollbackOnError: true, SinglePackage: true, TestLevel: salesforce.RunLocalTests}, okPackage)
			if res.Status != salesforce.StatusSucceeded || !res.CheckOnly || res.Details.RunTestResult == nil || res.Details.RunTestResult.NumTestsRun != 2 || res.NumberTestsTotal != 2 {
				t.Fatalf("validation: %+v %+v", res, res.Details.RunTestResult)
			}
			if props, _ := e.c.ListMetadata(ctx(t), []salesforce.ListMetadataQuery{{Type: "ApexClass"}}); len(props) != 0 {
				t.Fatalf("a check-only deploy must change nothing: %+v", props)
			}
			id, err := e.c.DeployRecentValidation(ctx(t), res.ID)
			if err != nil {
				t.Fatal(err)
			}
			quick, err := e.c.WaitDeploy(ctx(t), id, nil)
			if err != nil || quick.Status != salesforce.StatusSucceeded {
				t.Fatalf("quick deploy: %v %+v", err, quick)
			}
			if props, _ := e.c.ListMetadata(ctx(t), []salesforce.ListMetadataQuery{{Type: "ApexClass"}}); len(props) != 2 {
				t.Fatalf("quick deploy should deploy the classes: %+v", props)
			}
			if _, err := e.c.DeployRecentValidation(ctx(t), res.ID); salesforce.Code(err) != "INVALID_ID_FIELD" {
				t.Errorf("a validation quick-deploys once: %v", err)
			}
		}},
		{"ProductionNeedsCoverage", "prod", func(t *testing.T, e env) {
			files := withPackage(map[string]string{
				"classes/Untested.cls": "public class Untested {\n    public Integer one() {\n        return 1;\n    }\n}\n", "classes/Untested.cls-meta.xml": classMeta,
			}, map[string][]string{"ApexClass": {"Untested"}})
			res := deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, files)
			rt := res.Details.RunTestResult
			if res.Status != salesforce.StatusFailed || rt == nil || len(rt.CodeCoverageWarnings) == 0 || !strings.Contains(rt.CodeCoverageWarnings[0].Message, "at least 75% test coverage is required") {
				t.Fatalf("an untested class must not reach production: %+v %+v", res, rt)
			}
			if _, err := e.c.Deploy(ctx(t), zipOf(t, files), salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true, TestLevel: salesforce.NoTestRun}); err != nil {
				t.Fatal(err)
			}
		}},
		{"FailingTestFailsTheDeploy", "uat", func(t *testing.T, e env) {
			files := withPackage(map[string]string{
				"classes/BadTest.cls": "@isTest\nclass BadTest {\n    @isTest static void breaks() {\n        Integer a = 1;\n        System.assert(false, 'boom');\n    }\n}\n", "classes/BadTest.cls-meta.xml": classMeta,
			}, map[string][]string{"ApexClass": {"BadTest"}})
			res := deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true, TestLevel: salesforce.RunSpecifiedTests, RunTests: []string{"BadTest"}}, files)
			rt := res.Details.RunTestResult
			if res.Status != salesforce.StatusFailed || res.NumberTestErrors != 1 || rt == nil || len(rt.Failures) != 1 || rt.Failures[0].StackTrace != "Class.BadTest.breaks: line 5, column 1" {
				t.Fatalf("failing test: %+v %+v", res, rt)
			}
		}},
		{"CancelDeploy", "dev", func(t *testing.T, e env) {
			id, err := e.c.Deploy(ctx(t), zipOf(t, okPackage), salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.c.CancelDeploy(ctx(t), id); err != nil {
				t.Fatal(err)
			}
			res, err := e.c.WaitDeploy(ctx(t), id, nil)
			if err != nil || res.Status != salesforce.StatusCanceled {
				t.Fatalf("cancel: %v %+v", err, res)
			}
			if props, _ := e.c.ListMetadata(ctx(t), []salesforce.ListMetadataQuery{{Type: "ApexClass"}}); len(props) != 0 {
				t.Fatalf("a canceled deploy changes nothing: %+v", props)
			}
		}},
		{"DeployREST", "dev", func(t *testing.T, e env) {
			dr, err := e.c.DeployREST(ctx(t), zipOf(t, okPackage), salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true, CheckOnly: true, TestLevel: salesforce.RunLocalTests})
			if err != nil || dr.DeployResult.Status != salesforce.StatusPending {
				t.Fatalf("deployRequest: %v %+v", err, dr)
			}
			var st *salesforce.DeployRequest
			for i := 0; i < 200; i++ {
				st, err = e.c.DeployRequestStatus(ctx(t), dr.ID, true)
				if err != nil || st.DeployResult.Done {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err != nil || st.DeployResult.Status != salesforce.StatusSucceeded || len(st.DeployResult.Details.ComponentSuccesses) != 3 {
				t.Fatalf("status: %v %+v", err, st)
			}
			q, err := e.c.QuickDeployREST(ctx(t), dr.ID)
			if err != nil || q.ValidatedDeployRequestID != dr.ID {
				t.Fatalf("quick deploy: %v %+v", err, q)
			}
			if _, err := e.c.QuickDeployREST(ctx(t), "0Af000000000000AAA"); salesforce.Code(err) != "NOT_FOUND" {
				t.Errorf("quick deploy of nothing: %v", err)
			}
			dr2, err := e.c.DeployREST(ctx(t), zipOf(t, okPackage), salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true})
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.c.CancelDeployREST(ctx(t), dr2.ID)
			if err != nil || (c.DeployResult.Status != "Canceling" && c.DeployResult.Status != "Canceled") {
				t.Fatalf("cancel: %v %+v", err, c)
			}
		}},
		{"ListAndDescribeMetadata", "prod", func(t *testing.T, e env) {
			d, err := e.c.DescribeMetadata(ctx(t))
			if err != nil || !d.TestRequired || len(d.MetadataObjects) < 150 {
				t.Fatalf("describe: %v, %d types", err, len(d.MetadataObjects))
			}
			props, err := e.c.ListMetadata(ctx(t), []salesforce.ListMetadataQuery{{Type: "CustomObject"}, {Type: "Layout"}, {Type: "Profile"}, {Type: "ApexClass"}})
			if err != nil || len(props) != 9 {
				t.Fatalf("list (4 queries, split in two calls): %v %+v", err, props)
			}
		}},
		{"RetrieveSplitsOverTheFileLimit", "dev", func(t *testing.T, e env) {
			deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, okPackage)
			small, err := salesforce.New(salesforce.Config{Name: "dev", Credentials: salesforce.StaticCredentials{Tok: tokenOf(t, e)}, RetrieveFileLimit: 4,
				Poll: salesforce.PollPolicy{First: 10e6, Max: 30e6}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := small.Retrieve(ctx(t), salesforce.RetrieveRequest{Unpackaged: map[string][]string{"ApexClass": {"*"}, "CustomObject": {"Account", "Case"}}}, nil)
			if err != nil || r.Status != salesforce.StatusSucceeded {
				t.Fatal(err, r)
			}
			files, _ := metadata.ReadZip(r.ZipFile, metadata.DefaultZipLimits)
			m, err := metadata.ParseManifest(files["unpackaged/package.xml"])
			if err != nil || len(files) != 7 || m.Count() != 4 || !strings.Contains(r.ID, ",") {
				t.Fatalf("a split retrieve should merge into one zip: %v %v %v ids=%s", err, keys(files), m, r.ID)
			}
		}},
		{"ApexTests", "dev", func(t *testing.T, e env) {
			files := withPackage(okClass, map[string][]string{"ApexClass": {"Greeter", "GreeterTest", "BadTest"}})
			files["classes/BadTest.cls"] = "@isTest\nclass BadTest {\n    @isTest static void fine() {}\n    @isTest static void breaks() {\n        Assert.fail('nope');\n    }\n}\n"
			files["classes/BadTest.cls-meta.xml"] = classMeta
			deployApex(t, e, salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true}, files)
			job, err := e.c.RunTestsAsynchronous(ctx(t), salesforce.TestRequest{ClassNames: []string{"GreeterTest", "BadTest"}})
			if err != nil || !strings.HasPrefix(job, "707") || len(job) != 15 {
				t.Fatalf("run: %v %q", err, job)
			}
			var statuses []string
			run, err := e.c.WaitTests(ctx(t), job, func(r *salesforce.TestRun) { statuses = append(statuses, r.Run.Status) })
			if err != nil {
				t.Fatal(err)
			}
			if run.Run.Status != "Completed" || len(run.Results) != 4 || run.Failed() != 1 || run.Run.MethodsFailed != 1 {
				t.Fatalf("run: %+v", run)
			}
			for _, r := range run.Results {
				if r.MethodName == "breaks" && (r.Outcome != "Fail" || r.Message != "System.AssertException: Assertion Failed: nope" || r.ClassName() != "BadTest") {
					t.Errorf("failed result: %+v", r)
				}
			}
			cov, err := e.c.CodeCoverage(ctx(t), nil)
			if err != nil || len(cov) != 1 || cov[0].Name() != "Greeter" || cov[0].Percent() != 100 {
				t.Fatalf("coverage: %v %+v", err, cov)
			}
			pct, err := e.c.OrgWideCoverage(ctx(t))
			if err != nil || pct != 100 {
				t.Fatalf("org-wide: %v %d", err, pct)
			}
			job2, _ := e.c.RunTestsAsynchronous(ctx(t), salesforce.TestRequest{TestLevel: salesforce.RunLocalTests})
			if err := e.c.AbortTests(ctx(t), job2); err != nil {
				t.Fatal(err)
			}
			aborted, err := e.c.WaitTests(ctx(t), job2, nil)
			if err != nil || aborted.Run.Status != "Aborted" {
				t.Fatalf("abort: %v %+v", err, aborted.Run)
			}
		}},
		{"DescribeAndQuery", "dev", func(t *testing.T, e env) {
			g, err := e.c.DescribeGlobal(ctx(t))
			if err != nil || len(g.SObjects) < 5 || g.MaxBatchSize != 200 {
				t.Fatalf("describeGlobal: %v %+v", err, g)
			}
			d, err := e.c.Describe(ctx(t), "Contact")
			if err != nil || d.Name != "Contact" {
				t.Fatal(err)
			}
			var acc *salesforce.Field
			for i := range d.Fields {
				if d.Fields[i].Name == "AccountId" {
					acc = &d.Fields[i]
				}
			}
			if acc == nil || acc.Type != "reference" || acc.RelationshipName != "Account" || acc.ReferenceTo[0] != "Account" {
				t.Errorf("Contact.AccountId: %+v", acc)
			}
			recs, err := e.c.Query(ctx(t), "SELECT Id, Name, Account.Name FROM Contact WHERE Account.Name LIKE 'Acme%' ORDER BY LastName LIMIT 5")
			if err != nil || len(recs) == 0 || recs[0].String("Account.Name") != "Acme Corporation" || recs[0].Type() != "Contact" {
				t.Fatalf("query: %v %+v", err, recs)
			}
			if _, err := e.c.Query(ctx(t), "SELECT Id FROM Account WHERE Nope__c = 1"); salesforce.Code(err) != "INVALID_FIELD" {
				t.Errorf("unknown field: %v", err)
			}
			if _, err := e.c.Query(ctx(t), "SELEKT Id FROM Account"); salesforce.Code(err) != "MALFORMED_QUERY" {
				t.Errorf("bad SOQL: %v", err)
			}
			if _, err := e.c.Query(ctx(t), "SELECT Id FROM Nothing__c"); salesforce.Code(err) != "INVALID_TYPE" {
				t.Errorf("unknown object: %v", err)
			}
		}},
		{"CollectionsAndPaging", "dev", func(t *testing.T, e env) {
			var recs []salesforce.Record
			for i := 0; i < 2150; i++ {
				recs = append(recs, salesforce.Record{"attributes": map[string]any{"type": "Account"}, "Name": fmt.Sprintf("Bulk %04d", i), "NumberOfEmployees": i})
			}
			res, err := e.c.CreateRecords(ctx(t), recs, true)
			if err != nil || len(res) != 2150 || !res[2149].Success || !strings.HasPrefix(res[0].ID, "001") {
				t.Fatalf("create 2150 (11 calls of ≤200): %v %d", err, len(res))
			}
			pages, total := 0, 0
			err = e.c.QueryEach(ctx(t), "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk%'", false, func(rs []salesforce.Record, n int) error {
				pages++
				total += len(rs)
				return nil
			})
			if err != nil || pages != 2 || total != 2150 {
				t.Fatalf("paging: %v %d pages %d rows", err, pages, total)
			}
			upd, err := e.c.UpdateRecords(ctx(t), []salesforce.Record{{"attributes": map[string]any{"type": "Account"}, "Id": res[0].ID, "Name": "Renamed"}}, false)
			if err != nil || !upd[0].Success {
				t.Fatal(err, upd)
			}
			ups, err := e.c.UpsertRecords(ctx(t), "Account", "Id", []salesforce.Record{{"attributes": map[string]any{"type": "Account"}, "Id": res[1].ID, "Name": "Upserted"}}, false)
			if err != nil || !ups[0].Success || ups[0].Created {
				t.Fatal(err, ups)
			}
			bad, err := e.c.CreateRecords(ctx(t), []salesforce.Record{
				{"attributes": map[string]any{"type": "Account"}, "Name": "Good"},
				{"attributes": map[string]any{"type": "Account"}, "Phone": "no name"},
			}, true)
			if err != nil || bad[0].Success || bad[0].Errors[0].Code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || bad[1].Errors[0].Code() != "REQUIRED_FIELD_MISSING" {
				t.Fatalf("allOrNone: %v %+v", err, bad)
			}
			del, err := e.c.DeleteRecords(ctx(t), []string{res[0].ID, res[1].ID}, false)
			if err != nil || !del[0].Success {
				t.Fatal(err, del)
			}
			all, err := e.c.QueryAll(ctx(t), "SELECT Id, IsDeleted FROM Account WHERE Id IN ('"+res[0].ID+"', '"+res[1].ID+"')")
			live, _ := e.c.Query(ctx(t), "SELECT Id FROM Account WHERE Id = '"+res[0].ID+"'")
			if err != nil || len(all) != 2 || len(live) != 0 {
				t.Fatalf("queryAll keeps deleted rows: %v %d %d", err, len(all), len(live))
			}
		}},
		{"BulkQuery", "dev", func(t *testing.T, e env) {
			job, err := e.c.StartBulkQuery(ctx(t), "SELECT Id, Name, Industry FROM Account ORDER BY Name", false)
			if err != nil || !strings.HasPrefix(job.ID, "750") || job.State != "UploadComplete" {
				t.Fatal(err, job)
			}
			done, err := e.c.WaitBulkQuery(ctx(t), job.ID, nil)
			if err != nil || done.State != "JobComplete" || done.NumberRecordsProcessed != 20 {
				t.Fatal(err, done)
			}
			var rows [][]string
			pages := 0
			err = e.c.BulkQueryResults(ctx(t), job.ID, 7, func(b []byte, n int) error {
				pages++
				recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
				if err != nil || len(recs) != n+1 || strings.Join(recs[0], ",") != "Id,Name,Industry" {
					return fmt.Errorf("page %d: %v %v", pages, err, recs)
				}
				rows = append(rows, recs[1:]...)
				return nil
			})
			if err != nil || pages != 3 || len(rows) != 20 || rows[0][1] != "Acme Corporation" {
				t.Fatalf("results: %v %d pages %d rows", err, pages, len(rows))
			}
			if _, err := e.c.StartBulkQuery(ctx(t), "SELECT COUNT() FROM Account", false); salesforce.Code(err) != "MALFORMED_QUERY" {
				t.Errorf("COUNT() in bulk: %v", err)
			}
		}},
		{"Limits", "dev", func(t *testing.T, e env) {
			l, err := e.c.Limits(ctx(t))
			if err != nil || l["DailyApiRequests"].Max != 100000 || l["DailyApiRequests"].Remaining >= 100000 {
				t.Fatal(err, l)
			}
			if u := e.c.Usage(); u.Max != 100000 || u.Used == 0 {
				t.Errorf("usage from Sforce-Limit-Info: %+v", u)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t, tc.org)
			o := sim.Orgs()[0]
			tc.run(t, env{org: o, c: connect(t, o)})
		})
	}
}

func tokenOf(t *testing.T, e env) *salesforce.Token {
	tok, err := oauthFor(e.org).Password(ctx(t), e.org.Username(), e.org.Password())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var _ = errors.Is
