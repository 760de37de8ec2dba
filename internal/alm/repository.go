// Git repositories a project connects.

package alm

import "time"

// Repository is a connected git repository holding an SFDX project.
type Repository struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	URL           string     `json:"url"`
	AuthKind      string     `json:"auth"` // none, token or ssh
	DefaultBranch string     `json:"default_branch"`
	LastFetchedAt *time.Time `json:"last_fetched_at"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}
