package orgsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/trellis-alm/trellis/internal/metadata"
)

// upsertOne is PATCH /sobjects/{name}/{field}/{value}.
func (o *Org) upsertOne(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if !readJSON(w, r, &in) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	def := o.schema(chi.URLParam(r, "name"))
	if def == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	f := def.field(chi.URLParam(r, "field"))
	if f == nil || (!f.External && f.Name != "Id") {
		restError(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+chi.URLParam(r, "field"))
		return
	}
	value := chi.URLParam(r, "value")
	var matches []int
	for i, row := range o.st.Records[def.Name] {
		if row["IsDeleted"] != true && (fmt.Sprint(row[f.Name]) == value || (f.Name == "Id" && sameID(fmt.Sprint(row["Id"]), value))) {
			matches = append(matches, i)
		}
	}
	now := time.Now()
	switch len(matches) {
	case 0:
		if f.Name != "Id" {
			in[f.Name] = value
		}
		row, errs := o.writeRecord(def, in, nil, now)
		if errs != nil {
			writeJSON(w, http.StatusBadRequest, restErrs(errs))
			return
		}
		o.st.Records[def.Name] = append(o.st.Records[def.Name], row)
		o.saveLocked()
		writeJSON(w, http.StatusCreated, map[string]any{"id": row["Id"], "success": true, "errors": []any{}, "created": true})
	case 1:
		i := matches[0]
		row, errs := o.writeRecord(def, in, o.st.Records[def.Name][i], now)
		if errs != nil {
			writeJSON(w, http.StatusBadRequest, restErrs(errs))
			return
		}
		o.st.Records[def.Name][i] = row
		o.saveLocked()
		writeJSON(w, http.StatusOK, map[string]any{"id": row["Id"], "success": true, "errors": []any{}, "created": false})
	default:
		var urls []string
		for _, i := range matches {
			urls = append(urls, o.base(r)+"/sobjects/"+def.Name+"/"+fmt.Sprint(o.st.Records[def.Name][i]["Id"]))
		}
		writeJSON(w, http.StatusMultipleChoices, urls)
	}
}

// composite runs up to 25 sub-requests through the org's own API.
func (o *Org) composite(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AllOrNone bool `json:"allOrNone"`
		Requests  []struct {
			Method      string          `json:"method"`
			URL         string          `json:"url"`
			ReferenceID string          `json:"referenceId"`
			Body        json.RawMessage `json:"body"`
		} `json:"compositeRequest"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.Requests) > 25 {
		restError(w, http.StatusBadRequest, "INVALID_INPUT", "a composite request takes at most 25 sub-requests")
		return
	}
	h := o.handler()
	var out []map[string]any
	for _, sub := range body.Requests {
		if !strings.HasPrefix(sub.URL, "/services/data/") {
			out = append(out, map[string]any{"body": []map[string]string{{"errorCode": "INVALID_INPUT", "message": "url must start with /services/data/"}},
				"httpHeaders": map[string]string{}, "httpStatusCode": 400, "referenceId": sub.ReferenceID})
			continue
		}
		var rb io.Reader
		if len(sub.Body) > 0 {
			rb = strings.NewReader(string(sub.Body))
		}
		req := httptest.NewRequest(sub.Method, sub.URL, rb)
		req.Header.Set("Authorization", r.Header.Get("Authorization"))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var resBody any
		if rec.Body.Len() > 0 {
			json.Unmarshal(rec.Body.Bytes(), &resBody)
		}
		headers := map[string]string{}
		if loc := rec.Header().Get("Location"); loc != "" {
			headers["Location"] = loc
		}
		out = append(out, map[string]any{"body": resBody, "httpHeaders": headers, "httpStatusCode": rec.Code, "referenceId": sub.ReferenceID})
	}
	writeJSON(w, http.StatusOK, map[string]any{"compositeResponse": out})
}

// runTestsSync is POST /tooling/runTestsSynchronous: one class, now.
func (o *Org) runTestsSync(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Tests []struct {
			ClassName   string   `json:"className"`
			TestMethods []string `json:"testMethods"`
		} `json:"tests"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.Tests) != 1 {
		restError(w, http.StatusBadRequest, "INVALID_INPUT", "runTestsSynchronous runs exactly one test class")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	run, missing := runTests(o.set, []string{body.Tests[0].ClassName}, o.idFor)
	if len(missing) > 0 {
		restError(w, http.StatusBadRequest, "INVALID_INPUT", "No test class found for: "+strings.Join(missing, ", "))
		return
	}
	if m := body.Tests[0].TestMethods; len(m) > 0 {
		var kept []testMethod
		for _, tm := range run.methods {
			if contains(m, tm.method) {
				kept = append(kept, tm)
			}
		}
		run.methods = kept
	}
	res := run.deployResult(o.set, o.idFor)
	// Salesforce's JSON has [] where a list is empty, never null.
	if res.Failures == nil {
		res.Failures = []xTestFailure{}
	}
	if res.Successes == nil {
		res.Successes = []xTestSuccess{}
	}
	if res.CodeCoverage == nil {
		res.CodeCoverage = []xCodeCoverage{}
	}
	if res.CodeCoverageWarnings == nil {
		res.CodeCoverageWarnings = []xCodeCoverageWarning{}
	}
	writeJSON(w, http.StatusOK, res)
}

// soapLogin is the legacy partner login(), for clients that still use it.
func (o *Org) soapLogin(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	env, err := metadata.ParseXML(body)
	var login *metadata.Node
	if err == nil && env.Child("Body") != nil {
		login = env.Child("Body").Child("login")
	}
	if login == nil {
		soapFault(w, "INVALID_REQUEST", "login() expected")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	pw := login.ChildText("password")
	if !strings.EqualFold(login.ChildText("username"), o.st.Username) || (pw != o.st.Password+o.st.SecurityToken && pw != o.st.Password) {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
		return
	}
	v := chi.URLParam(r, "version")
	tok := o.issueLocked("")
	o.saveLocked()
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result><metadataServerUrl>%s/services/Soap/m/%s/%s</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>%t</sandbox><serverUrl>%s/services/Soap/u/%s/%s</serverUrl><sessionId>%s</sessionId><userId>%s</userId><userInfo><organizationId>%s</organizationId><organizationName>%s</organizationName><userEmail>%s</userEmail><userFullName>Admin User</userFullName><userId>%s</userId><userName>%s</userName></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>`,
		o.BaseURL, v, o.st.ID[:15], o.st.Kind != Production, o.BaseURL, v, o.st.ID[:15], tok, o.st.UserID, o.st.ID, esc(o.Name), esc(o.st.Username), o.st.UserID, esc(o.st.Username))
}
