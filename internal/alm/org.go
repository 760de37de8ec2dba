// Connected orgs: production, sandboxes and scratch orgs Trellis retrieves
// from and deploys to.

package alm

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// OrgKind is what sort of org a connected org is.
type OrgKind string

// The org kinds.
const (
	OrgProduction       OrgKind = "production"
	OrgFullSandbox      OrgKind = "full_sandbox"
	OrgPartialSandbox   OrgKind = "partial_sandbox"
	OrgDeveloperSandbox OrgKind = "developer_sandbox"
	OrgScratch          OrgKind = "scratch"
	OrgDeveloper        OrgKind = "developer"
)

// OrgKinds lists the kinds in the order forms offer them.
var OrgKinds = []OrgKind{OrgProduction, OrgFullSandbox, OrgPartialSandbox, OrgDeveloperSandbox, OrgScratch, OrgDeveloper}

// Label is the kind as people say it.
func (k OrgKind) Label() string {
	switch k {
	case OrgFullSandbox:
		return "Full sandbox"
	case OrgPartialSandbox:
		return "Partial sandbox"
	case OrgDeveloperSandbox:
		return "Developer sandbox"
	case OrgScratch:
		return "Scratch org"
	case OrgDeveloper:
		return "Developer edition"
	}
	return "Production"
}

// Sandbox reports whether the org logs in through test.salesforce.com.
func (k OrgKind) Sandbox() bool {
	return k == OrgFullSandbox || k == OrgPartialSandbox || k == OrgDeveloperSandbox || k == OrgScratch
}

// OrgStatus is whether Trellis can reach an org.
type OrgStatus string

// The org statuses.
const (
	OrgConnected    OrgStatus = "connected"
	OrgNeedsReauth  OrgStatus = "needs_reauth"
	OrgDisconnected OrgStatus = "disconnected"
)

// Org is a connected Salesforce org. Its credentials never leave the
// store in this struct.
type Org struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Kind          OrgKind    `json:"kind"`
	LoginURL      string     `json:"login_url"`
	InstanceURL   string     `json:"instance_url"`
	APIVersion    string     `json:"api_version"`
	Username      string     `json:"username"`
	SFOrgID       string     `json:"org_id"`
	SFUserID      string     `json:"user_id"`
	AuthKind      string     `json:"auth"` // oauth or jwt
	ClientID      string     `json:"client_id"`
	Status        OrgStatus  `json:"status"`
	LastError     string     `json:"last_error,omitempty"`
	LastCheckedAt *time.Time `json:"last_checked_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// NewOrg is what connecting an org takes, besides its credentials.
type NewOrg struct {
	Name, LoginURL, APIVersion, Username, ClientID string
	Kind                                           OrgKind
}

// Validate checks a new org's fields.
func (n *NewOrg) Validate() error {
	n.Name, n.LoginURL, n.Username, n.ClientID = strings.TrimSpace(n.Name), strings.TrimRight(strings.TrimSpace(n.LoginURL), "/"), strings.TrimSpace(n.Username), strings.TrimSpace(n.ClientID)
	f := map[string]string{}
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 80 {
		f["name"] = "Name the org (up to 80 characters), e.g. UAT."
	}
	if !slices.Contains(OrgKinds, n.Kind) {
		f["kind"] = "Choose production, a sandbox kind, scratch or developer."
	}
	if !strings.HasPrefix(n.LoginURL, "https://") && !strings.HasPrefix(n.LoginURL, "http://") {
		f["login_url"] = "Give the login host as a URL, e.g. https://login.salesforce.com."
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}
