// The board and list views of a project's plan.

package alm

import "time"

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
