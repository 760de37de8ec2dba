package web

import (
	"fmt"
	"strings"
	"time"
)

// Page is what the layout needs on every page.
type Page struct {
	Title   string
	Section string // which navigation entry is current
	Crumbs  []Crumb
	User    *UserView // nil when nobody is signed in
	CSRF    string
	Flash   *Flash
	Version string
	Now     time.Time
	// OpenAlerts counts unresolved alerts, shown on the Maintain entry.
	OpenAlerts int
	// DemoSettingUp shows a banner while the demo still seeds.
	DemoSettingUp bool
}

// Crumb is one step of the breadcrumb trail; the last has no link.
type Crumb struct {
	Label string
	Href  string
}

// UserView is the signed-in user as the layout shows them.
type UserView struct {
	ID        int64
	Name      string
	Email     string
	Role      string
	RoleLabel string
	Admin     bool
}

// Initials returns up to two letters for the avatar.
func (u UserView) Initials() string {
	return Initials(u.Name)
}

// Initials returns up to two upper-case initials of name.
func Initials(name string) string {
	var out []rune
	for _, f := range strings.Fields(name) {
		for _, r := range f {
			out = append(out, []rune(strings.ToUpper(string(r)))...)
			break
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // ok, bad, warn, info
	Message string
}

// Form carries a form's submitted values and per-field errors, so an
// invalid form re-renders with what the user typed.
type Form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string // a form-wide error
}

// Value returns the submitted value of field k.
func (f Form) Value(k string) string { return f.Values[k] }

// Error returns the error message for field k, or "".
func (f Form) Error(k string) string { return f.Errors[k] }

// Checked reports whether checkbox k was ticked.
func (f Form) Checked(k string) bool { v := f.Values[k]; return v == "on" || v == "true" || v == "1" }

// NavItem is one entry of the lifecycle navigation.
type NavItem struct {
	Key   string
	Label string
	Href  string
	Step  int
	Icon  string
	Blurb string
}

// Lifecycle lists the seven stages in order; Overview and the stage pages
// are built from it.
var Lifecycle = []NavItem{
	{Key: "plan", Label: "Plan", Href: "/plan", Step: 1, Icon: "plan", Blurb: "Requirements, discussion, work items and releases."},
	{Key: "develop", Label: "Develop", Href: "/develop", Step: 2, Icon: "develop", Blurb: "Connected orgs and repositories, snapshots, comparisons, capture."},
	{Key: "test", Label: "Test", Href: "/test", Step: 3, Icon: "test", Blurb: "Validation deploys, Apex test runs and static checks per work item."},
	{Key: "build", Label: "Build", Href: "/build", Step: 4, Icon: "build", Blurb: "Release builds: one immutable, deployable package per release."},
	{Key: "release", Label: "Release", Href: "/release", Step: 5, Icon: "release", Blurb: "Promotions through stages behind approvals; deploy and roll back."},
	{Key: "maintain", Label: "Maintain", Href: "/maintain", Step: 6, Icon: "maintain", Blurb: "Backups, drift monitoring, regression runs, feedback and metrics."},
}

// Flow lists the seven lifecycle stages for the overview picture; "test the
// build" happens in Test and Release, so it has no navigation entry.
var Flow = []NavItem{
	{Key: "plan", Label: "Plan", Href: "/plan", Step: 1, Icon: "plan", Blurb: "Requirements with discussion and acceptance criteria; work items; releases."},
	{Key: "develop", Label: "Develop", Href: "/develop", Step: 2, Icon: "develop", Blurb: "Compare orgs and branches; capture changed components onto work items."},
	{Key: "test", Label: "Test", Href: "/test", Step: 3, Icon: "test", Blurb: "Check-only deploys, Apex tests and static checks per work item."},
	{Key: "build", Label: "Build", Href: "/build", Step: 4, Icon: "build", Blurb: "One immutable package per release, with conflicts and dependencies checked."},
	{Key: "test-build", Label: "Test the build", Href: "/release", Step: 5, Icon: "test", Blurb: "Promote into UAT; QA and UAT sign-off; regression runs."},
	{Key: "release", Label: "Release", Href: "/release", Step: 6, Icon: "release", Blurb: "Approval gates, deploy or quick deploy, notes, one-click rollback."},
	{Key: "maintain", Label: "Maintain", Href: "/maintain", Step: 7, Icon: "maintain", Blurb: "Backups and restore, drift alerts, feedback, delivery metrics."},
}

// When formats a timestamp for tables: relative when recent, else a date.
func When(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return t.Local().Format("2 Jan 2006 15:04")
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	case d < 7*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
	return t.Local().Format("2 Jan 2006")
}

// WhenPtr is When for optional timestamps; nil reads "never".
func WhenPtr(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return When(*t, now)
}

// Stamp formats an exact timestamp (for titles and the audit log).
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func itoa(n int64) string { return fmt.Sprint(n) }
