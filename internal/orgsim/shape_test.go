package orgsim_test

import (
	"bytes"
	b64 "encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/orgsim"
)

// The simulator's answers must have every element and field the
// recorded Salesforce answers have (the recordings live with the client's
// tests).

const fixtures = "../salesforce/testdata/fixtures"

func recorded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Response json.RawMessage `json:"response"`
	}
	if strings.HasSuffix(name, ".json") && json.Unmarshal(b, &w) == nil && len(w.Response) > 0 {
		return w.Response
	}
	return b
}

// xmlPaths lists the element paths of an XML document below its Body.
func xmlPaths(t *testing.T, b []byte) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("XML: %v\n%s", err, b)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			if i := indexOf(stack, "Body"); i >= 0 && len(stack) > i+1 {
				out[strings.Join(stack[i+1:], "/")] = true
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

// jsonPaths lists the key paths of a JSON document, arrays as [].
func jsonPaths(t *testing.T, b []byte) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("JSON: %v\n%s", err, b)
	}
	out := map[string]bool{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				q := k
				if p != "" {
					q = p + "." + k
				}
				out[q] = true
				walk(q, x)
			}
		case []any:
			for _, x := range v {
				walk(p+"[]", x)
			}
		}
	}
	walk("", v)
	return out
}

// covers fails for each path of want missing from got, unless excused.
func covers(t *testing.T, what string, want, got map[string]bool, excused ...string) {
	t.Helper()
	var missing []string
	for p := range want {
		if got[p] {
			continue
		}
		skip := false
		for _, e := range excused {
			if p == e || strings.HasPrefix(p, e+".") || strings.HasPrefix(p, e+"/") || strings.HasPrefix(p, e+"[]") {
				skip = true
			}
		}
		if !skip {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s: the simulator's answer lacks %d of the recording's fields:\n  %s", what, len(missing), strings.Join(missing, "\n  "))
	}
}

type rig struct {
	t     *testing.T
	org   *orgsim.Org
	token string
}

func newRig(t *testing.T, org string) *rig {
	sim, err := orgsim.Start(orgsim.Options{Orgs: []string{org}, Step: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	o := sim.Orgs()[0]
	return &rig{t: t, org: o, token: o.NewSession()}
}

func (r *rig) do(method, path, ctype string, body []byte) (int, http.Header, []byte) {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.org.BaseURL+path, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func (r *rig) soap(body string) []byte {
	r.t.Helper()
	env := `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:md="http://soap.sforce.com/2006/04/metadata"><soapenv:Header><md:SessionHeader><md:sessionId>` +
		r.token + `</md:sessionId></md:SessionHeader></soapenv:Header><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`
	_, _, b := r.do("POST", "/services/Soap/m/64.0", "text/xml", []byte(env))
	return b
}

func (r *rig) get(path string) []byte {
	r.t.Helper()
	_, _, b := r.do("GET", path, "", nil)
	return b
}

func zipB64(t *testing.T, files map[string]string) string {
	m := map[string][]byte{}
	for k, v := range files {
		m[k] = []byte(v)
	}
	z, err := metadata.WriteZip(m)
	if err != nil {
		t.Fatal(err)
	}
	return encode(z)
}

const apexPkg = `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>Greeter</members><members>GreeterTest</members><name>ApexClass</name></types><version>64.0</version></Package>`
const classMeta = `<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion><status>Active</status></ApexClass>`

var apexFiles = map[string]string{
	"package.xml": apexPkg, "classes/Greeter.cls": "public class Greeter {\n    public static String hi() {\n        return 'hi';\n    }\n}\n", "classes/Greeter.cls-meta.xml": classMeta,
	"classes/GreeterTest.cls": "@isTest\nclass GreeterTest {\n    @isTest static void hi() {\n        System.assertEquals('hi', Greeter.hi());\n    }\n}\n", "classes/GreeterTest.cls-meta.xml": classMeta,
}

func (r *rig) deploy(files map[string]string, checkOnly bool, testLevel string) string {
	r.t.Helper()
	b := r.soap(`<md:deploy><md:ZipFile>` + zipB64(r.t, files) + `</md:ZipFile><md:DeployOptions><md:checkOnly>` + fmt.Sprint(checkOnly) +
		`</md:checkOnly><md:rollbackOnError>true</md:rollbackOnError><md:singlePackage>true</md:singlePackage><md:testLevel>` + testLevel + `</md:testLevel></md:DeployOptions></md:deploy>`)
	var out struct {
		ID string `xml:"Body>deployResponse>result>id"`
	}
	xml.Unmarshal(b, &out)
	if out.ID == "" {
		r.t.Fatalf("deploy: %s", b)
	}
	return out.ID
}

func (r *rig) checkDeploy(id string) []byte {
	return r.soap(`<md:checkDeployStatus><md:asyncProcessId>` + id + `</md:asyncProcessId><md:includeDetails>true</md:includeDetails></md:checkDeployStatus>`)
}

func (r *rig) waitDeploy(id string, status string) []byte {
	r.t.Helper()
	for i := 0; i < 300; i++ {
		b := r.checkDeploy(id)
		if bytes.Contains(b, []byte("<status>"+status+"</status>")) {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatalf("deploy %s never reached %s", id, status)
	return nil
}

func TestSOAPAnswersHaveTheRecordedShape(t *testing.T) {
	t.Parallel()
	r := newRig(t, "dev")

	id := r.deploy(apexFiles, true, "RunLocalTests")
	pending := r.checkDeploy(id)
	covers(t, "checkDeployStatus Pending", xmlPaths(t, recorded(t, "metadata-soap/checkDeployStatus-pending-checkonly.xml")), xmlPaths(t, pending))
	covers(t, "deploy", xmlPaths(t, recorded(t, "metadata-soap/deploy-response-queued.xml")),
		xmlPaths(t, r.soap(`<md:deploy><md:ZipFile>`+zipB64(t, apexFiles)+`</md:ZipFile><md:DeployOptions><md:checkOnly>true</md:checkOnly></md:DeployOptions></md:deploy>`)))
	covers(t, "checkDeployStatus InProgress", xmlPaths(t, recorded(t, "metadata-soap/checkDeployStatus-inprogress.xml")), xmlPaths(t, r.waitDeploy(id, "InProgress")))
	covers(t, "checkDeployStatus Succeeded", xmlPaths(t, recorded(t, "metadata-soap/checkDeployStatus-succeeded.xml")), xmlPaths(t, r.waitDeploy(id, "Succeeded")))

	noPkg := r.deploy(map[string]string{"classes/Greeter.cls": apexFiles["classes/Greeter.cls"]}, true, "")
	covers(t, "checkDeployStatus without package.xml", xmlPaths(t, recorded(t, "metadata-soap/checkDeployStatus-failed-component-failure.xml")), xmlPaths(t, r.waitDeploy(noPkg, "Failed")))

	rb := r.soap(`<md:retrieve><md:retrieveRequest><md:apiVersion>64.0</md:apiVersion><md:unpackaged><md:types><md:members>Delivery__c</md:members><md:name>CustomObject</md:name></md:types><md:version>64.0</md:version></md:unpackaged></md:retrieveRequest></md:retrieve>`)
	var ret struct {
		ID string `xml:"Body>retrieveResponse>result>id"`
	}
	xml.Unmarshal(rb, &ret)
	covers(t, "retrieve", xmlPaths(t, recorded(t, "metadata-soap/legacy-api23/retrieve-response-inprogress.xml")), xmlPaths(t, rb))
	var done []byte
	for i := 0; i < 100; i++ {
		done = r.soap(`<md:checkRetrieveStatus><md:asyncProcessId>` + ret.ID + `</md:asyncProcessId><md:includeZip>true</md:includeZip></md:checkRetrieveStatus>`)
		if bytes.Contains(done, []byte("<status>Succeeded</status>")) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	covers(t, "checkRetrieveStatus", xmlPaths(t, recorded(t, "metadata-soap/checkRetrieveStatus-succeeded-with-not-found-messages.xml")), xmlPaths(t, done))
	covers(t, "describeMetadata", xmlPaths(t, recorded(t, "metadata-soap/describeMetadata-response-single-type.xml")),
		xmlPaths(t, r.soap(`<md:describeMetadata><md:asOfVersion>64.0</md:asOfVersion></md:describeMetadata>`)))
	covers(t, "listMetadata", xmlPaths(t, recorded(t, "metadata-soap/legacy-api23/listMetadata-CustomObject.xml")),
		xmlPaths(t, r.soap(`<md:listMetadata><md:queries><md:type>CustomObject</md:type></md:queries><md:asOfVersion>64.0</md:asOfVersion></md:listMetadata>`)))
	r.token = "00Dbogus!bogus"
	covers(t, "fault", xmlPaths(t, recorded(t, "metadata-soap/fault-invalid-session-id.xml")), xmlPaths(t, r.soap(`<md:describeMetadata/>`)))
}

func TestRESTAnswersHaveTheRecordedShape(t *testing.T) {
	t.Parallel()
	r := newRig(t, "dev")
	covers(t, "versions", jsonPaths(t, recorded(t, "rest/versions-response.json")), jsonPaths(t, r.get("/services/data")))
	covers(t, "limits", jsonPaths(t, recorded(t, "rest/limits-response.json")), jsonPaths(t, r.get("/services/data/v64.0/limits")))
	covers(t, "recordCount", jsonPaths(t, recorded(t, "rest/limits-recordCount.json")), jsonPaths(t, r.get("/services/data/v64.0/limits/recordCount?sObjects=Account")))
	covers(t, "describeGlobal", jsonPaths(t, recorded(t, "rest/describeGlobal-response.json")), jsonPaths(t, r.get("/services/data/v64.0/sobjects")))
	covers(t, "describe Account", jsonPaths(t, recorded(t, "rest/sobject-describe-Account.json")), jsonPaths(t, r.get("/services/data/v64.0/sobjects/Account/describe")),
		"actionOverrides", "supportedScopes", "namedLayoutInfos", "recordTypeInfos", "fields[].picklistValues[].validFor")

	page := r.get("/services/data/v64.0/query?q=" + url.QueryEscape("SELECT Id, Name FROM Account"))
	covers(t, "query (last page)", jsonPaths(t, recorded(t, "rest/query-page2-done-true.json")), jsonPaths(t, page), "records[].Text_Label")

	st, _, created := r.do("POST", "/services/data/v64.0/sobjects/Account/", "application/json", []byte(`{"Name":"xyzzy"}`))
	if st != 201 {
		t.Fatalf("create: %d %s", st, created)
	}
	covers(t, "create", jsonPaths(t, recorded(t, "rest/sobject-create-response.json")), jsonPaths(t, created))
	_, _, up := r.do("PATCH", "/services/data/v64.0/composite/sobjects/Account/Id", "application/json", []byte(`{"allOrNone":false,"records":[{"attributes":{"type":"Account"},"Name":"Sitwell-Bluth","Id":null}]}`))
	covers(t, "collections upsert", jsonPaths(t, recorded(t, "rest/composite-sobjects-upsert-by-Id-one.json")), jsonPaths(t, up))
	var createdID struct{ ID string }
	json.Unmarshal(created, &createdID)
	_, _, bad := r.do("PATCH", "/services/data/v64.0/composite/sobjects", "application/json", []byte(`{"allOrNone":true,"records":[{"attributes":{"type":"Account"},"Id":"`+createdID.ID+`","Name":"x"},{"attributes":{"type":"Account"},"Name":"y","Id":"nope"}]}`))
	covers(t, "collections errors", jsonPaths(t, recorded(t, "docs-examples/composite-sobjects-update-allornone-true-failure.json")), jsonPaths(t, bad))
	_, _, comp := r.do("POST", "/services/data/v64.0/composite", "application/json", []byte(`{"compositeRequest":[{"referenceId":"refAccount","method":"GET","url":"/services/data/v64.0/query/?q=select+count()+from+Account"},{"referenceId":"refXYZZY","method":"GET","url":"/services/data/v64.0/query/?q=select+count()+from+XYZZY"}]}`))
	covers(t, "composite", jsonPaths(t, recorded(t, "rest/composite-query-invalid-type.json")), jsonPaths(t, comp))
	_, _, notFound := r.do("GET", "/services/data/v64.0/sobjects/Foo/001", "", nil)
	covers(t, "error array", jsonPaths(t, recorded(t, "rest/error-not-found.json")), jsonPaths(t, notFound))

	_, _, job := r.do("POST", "/services/data/v64.0/jobs/query", "application/json", recorded(t, "docs-examples/bulk2-query-create-request.json"))
	covers(t, "bulk create", jsonPaths(t, recorded(t, "docs-examples/bulk2-query-create-response.json")), jsonPaths(t, job))
	var j struct{ ID string }
	json.Unmarshal(job, &j)
	time.Sleep(60 * time.Millisecond)
	covers(t, "bulk job", jsonPaths(t, recorded(t, "docs-examples/bulk2-query-job-info-jobcomplete.json")), jsonPaths(t, r.get("/services/data/v64.0/jobs/query/"+j.ID)))

	_, _, tok := r.do("POST", "/services/oauth2/token", "application/x-www-form-urlencoded", []byte(url.Values{"grant_type": {"password"}, "client_id": {r.org.ClientID()}, "username": {r.org.Username()}, "password": {r.org.Password()}}.Encode()))
	covers(t, "token", jsonPaths(t, recorded(t, "oauth/token-response-password-or-code.json")), jsonPaths(t, tok))
	_, _, tokErr := r.do("POST", "/services/oauth2/token", "application/x-www-form-urlencoded", []byte("grant_type=password&client_id=nope"))
	covers(t, "token error", jsonPaths(t, recorded(t, "oauth/token-error-invalid-client-id.json")), jsonPaths(t, tokErr))
}

func TestToolingAnswersHaveTheRecordedShape(t *testing.T) {
	t.Parallel()
	r := newRig(t, "dev")
	id := r.deploy(apexFiles, false, "")
	r.waitDeploy(id, "Succeeded")
	_, _, job := r.do("POST", "/services/data/v64.0/tooling/runTestsAsynchronous", "application/json", []byte(`{"classNames":"GreeterTest"}`))
	var jobID string
	if err := json.Unmarshal(job, &jobID); err != nil || len(jobID) != 15 {
		t.Fatalf("runTestsAsynchronous answers a bare 15-character id: %s", job)
	}
	q := func(soql string) []byte {
		return r.get("/services/data/v64.0/tooling/query/?q=" + url.QueryEscape(soql))
	}
	covers(t, "ApexTestQueueItem", jsonPaths(t, recorded(t, "tooling/query-ApexTestQueueItem-processing.json")), jsonPaths(t, q("SELECT Id, Status, ApexClassId FROM ApexTestQueueItem WHERE ParentJobId = '"+jobID+"'")))
	time.Sleep(100 * time.Millisecond)
	covers(t, "ApexTestResult", jsonPaths(t, recorded(t, "tooling/query-ApexTestResult-with-limits.json")),
		jsonPaths(t, q("SELECT Id, ApexClassId, TestTimestamp, Message, MethodName, Outcome, RunTime, StackTrace FROM ApexTestResult WHERE AsyncApexJobId = '"+jobID+"'")),
		"records[].ApexTestResults") // a child subquery, outside the simulator's SOQL
	covers(t, "ApexCodeCoverageAggregate", jsonPaths(t, recorded(t, "tooling/query-ApexCodeCoverageAggregate.json")),
		jsonPaths(t, q("SELECT ApexClassOrTrigger.Name, ApexClassOrTriggerId, NumLinesCovered, NumLinesUncovered FROM ApexCodeCoverageAggregate ORDER BY ApexClassOrTrigger.Name ASC")))
	covers(t, "ApexOrgWideCoverage", jsonPaths(t, recorded(t, "tooling/query-ApexOrgWideCoverage.json")), jsonPaths(t, q("SELECT PercentCovered FROM ApexOrgWideCoverage")))
	covers(t, "ApexClass", jsonPaths(t, recorded(t, "tooling/query-ApexClass-test-classes.json")), jsonPaths(t, q("SELECT Id, Name FROM ApexClass WHERE NamespacePrefix = null AND (Name LIKE '%Test%')")))
	_, _, sync := r.do("POST", "/services/data/v64.0/tooling/runTestsSynchronous", "application/json", []byte(`{"tests":[{"className":"GreeterTest"}]}`))
	covers(t, "runTestsSynchronous", jsonPaths(t, recorded(t, "tooling/runTestsSynchronous-response.json")), jsonPaths(t, sync),
		"codeCoverageWarnings", "codeCoverage[].locationsNotCovered") // fully covered: no warnings, no uncovered lines

	// The REST deploy resource, with details.
	_, _, dr := r.do("GET", "/services/data/v64.0/metadata/deployRequest/"+id+"?includeDetails=true", "", nil)
	covers(t, "deployRequest", jsonPaths(t, recorded(t, "metadata-rest/deployRequest-get-succeeded-checkonly.json")), jsonPaths(t, dr))
}

func encode(b []byte) string { return base64Std.EncodeToString(b) }

var base64Std = b64.StdEncoding
