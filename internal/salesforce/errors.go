package salesforce

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Error is a failure reported by an org or met while talking to it. Code
// is Salesforce's error code (INVALID_SESSION_ID, MALFORMED_QUERY, a SOAP
// fault code, an OAuth error such as invalid_grant) when there is one.
type Error struct {
	Op      string // what was being done: "deploy", "query", "token"...
	Org     string // the org's name in Trellis, or its instance URL
	Status  int    // HTTP status, 0 when no response arrived
	Code    string
	Message string
	Excerpt string // the start of an answer that could not be understood
	Err     error  // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Org != "" {
		fmt.Fprintf(&b, " on %s", e.Org)
	}
	b.WriteString(": ")
	switch {
	case e.Code != "" && e.Message != "":
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	case e.Code != "":
		b.WriteString(e.Code)
	case e.Message != "":
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, " (answer began %q)", e.Excerpt)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Code returns the Salesforce error code carried by err, or "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsCode reports whether err carries the Salesforce error code code.
func IsCode(err error, code string) bool { return Code(err) == code }

// Errors every caller may want to tell apart.
var (
	// ErrBudget: the org's daily API usage is above the share this client
	// may use; the job should wait for the rolling window or stop.
	ErrBudget = errors.New("API budget for this org used up")
	// ErrNoSession: there are no credentials, or they can no longer be
	// refreshed; someone has to connect the org again.
	ErrNoSession = errors.New("the org connection needs to be re-authorised")
	// ErrMalformed: the org answered something that is not the protocol
	// (an HTML page, broken XML or JSON, a truncated zip).
	ErrMalformed = errors.New("the org's answer could not be understood")
)

// BudgetError says how much of the org's daily API allowance is used.
type BudgetError struct {
	Org       string
	Used, Max int
	Share     float64 // of Max this client may use
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("%s: %d of %d daily API requests used, above the %.0f%% this connection may use; waiting for the rolling 24-hour window frees some",
		e.Org, e.Used, e.Max, e.Share*100)
}

func (e *BudgetError) Unwrap() error { return ErrBudget }

// CallLimitError is returned, without sending anything, by a metered
// client (Client.Metered) once it has made every call it was allowed.
type CallLimitError struct {
	Org   string
	Limit int
}

func (e *CallLimitError) Error() string {
	return fmt.Sprintf("%s: the %d API calls allowed for this work are used", e.Org, e.Limit)
}

func (e *CallLimitError) Unwrap() error { return ErrBudget }

// sessionID matches a Salesforce access token (org id, "!", the secret).
var sessionID = regexp.MustCompile(`00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]+`)

// redact removes tokens from text bound for a log or an error message:
// anything shaped like a session id, and the given secrets.
func redact(s string, secrets ...string) string {
	s = sessionID.ReplaceAllString(s, "[token]")
	for _, x := range secrets {
		if len(x) >= 8 {
			s = strings.ReplaceAll(s, x, "[secret]")
		}
	}
	return s
}

// excerpt is the start of an answer, single-line, without secrets.
func excerpt(body []byte, secrets ...string) string {
	const max = 160
	s := string(body)
	if len(s) > 4*max {
		s = s[:4*max]
	}
	s = redact(s, secrets...)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
