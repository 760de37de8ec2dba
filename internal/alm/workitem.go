// Work items: the stories, bugs, tasks and chores that deliver requirements,
// and the rule for moving them across the board.

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
	ReturnedReason string `json:"returned_reason,omitempty"`
	// FoundInID is the release a bug was found in: the one that last
	// changed the component the feedback it came from named.
	FoundInID    *int64    `json:"found_in_release_id,omitempty"`
	FoundInName  string    `json:"found_in_release_name,omitempty"`
	Requirements []string  `json:"requirements"` // keys
	Rank         float64   `json:"-"`
	Version      int       `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
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
