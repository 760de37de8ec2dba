package alm

import (
	"strings"
	"time"
)

// TrackerConnection is a project's link to the work tracker it plans in.
type TrackerConnection struct {
	ID        int64      `json:"id"`
	ProjectID int64      `json:"project_id"`
	Kind      string     `json:"kind"` // jira_cloud, jira_dc, azure_devops, github
	BaseURL   string     `json:"base_url"`
	Scope     string     `json:"scope"`
	Username  string     `json:"username"`
	ImportAs  string     `json:"import_as"` // requirement, work_item
	Status    string     `json:"status"`    // ok, error
	Error     string     `json:"error,omitempty"`
	CheckedAt *time.Time `json:"checked_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	// Sealed credentials; never in JSON.
	SealedToken  string `json:"-"`
	SealedSecret string `json:"-"`
}

// StatusMapping pairs a tracker status with a Trellis status.
type StatusMapping struct {
	Entity string `json:"entity"` // requirement, work_item
	Remote string `json:"remote"`
	Local  string `json:"local"`
}

// TrackerLink joins a requirement or work item with a tracker's issue.
type TrackerLink struct {
	ID           int64             `json:"id"`
	ConnectionID int64             `json:"connection_id"`
	ProjectID    int64             `json:"project_id"`
	Kind         string            `json:"tracker"`
	EntityType   string            `json:"entity_type"`
	EntityID     int64             `json:"entity_id"`
	EntityKey    string            `json:"entity_key"`
	EntityTitle  string            `json:"entity_title"`
	RemoteKey    string            `json:"remote_key"`
	RemoteURL    string            `json:"remote_url"`
	RemoteStatus string            `json:"remote_status"`
	Synced       map[string]string `json:"-"`
	State        string            `json:"state"` // ok, warning, error, deleted
	Error        string            `json:"error,omitempty"`
	SyncedAt     *time.Time        `json:"synced_at,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
}

// TrackedFields are a record's fields that a tracker shares.
type TrackedFields struct {
	Title       string
	Description string
	Status      string
	Assignee    string // email
	Labels      []string
	UpdatedAt   time.Time
	Version     int
}

// TrackerMention is how commits name an issue so the hosts' own
// integrations link them: PROJ-123 for Jira, #17 for GitHub, AB#42 for
// Azure Boards.
func TrackerMention(kind, key string) string {
	switch kind {
	case "github":
		return "#" + strings.TrimPrefix(key, "#")
	case "azure_devops":
		return "AB#" + key
	}
	return key
}

// TrackerBranchMention is the issue key as it may stand in a branch name.
func TrackerBranchMention(kind, key string) string {
	switch kind {
	case "github":
		return "gh-" + strings.TrimPrefix(key, "#")
	case "azure_devops":
		return "ab-" + key
	}
	return key
}

// TrackerDisplayKey is the issue key as people read it.
func TrackerDisplayKey(kind, key string) string {
	if kind == "github" || kind == "azure_devops" {
		return "#" + strings.TrimPrefix(key, "#")
	}
	return key
}
