// The traceability matrix and search across a project's records.

package alm

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
