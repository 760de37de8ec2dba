// End-user feedback: problem reports and suggestions that feed planning.

package alm

import (
	"strings"
	"time"
)

// Feedback is a problem report or suggestion from a user of the org.
type Feedback struct {
	ID            int64     `json:"id"`
	ProjectID     int64     `json:"project_id"`
	ProjectKey    string    `json:"project"`
	Kind          string    `json:"kind"` // problem or suggestion
	Title         string    `json:"title"`
	Body          string    `json:"body"`
	WhereSeen     string    `json:"where_seen"`
	ComponentType string    `json:"component_type"`
	ComponentName string    `json:"component_name"`
	HasScreenshot bool      `json:"has_screenshot"`
	Status        string    `json:"status"` // new, converted, declined
	TriageNote    string    `json:"triage_note"`
	Requirement   string    `json:"requirement,omitempty"`
	WorkItem      string    `json:"work_item,omitempty"`
	ReleaseID     *int64    `json:"release_id"`
	ReleaseName   string    `json:"release_name,omitempty"`
	SubmittedBy   string    `json:"submitted_by"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// NewFeedback is what a user files.
type NewFeedback struct {
	Kind          string `json:"kind"`
	Title         string `json:"title"`
	Body          string `json:"body"`
	WhereSeen     string `json:"where_seen"`
	ComponentType string `json:"component_type"`
	ComponentName string `json:"component_name"`
}

// Validate checks a report.
func (n *NewFeedback) Validate() error {
	n.Title, n.Body = strings.TrimSpace(n.Title), strings.TrimSpace(n.Body)
	n.ComponentType, n.ComponentName = strings.TrimSpace(n.ComponentType), strings.TrimSpace(n.ComponentName)
	f := map[string]string{}
	if n.Kind != "problem" && n.Kind != "suggestion" {
		f["kind"] = "Say whether this is a problem or a suggestion."
	}
	if n.Title == "" {
		f["title"] = "Give it a short title."
	} else if len(n.Title) > 200 {
		f["title"] = "Keep the title under 200 characters."
	}
	if len(n.Body) > 20000 {
		f["body"] = "Keep the description under 20,000 characters."
	}
	if (n.ComponentType == "") != (n.ComponentName == "") {
		f["component_name"] = "Give both the component's type and its name, or neither."
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}
