package alm

import (
	"strings"
	"time"
)

// APIToken is a personal token for the JSON API. The secret itself is shown
// once at creation; Trellis keeps only its hash and a short prefix so people
// can tell their tokens apart.
type APIToken struct {
	ID         int64
	UserID     int64
	UserEmail  string
	Name       string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// Active reports whether the token can still be used at time now.
func (t APIToken) Active(now time.Time) bool {
	if t.RevokedAt != nil {
		return false
	}
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}

// ValidateTokenName returns a message when name is not a usable token name.
func ValidateTokenName(name string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "Name the token after what will use it, e.g. \"GitHub Actions\"."
	case len(name) > 100:
		return "Keep the name under 100 characters."
	}
	return ""
}
