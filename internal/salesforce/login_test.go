package salesforce

import (
	"strings"
	"testing"
)

func TestLoginURL(t *testing.T) {
	cases := []struct{ kind, domain, want, err string }{
		{"production", "", "https://login.salesforce.com", ""},
		{"sandbox", "", "https://test.salesforce.com", ""},
		{"mydomain", "acme", "https://acme.my.salesforce.com", ""},
		{"mydomain", "https://Acme--UAT.sandbox.my.salesforce.com/", "https://acme--uat.sandbox.my.salesforce.com", ""},
		{"mydomain", "acme.my.salesforce.com", "https://acme.my.salesforce.com", ""},
		{"mydomain", "evil.com/x", "", "My Domain"},
		{"mydomain", "", "", "My Domain"},
		{"mydomain", "a b", "", "My Domain"},
		{"staging", "", "", "choose production"},
	}
	for _, tc := range cases {
		got, err := LoginURL(tc.kind, tc.domain)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s %q: %q %v", tc.kind, tc.domain, got, err)
		}
	}
	// JWT audiences: sandboxes use test, production hosts login, others themselves.
	for in, want := range map[string]string{
		"https://login.salesforce.com": LoginProduction, "https://acme.my.salesforce.com": LoginProduction,
		"https://test.salesforce.com": LoginSandbox, "https://acme--uat.sandbox.my.salesforce.com": LoginSandbox,
		"http://127.0.0.1:7000": "http://127.0.0.1:7000",
	} {
		if got := audienceFor(in); got != want {
			t.Errorf("audience for %s: %s, want %s", in, got, want)
		}
	}
}
