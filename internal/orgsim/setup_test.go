package orgsim

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// TestSetupPage: the org's own Setup page shows its admin's credentials
// and makes the changes a person makes by hand — a field, an Apex class —
// recorded with who made them.
func TestSetupPage(t *testing.T) {
	sim, err := Start(Options{Orgs: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	o := sim.Org("dev")
	base := o.Info().LoginURL
	res, err := http.Get(base + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), o.Username()) || !strings.Contains(string(body), o.Password()) {
		t.Fatalf("the page shows the admin's credentials: %d %s", res.StatusCode, body)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(v url.Values) *http.Response {
		t.Helper()
		res, err := noRedirect.PostForm(base+"/setup", v)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if r := post(url.Values{"action": {"field"}, "user": {"Dana Dev"}, "object": {"Account"}, "name": {"Tier"}, "label": {"Tier"}, "type": {"Text"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("field: %d", r.StatusCode)
	}
	if r := post(url.Values{"action": {"apex"}, "user": {"Dana Dev"}, "name": {"Renewals"}, "body": {"public class Renewals {\r\n}\r\n"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("apex: %d", r.StatusCode)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	f := o.set.Get(metadata.Key{Type: "CustomField", Name: "Account.Tier__c"})
	c := o.set.Get(metadata.Key{Type: "ApexClass", Name: "Renewals"})
	if f == nil || c == nil {
		t.Fatalf("field %v, class %v", f != nil, c != nil)
	}
	if m := o.st.Meta[metaKey(f.Key())]; m == nil || m.ModifiedBy != "Dana Dev" {
		t.Fatalf("who changed the field: %+v", m)
	}
	if string(c.Parts[0].Data) != "public class Renewals {\n}\n" {
		t.Fatalf("class body %q", c.Parts[0].Data)
	}
}
