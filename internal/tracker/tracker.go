// Package tracker speaks to the work trackers teams already plan in —
// Jira Cloud, Jira Data Center, Azure DevOps Boards and GitHub Issues —
// through one Client interface: test a connection, search, read and
// update an issue, move its status, read and add comments, link back to
// Trellis, and verify and read the tracker's webhooks. Descriptions and
// comments cross as Markdown; each client converts to its tracker's own
// format (Atlassian Document Format, Jira wiki markup, HTML, Markdown).
package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Kind names a tracker product.
type Kind string

// The trackers Trellis connects to.
const (
	JiraCloud Kind = "jira_cloud"
	JiraDC    Kind = "jira_dc"
	Azure     Kind = "azure_devops"
	GitHub    Kind = "github"
)

// Kinds lists the trackers in the order forms offer them.
var Kinds = []Kind{JiraCloud, JiraDC, Azure, GitHub}

// Label is the product's name.
func (k Kind) Label() string {
	switch k {
	case JiraCloud:
		return "Jira Cloud"
	case JiraDC:
		return "Jira Data Center"
	case Azure:
		return "Azure DevOps Boards"
	case GitHub:
		return "GitHub Issues"
	}
	return string(k)
}

// Valid reports whether k is a known tracker.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// ScopeHint says what the scope field holds for the tracker.
func (k Kind) ScopeHint() string {
	switch k {
	case Azure:
		return "organization/project, e.g. contoso/Sales"
	case GitHub:
		return "owner/repository, e.g. acme/crm"
	}
	return "project key, e.g. CRM"
}

// QueryHint says what language the import search speaks.
func (k Kind) QueryHint() string {
	switch k {
	case Azure:
		return "WIQL condition, e.g. [System.WorkItemType] = 'User Story'"
	case GitHub:
		return "GitHub search, e.g. is:open label:crm"
	}
	return "JQL, e.g. status = \"To Do\" ORDER BY created DESC"
}

// Config is one project's connection.
type Config struct {
	Kind    Kind
	BaseURL string // https://acme.atlassian.net, https://dev.azure.com, https://api.github.com
	Scope   string // project key, org/project, owner/repo
	User    string // Jira Cloud: the account's email (basic auth with an API token)
	Token   string
	// HTTP is the client requests go through (the outbound policy's).
	HTTP *http.Client
}

// Issue is a tracker's issue in the fields Trellis and trackers share.
type Issue struct {
	Key         string // PROJ-123, 42, 17
	ID          string // the tracker's own id where it differs from the key
	URL         string // the issue in the tracker's web UI
	Title       string
	Description string // Markdown
	Status      string
	Assignee    string // email, where the tracker tells it
	AssigneeID  string // account id / login
	Labels      []string
	Updated     time.Time
}

// Comment is one comment on an issue.
type Comment struct {
	ID      string
	Author  string // display name
	Email   string
	Body    string // Markdown
	Created time.Time
}

// Patch is what Trellis changes on an issue; nil fields stay.
type Patch struct {
	Title       *string
	Description *string
	Labels      *[]string
	Assignee    *string // email; "" unassigns
}

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool {
	return p.Title == nil && p.Description == nil && p.Labels == nil && p.Assignee == nil
}

// Event is what a tracker's webhook says happened.
type Event struct {
	Keys    []string // the issues it concerns
	Deleted bool
}

// Client talks to one tracker for one project.
type Client interface {
	// Test checks the URL, the credentials, the scope and the permissions
	// Trellis needs, naming the first that is wrong.
	Test(ctx context.Context) error
	Search(ctx context.Context, query string, limit int) ([]Issue, error)
	Get(ctx context.Context, key string) (Issue, error)
	Update(ctx context.Context, key string, p Patch) error
	// Statuses lists the statuses an issue can be in, for the mapping.
	Statuses(ctx context.Context) ([]string, error)
	// Transition moves the issue to the named status.
	Transition(ctx context.Context, key, status string) error
	Comments(ctx context.Context, key string) ([]Comment, error)
	AddComment(ctx context.Context, key, markdown string) (Comment, error)
	// Link puts a link back to Trellis on the issue (once per url).
	Link(ctx context.Context, key, url, title string) error
	// Webhook verifies a delivery's signature with secret and reads it.
	Webhook(r *http.Request, body []byte, secret string) (Event, error)
}

// New makes the client for c.Kind.
func New(c Config) (Client, error) {
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	c.Scope = strings.TrimSpace(c.Scope)
	switch c.Kind {
	case JiraCloud, JiraDC:
		return &jira{c: c}, nil
	case Azure:
		org, proj, ok := strings.Cut(c.Scope, "/")
		if !ok || org == "" || proj == "" {
			return nil, &Error{Code: CodeProject, Msg: "The scope must be organization/project, e.g. contoso/Sales."}
		}
		return &azure{c: c, org: org, project: proj}, nil
	case GitHub:
		owner, repo, ok := strings.Cut(c.Scope, "/")
		if !ok || owner == "" || repo == "" {
			return nil, &Error{Code: CodeProject, Msg: "The scope must be owner/repository, e.g. acme/crm."}
		}
		return &github{c: c, owner: owner, repo: repo}, nil
	}
	return nil, &Error{Code: CodeURL, Msg: fmt.Sprintf("Unknown tracker %q.", c.Kind)}
}

// Code classifies what went wrong, so a link can say it and the sync knows
// whether to retry.
type Code string

// The codes.
const (
	CodeURL        Code = "url"        // the address does not answer like the tracker
	CodeAuth       Code = "auth"       // the token is wrong, expired or revoked
	CodeProject    Code = "project"    // the project / repository is not there
	CodePermission Code = "permission" // the token may not do this
	CodeNotFound   Code = "not_found"  // the issue is gone
	CodeRateLimit  Code = "rate_limit" // 429: wait RetryAfter
	CodeDown       Code = "down"       // 5xx or no answer: try again later
	CodeInvalid    Code = "invalid"    // the tracker refused the request's content
	CodeSignature  Code = "signature"  // a webhook whose signature does not match
)

// Error is a tracker failure with its class and a message for people.
type Error struct {
	Code       Code
	Msg        string
	Status     int
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Msg }

// CodeOf is the class of err ("" when it is not a tracker error).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Retryable reports whether trying again later may succeed.
func Retryable(err error) bool {
	switch CodeOf(err) {
	case CodeRateLimit, CodeDown, "":
		return true
	}
	return false
}

// RetryAfter is how long the tracker asked to wait (zero when it did not).
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
