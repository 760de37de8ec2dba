package checks

import (
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	files := []File{
		{Component: "ApexClass Quotes", Type: "ApexClass", Path: "classes/Quotes.cls", Data: []byte(`public class Quotes {
    public static void recalc(List<Quote> quotes) {
        Id pricebook = '01s5g00000ABCDeAAH';
        for (Quote q : quotes) {
            List<QuoteLineItem> items = [SELECT Id FROM QuoteLineItem WHERE QuoteId = :q.Id];
            update q;
        }
        update quotes; // outside the loop: fine
    }
}`)},
		{Component: "ApexClass Quotes", Type: "ApexClass", Path: "classes/Quotes.cls-meta.xml", Data: []byte(`<ApexClass><apiVersion>45.0</apiVersion></ApexClass>`)},
		{Component: "ApexClass Helper", Type: "ApexClass", Path: "classes/Helper.cls", Data: []byte("public class Helper { String s = 'Hello world!!!'; }")},
		{Component: "ApexClass HelperTest", Type: "ApexClass", Path: "classes/HelperTest.cls", Data: []byte("@isTest class HelperTest { static void t() { new Helper(); } }")},
		{Component: "Flow Approve", Type: "Flow", Path: "flows/Approve.flow", Data: []byte(`<Flow><stringValue>"0055g00000XyZaBAAV"</stringValue></Flow>`)},
		{Component: "Profile Admin", Type: "Profile", Path: "profiles/Admin.profile", Data: []byte(`<Profile/>`)},
	}
	got := Run(files, []string{"Quotes", "Helper"}, Options{OrgAPIVersion: "64.0"})
	count := map[string]int{}
	for _, f := range got {
		count[f.Rule]++
	}
	want := map[string]int{"hardcoded-id": 2, "soql-dml-in-loop": 2, "old-api-version": 1, "untested-apex": 1, "profile-edit": 1}
	for rule, n := range want {
		if count[rule] != n {
			t.Errorf("%s: %d findings, want %d (%+v)", rule, count[rule], n, got)
		}
	}
	for _, f := range got {
		if f.Rule == "untested-apex" && f.Component != "ApexClass Quotes" {
			t.Errorf("Helper has a test class: %+v", f)
		}
		if f.Rule == "soql-dml-in-loop" && f.Line != 5 && f.Line != 6 {
			t.Errorf("loop finding on line %d", f.Line)
		}
	}
}
