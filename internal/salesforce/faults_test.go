package salesforce_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/salesforce"
)

// A session that expires while a deploy runs is refreshed, and the
// polling carries on.
func TestTokenExpiryMidDeploy(t *testing.T) {
	t.Parallel()
	o := startSim(t).Orgs()[0]
	oc, tok := webLogin(t, o)
	refreshes := 0
	c := client(t, o, salesforce.NewRefreshCredentials(oc, tok, func(context.Context, *salesforce.Token) error { refreshes++; return nil }))
	id, err := c.Deploy(ctx(t), zipOf(t, okPackage), salesforce.DeployOptions{RollbackOnError: true, SinglePackage: true})
	if err != nil {
		t.Fatal(err)
	}
	expired := false
	res, err := c.WaitDeploy(ctx(t), id, func(r *salesforce.DeployResult) {
		if !expired && r.Status == "InProgress" {
			expired = true
			o.ExpireSessions()
		}
	})
	if err != nil || res.Status != salesforce.StatusSucceeded || !expired || refreshes != 1 {
		t.Fatalf("deploy across an expired session: %v %v expired=%v refreshes=%d", err, res, expired, refreshes)
	}
}

// Bursts of 503s (HTML pages, as load balancers send them) are retried.
func TestRetriesServerErrors(t *testing.T) {
	t.Parallel()
	o := startSim(t).Orgs()[0]
	c := connect(t, o)
	o.SetFaults(orgsim.Faults{FailNext: 3})
	recs, err := c.Query(ctx(t), "SELECT Id FROM Account")
	if err != nil || len(recs) != 20 {
		t.Fatalf("after 3 failures the 4th try should answer: %v %d", err, len(recs))
	}
	// Status checks are retried too; a failing deploy start is not
	// repeated blindly (it may have been accepted).
	o.SetFaults(orgsim.Faults{FailNext: 10})
	_, err = c.Query(ctx(t), "SELECT Id FROM Account")
	var e *salesforce.Error
	if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable || !strings.Contains(e.Excerpt, "Service Unavailable") {
		t.Fatalf("after 5 tries the error should say what came back: %v", err)
	}
	o.SetFaults(orgsim.Faults{})
}

// An org out of API requests: the client backs off, then stops with the
// code; with a budget it stops before the org runs dry.
func TestLimits(t *testing.T) {
	t.Parallel()
	o := startSim(t).Orgs()[0]
	c := connect(t, o)
	o.SetFaults(orgsim.Faults{LimitExhausted: true})
	_, err := c.Query(ctx(t), "SELECT Id FROM Account")
	if salesforce.Code(err) != "REQUEST_LIMIT_EXCEEDED" {
		t.Fatalf("REST: %v", err)
	}
	_, err = c.ListMetadata(ctx(t), []salesforce.ListMetadataQuery{{Type: "ApexClass"}})
	if salesforce.Code(err) != "REQUEST_LIMIT_EXCEEDED" {
		t.Fatalf("SOAP: %v", err)
	}
	o.SetFaults(orgsim.Faults{})

	tok, _ := oauthFor(o).Password(ctx(t), o.Username(), o.Password())
	budget, _ := salesforce.New(salesforce.Config{Name: "dev", Credentials: salesforce.StaticCredentials{Tok: tok}, APIBudget: 0.00001})
	if _, err := budget.Limits(ctx(t)); err != nil { // learns the usage
		t.Fatal(err)
	}
	_, err = budget.Query(ctx(t), "SELECT Id FROM Account")
	var be *salesforce.BudgetError
	if !errors.As(err, &be) || !errors.Is(err, salesforce.ErrBudget) || be.Max != 100000 || !strings.Contains(err.Error(), "daily API requests used") {
		t.Fatalf("budget: %v", err)
	}
}

func TestContextCancelStopsWaiting(t *testing.T) {
	t.Parallel()
	o := startSim(t).Orgs()[0]
	o.SetFaults(orgsim.Faults{Latency: 2 * time.Second})
	c := connect(t, o)
	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Query(cctx, "SELECT Id FROM Account")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("cancel: %v after %s", err, time.Since(start))
	}
}

