// Lineage: the chain from a requirement through its work items, components,
// builds and deployments to the orgs they reached.

package alm

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

// LineageComponent is a component a work item changes.
type LineageComponent struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Change string `json:"change"`
	Hash   string `json:"hash,omitempty"`
}
