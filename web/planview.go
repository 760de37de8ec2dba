package web

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/a-h/templ"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/markdown"
)

// ProjectCard is a project in the Plan home list.
type ProjectCard struct {
	Project      alm.Project
	Requirements int
	WorkItems    int
	OpenItems    int
	Releases     int
	MemberRole   string // label, "" for non-members
}

// ProjectsView is the Plan home: every project.
type ProjectsView struct {
	Page      Page
	Projects  []ProjectCard
	CanCreate bool
}

// ProjectFormView creates a project.
type ProjectFormView struct {
	Page Page
	Form Form
}

// Scope is the project a page is in and what the viewer may do there.
type Scope struct {
	Project         alm.Project
	Role            alm.Role
	Tab             string
	CanEditReqs     bool
	CanMoveReqs     bool
	CanComment      bool
	CanEditItems    bool
	CanManageRel    bool
	CanManageMember bool
}

// Base is the project's URL prefix.
func (s Scope) Base() string { return "/projects/" + s.Project.Key }

// Option is one choice of a select.
type Option struct {
	Value, Label string
}

// ProjectHomeView is a project's overview.
type ProjectHomeView struct {
	Page      Page
	Scope     Scope
	ReqCounts []StatusCount // requirements by status
	Board     []alm.Column
	Releases  []alm.Release
	Activity  []alm.Event
}

// StatusCount is one bar of a status chart.
type StatusCount struct {
	Label string
	Tone  string
	Count int
	Href  string
}

// Segment is one piece of a stacked bar drawn in SVG (CSP forbids
// inline styles, so widths are SVG attributes on a 0–1000 scale).
type Segment struct {
	X, W  int
	Tone  string
	Title string
}

// Segments lays counts out along a 1000-unit bar.
func Segments(rows []StatusCount) []Segment {
	total := 0
	for _, r := range rows {
		total += r.Count
	}
	var out []Segment
	x := 0
	for _, r := range rows {
		if r.Count == 0 || total == 0 {
			continue
		}
		w := r.Count * 1000 / total
		if w < 4 {
			w = 4
		}
		out = append(out, Segment{X: x, W: w, Tone: r.Tone, Title: fmt.Sprintf("%s: %d", r.Label, r.Count)})
		x += w
	}
	return out
}

// Percent is count as a share of total, for bar widths.
func Percent(count, total int) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.2f%%", float64(count)*100/float64(total))
}

// RequirementsView lists a project's requirements.
type RequirementsView struct {
	Page    Page
	Scope   Scope
	Rows    []alm.ReqRow
	Next    string
	Filter  Form // status, owner, label, release, q, sort
	Owners  []Option
	Release []Option
	Query   url.Values
}

// RequirementFormView creates or edits a requirement.
type RequirementFormView struct {
	Page        Page
	Scope       Scope
	Form        Form
	Requirement *alm.Requirement // nil when creating
	Users       []Option
	Releases    []Option
	Conflict    *alm.Requirement // what is saved now, after a conflicting edit
}

// RequirementView is a requirement's page.
type RequirementView struct {
	Tracker     *TrackerCard // the issue it is linked to in the project's tracker
	Page        Page
	Scope       Scope
	Requirement alm.Requirement
	Comments    []alm.Comment
	OpenAsks    []alm.Comment // open questions and change requests
	Items       []alm.WorkItem
	Releases    []alm.Release
	Versions    []alm.SpecVersion
	Timeline    []alm.Event
	NextStatus  []alm.ReqStatus
	Form        Form // the comment form, kept on error
	CanAnswer   bool
	Stages      map[string]string // work item key → furthest stage deployed
	Components  []alm.ReqComponent
}

// SpecDiffView compares two spec versions.
type SpecDiffView struct {
	Page        Page
	Scope       Scope
	Requirement alm.Requirement
	From, To    alm.SpecVersion
	Lines       []DiffLine
	Versions    []alm.SpecVersion
}

// DiffLine is one line of a unified diff: Op is ' ', '+' or '-'.
type DiffLine struct {
	Op   byte
	Text string
}

