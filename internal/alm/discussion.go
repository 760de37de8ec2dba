// The discussion on a requirement: questions that stay open until answered,
// change requests, and plain comments.

package alm

import (
	"strings"
	"time"
	"unicode/utf8"
)

// CommentKind is what a comment is for.
type CommentKind string

const (
	CommentNote          CommentKind = "comment"
	CommentQuestion      CommentKind = "question"
	CommentChangeRequest CommentKind = "change_request"
)

// CommentState is where a question or change request stands.
type CommentState string

const (
	StateOpen     CommentState = "open"
	StateAnswered CommentState = "answered"
	StateAccepted CommentState = "accepted"
	StateDeclined CommentState = "declined"
)

// Comment is one entry of a requirement's discussion. Questions stay open
// until answered; change requests propose a new spec that the owner
// accepts or declines.
type Comment struct {
	ID             int64        `json:"id"`
	RequirementID  int64        `json:"requirement_id"`
	ParentID       *int64       `json:"parent_id"`
	Kind           CommentKind  `json:"kind"`
	State          CommentState `json:"state,omitempty"`
	Body           string       `json:"body"`
	ProposedTitle  string       `json:"proposed_title,omitempty"`
	ProposedDesc   string       `json:"proposed_description,omitempty"`
	AuthorID       *int64       `json:"author_id"`
	AuthorName     string       `json:"author_name"`
	ResolvedByName string       `json:"resolved_by,omitempty"`
	ResolvedAt     *time.Time   `json:"resolved_at,omitempty"`
	CreatedAt      time.Time    `json:"created_at"`
	Replies        []Comment    `json:"replies,omitempty"`
}

// NewComment is what posting a comment takes.
type NewComment struct {
	Kind          CommentKind
	Body          string
	ParentID      *int64
	ProposedTitle string
	ProposedDesc  string
}

// Validate checks a new comment.
func (n *NewComment) Validate() error {
	n.Body = strings.TrimSpace(n.Body)
	n.ProposedTitle = strings.TrimSpace(n.ProposedTitle)
	n.ProposedDesc = strings.TrimSpace(n.ProposedDesc)
	if n.Kind == "" {
		n.Kind = CommentNote
	}
	f := map[string]string{}
	switch n.Kind {
	case CommentNote, CommentQuestion:
	case CommentChangeRequest:
		if n.ProposedTitle == "" && n.ProposedDesc == "" {
			f["proposed_description"] = "Say what the spec should become: a new title or description."
		}
	default:
		f["kind"] = "Choose comment, question or change_request."
	}
	if n.ParentID != nil && n.Kind != CommentNote {
		f["kind"] = "A reply is a comment; ask a new question or request a change at the top level."
	}
	if n.Body == "" {
		f["body"] = "Write something."
	} else if utf8.RuneCountInString(n.Body) > 20000 {
		f["body"] = "Keep a comment under 20,000 characters."
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}
