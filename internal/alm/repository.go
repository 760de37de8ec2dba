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
	// HostKind is the git host whose pull-request API Trellis uses: ""
	// (told from the URL), none, github, gitlab, bitbucket or azure;
	// HostAPI the API base of a self-hosted one.
	HostKind  string    `json:"host"`
	HostAPI   string    `json:"host_api,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}
