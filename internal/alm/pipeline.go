package alm

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// TestLevels are the Metadata API's deploy test levels.
var TestLevels = []string{"NoTestRun", "RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg"}

// Stage is one step of a project's pipeline: an org (and optionally a
// branch) and the policy a promotion into it must meet.
type Stage struct {
	ID                 int64  `json:"id"`
	Position           int    `json:"position"`
	Name               string `json:"name"`
	OrgID              *int64 `json:"org_id"`
	OrgName            string `json:"org_name,omitempty"`
	Branch             string `json:"branch"`
	ApprovalsRequired  int    `json:"approvals_required"`
	ApproverRoles      []Role `json:"approver_roles"`
	NoSelfApproval     bool   `json:"no_self_approval"`
	ValidationRequired bool   `json:"validation_required"`
	TestLevel          string `json:"test_level"`
	CoverageThreshold  int    `json:"coverage_threshold"`
	ChangeWindows      string `json:"change_windows"` // e.g. "Mon-Fri 18:00-22:00; Sat 08:00-12:00"; empty: any time
	Frozen             bool   `json:"frozen"`
	FreezeReason       string `json:"freeze_reason,omitempty"`
	// BlockChecks is the static check severity that blocks promotions:
	// "" (none), "error", or "warning" (warnings and errors).
	BlockChecks string `json:"block_checks"`
	// DeveloperValidation lets developers validate their own work item's
	// change set against the stage; nil (not said) means yes, except for a
	// production org.
	DeveloperValidation *bool `json:"developer_validation"`
}

// DevValidates reports whether developers may validate against the stage.
func (s Stage) DevValidates() bool { return s.DeveloperValidation == nil || *s.DeveloperValidation }

var windowRe = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)(-(Mon|Tue|Wed|Thu|Fri|Sat|Sun))? ([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$`)

// ValidatePipeline checks a pipeline's stages; field errors are keyed
// "stages.N.field" (N from 0).
func ValidatePipeline(stages []Stage) error {
	f := map[string]string{}
	if len(stages) > 12 {
		f["stages"] = "Keep a pipeline to 12 stages."
	}
	names := map[string]bool{}
	for i, s := range stages {
		at := func(field string) string { return fmt.Sprintf("stages.%d.%s", i, field) }
		name := strings.TrimSpace(s.Name)
		switch {
		case name == "":
			f[at("name")] = "Name the stage, e.g. UAT."
		case utf8.RuneCountInString(name) > 40:
			f[at("name")] = "Keep the name under 40 characters."
		case names[strings.ToLower(name)]:
			f[at("name")] = "Two stages are called " + name + "."
		}
		names[strings.ToLower(name)] = true
		if s.ApprovalsRequired < 0 || s.ApprovalsRequired > 5 {
			f[at("approvals_required")] = "Ask for 0 to 5 approvals."
		}
		if s.ApprovalsRequired > 0 && len(s.ApproverRoles) == 0 {
			f[at("approver_roles")] = "Say which roles may approve."
		}
		for _, r := range s.ApproverRoles {
			if !slices.Contains(Roles, r) {
				f[at("approver_roles")] = fmt.Sprintf("There is no role %q.", r)
			}
		}
		if !slices.Contains(TestLevels, s.TestLevel) {
			f[at("test_level")] = "Choose NoTestRun, RunSpecifiedTests, RunLocalTests or RunAllTestsInOrg."
		}
		if !slices.Contains([]string{"", "error", "warning"}, s.BlockChecks) {
			f[at("block_checks")] = "Block on error, warning, or nothing."
		}
		if s.CoverageThreshold < 0 || s.CoverageThreshold > 100 {
			f[at("coverage_threshold")] = "Coverage is a percentage from 0 to 100."
		}
		for _, w := range strings.Split(s.ChangeWindows, ";") {
			if w = strings.TrimSpace(w); w != "" && !windowRe.MatchString(w) {
				f[at("change_windows")] = fmt.Sprintf("%q: write windows like \"Mon-Fri 18:00-22:00; Sat 08:00-12:00\".", w)
			}
		}
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}
