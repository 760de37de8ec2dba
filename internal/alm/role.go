package alm

import (
	"fmt"
	"slices"
)

// Role is a user's global role. Projects (see later work) may give a user a
// different role inside one project; the global role is the default.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin          Role = "admin"
	RoleReleaseManager Role = "release_manager"
	RoleDeveloper      Role = "developer"
	RoleProductOwner   Role = "product_owner"
	RoleViewer         Role = "viewer"
)

// Roles lists every role in display order.
var Roles = []Role{RoleAdmin, RoleReleaseManager, RoleDeveloper, RoleProductOwner, RoleViewer}

// ParseRole returns the role named s, or a CodeInvalid error naming the
// accepted values.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", Errorf(CodeInvalid, "unknown role %q: use one of %s", s, roleList())
}

func roleList() string {
	s := ""
	for i, r := range Roles {
		if i > 0 {
			s += ", "
		}
		s += string(r)
	}
	return s
}

// Label returns the role's name as people say it.
func (r Role) Label() string {
	switch r {
	case RoleAdmin:
		return "Admin"
	case RoleReleaseManager:
		return "Release manager"
	case RoleDeveloper:
		return "Developer"
	case RoleProductOwner:
		return "Product owner"
	case RoleViewer:
		return "Viewer"
	}
	return fmt.Sprintf("Unknown (%s)", string(r))
}

// Description says in one sentence what the role is for.
func (r Role) Description() string {
	switch r {
	case RoleAdmin:
		return "Connects orgs and repositories, configures pipelines, manages users and SSO."
	case RoleReleaseManager:
		return "Builds releases, approves or rejects promotions, deploys and rolls back."
	case RoleDeveloper:
		return "Takes work items, captures metadata changes, validates them."
	case RoleProductOwner:
		return "Logs requirements, answers questions, accepts delivered work."
	case RoleViewer:
		return "Reads everything and files feedback."
	}
	return ""
}
