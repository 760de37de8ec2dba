package orgsim

import (
	"testing"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// TestCheckApexSemantics lists what the compiler rejects in everyday code,
// each with Salesforce's problem text and place, and code it must accept.
func TestCheckApexSemantics(t *testing.T) {
	sim, err := Start(Options{Orgs: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	o := sim.Orgs()[0]
	set := metadata.NewSet()
	class := func(name, src string) {
		set.Add(&metadata.Component{Type: metadata.DefaultRegistry.Type("ApexClass"), Name: name, Parts: []metadata.Part{{Name: name + ".cls", Data: []byte(src)}}})
	}
	class("Greeter", "public class Greeter {\n    public static String hi() { return 'hi'; }\n    public String greet(String name, Integer times) { return name; }\n}\n")
	class("Helper", "public class Helper {\n    public static void run() {}\n}\n")
	class("Base", "public virtual class Base extends Parent {\n}\n")
	set.Add(&metadata.Component{Type: metadata.DefaultRegistry.Type("CustomField"), Name: "Account.Tier__c"})
	o.mu.Lock()
	u := o.universeOf(set)
	o.mu.Unlock()

	wrap := func(body string) string {
		return "public class Subject {\n    public void run() {\n" + body + "\n    }\n}\n"
	}
	cases := []struct {
		name      string
		body      string
		line, col int
		problem   string
	}{
		{"Accepted", `        Integer a = 1, b = 2;
        Set<String> names = new Set<String>{ 'x',
            'y' };
        Map<Id, Account> byId = new Map<Id, Account>([SELECT Id, Tier__c FROM Account]);
        List<Account> accs = [SELECT Id FROM Account];
        for (Account acc : accs) {
            acc.Tier__c = 'Gold';
        }
        if (a > b)
            a = b;
        String s = 'a'
            + 'b';
        Decimal d = 1;
        Long l = 5;
        Object anything = 'x';
        Greeter g = new Greeter();
        String greeting = g.greet('x', 2);
        Base base = new Base();
        base.inherited();
        System.debug(Greeter.hi() + names.size() + b.format() + d.scale());
        Lead lead = new Lead(LastName = 'x', Company = 'y');
        Database.SaveResult r = Database.insert(lead, false);
        Schema.DescribeSObjectResult dr = Account.SObjectType.getDescribe();
        Test.startTest();
        Quiddity q = Request.getCurrent().getQuiddity();
        Helper.run();`, 0, 0, ""},
		// Not a near miss of anything the org has: perhaps a standard class
		// the simulator does not know, so it passes.
		{"UnknownButNotATypo", "        Zebrafish z = new Zebrafish();\n        Zebrafish.swim();", 0, 0, ""},
		{"MissingSemicolon", "        Integer a = 1\n        Integer b = 2;", 4, 9, "Missing ';' at 'Integer'"},
		{"MissingSemicolonBeforeAssignment", "        Integer a;\n        a = 1\n        a = 2;", 5, 9, "Missing ';' at 'a'"},
		{"UnknownTypeInDeclaration", "        Helpr h;", 3, 9, "Invalid type: Helpr"},
		{"UnknownTypeInNew", "        Object h = new Helpr();", 3, 24, "Invalid type: Helpr"},
		{"UnknownClassCalled", "        Helpr.run();", 3, 9, "Variable does not exist: Helpr"},
		{"UnknownMethod", "        Greeter.bye();", 3, 17, "Method does not exist or incorrect signature: void bye() from the type Greeter"},
		{"WrongArguments", "        Greeter.hi('x', 1);", 3, 17, "Method does not exist or incorrect signature: void hi(String, Integer) from the type Greeter"},
		{"WrongArgumentsOnAnInstance", "        Greeter g = new Greeter();\n        Integer n = 3;\n        g.greet(n);", 5, 11, "Method does not exist or incorrect signature: void greet(Integer) from the type Greeter"},
		{"UnknownCustomField", "        Account a = new Account();\n        a.Nope__c = 'x';", 4, 11, "Variable does not exist: Nope__c"},
		{"UnknownFieldInConstructor", "        Account a = new Account(Name = 'x', Nope__c = 'y');", 3, 45, "Invalid field Nope__c for Account"},
		{"StringIntoInteger", "        Integer n = 'five';", 3, 21, "Illegal assignment from String to Integer"},
		{"IntegerIntoString", "        String s;\n        s = 5;", 4, 13, "Illegal assignment from Integer to String"},
		{"DecimalIntoInteger", "        Integer n = 1.5;", 3, 21, "Illegal assignment from Decimal to Integer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line, col, problem, bad := checkApexSemantics(wrap(tc.body), "Subject", u)
			if bad != (tc.problem != "") || problem != tc.problem || line != tc.line || col != tc.col {
				t.Errorf("got %d:%d %q (bad=%v), want %d:%d %q", line, col, problem, bad, tc.line, tc.col, tc.problem)
			}
		})
	}
}

// TestAssertionFails: only assertions that cannot hold fail, with
// Salesforce's message; expressions are not judged.
func TestAssertionFails(t *testing.T) {
	cases := []struct {
		call  string
		fails bool
		msg   string
	}{
		{"System.assert(false, 'boom');", true, "boom"},
		{"System.assert(false);", true, ""},
		{"System.assert(x > 1, 'fine');", false, ""},
		{"System.assertEquals(2, 1 + 1);", false, ""},
		{"System.assertEquals('a' + 'b', 'ab');", false, ""},
		{"System.assertEquals(2, 3, 'sums');", true, "sums: Expected: 2, Actual: 3"},
		{"System.assertEquals('x', 'y');", true, "Expected: x, Actual: y"},
		{"System.assertEquals(2, 2.0);", false, ""},
		{"Assert.fail('not yet');", true, "not yet"},
		{"Assert.isTrue(false, 'it\\'s off');", true, "it's off"},
		{"Assert.areNotEqual(1, 1, 'same');", true, "same: Same value: 1"},
		{"Assert.areEqual(Greeter.hi(), 'hi');", false, ""},
	}
	for _, tc := range cases {
		msg, fails := assertionFails(tc.call)
		if fails != tc.fails || (fails && msg != tc.msg) {
			t.Errorf("%s: got %v %q, want %v %q", tc.call, fails, msg, tc.fails, tc.msg)
		}
	}
}
