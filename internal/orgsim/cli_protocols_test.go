package orgsim_test

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The endpoints the Salesforce CLI uses beyond the Metadata API, each
// answered as Salesforce answers it (shapes and texts written down from
// the CLI's own parsing: plugin-data, apex-node, sf core).

func TestCLIEndpoints(t *testing.T) {
	r := newRig(t, "dev")
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		want                            []string // substrings of the answer
	}{
		{"DoubledSlashes", "GET", "//services/data/v67.0/sobjects/Account/describe", "", "", 200, []string{`"name":"Account"`}},
		{"VersionCeiling", "GET", "/services/data/v68.0/sobjects", "", "", 404, []string{"NOT_FOUND"}},
		{"Organization", "GET", "/services/data/v67.0/query?q=" + q("SELECT Id, IsSandbox, OrganizationType, InstanceName, NamespacePrefix, TrialExpirationDate FROM Organization"), "", "", 200,
			[]string{`"IsSandbox":false`, `"OrganizationType":"Developer Edition"`, `"NamespacePrefix":null`, `"TrialExpirationDate":null`}},
		{"OrganizationIsReadOnly", "POST", "/services/data/v67.0/sobjects/Organization", "application/json", `{"Name":"x"}`, 404, []string{"NOT_FOUND"}},
		{"Columns", "GET", "/services/data/v67.0/query?columns=true&q=" + q("SELECT Id, Name, Owner.Name FROM Account"), "", "", 200,
			[]string{`"columnMetadata":[`, `"columnName":"Id"`, `"apexType":"Id"`, `"columnName":"Owner","custom":false`, `"joinColumns":[{`, `"entityName":"Account"`}},
		{"ColumnsOfABadField", "GET", "/services/data/v67.0/query?columns=true&q=" + q("SELECT Nope__c FROM Account"), "", "", 400, []string{"INVALID_FIELD"}},
		{"SourceMemberIsNotTracked", "GET", "/services/data/v67.0/tooling/sobjects/SourceMember/describe", "", "", 404, []string{"NOT_FOUND"}},
		{"ToolingDescribe", "GET", "/services/data/v67.0/tooling/sobjects/ApexClass/describe", "", "", 200, []string{`"name":"ApexClass"`, `"fields":[`}},
		{"ApexLogEmpty", "GET", "/services/data/v67.0/tooling/query?q=" + q("SELECT Id, Operation FROM ApexLog"), "", "", 200, []string{`"records":[]`}},
		{"SingleAccess", "GET", "/services/oauth2/singleaccess", "", "", 200, []string{`"frontdoor_uri":"http://`, "/secur/frontdoor.jsp?otp="}},
		{"TreeCreatesParentAndChildren", "POST", "/services/data/v67.0/composite/tree/Account", "application/json",
			`{"records":[{"attributes":{"type":"Account","referenceId":"A1"},"Name":"Tree Co","Contacts":{"records":[{"attributes":{"type":"Contact","referenceId":"C1"},"LastName":"Leaf"}]}}]}`,
			201, []string{`"hasErrors":false`, `"referenceId":"A1","id":"001`, `"referenceId":"C1","id":"003`}},
		{"TreeIsAllOrNothing", "POST", "/services/data/v67.0/composite/tree/Account", "application/json",
			`{"records":[{"attributes":{"type":"Account","referenceId":"A2"},"Name":"Half Co","Contacts":{"records":[{"attributes":{"type":"Contact","referenceId":"C2"},"Email":"x@example.com"}]}}]}`,
			400, []string{`"hasErrors":true`, `"referenceId":"C2"`, "REQUIRED_FIELD_MISSING"}},
		{"TreeNeedsReferenceIDs", "POST", "/services/data/v67.0/composite/tree/Account", "application/json",
			`{"records":[{"attributes":{"type":"Account"},"Name":"No Ref"}]}`, 400, []string{"Include a reference ID"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := r.do(tc.method, tc.path, tc.ctype, []byte(tc.body))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("answer lacks %s:\n%s", w, body)
				}
			}
		})
	}
	// Nothing of the failed tree was kept.
	if b := r.get("/services/data/v67.0/query?q=" + q("SELECT Id FROM Account WHERE Name = 'Half Co'")); !strings.Contains(string(b), `"totalSize":0`) {
		t.Errorf("a failed tree left its parent behind: %s", b)
	}
}

