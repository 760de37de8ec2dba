package orgsim

import (
	"strings"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
)

func TestCheckApex(t *testing.T) {
	cases := []struct {
		name      string
		src       string
		trigger   bool
		line, col int
		problem   string
	}{
		{"OK", "public class A {\n    void f() { for (Integer i = 0; i < 3; i++) { String s = 'x;}'; } }\n}\n", false, 0, 0, ""},
		{"Comments", "/* a { */ public class A { // }\n}\n", false, 0, 0, ""},
		{"UnclosedBrace", "public class A {\n    void f() {\n}\n", false, 4, 1, "Missing '}' at '<EOF>'"},
		{"ExtraBrace", "public class A {\n}\n}\n", false, 3, 1, "Extra '}', at '}'."},
		{"MissingParen", "public class A {\n  void f() { Integer x = (1 + 2; }\n}", false, 2, 32, "Missing ')' at ';'"},
		{"Mismatched", "public class A {\n  void f() { g(1]; }\n}", false, 2, 17, "Missing ')' at ']'"},
		{"UnterminatedString", "public class A {\n  String s = 'abc;\n}", false, 2, 14, "Unexpected token '''."},
		{"UnterminatedComment", "public class A {\n /* never ends\n}", false, 2, 2, "Unexpected token '/*'."},
		{"NoClass", "public void orphan() {}\n", false, 1, 22, "Unexpected token 'public'."},
		{"Trigger", "trigger T on Account (before insert) {\n}\n", true, 0, 0, ""},
		{"ClassAsTrigger", "public class A {}\n", true, 1, 16, "Unexpected token 'public'."},
		{"NothingDeclared", "// only a comment\n", false, 1, 1, "Expecting a class, interface or enum declaration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line, col, problem, bad := checkApex(tc.src, tc.trigger)
			if bad != (tc.problem != "") || line != tc.line || col != tc.col || problem != tc.problem {
				t.Errorf("got %d:%d %q (bad=%v), want %d:%d %q", line, col, problem, bad, tc.line, tc.col, tc.problem)
			}
		})
	}
}

func TestParseSOQL(t *testing.T) {
	cases := []struct {
		q   string
		err string
	}{
		{"SELECT Id, Name FROM Account", ""},
		{"select id from account where name = 'O\\'Brien' and (NumberOfEmployees > 10 or Industry in ('Banking','Retail')) order by Name desc nulls last limit 5 offset 2", ""},
		{"SELECT COUNT() FROM Contact WHERE Account.Name LIKE 'Acme%'", ""},
		{"SELECT Id FROM Account WHERE CreatedDate > 2026-01-01T00:00:00Z AND LastModifiedDate < LAST_N_DAYS:30", ""},
		{"SELECT Id FROM Account WHERE NOT Name = null", ""},
		{"SELECT FROM Account", "MALFORMED_QUERY"},
		{"SELECT Id FROM", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE Name = 'unterminated", "MALFORMED_QUERY"},
		{"SELECT Id, (SELECT Id FROM Contacts) FROM Account", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account LIMIT -1", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account ORDER Name", "MALFORMED_QUERY"},
	}
	for _, tc := range cases {
		_, err := parseSOQL(tc.q)
		got := ""
		if qe, ok := err.(*queryError); ok {
			got = qe.code
		} else if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("%s: got %q want %q (%v)", tc.q, got, tc.err, err)
		}
	}
}

