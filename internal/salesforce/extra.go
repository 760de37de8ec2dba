package salesforce

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CreateRecord inserts one record and returns its id.
func (c *Client) CreateRecord(ctx context.Context, sobject string, fields map[string]any) (string, error) {
	var out SaveResult
	if _, err := c.restJSON(ctx, "create "+sobject, http.MethodPost, c.dataPath("/sobjects/"+url.PathEscape(sobject)+"/"), nil, fields, &out, false); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", &Error{Op: "create " + sobject, Org: c.cfg.Name, Message: "no id in the answer", Err: ErrMalformed}
	}
	return out.ID, nil
}

// UpsertRecord inserts or updates one record matched on an external id
// field. Several matches answer 300: the error lists the records' URLs.
func (c *Client) UpsertRecord(ctx context.Context, sobject, field, value string, fields map[string]any) (*SaveResult, error) {
	op := "upsert " + sobject
	b, _ := json.Marshal(fields)
	r, err := c.do(ctx, call{op: op, method: http.MethodPatch, path: c.dataPath("/sobjects/" + url.PathEscape(sobject) + "/" + url.PathEscape(field) + "/" + url.PathEscape(value)),
		body: func(*Token) ([]byte, error) { return b, nil }, ctype: "application/json", okStatus: []int{http.StatusMultipleChoices}})
	if err != nil {
		return nil, err
	}
	switch r.status {
	case http.StatusMultipleChoices:
		var urls []string
		json.Unmarshal(r.body, &urls)
		return nil, &Error{Op: op, Org: c.cfg.Name, Status: r.status, Code: "MULTIPLE_CHOICES",
			Message: fmt.Sprintf("%d records have %s %s: %s", len(urls), field, value, strings.Join(urls, ", "))}
	case http.StatusNoContent:
		return &SaveResult{Success: true}, nil
	}
	var out SaveResult
	if err := decodeJSON(r.body, &out); err != nil {
		return nil, c.malformed(op, r, err)
	}
	out.Created = r.status == http.StatusCreated || out.Created
	return &out, nil
}

// RecordCount is the approximate row count of each named sObject.
func (c *Client) RecordCount(ctx context.Context, sobjects ...string) (map[string]int, error) {
	var out struct {
		SObjects []struct {
			Count int    `json:"count"`
			Name  string `json:"name"`
		} `json:"sObjects"`
	}
	if _, err := c.restJSON(ctx, "record count", http.MethodGet, c.dataPath("/limits/recordCount"), url.Values{"sObjects": {strings.Join(sobjects, ",")}}, nil, &out, true); err != nil {
		return nil, err
	}
	m := map[string]int{}
	for _, s := range out.SObjects {
		m[s.Name] = s.Count
	}
	return m, nil
}

// CompositeRequest is one sub-request of a composite call.
type CompositeRequest struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	ReferenceID string `json:"referenceId"`
	Body        any    `json:"body,omitempty"`
}

// CompositeResponse is one sub-request's answer; errors in Body have the
// REST error array's shape.
type CompositeResponse struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

// Err returns the sub-request's error, or nil when it succeeded.
func (r CompositeResponse) Err() error {
	if r.HTTPStatusCode < 300 {
		return nil
	}
	e := &Error{Op: "composite " + r.ReferenceID, Status: r.HTTPStatusCode}
	if code, msg, ok := parseRESTError(r.Body); ok {
		e.Code, e.Message = code, msg
	} else {
		e.Message = fmt.Sprintf("HTTP %d", r.HTTPStatusCode)
	}
	return e
}

// Composite sends up to 25 sub-requests in one call.
func (c *Client) Composite(ctx context.Context, allOrNone bool, reqs []CompositeRequest) ([]CompositeResponse, error) {
	if len(reqs) > 25 {
		return nil, &Error{Op: "composite", Org: c.cfg.Name, Message: "at most 25 sub-requests per call"}
	}
	var out struct {
		CompositeResponse []CompositeResponse `json:"compositeResponse"`
	}
	_, err := c.restJSON(ctx, "composite", http.MethodPost, c.dataPath("/composite"), nil, map[string]any{"allOrNone": allOrNone, "compositeRequest": reqs}, &out, false)
	return out.CompositeResponse, err
}

// RunTestsSynchronous runs one test class and waits for its result.
// Use it for tiny runs only: it blocks a request.
func (c *Client) RunTestsSynchronous(ctx context.Context, class string, methods ...string) (*RunTestsResult, error) {
	body := map[string]any{"tests": []TestItem{{ClassName: class, TestMethods: methods}}}
	var out RunTestsResult
	if _, err := c.restJSON(ctx, "runTestsSynchronous", http.MethodPost, c.dataPath("/tooling/runTestsSynchronous"), nil, body, &out, false); err != nil {
		return nil, err
	}
	return &out, nil
}

// SOAPLogin is the legacy partner login() (password followed by the
// security token). Salesforce retires it (not in API 65.0+, gone in
// Summer '27): use it only to import connections that have nothing else.
func SOAPLogin(ctx context.Context, loginURL, version, username, password string, hc *http.Client) (*Token, error) {
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Body><urn:login><urn:username>`)
	xml.EscapeText(&b, []byte(username))
	b.WriteString(`</urn:username><urn:password>`)
	xml.EscapeText(&b, []byte(password))
	b.WriteString(`</urn:password></urn:login></soapenv:Body></soapenv:Envelope>`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(loginURL, "/")+"/services/Soap/u/"+version, strings.NewReader(b.String()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", "login")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &Error{Op: "SOAP login", Org: loginURL, Err: errors.New(redact(err.Error(), password))}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if f := parseFault(body); f != nil {
		return nil, &Error{Op: "SOAP login", Org: loginURL, Status: resp.StatusCode, Code: f.code, Message: redact(f.message, password)}
	}
	var out struct {
		Result struct {
			MetadataServerURL string `xml:"metadataServerUrl"`
			ServerURL         string `xml:"serverUrl"`
			SessionID         string `xml:"sessionId"`
			UserID            string `xml:"userId"`
			UserInfo          struct {
				OrganizationID string `xml:"organizationId"`
			} `xml:"userInfo"`
		} `xml:"result"`
	}
	if err := decodeSOAP(body, &out); err != nil || out.Result.SessionID == "" {
		return nil, &Error{Op: "SOAP login", Org: loginURL, Status: resp.StatusCode, Message: "no session in the answer", Err: ErrMalformed}
	}
	u, err := url.Parse(out.Result.ServerURL)
	if err != nil || u.Host == "" {
		return nil, &Error{Op: "SOAP login", Org: loginURL, Message: "no server URL in the answer", Err: ErrMalformed}
	}
	return &Token{AccessToken: out.Result.SessionID, InstanceURL: u.Scheme + "://" + u.Host,
		IdentityURL: strings.TrimSuffix(loginURL, "/") + "/id/" + out.Result.UserInfo.OrganizationID + "/" + out.Result.UserID}, nil
}
