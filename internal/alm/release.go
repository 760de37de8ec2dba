// Releases and their notes.

package alm

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

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