func TestQueryEvaluation(t *testing.T) {
	sim, err := Start(Options{Orgs: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	o := sim.Orgs()[0]
	run := func(q string) ([]*orderedRecord, error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		p, err := parseSOQL(q)
		if err != nil {
			return nil, err
		}
		tbl, err := o.tableFor(p.from, false, false)
		if err != nil {
			return nil, err
		}
		_, out, err := tbl.run(p)
		return out, err
	}
	cases := []struct {
		q     string
		count int
		first string // the first row's first selected field
	}{
		{"SELECT Name FROM Account ORDER BY Name", 20, "Acme Corporation"},
		{"SELECT Name FROM Account ORDER BY Name DESC LIMIT 1", 1, "Wonka Foods"},
		{"SELECT Name FROM Account WHERE Industry IN ('Banking') ORDER BY Name", 3, "Cyberdyne Systems"},
		{"SELECT Name FROM Account WHERE NumberOfEmployees >= 900", 3, ""},
		{"SELECT Name FROM Account WHERE name like '%dyn%' ORDER BY Name DESC", 2, "Massive Dynamic"},
		{"SELECT Name FROM Account WHERE NOT Industry = 'Banking'", 17, ""},
		{"SELECT LastName FROM Contact WHERE Account.Name = 'Acme Corporation' ORDER BY LastName", 2, "Lovelace"},
		{"SELECT Name FROM Account WHERE CreatedDate > 2026-01-15T00:00:00Z", 10, ""},
		{"SELECT Name FROM Account WHERE CreatedDate >= 2026-01-15", 10, ""},
		{"SELECT Name FROM Account WHERE CreatedDate < 2026-01-15", 10, ""},
		{"SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1", 2, "Cyberdyne Systems"},
	}
	for _, tc := range cases {
		out, err := run(tc.q)
		if err != nil || len(out) != tc.count {
			t.Errorf("%s: %v, %d rows, want %d", tc.q, err, len(out), tc.count)
			continue
		}
		if tc.first != "" && out[0].vals[1] != tc.first {
			t.Errorf("%s: first row %v, want %s", tc.q, out[0].vals[1], tc.first)
		}
	}
	if _, err := run("SELECT Nope FROM Account"); err == nil || !strings.Contains(err.Error(), "No such column 'Nope' on entity 'Account'") {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := run("SELECT Id FROM Account WHERE Owner.Nope = 'x'"); err == nil {
		t.Error("unknown relationship field should fail")
	}
}

// An org's metadata, records and sessions outlive the process.
func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	sim, err := Start(Options{Orgs: []string{"prod"}, DataDir: dir, Step: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	o := sim.Orgs()[0]
	id, pw, client, key := o.ID(), o.Password(), o.ClientID(), o.JWTKey()
	tok := o.NewSession()
	if err := o.ChangeInSetup(SetupChange{Type: "CustomField", FullName: "Account.Tier__c",
		XML: "<fields><fullName>Tier__c</fullName><label>Tier</label><type>Text</type><length>20</length></fields>", User: "Ada Admin"}); err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	o.st.Records["Account"][0]["Name"] = "Renamed Corp"
	o.saveLocked()
	o.mu.Unlock()
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}

	sim, err = Start(Options{Orgs: []string{"prod"}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	o = sim.Orgs()[0]
	if o.ID() != id || o.Password() != pw || o.ClientID() != client || !o.JWTKey().Equal(key) || o.Kind() != Production {
		t.Fatal("the org's identity changed across a restart")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.st.Sessions[tok]; !ok {
		t.Error("sessions should survive")
	}
	if o.set.Get(metadata.Key{Type: "CustomField", Name: "Account.Tier__c"}) == nil {
		t.Error("metadata changed in Setup should survive")
	}
	if d := o.schema("Account"); d.field("Tier__c") == nil {
		t.Error("a deployed field should be queryable")
	}
	if o.st.Records["Account"][0]["Name"] != "Renamed Corp" {
		t.Error("records should survive")
	}
	if len(o.st.Audit) != 1 || o.st.Audit[0]["Action"] != "createdCustomField" || o.st.Audit[0]["Display"] != "Created CustomField Account.Tier__c" {
		t.Errorf("audit trail: %+v", o.st.Audit)
	}
	if m := o.st.Meta[metaKey(metadata.Key{Type: "CustomField", Name: "Account.Tier__c"})]; m == nil || m.ModifiedBy != "Ada Admin" || !strings.HasPrefix(m.ID, "00N") {
		t.Errorf("listMetadata info: %+v", m)
	}
}

func TestIDs(t *testing.T) {
	// The case-safe suffix of a known id (from a recorded answer).
	if got := caseSuffix("0Af3D00001NVD0T"); got != "SAX" {
		t.Errorf("suffix %s", got)
	}
	if id := newID("001", 1); len(id) != 18 || !strings.HasPrefix(id, "001") || !sameID(id, id[:15]) {
		t.Errorf("id %s", id)
	}
	if kindFor("prod") != Production || kindFor("Dev") != Developer || kindFor("uat") != Sandbox {
		t.Error("kinds")
	}
}