// What an org answers that is not the protocol becomes a typed error
// with the operation, the org and an excerpt — never a panic or a token.
func TestMalformedAnswers(t *testing.T) {
	t.Parallel()
	const token = "00D000000000001!AQsecretsecretsecretsecret"
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		call   func(c *salesforce.Client) error
		want   string
	}{
		{"HTMLInsteadOfSOAP", 500, "text/html", "<html><body><h1>Maintenance</h1>We are down.</body></html>",
			func(c *salesforce.Client) error {
				_, err := c.CheckDeployStatus(context.Background(), "0Af", true)
				return err
			}, "Maintenance"},
		{"BrokenSOAP", 200, "text/xml", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><checkDeployStatusResponse><result><done>tr`,
			func(c *salesforce.Client) error {
				_, err := c.CheckDeployStatus(context.Background(), "0Af", true)
				return err
			}, "checkDeployStatus"},
		{"SOAPWithDTD", 200, "text/xml", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><x>&e;</x></soapenv:Body></soapenv:Envelope>`,
			func(c *salesforce.Client) error { _, err := c.DescribeMetadata(context.Background()); return err }, "describeMetadata"},
		{"TruncatedZip", 200, "text/xml", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Body><checkRetrieveStatusResponse><result><done>true</done><id>09S</id><status>Succeeded</status><success>true</success><zipFile>UEsDBBQACAgIAPZFSVcAAAAAAAAAAAAAAAAWAAAAd</zipFile></result></checkRetrieveStatusResponse></soapenv:Body></soapenv:Envelope>`,
			func(c *salesforce.Client) error {
				_, err := c.CheckRetrieveStatus(context.Background(), "09S", true)
				return err
			}, "zip"},
		{"BrokenJSON", 200, "application/json", `{"totalSize": 1, "done": true, "records": [{"Id": "001`,
			func(c *salesforce.Client) error {
				_, err := c.Query(context.Background(), "SELECT Id FROM Account")
				return err
			}, "query"},
		{"EchoedToken", 400, "text/plain", "bad request for session " + token,
			func(c *salesforce.Client) error {
				_, err := c.Query(context.Background(), "SELECT Id FROM Account")
				return err
			}, "[token]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, _ := salesforce.New(salesforce.Config{Name: "acme-prod", Credentials: salesforce.StaticCredentials{Tok: &salesforce.Token{AccessToken: token, InstanceURL: srv.URL}},
				Retry: salesforce.RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}})
			err := tc.call(c)
			var e *salesforce.Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), "acme-prod") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want a typed error naming the org and %q, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), "AQsecret") {
				t.Fatalf("the error carries the token: %v", err)
			}
			if !errors.Is(err, salesforce.ErrMalformed) && tc.name != "EchoedToken" && tc.name != "HTMLInsteadOfSOAP" {
				t.Errorf("want ErrMalformed: %v", err)
			}
		})
	}
}

// Answers may come gzipped; request logs carry no tokens, even when a
// call fails.
func TestGzipAndLogs(t *testing.T) {
	t.Parallel()
	const token = "00D000000000001!AQverysecretsessiontoken"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "want gzip", 400)
			return
		}
		if strings.Contains(r.URL.Path, "limits") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/json")
			gz := gzip.NewWriter(w)
			gz.Write([]byte(`{"DailyApiRequests":{"Max":15000,"Remaining":14000}}`))
			gz.Close()
			return
		}
		w.WriteHeader(500)
		w.Write([]byte("oops " + token))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	c, _ := salesforce.New(salesforce.Config{Name: "acme", Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Credentials: salesforce.StaticCredentials{Tok: &salesforce.Token{AccessToken: token, InstanceURL: srv.URL}},
		Retry:       salesforce.RetryPolicy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}})
	l, err := c.Limits(context.Background())
	if err != nil || l["DailyApiRequests"].Remaining != 14000 {
		t.Fatalf("gzip: %v %v", err, l)
	}
	if _, err := c.Versions(context.Background()); err == nil || strings.Contains(err.Error(), "verysecret") {
		t.Fatalf("error: %v", err)
	}
	if !strings.Contains(logs.String(), "op=limits") || strings.Contains(logs.String(), "verysecret") {
		t.Fatalf("logs should name the calls and never the token:\n%s", logs.String())
	}
}

// A change made "in Setup" shows in SetupAuditTrail and in listMetadata's
// dates, which is what monitoring reads.
func TestSetupChangeIsVisible(t *testing.T) {
	t.Parallel()
	o := startSim(t).Orgs()[0]
	c := connect(t, o)
	before := time.Now().UTC().Add(-time.Second).Format("2006-01-02T15:04:05Z")
	if err := o.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.Tier__c",
		XML: "<fields><fullName>Tier__c</fullName><label>Tier</label><type>Text</type><length>10</length></fields>", User: "Grace Admin"}); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query(ctx(t), "SELECT Id, Action, Section, Display, CreatedDate, CreatedBy.Name FROM SetupAuditTrail WHERE CreatedDate > "+before+" ORDER BY CreatedDate")
	if err != nil || len(rows) != 1 || rows[0].String("Action") != "createdCustomField" || rows[0].String("Display") != "Created CustomField Account.Tier__c" {
		t.Fatalf("audit trail: %v %+v", err, rows)
	}
	props, err := c.ListMetadata(ctx(t), []salesforce.ListMetadataQuery{{Type: "CustomField"}})
	if err != nil || len(props) != 1 || props[0].LastModifiedByName != "Grace Admin" || props[0].FileName != "objects/Account.object" || time.Since(props[0].LastModifiedDate.Time) > time.Minute {
		t.Fatalf("listMetadata: %v %+v", err, props)
	}
	recs, err := c.Query(ctx(t), "SELECT Id, Tier__c FROM Account LIMIT 1")
	if err != nil || len(recs) != 1 {
		t.Fatalf("the new field is queryable: %v", err)
	}
}