// Class is the line's CSS class.
func (d DiffLine) Class() string {
	switch d.Op {
	case '+':
		return "diff-add"
	case '-':
		return "diff-del"
	}
	return "diff-ctx"
}

// BoardView is a project's board.
type BoardView struct {
	Page      Page
	Scope     Scope
	Columns   []alm.Column
	Filter    Form
	Assignees []Option
	Reqs      []Option
	Releases  []Option
	PerColumn int
	Query     string // the filter as a query string, kept across moves
}

// WorkItemsView lists a project's work items.
type WorkItemsView struct {
	Page      Page
	Scope     Scope
	Items     []alm.WorkItem
	Next      string
	Filter    Form
	Assignees []Option
	Releases  []Option
	Query     url.Values
}

// WorkItemFormView creates or edits a work item.
type WorkItemFormView struct {
	Page     Page
	Scope    Scope
	Form     Form
	Item     *alm.WorkItem
	Users    []Option
	Conflict *alm.WorkItem
}

// WorkItemView is a work item's page.
type WorkItemView struct {
	NewBranch   string       // the name "Start branch" would give
	Tracker     *TrackerCard // the issue it is linked to in the project's tracker
	Page        Page
	Scope       Scope
	Item        alm.WorkItem
	Reqs        []alm.Requirement
	Releases    []alm.Release // open releases it could join
	Timeline    []alm.Event
	Captured    []alm.CapturedComponent // current first, then history
	Validations []alm.Validation        // of builds carrying its components
	CanPromote  bool
	Stage       string // the furthest pipeline stage it is deployed in
	// Version control, for a git-backed project.
	Git          alm.ProjectGit
	Branch       alm.WorkBranch
	BranchStatus *alm.BranchStatus // nil when it could not be read
	BranchError  string
	CanBranch    bool
	// BranchChanges is the branch's change set against its base.
	BranchChanges []BranchChange
	// Stages are the pipeline's stages to promote the branch into;
	// Merges the promotions that merged it so far, newest first.
	Stages []alm.Stage
	Merges []alm.Promotion
	// Sandboxes are the orgs to pick the work item's changes from.
	Sandboxes []Option
	// ValidateStages are the stages a developer may validate the work
	// item's change set against.
	ValidateStages []alm.Stage
}

// BranchChange is one component a work item's branch changes.
type BranchChange struct {
	Type, Name string
	Change     string // added, changed, deleted
}

// ReleasesView lists a project's releases.
type ReleasesView struct {
	Page     Page
	Scope    Scope
	Releases []alm.Release
}

// ReleaseFormView creates or edits a release.
type ReleaseFormView struct {
	Page    Page
	Scope   Scope
	Form    Form
	Release *alm.Release
}

// ReleaseView is a release's page.
type ReleaseView struct {
	Page      Page
	Scope     Scope
	Release   alm.Release
	Items     []alm.WorkItem
	NotesHTML string
	Next      []alm.RelStatus
	Timeline  []alm.Event
	AddForm   Form
	Builds    []alm.Build
	Conflicts []BuildConflict // shown when a build was refused for them
	BuildErr  string
}

// BuildConflict is a component captured differently by several work
// items, with the choice to make.
type BuildConflict struct {
	Key, Type, Name string
	Options         []string // work item keys
}

// MatrixView is the traceability matrix.
type MatrixView struct {
	Page     Page
	Scope    Scope
	Rows     []alm.MatrixRow
	Next     string
	Filter   Form
	Releases []Option
	Query    url.Values
}

// SearchView shows search results.
type SearchView struct {
	Page  Page
	Scope Scope
	Q     string
	Hits  []alm.SearchHit
}

// MembersView lists a project's members.
type MembersView struct {
	Page    Page
	Scope   Scope
	Members []alm.Member
	Users   []Option
	Form    Form
	Roles   []RoleOption
}

// Markdown renders user text to safe HTML.
func Markdown(src string) templ.Component { return templ.Raw(markdown.HTML(src)) }

