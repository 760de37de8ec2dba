// Drift: changes made in an org outside Trellis, and how serious they are.

package alm

import (
	"strings"
	"time"
)

// DriftEntry is one component changed in an org outside Trellis, with who
// changed it when the org's setup audit trail says.
type DriftEntry struct {
	Type      string     `json:"type"`
	Name      string     `json:"name"`
	Change    string     `json:"change"` // new, changed, deleted
	By        string     `json:"by,omitempty"`
	At        *time.Time `json:"at,omitempty"`
	Action    string     `json:"action,omitempty"` // the audit trail's words
	OldHash   string     `json:"old_hash,omitempty"`
	NewHash   string     `json:"new_hash,omitempty"`
	Explained bool       `json:"-"`
}

// DriftSeverity grades a drift: profile, permission and security changes
// and deletions are critical, code warns, the rest informs.
func DriftSeverity(entries []DriftEntry) Severity {
	sev := SevInfo
	for _, e := range entries {
		switch {
		case e.Change == "deleted", strings.Contains("Profile PermissionSet PermissionSetGroup SharingRules RemoteSiteSetting NamedCredential ConnectedApp AuthProvider", e.Type):
			return SevCritical
		case strings.HasPrefix(e.Type, "Apex"), e.Type == "Flow", e.Type == "LightningComponentBundle", e.Type == "AuraDefinitionBundle":
			sev = SevWarning
		}
	}
	return sev
}