func q(s string) string { return url.QueryEscape(s) }

// TestBulkIngest runs a Bulk API 2.0 insert with one bad row, then an
// upsert on Id, and reads the results as CSV.
func TestBulkIngest(t *testing.T) {
	r := newRig(t, "dev")
	job := func(spec string, csv string) (string, string) {
		t.Helper()
		_, _, b := r.do("POST", "/services/data/v67.0/jobs/ingest", "application/json", []byte(spec))
		var info struct{ ID, State string }
		if err := json.Unmarshal(b, &info); err != nil || info.ID == "" || info.State != "Open" {
			t.Fatalf("create: %s", b)
		}
		if st, _, b := r.do("PUT", "/services/data/v67.0/jobs/ingest/"+info.ID+"/batches", "text/csv", []byte(csv)); st != 201 {
			t.Fatalf("upload: %d %s", st, b)
		}
		if st, _, b := r.do("PATCH", "/services/data/v67.0/jobs/ingest/"+info.ID, "application/json", []byte(`{"state":"UploadComplete"}`)); st != 200 {
			t.Fatalf("close: %d %s", st, b)
		}
		for range 200 {
			_, _, b := r.do("GET", "/services/data/v67.0/jobs/ingest/"+info.ID, "", nil)
			if strings.Contains(string(b), `"state":"JobComplete"`) {
				return info.ID, string(b)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatal("the job never completed")
		return "", ""
	}
	id, info := job(`{"object":"Account","operation":"insert","contentType":"CSV","lineEnding":"LF"}`, "Name,NumberOfEmployees\nBulk One,12\nBulk Two,many\n,3\n")
	if !strings.Contains(info, `"numberRecordsProcessed":3`) || !strings.Contains(info, `"numberRecordsFailed":2`) || !strings.Contains(info, `"jobType":"V2Ingest"`) {
		t.Errorf("job info: %s", info)
	}
	ok := string(r.get("/services/data/v67.0/jobs/ingest/" + id + "/successfulResults"))
	if !strings.HasPrefix(ok, "sf__Id,sf__Created,Name,NumberOfEmployees\n001") || !strings.Contains(ok, ",true,Bulk One,12") {
		t.Errorf("successful results:\n%s", ok)
	}
	failed := string(r.get("/services/data/v67.0/jobs/ingest/" + id + "/failedResults"))
	for _, w := range []string{"sf__Id,sf__Error,Name,NumberOfEmployees", "INVALID_FIELD:Failed to deserialize field", "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"} {
		if !strings.Contains(failed, w) {
			t.Errorf("failed results lack %q:\n%s", w, failed)
		}
	}
	newID := strings.Split(strings.Split(ok, "\n")[1], ",")[0]
	_, info = job(`{"object":"Account","operation":"upsert","externalIdFieldName":"Id"}`, "Id,Name\n"+newID+",Bulk One Renamed\n,Bulk Three\n")
	if !strings.Contains(info, `"numberRecordsFailed":0`) {
		t.Errorf("upsert: %s", info)
	}
	if b := r.get("/services/data/v67.0/query?q=" + q("SELECT Name FROM Account WHERE Name LIKE 'Bulk%' ORDER BY Name")); !strings.Contains(string(b), "Bulk One Renamed") || !strings.Contains(string(b), "Bulk Three") {
		t.Errorf("after the upsert: %s", b)
	}
	if st, _, b := r.do("POST", "/services/data/v67.0/jobs/ingest", "application/json", []byte(`{"object":"Account","operation":"upsert"}`)); st != 400 || !strings.Contains(string(b), "External ID was blank") {
		t.Errorf("upsert without an external id: %d %s", st, b)
	}
}

// TestExecuteAnonymous runs anonymous Apex over the Apex SOAP API as `sf
// apex run` sends it: debug lines in the log, a failed assertion with its
// message, a compile problem with its place, and an ApexLog left behind.
func TestExecuteAnonymous(t *testing.T) {
	r := newRig(t, "dev")
	run := func(code string) (res struct {
		Compiled, Success                                     bool
		Line, Column                                          int
		CompileProblem, ExceptionMessage, ExceptionStackTrace string
	}, log string) {
		t.Helper()
		env := `<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cmd="http://soap.sforce.com/2006/08/apex" xmlns:apex="http://soap.sforce.com/2006/08/apex"><env:Header><cmd:SessionHeader><cmd:sessionId>` +
			r.token + `</cmd:sessionId></cmd:SessionHeader><apex:DebuggingHeader><apex:debugLevel>DEBUGONLY</apex:debugLevel></apex:DebuggingHeader></env:Header><env:Body><executeAnonymous xmlns="http://soap.sforce.com/2006/08/apex"><apexcode>` +
			xmlEsc(code) + `</apexcode></executeAnonymous></env:Body></env:Envelope>`
		status, _, b := r.do("POST", "//services/Soap/s/67.0/00D", "text/xml", []byte(env))
		if status != 200 {
			t.Fatalf("%d %s", status, b)
		}
		var out struct {
			Log    string `xml:"Header>DebuggingInfo>debugLog"`
			Result struct {
				Compiled            bool   `xml:"compiled"`
				Success             bool   `xml:"success"`
				Line                int    `xml:"line"`
				Column              int    `xml:"column"`
				CompileProblem      string `xml:"compileProblem"`
				ExceptionMessage    string `xml:"exceptionMessage"`
				ExceptionStackTrace string `xml:"exceptionStackTrace"`
			} `xml:"Body>executeAnonymousResponse>result"`
		}
		if err := xml.Unmarshal(b, &out); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		res.Compiled, res.Success, res.Line, res.Column = out.Result.Compiled, out.Result.Success, out.Result.Line, out.Result.Column
		res.CompileProblem, res.ExceptionMessage, res.ExceptionStackTrace = out.Result.CompileProblem, out.Result.ExceptionMessage, out.Result.ExceptionStackTrace
		return res, out.Log
	}
	res, log := run("System.debug('hello');\nInteger x = 1 + 1;\n")
	if !res.Compiled || !res.Success || !strings.Contains(log, "|USER_DEBUG|[1]|DEBUG|hello") || !strings.HasPrefix(log, "67.0 APEX_CODE,DEBUG;") {
		t.Errorf("a clean run: %+v\n%s", res, log)
	}
	res, log = run("System.debug('before');\nSystem.assert(false, 'the sky fell');\nSystem.debug('after');\n")
	if !res.Compiled || res.Success || res.ExceptionMessage != "System.AssertException: Assertion Failed: the sky fell" || res.ExceptionStackTrace != "AnonymousBlock: line 2, column 1" ||
		strings.Contains(log, "DEBUG|after") || !strings.Contains(log, "DEBUG|before") {
		t.Errorf("a failed assertion: %+v\n%s", res, log)
	}
	res, _ = run("System.assertEquals(1, 2, 'sums');")
	if res.Success || res.ExceptionMessage != "System.AssertException: Assertion Failed: sums: Expected: 1, Actual: 2" {
		t.Errorf("assertEquals: %+v", res)
	}
	res, _ = run("Integer x = (1 + 2;\n")
	if res.Compiled || res.Success || res.CompileProblem != "Missing ')' at ';'" || res.Line != 1 || res.Column != 19 {
		t.Errorf("a compile problem: %+v", res)
	}
	logs := string(r.get("/services/data/v67.0/tooling/query?q=" + q("SELECT Id, Operation, Status, LogLength FROM ApexLog")))
	if !strings.Contains(logs, `"totalSize":4`) || !strings.Contains(logs, `"Status":"System.AssertException: Assertion Failed: the sky fell"`) {
		t.Fatalf("ApexLog: %s", logs)
	}
	var page struct {
		Records []struct {
			ID string `json:"Id"`
		}
	}
	json.Unmarshal([]byte(logs), &page)
	if body := string(r.get("/services/data/v67.0/tooling/sobjects/ApexLog/" + page.Records[0].ID + "/Body")); !strings.Contains(body, "USER_DEBUG|[1]|DEBUG|hello") {
		t.Errorf("log body: %s", body)
	}
}

func xmlEsc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// TestStreamingAnnouncesFinishedTestRuns goes through the Bayeux handshake,
// subscribes to the test result topic and hears a test run finish.
func TestStreamingAnnouncesFinishedTestRuns(t *testing.T) {
	r := newRig(t, "dev")
	r.deploy(apexFiles, false, "NoTestRun")
	r.waitDeploy(r.deploy(apexFiles, false, "NoTestRun"), "Succeeded")
	bayeux := func(msgs string) []map[string]any {
		t.Helper()
		status, _, b := r.do("POST", "/cometd/67.0", "application/json", []byte(msgs))
		var out []map[string]any
		if status != 200 || json.Unmarshal(b, &out) != nil {
			t.Fatalf("%d %s", status, b)
		}
		return out
	}
	hs := bayeux(`[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"1"}]`)
	client, _ := hs[0]["clientId"].(string)
	if hs[0]["successful"] != true || client == "" {
		t.Fatalf("handshake: %v", hs)
	}
	if sub := bayeux(`[{"channel":"/meta/subscribe","subscription":"/systemTopic/TestResult","clientId":"` + client + `","id":"2"}]`); sub[0]["successful"] != true {
		t.Fatalf("subscribe: %v", sub)
	}
	if sub := bayeux(`[{"channel":"/meta/subscribe","subscription":"/topic/Nope","clientId":"` + client + `","id":"3"}]`); sub[0]["successful"] != false {
		t.Fatalf("subscribe to a missing topic: %v", sub)
	}
	_, _, b := r.do("POST", "/services/data/v67.0/tooling/runTestsAsynchronous", "application/json", []byte(`{"classNames":"GreeterTest"}`))
	runID := strings.Trim(string(b), "\"\n")
	got := bayeux(`[{"channel":"/meta/connect","clientId":"` + client + `","connectionType":"long-polling","id":"4"}]`)
	var heard bool
	for _, m := range got {
		if m["channel"] == "/systemTopic/TestResult" {
			data, _ := m["data"].(map[string]any)
			so, _ := data["sobject"].(map[string]any)
			id, _ := so["Id"].(string)
			heard = len(id) >= 15 && len(runID) >= 15 && id[:15] == runID[:15]
		}
	}
	if !heard || got[len(got)-1]["channel"] != "/meta/connect" || got[len(got)-1]["successful"] != true {
		t.Errorf("connect after run %s: %v", runID, got)
	}
	if u := bayeux(`[{"channel":"/meta/connect","clientId":"nobody","connectionType":"long-polling","id":"5"}]`); u[0]["error"] != "403::Unknown client" {
		t.Errorf("unknown client: %v", u)
	}
}

// TestProductionRefusesNoTestRunWithNothingDeployed: the refusal comes
// before any component is processed, so none is reported deployed.
func TestProductionRefusesNoTestRunWithNothingDeployed(t *testing.T) {
	r := newRig(t, "prod")
	b := r.waitDeploy(r.deploy(apexFiles, false, "NoTestRun"), "Failed")
	var res struct {
		ErrorMessage string `xml:"Body>checkDeployStatusResponse>result>errorMessage"`
		Deployed     int    `xml:"Body>checkDeployStatusResponse>result>numberComponentsDeployed"`
		Successes    []struct {
			FullName string `xml:"fullName"`
		} `xml:"Body>checkDeployStatusResponse>result>details>componentSuccesses"`
	}
	if err := xml.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.ErrorMessage != "testLevel of NoTestRun cannot be used in production organizations" || res.Deployed != 0 || len(res.Successes) != 0 {
		t.Errorf("refused deploy: %+v\n%s", res, b)
	}
}

// TestDeployRefusesWhatTheCompilerWould: a class calling a method its
// neighbour lacks fails with the compiler's text, line and column.
func TestDeployRefusesWhatTheCompilerWould(t *testing.T) {
	r := newRig(t, "dev")
	files := map[string]string{}
	for k, v := range apexFiles {
		files[k] = v
	}
	files["package.xml"] = strings.Replace(apexPkg, "<members>GreeterTest</members>", "<members>GreeterTest</members><members>Caller</members>", 1)
	files["classes/Caller.cls"] = "public class Caller {\n    public static void run() {\n        Greeter.bye();\n    }\n}\n"
	files["classes/Caller.cls-meta.xml"] = classMeta
	b := r.waitDeploy(r.deploy(files, false, "NoTestRun"), "Failed")
	for _, w := range []string{"<problem>Method does not exist or incorrect signature: void bye() from the type Greeter</problem>", "<lineNumber>3</lineNumber>", "<columnNumber>17</columnNumber>", "<fullName>Caller</fullName>"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("result lacks %s:\n%s", w, b)
		}
	}
}

// TestPasswordGrantAnswersARefreshToken: a connected app with the refresh
// scope gets one from the password grant, in Salesforce's alphabet (no
// '!', which only access tokens carry), and it refreshes.
func TestPasswordGrantAnswersARefreshToken(t *testing.T) {
	r := newRig(t, "dev")
	_, _, b := r.do("POST", "/services/oauth2/token", "application/x-www-form-urlencoded", []byte(url.Values{"grant_type": {"password"},
		"client_id": {r.org.ClientID()}, "username": {r.org.Username()}, "password": {r.org.Password()}}.Encode()))
	var tok struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || tok.Refresh == "" {
		t.Fatalf("no refresh token: %s", b)
	}
	if strings.ContainsAny(tok.Refresh, "!:@/") || !strings.Contains(tok.Access, "!") {
		t.Errorf("token alphabets: access %q refresh %q", tok.Access, tok.Refresh)
	}
	status, _, b := r.do("POST", "/services/oauth2/token", "application/x-www-form-urlencoded", []byte(url.Values{"grant_type": {"refresh_token"},
		"client_id": {r.org.ClientID()}, "refresh_token": {tok.Refresh}}.Encode()))
	if status != 200 || !strings.Contains(string(b), `"access_token"`) {
		t.Errorf("refresh: %d %s", status, b)
	}
	info := r.org.Info()
	if !strings.HasPrefix(info.SFDXAuthURL, "force://"+info.ClientID+":"+info.ClientSecret+":"+info.RefreshToken+"@127.0.0.1:") {
		t.Errorf("sfdx auth url: %s", info.SFDXAuthURL)
	}
}

// TestTestRunsKeepAssertionMessages: a failing assertion's message reaches
// the test result, as Salesforce reports it.
func TestTestRunsKeepAssertionMessages(t *testing.T) {
	r := newRig(t, "dev")
	files := map[string]string{}
	for k, v := range apexFiles {
		files[k] = v
	}
	files["classes/GreeterTest.cls"] = "@isTest\nclass GreeterTest {\n    @isTest static void hi() {\n        System.assert(false, 'greeting went missing');\n    }\n    @isTest static void sums() {\n        System.assertEquals(2, 3, 'arithmetic');\n    }\n}\n"
	r.waitDeploy(r.deploy(files, false, "NoTestRun"), "Succeeded")
	_, _, b := r.do("POST", "/services/data/v67.0/tooling/runTestsSynchronous", "application/json", []byte(`{"tests":[{"className":"GreeterTest"}]}`))
	for _, w := range []string{`"message":"System.AssertException: Assertion Failed: greeting went missing"`, `"message":"System.AssertException: Assertion Failed: arithmetic: Expected: 2, Actual: 3"`, `"successes":[]`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("result lacks %s:\n%s", w, b)
		}
	}
}
