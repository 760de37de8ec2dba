package alm

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// WorkKind is what sort of work an item is.
type WorkKind string

const (
	KindStory WorkKind = "story"
	KindBug   WorkKind = "bug"
	KindTask  WorkKind = "task"
	KindChore WorkKind = "chore"
)

// WorkKinds lists the kinds.
var WorkKinds = []WorkKind{KindStory, KindBug, KindTask, KindChore}

// WorkStatus is a work item's column on the board.
type WorkStatus string

const (
	WorkBacklog        WorkStatus = "backlog"
	WorkReady          WorkStatus = "ready"
	WorkInProgress     WorkStatus = "in_progress"
	WorkInReview       WorkStatus = "in_review"
	WorkReadyToPromote WorkStatus = "ready_to_promote"
	WorkInRelease      WorkStatus = "in_release"
	WorkDone           WorkStatus = "done"
)

// WorkStatuses lists the board's columns in order.
var WorkStatuses = []WorkStatus{WorkBacklog, WorkReady, WorkInProgress, WorkInReview, WorkReadyToPromote, WorkInRelease, WorkDone}

// Label is the column's name.
func (s WorkStatus) Label() string {
	switch s {
	case WorkInProgress:
		return "In progress"
	case WorkInReview:
		return "In review"
	case WorkReadyToPromote:
		return "Ready to promote"
	case WorkInRelease:
		return "In release"
	case "":
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Tone is the status's badge colour.
func (s WorkStatus) Tone() string {
	switch s {
	case WorkReady:
		return "info"
	case WorkInProgress:
		return "warn"
	case WorkInReview:
		return "violet"
	case WorkReadyToPromote, WorkInRelease:
		return "brand"
	case WorkDone:
		return "ok"
	}
	return ""
}

// Approach is how a work item will be built: declaratively (clicks,
// metadata), in code, or both.
type Approach string

const (
	ApproachDeclarative Approach = "declarative"
	ApproachCode        Approach = "code"
	ApproachBoth        Approach = "both"
)

// Approaches lists the approaches.
var Approaches = []Approach{ApproachDeclarative, ApproachCode, ApproachBoth}

// WorkItem is a piece of work that delivers requirements.
type WorkItem struct {
	ID              int64      `json:"id"`
	ProjectID       int64      `json:"project_id"`
	Key             string     `json:"key"`
	Kind            WorkKind   `json:"kind"`
	Title           string     `json:"title"`
	Description     string     `json:"description"`
	Status          WorkStatus `json:"status"`
	AssigneeID      *int64     `json:"assignee_id"`
	AssigneeName    string     `json:"assignee_name"`
	Estimate        *int       `json:"estimate"`
	Labels          []string   `json:"labels"`
	Approach        Approach   `json:"approach"`
	MaintenanceNote string     `json:"maintenance_note"`
	ReleaseID       *int64     `json:"release_id"`
	ReleaseName     string     `json:"release_name"`
	// ReturnedReason says why the item came back from a promotion or a
	// test stage; empty once it is signed off.
	ReturnedReason string    `json:"returned_reason,omitempty"`
	Requirements   []string  `json:"requirements"` // keys
	Rank           float64   `json:"-"`
	Version        int       `json:"version"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// WorkItemInput is the editable part of a work item.
type WorkItemInput struct {
	Kind            WorkKind
	Title           string
	Description     string
	AssigneeID      *int64
	Estimate        *int
	Labels          []string
	Approach        Approach
	MaintenanceNote string
	Requirements    []string // requirement keys
}

// Normalize trims text and defaults the kind.
func (in *WorkItemInput) Normalize() {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	in.MaintenanceNote = strings.TrimSpace(in.MaintenanceNote)
	in.Labels = NormalizeLabels(in.Labels)
	if in.Kind == "" {
		in.Kind = KindStory
	}
	var reqs []string
	for _, r := range in.Requirements {
		for _, p := range strings.FieldsFunc(r, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' }) {
			p = strings.ToUpper(strings.TrimSpace(p))
			if p != "" && !slices.Contains(reqs, p) {
				reqs = append(reqs, p)
			}
		}
	}
	in.Requirements = reqs
}

// Validate checks a work item's fields.
func (in WorkItemInput) Validate() error {
	f := map[string]string{}
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		f["title"] = "Give the work item a title."
	case n > 200:
		f["title"] = "Keep the title under 200 characters."
	}
	if !slices.Contains(WorkKinds, in.Kind) {
		f["kind"] = "Choose story, bug, task or chore."
	}
	if in.Approach != "" && !slices.Contains(Approaches, in.Approach) {
		f["approach"] = "Choose declarative, code or both."
	}
	if in.Estimate != nil && (*in.Estimate < 0 || *in.Estimate > 1000) {
		f["estimate"] = "Estimate in points from 0 to 1000."
	}
	if utf8.RuneCountInString(in.Description) > 50000 {
		f["description"] = "Keep the description under 50,000 characters."
	}
	if err := validateLabels(in.Labels); err != "" {
		f["labels"] = err
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

func statusIndex(s WorkStatus) int { return slices.Index(WorkStatuses, s) }

// CanMoveWorkItem checks a board move. Work goes forward a column at a
// time, may step back, and may always go back to the backlog. Starting
// work needs the plan step done (approach and maintenance note); going
// into a release needs one; done comes after the release.
func CanMoveWorkItem(w WorkItem, to WorkStatus) error {
	from := w.Status
	if from == to {
		return nil
	}
	ti, fi := statusIndex(to), statusIndex(from)
	if ti < 0 {
		return Errorf(CodeInvalid, "There is no %q column.", to)
	}
	if to != WorkBacklog && ti > fi+1 {
		return Errorf(CodeInvalid, "%s cannot jump from %s to %s: move it through %s first.", w.Key, from.Label(), to.Label(), WorkStatuses[fi+1].Label())
	}
	if ti == fi+1 {
		switch to {
		case WorkInProgress:
			var missing []string
			if w.Approach == "" {
				missing = append(missing, "the approach (declarative, code or both)")
			}
			if strings.TrimSpace(w.MaintenanceNote) == "" {
				missing = append(missing, "a maintenance note")
			}
			if len(missing) > 0 {
				return Invalid(map[string]string{"status": "Plan " + w.Key + " before starting it: add " + strings.Join(missing, " and ") + "."})
			}
		case WorkInRelease:
			if w.ReleaseID == nil {
				return Invalid(map[string]string{"status": w.Key + " needs a release before it can be in one."})
			}
		}
	}
	return nil
}

// RelStatus is where a release is.
type RelStatus string

const (
	RelPlanning  RelStatus = "planning"
	RelBuilding  RelStatus = "building"
	RelInTest    RelStatus = "in_test"
	RelApproved  RelStatus = "approved"
	RelReleased  RelStatus = "released"
	RelAbandoned RelStatus = "abandoned"
)

// RelStatuses lists release statuses in order.
var RelStatuses = []RelStatus{RelPlanning, RelBuilding, RelInTest, RelApproved, RelReleased, RelAbandoned}

// Label is the status as people say it.
func (s RelStatus) Label() string {
	switch s {
	case RelInTest:
		return "In test"
	case "":
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Tone is the status's badge colour.
func (s RelStatus) Tone() string {
	switch s {
	case RelBuilding:
		return "warn"
	case RelInTest:
		return "info"
	case RelApproved:
		return "violet"
	case RelReleased:
		return "ok"
	case RelAbandoned:
		return "bad"
	}
	return ""
}

var relMoves = map[[2]RelStatus]bool{
	{RelPlanning, RelBuilding}: true, {RelBuilding, RelPlanning}: true,
	{RelBuilding, RelInTest}: true, {RelInTest, RelBuilding}: true,
	{RelInTest, RelApproved}: true, {RelApproved, RelInTest}: true,
	{RelApproved, RelReleased}:  true,
	{RelPlanning, RelAbandoned}: true, {RelBuilding, RelAbandoned}: true, {RelInTest, RelAbandoned}: true, {RelApproved, RelAbandoned}: true,
	{RelAbandoned, RelPlanning}: true,
}

// CanMoveRelease checks a release status change; only release managers
// (and admins) move releases.
func CanMoveRelease(role Role, from, to RelStatus) error {
	if from == to {
		return nil
	}
	if !relMoves[[2]RelStatus{from, to}] {
		var next []string
		for _, s := range RelStatuses {
			if relMoves[[2]RelStatus{from, s}] {
				next = append(next, s.Label())
			}
		}
		msg := "A released release is final."
		if len(next) > 0 {
			msg = "It can move to: " + strings.Join(next, ", ") + "."
		}
		return Errorf(CodeInvalid, "A release cannot move from %s to %s. %s", from.Label(), to.Label(), msg)
	}
	if role != RoleAdmin && role != RoleReleaseManager {
		return Errorf(CodeForbidden, "Only release managers move releases.")
	}
	return nil
}

// Release groups work items for delivery.
type Release struct {
	ID          int64      `json:"id"`
	ProjectID   int64      `json:"project_id"`
	Name        string     `json:"name"`
	Version     string     `json:"version"`
	TargetDate  *time.Time `json:"target_date"`
	Status      RelStatus  `json:"status"`
	Notes       string     `json:"notes"` // Markdown; generated until edited
	NotesEdited bool       `json:"notes_edited"`
	Items       int        `json:"work_items"`
	Rev         int        `json:"revision"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// ReleaseInput is the editable part of a release.
type ReleaseInput struct {
	Name       string
	Version    string
	TargetDate *time.Time
}

// Validate checks a release's fields.
func (in *ReleaseInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.Version = strings.TrimSpace(in.Version)
	f := map[string]string{}
	if in.Name == "" {
		f["name"] = "Give the release a name."
	} else if utf8.RuneCountInString(in.Name) > 120 {
		f["name"] = "Keep the name under 120 characters."
	}
	if utf8.RuneCountInString(in.Version) > 40 {
		f["version"] = "Keep the version under 40 characters."
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

// NoteItem is a work item as release notes list it.
type NoteItem struct {
	Key          string
	Kind         WorkKind
	Title        string
	Requirements []NoteRequirement
}

// NoteRequirement is a requirement a release note item delivers.
type NoteRequirement struct {
	Key, Title, BusinessGoal string
}

// ReleaseNotes writes Markdown notes for a release from its work items
// and the requirements they deliver: features first, then fixes, then
// the rest.
func ReleaseNotes(r Release, items []NoteItem) string {
	var b strings.Builder
	title := r.Name
	if r.Version != "" {
		title += " (" + r.Version + ")"
	}
	b.WriteString("# " + title + "\n\n")
	if r.TargetDate != nil {
		b.WriteString("Target date: " + r.TargetDate.Format("2 January 2006") + "\n\n")
	}
	if len(items) == 0 {
		b.WriteString("No work items yet.\n")
		return b.String()
	}
	section := func(heading string, kinds ...WorkKind) {
		var rows []NoteItem
		for _, it := range items {
			if slices.Contains(kinds, it.Kind) {
				rows = append(rows, it)
			}
		}
		if len(rows) == 0 {
			return
		}
		b.WriteString("## " + heading + "\n\n")
		for _, it := range rows {
			b.WriteString("- **" + it.Key + "** " + escapeMD(it.Title))
			if len(it.Requirements) > 0 {
				var reqs []string
				for _, rq := range it.Requirements {
					reqs = append(reqs, rq.Key+" "+escapeMD(rq.Title))
				}
				b.WriteString(" — delivers " + strings.Join(reqs, "; "))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	section("New and changed", KindStory)
	section("Fixes", KindBug)
	section("Other work", KindTask, KindChore)
	var goals []NoteRequirement
	seen := map[string]bool{}
	for _, it := range items {
		for _, rq := range it.Requirements {
			if !seen[rq.Key] && rq.BusinessGoal != "" {
				seen[rq.Key] = true
				goals = append(goals, rq)
			}
		}
	}
	if len(goals) > 0 {
		b.WriteString("## Why\n\n")
		for _, g := range goals {
			b.WriteString("- " + g.Key + ": " + escapeMD(g.BusinessGoal) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// escapeMD keeps titles from turning into Markdown structure.
func escapeMD(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", "&lt;", "#", `\#`).Replace(s)
}
