package alm

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// User is a person who signs in to Trellis, locally or through SSO.
type User struct {
	ID                 int64
	Email              string
	Name               string
	Role               Role
	HasPassword        bool
	MustChangePassword bool
	OIDCIssuer         string
	OIDCSubject        string
	DisabledAt         *time.Time
	FailedLogins       int
	LockedUntil        *time.Time
	LastLoginAt        *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Disabled reports whether the account has been switched off by an admin.
func (u User) Disabled() bool { return u.DisabledAt != nil }

// Locked reports whether the account is locked out at time now after too
// many failed sign-ins.
func (u User) Locked(now time.Time) bool {
	return u.LockedUntil != nil && now.Before(*u.LockedUntil)
}

// SSO reports whether the user is linked to an OIDC identity.
func (u User) SSO() bool { return u.OIDCSubject != "" }

// NewUser is the input for creating a user.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	Password string // empty for SSO-only users
}

// MinPasswordLength is the shortest password Trellis accepts. Length beats
// composition rules (NIST SP 800-63B), so there are none.
const MinPasswordLength = 12

// Normalize trims the user's text fields and lower-cases the email.
func (n *NewUser) Normalize() {
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	n.Name = strings.TrimSpace(n.Name)
}

// Validate returns a CodeInvalid error with a message for each bad field, or
// nil. requirePassword is false for users who sign in only through SSO.
func (n NewUser) Validate(requirePassword bool) error {
	fields := map[string]string{}
	if msg := ValidateEmail(n.Email); msg != "" {
		fields["email"] = msg
	}
	if n.Name == "" {
		fields["name"] = "Enter a name."
	} else if len(n.Name) > 200 {
		fields["name"] = "Keep the name under 200 characters."
	}
	if _, err := ParseRole(string(n.Role)); err != nil {
		fields["role"] = ErrorMessage(err)
	}
	if requirePassword || n.Password != "" {
		if msg := ValidatePassword(n.Password); msg != "" {
			fields["password"] = msg
		}
	}
	if len(fields) > 0 {
		return Invalid(fields)
	}
	return nil
}

// ValidateEmail returns a message when s is not a plain email address, or "".
func ValidateEmail(s string) string {
	if s == "" {
		return "Enter an email address."
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return "Enter an email address like name@example.com."
	}
	if len(s) > 254 {
		return "Email addresses are at most 254 characters."
	}
	return ""
}

// ValidatePassword returns a message when p is too weak to accept, or "".
func ValidatePassword(p string) string {
	switch {
	case len([]rune(p)) < MinPasswordLength:
		return fmt.Sprintf("Use at least %d characters: a phrase of a few unrelated words is easy to remember and hard to guess.", MinPasswordLength)
	case len(p) > 1024:
		return "Use at most 1024 characters."
	}
	return ""
}

// InboxItem is one thing waiting for a person: what, where it leads, since
// when, and the project it is in.
type InboxItem struct {
	Kind    string    `json:"kind"` // approval, question, signoff, failed_validation, failed_deployment, conflicts, alert, feedback
	Title   string    `json:"title"`
	Detail  string    `json:"detail,omitempty"`
	Href    string    `json:"href"`
	Project string    `json:"project,omitempty"`
	Since   time.Time `json:"since"`
}

// InboxLabel names an inbox item's kind as people read it.
func InboxLabel(kind string) string {
	return map[string]string{"approval": "Approve", "question": "Question", "signoff": "Sign off", "failed_validation": "Validation failed",
		"failed_deployment": "Deploy failed", "conflicts": "Conflicts", "alert": "Drift", "feedback": "Feedback"}[kind]
}
