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

// Lineage graph columns, left to right.
const (
	ColRequirement = iota
	ColWorkItem
	ColComponent
	ColBuild
	ColPromotion
	ColDeployment
	ColOrg
)

// LineageColumns name the graph's columns.
var LineageColumns = []string{"Requirements", "Work items", "Components", "Builds", "Promotions", "Deployments", "Orgs"}

// GraphNode is one record in a lineage graph.
type GraphNode struct {
	ID     string `json:"id"` // kind:key, unique in the graph
	Column int    `json:"column"`
	Label  string `json:"label"`
	Detail string `json:"detail,omitempty"`
	Status string `json:"status,omitempty"`
	Href   string `json:"href"`
}

// GraphEdge links two nodes, left to right.
type GraphEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Graph is the chain requirement → work item → component → build →
// promotion → deployment → org around one record, both ways.
type Graph struct {
	Root  string      `json:"root"`
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

// ReqComponent is a component a requirement's work changes, and the orgs
// it is deployed in.
type ReqComponent struct {
	Type     string   `json:"type"`
	Name     string   `json:"name"`
	WorkItem string   `json:"work_item"`
	Orgs     []string `json:"deployed_in"`
	OrgID    int64    `json:"-"` // one org it reached, for its history link
}