// HrefWith returns path with q's values and key set to value (or removed
// when value is empty), for filter and pagination links.
func HrefWith(path string, q url.Values, key, value string) templ.SafeURL {
	v := url.Values{}
	for k, vs := range q {
		v[k] = append([]string(nil), vs...)
	}
	if key != "after" {
		v.Del("after")
	}
	if value == "" {
		v.Del(key)
	} else {
		v.Set(key, value)
	}
	if len(v) == 0 {
		return templ.SafeURL(path)
	}
	return templ.SafeURL(path + "?" + v.Encode())
}

// SortHeader is a sortable column heading's link and its aria-sort.
func SortState(q url.Values, key, def string) string {
	cur := q.Get("sort")
	if cur == "" {
		cur = def
	}
	if cur == key {
		return "descending"
	}
	return "none"
}

// KindTone is a work item kind's badge colour.
func KindTone(k alm.WorkKind) string {
	switch k {
	case alm.KindBug:
		return "bad"
	case alm.KindStory:
		return "brand"
	case alm.KindChore:
		return ""
	}
	return "info"
}

// PriorityTone is a priority's badge colour.
func PriorityTone(p alm.Priority) string {
	switch p {
	case alm.PriorityCritical:
		return "bad"
	case alm.PriorityHigh:
		return "warn"
	case alm.PriorityLow:
		return ""
	}
	return "info"
}

// Title capitalises a lower-case word for labels.
func Title(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
}

// Heat is a matrix cell's shade for a count.
func Heat(n int) string {
	switch {
	case n == 0:
		return "heat-0"
	case n < 3:
		return "heat-1"
	case n < 10:
		return "heat-2"
	}
	return "heat-3"
}

// Itoa formats an int.
func Itoa(n int) string { return fmt.Sprint(n) }

// SelectField renders a labelled select.
func selected(f Form, name, value string) bool { return f.Value(name) == value }

// Reach is one step of a requirement's way to production, for the
// delivery rail on its page.
type Reach struct {
	Label string
	Done  bool
}

// ReachOf says how far a requirement has got: spec accepted, work
// planned, built, ready to promote, in a release, released, delivered.
// Later stages (build, promotion, deployment) add their steps here.
func ReachOf(r alm.Requirement, items []alm.WorkItem, rels []alm.Release) []Reach {
	at := func(s alm.WorkStatus) int { return slices.Index(alm.WorkStatuses, s) }
	all := func(ok func(alm.WorkItem) bool) bool {
		if len(items) == 0 {
			return false
		}
		for _, it := range items {
			if !ok(it) {
				return false
			}
		}
		return true
	}
	relStatus := map[int64]alm.RelStatus{}
	for _, rel := range rels {
		relStatus[rel.ID] = rel.Status
	}
	accepted := r.Status == alm.ReqAccepted || r.Status == alm.ReqInDelivery || r.Status == alm.ReqDelivered || r.Status == alm.ReqClosed
	started := false
	for _, it := range items {
		if at(it.Status) >= at(alm.WorkInProgress) {
			started = true
		}
	}
	return []Reach{
		{"Accepted", accepted},
		{"Planned", len(items) > 0},
		{"Started", started},
		{"Ready", all(func(it alm.WorkItem) bool { return at(it.Status) >= at(alm.WorkReadyToPromote) })},
		{"In release", all(func(it alm.WorkItem) bool { return it.ReleaseID != nil })},
		{"Released", all(func(it alm.WorkItem) bool { return it.ReleaseID != nil && relStatus[*it.ReleaseID] == alm.RelReleased })},
		{"Delivered", r.Status == alm.ReqDelivered || r.Status == alm.ReqClosed},
	}
}

// StepFrom is the board column dir steps (-1 or +1) from s, or "".
func StepFrom(s alm.WorkStatus, dir int) alm.WorkStatus {
	i := slices.Index(alm.WorkStatuses, s) + dir
	if i < 0 || i >= len(alm.WorkStatuses) {
		return ""
	}
	return alm.WorkStatuses[i]
}
