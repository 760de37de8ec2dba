package alm

import "time"

// Read models of the Plan stage: shapes the store fills for lists, the
// board, the matrix, search and lineage, and the pages and API show.

// MatrixRow is one requirement of the traceability matrix: how many of
// its work items stand at each board status, and the releases carrying
// them.
type MatrixRow struct {
	Key           string          `json:"key"`
	Title         string          `json:"title"`
	Status        ReqStatus       `json:"status"`
	Priority      Priority        `json:"priority"`
	Owner         string          `json:"owner"`
	CriteriaMet   int             `json:"criteria_met"`
	CriteriaTotal int             `json:"criteria_total"`
	OpenQuestions int             `json:"open_questions"`
	ByStatus      []int           `json:"work_items_by_status"` // in WorkStatuses order
	Releases      []MatrixRelease `json:"releases"`
}

// Items is the number of work items linked to the requirement.
func (m MatrixRow) Items() int {
	n := 0
	for _, c := range m.ByStatus {
		n += c
	}
	return n
}

// MatrixRelease is a release carrying some of a requirement's work.
type MatrixRelease struct {
	ID     int64     `json:"id"`
	Name   string    `json:"name"`
	Status RelStatus `json:"status"`
}

// SearchHit is a requirement or work item matching a search.
type SearchHit struct {
	Kind    string  `json:"kind"` // requirement or work_item
	Key     string  `json:"key"`
	Title   string  `json:"title"`
	Status  string  `json:"status"`
	Project string  `json:"project"`
	Rank    float32 `json:"rank"`
}

// Lineage is a requirement's place in the chain requirement → work item →
// component change → release build → promotion → deployment → org. Later
// stages fill the links past the release; until then they are empty.
type Lineage struct {
	Requirement LineageRequirement `json:"requirement"`
	WorkItems   []LineageItem      `json:"work_items"`
	Releases    []LineageRelease   `json:"releases"`
}

// LineageRequirement is the head of the chain.
type LineageRequirement struct {
	Key     string    `json:"key"`
	Title   string    `json:"title"`
	Status  ReqStatus `json:"status"`
	Project string    `json:"project"`
}

// LineageItem is a work item delivering the requirement.
type LineageItem struct {
	Key              string             `json:"key"`
	Title            string             `json:"title"`
	Kind             WorkKind           `json:"kind"`
	Status           WorkStatus         `json:"status"`
	Assignee         string             `json:"assignee"`
	ReleaseID        *int64             `json:"release_id"`
	ComponentChanges []LineageComponent `json:"component_changes"`
}

// LineageRelease is a release carrying some of the requirement's work.
type LineageRelease struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Status      RelStatus `json:"status"`
	WorkItems   []string  `json:"work_items"`
	Builds      []any     `json:"builds"`
	Deployments []any     `json:"deployments"`
}

// Column is one board column: its work-in-progress count and the top of
// its cards by rank.
type Column struct {
	Status WorkStatus `json:"status"`
	Count  int        `json:"count"`
	Points int        `json:"points"`
	Items  []WorkItem `json:"items"`
}

// ReqRow is a requirement in a list, with its delivery counts.
type ReqRow struct {
	Requirement
	Items     int `json:"work_items"`
	ItemsDone int `json:"work_items_done"`
}

// Event is one entry of a record's timeline.
type Event struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Kind    string    `json:"kind"`
	Summary string    `json:"summary"`
	Subject string    `json:"subject,omitempty"` // the record's key or name, in project-wide lists
}

// Page is one page of a keyset-paginated list. Next is the cursor for the
// page after it, empty on the last page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next_cursor,omitempty"`
}

// LineageComponent is a component a work item changes.
type LineageComponent struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Change string `json:"change"`
	Hash   string `json:"hash,omitempty"`
}
