package salesforce_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/salesforce"
)

// startSim runs simulated orgs for one test, with quick steps.
func startSim(t *testing.T, names ...string) *orgsim.Sim {
	t.Helper()
	if len(names) == 0 {
		names = []string{"dev"}
	}
	sim, err := orgsim.Start(orgsim.Options{Orgs: names, Step: 15 * time.Millisecond, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func oauthFor(o *orgsim.Org) *salesforce.OAuthConfig {
	return &salesforce.OAuthConfig{LoginURL: o.BaseURL, ClientID: o.ClientID(), ClientSecret: o.ClientSecret(), RedirectURL: "http://localhost:8080/orgs/callback"}
}

// connect logs in with the password grant and returns a client.
func connect(t *testing.T, o *orgsim.Org) *salesforce.Client {
	t.Helper()
	tok, err := oauthFor(o).Password(context.Background(), o.Username(), o.Password())
	if err != nil {
		t.Fatal(err)
	}
	return client(t, o, salesforce.StaticCredentials{Tok: tok})
}

func client(t *testing.T, o *orgsim.Org, creds salesforce.Credentials) *salesforce.Client {
	t.Helper()
	c, err := salesforce.New(salesforce.Config{Name: o.Name, Credentials: creds, APIVersion: "64.0",
		Retry: salesforce.RetryPolicy{Attempts: 5, Base: 5 * time.Millisecond, Max: 40 * time.Millisecond},
		Poll:  salesforce.PollPolicy{First: 10 * time.Millisecond, Max: 30 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// webLogin runs the browser part of the web-server flow with PKCE
// against the simulator's approval page and returns the granted token.
func webLogin(t *testing.T, o *orgsim.Org) (*salesforce.OAuthConfig, *salesforce.Token) {
	t.Helper()
	oc := oauthFor(o)
	verifier := salesforce.NewPKCE()
	authURL := oc.AuthCodeURL("st4te", verifier, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(authURL)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize page: %v %v", err, resp)
	}
	resp.Body.Close()
	u, _ := url.Parse(authURL)
	resp, err = noRedirect.PostForm(oc.LoginURL+"/services/oauth2/authorize", url.Values{
		"q": {u.RawQuery}, "username": {o.Username()}, "password": {o.Password()}, "decision": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st4te" || loc.Query().Get("code") == "" {
		t.Fatalf("approval should redirect back with the code and state: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.HasPrefix(loc.String(), oc.RedirectURL) {
		t.Fatalf("redirected to %s, not the callback", loc)
	}
	tok, err := oc.Exchange(context.Background(), loc.Query().Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	return oc, tok
}

// zipOf builds a deploy zip from metadata-format files.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	m := map[string][]byte{}
	for p, s := range files {
		m[p] = []byte(s)
	}
	z, err := metadata.WriteZip(m)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func pkg(version string, types map[string][]string) string {
	m := metadata.NewManifest(version)
	for t, members := range types {
		for _, mem := range members {
			m.Add(t, mem)
		}
	}
	return string(m.Marshal())
}

const classMeta = `<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion><status>Active</status></ApexClass>`

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
