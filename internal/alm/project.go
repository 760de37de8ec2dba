// Projects and their members: who works on what, in which role.

package alm

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Project is one Salesforce app or org estate; everything planned lives
// in one. Its key prefixes the keys of its records (CRM-REQ-12, CRM-142).
type Project struct {
	ID          int64     `json:"id"`
	Key         string    `json:"key"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

var projectKey = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,9}$`)

// NewProject is what creating a project takes.
type NewProject struct {
	Key, Name, Description string
}

// Normalize trims the fields and upper-cases the key.
func (n *NewProject) Normalize() {
	n.Key = strings.ToUpper(strings.TrimSpace(n.Key))
	n.Name = strings.TrimSpace(n.Name)
	n.Description = strings.TrimSpace(n.Description)
}

// Validate checks a new project.
func (n NewProject) Validate() error {
	f := map[string]string{}
	if !projectKey.MatchString(n.Key) {
		f["key"] = "Use 2–10 capital letters or digits, starting with a letter (e.g. CRM)."
	}
	if n.Name == "" {
		f["name"] = "Give the project a name."
	} else if utf8.RuneCountInString(n.Name) > 120 {
		f["name"] = "Keep the name under 120 characters."
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

// Member is a user's place in a project. Role is what the user may do in
// the project; without a membership the user's global role applies.
type Member struct {
	ProjectID int64     `json:"project_id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	AddedAt   time.Time `json:"added_at"`
}

// ProjectRole is the role a user acts with in a project: the project's
// role for members, the global role otherwise. Admins stay admins.
func ProjectRole(global Role, member *Role) Role {
	if global == RoleAdmin || member == nil {
		return global
	}
	return *member
}

// Branching models of a git-backed project.
const (
	BranchingEnvironment = "environment" // a branch per stage, merged forward stage by stage
	BranchingTrunk       = "trunk"       // one main branch; stages deploy its commits
)

// ProjectGit is how a project uses version control: none (RepositoryID
// nil: org snapshots only), or a repository and a branching model.
type ProjectGit struct {
	RepositoryID   *int64 `json:"repository_id"`
	RepositoryName string `json:"repository_name,omitempty"`
	DefaultBranch  string `json:"default_branch,omitempty"`
	Branching      string `json:"branching"`
	// BackPropagate: after a deploy to the last stage, merge its branch
	// back into the lower stages' branches.
	BackPropagate bool `json:"back_propagate"`
}

// GitBacked reports whether the project keeps its metadata in git.
func (g ProjectGit) GitBacked() bool { return g.RepositoryID != nil }

// WorkBranch is a work item's branch and where it started.
type WorkBranch struct {
	Name string `json:"name"`
	Base string `json:"base"`
}

// BranchCommit is a commit on a work item's branch.
type BranchCommit struct {
	Hash    string    `json:"hash"`
	Author  string    `json:"author"`
	When    time.Time `json:"when"`
	Subject string    `json:"subject"`
}

// BranchStatus is how a work item's branch stands against its base.
type BranchStatus struct {
	Ahead  []BranchCommit `json:"ahead"`  // its own commits, newest first
	Behind int            `json:"behind"` // base commits it does not have
}

// BranchName is the branch a work item gets: feature/<KEY>-<slug of its
// title>, short and safe for every git host.
func BranchName(key, title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	slug := strings.Trim(b.String(), "-")
	if b.Len() >= 40 {
		// Cut at a word's end rather than inside one.
		if i := strings.LastIndexByte(slug, '-'); i > 10 {
			slug = slug[:i]
		}
	}
	if slug == "" {
		return "feature/" + key
	}
	return "feature/" + key + "-" + slug
}

// SandboxChange is a component that differs between a sandbox and a work
// item's branch: one to pick for committing.
type SandboxChange struct {
	Type   string     `json:"type"`
	Name   string     `json:"name"`
	Change string     `json:"change"` // new (in the org only), changed, deleted (in the branch only)
	By     string     `json:"last_modified_by,omitempty"`
	At     *time.Time `json:"last_modified_at,omitempty"`
}

// Ref is "Type/Name", how a change is picked.
func (c SandboxChange) Ref() string { return c.Type + "/" + c.Name }
