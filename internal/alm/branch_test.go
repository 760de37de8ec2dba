package alm

import "testing"

func TestBranchName(t *testing.T) {
	cases := []struct{ key, title, want string }{
		{"CRM-12", "Quote approvals & totals!", "feature/CRM-12-quote-approvals-totals"},
		{"SUBS-1", "Churn risk field, and riskiest-first renewals", "feature/SUBS-1-churn-risk-field-and-riskiest-first"},
		{"X-1", "¿¡!", "feature/X-1"},
		{"X-2", "  Émile's fix  ", "feature/X-2-mile-s-fix"},
	}
	for _, c := range cases {
		if got := BranchName(c.key, c.title); got != c.want {
			t.Errorf("BranchName(%q, %q) = %q, want %q", c.key, c.title, got, c.want)
		}
	}
}
