package alm

import (
	"slices"
)

// Permission names one thing a user may do. Every route and every job
// trigger declares the permission it needs; Can is the one place that
// decides which role holds it.
type Permission string

// The permissions. Later capabilities add theirs here and to grants.
const (
	// PermView lets a user read the lifecycle pages.
	PermView Permission = "view"
	// PermOwnAccount lets a user change their own password and API tokens.
	PermOwnAccount Permission = "own_account"
	// PermManageUsers lets a user create users, change roles, reset passwords.
	PermManageUsers Permission = "manage_users"
	// PermManageTokens lets a user see and revoke everyone's API tokens.
	PermManageTokens Permission = "manage_tokens"
	// PermReadAudit lets a user read the audit log.
	PermReadAudit Permission = "read_audit"
	// PermManageJobs lets a user see, retry and cancel background jobs.
	PermManageJobs Permission = "manage_jobs"

	// The Plan permissions are checked against the caller's role in the
	// project (ProjectRole), so a developer can be a product owner in one
	// project.

	// PermCreateProject lets a user start a project.
	PermCreateProject Permission = "create_project"
	// PermManageProject lets a user rename a project and manage its members.
	PermManageProject Permission = "manage_project"
	// PermEditRequirements lets a user write requirements, answer their
	// questions, decide change requests and mark criteria met.
	PermEditRequirements Permission = "edit_requirements"
	// PermMoveRequirements lets a user move requirements between statuses;
	// which moves is a rule of its own (CanMoveRequirement).
	PermMoveRequirements Permission = "move_requirements"
	// PermComment lets a user comment, ask questions and request changes.
	PermComment Permission = "comment"
	// PermEditWorkItems lets a user create, plan and move work items.
	PermEditWorkItems Permission = "edit_work_items"
	// PermManageOrgs lets a user connect, re-authorise and disconnect orgs.
	PermManageOrgs Permission = "manage_orgs"
	// PermSnapshot lets a user take snapshots of connected orgs.
	PermSnapshot Permission = "snapshot"
	// PermManagePipeline lets a user set a project's pipeline and policies.
	PermManagePipeline Permission = "manage_pipeline"
	// PermManageReleases lets a user create releases, fill them and move them.
	PermManageReleases Permission = "manage_releases"
	// PermPromote lets a user open promotions, deploy them, cancel, retry
	// and roll back. Who may approve is the stage policy's say.
	PermPromote Permission = "promote"
	// PermSignOff lets a user sign off work items in a test stage or send
	// them back to development.
	PermSignOff Permission = "sign_off"
	// PermOverrideWindows lets a user deploy outside a change window or
	// through a freeze (audited).
	PermOverrideWindows Permission = "override_windows"

	// PermRestore lets a user set backup schedules, back up now and restore
	// an org's metadata or records from a backup.
	PermRestore Permission = "restore"
	// PermManageAlerts lets a user acknowledge and resolve alerts and say
	// where alerts are sent.
	PermManageAlerts Permission = "manage_alerts"
	// PermFileFeedback lets a user report a problem or suggest something.
	PermFileFeedback Permission = "file_feedback"
	// PermTriageFeedback lets a user triage feedback: decline it or turn it
	// into a requirement or a bug.
	PermTriageFeedback Permission = "triage_feedback"
	// PermManageWebhooks lets a user send Trellis's events to other systems
	// and let git hosts trigger snapshots.
	PermManageWebhooks Permission = "manage_webhooks"
)

var everyone = []Role{RoleAdmin, RoleReleaseManager, RoleDeveloper, RoleProductOwner, RoleViewer}

var grants = map[Permission][]Role{
	PermView:         everyone,
	PermOwnAccount:   everyone,
	PermManageUsers:  {RoleAdmin},
	PermManageTokens: {RoleAdmin},
	PermReadAudit:    {RoleAdmin},
	PermManageJobs:   {RoleAdmin},

	PermCreateProject:    {RoleAdmin, RoleReleaseManager, RoleProductOwner},
	PermManageProject:    {RoleAdmin, RoleReleaseManager},
	PermEditRequirements: {RoleAdmin, RoleProductOwner},
	PermMoveRequirements: {RoleAdmin, RoleReleaseManager, RoleDeveloper, RoleProductOwner},
	PermComment:          everyone,
	PermEditWorkItems:    {RoleAdmin, RoleReleaseManager, RoleDeveloper},
	PermManageReleases:   {RoleAdmin, RoleReleaseManager},
	PermManageOrgs:       {RoleAdmin},
	PermManagePipeline:   {RoleAdmin, RoleReleaseManager},
	PermSnapshot:         {RoleAdmin, RoleReleaseManager, RoleDeveloper},
	PermPromote:          {RoleAdmin, RoleReleaseManager},
	PermSignOff:          {RoleAdmin, RoleReleaseManager, RoleProductOwner},
	PermOverrideWindows:  {RoleAdmin},
	PermRestore:          {RoleAdmin, RoleReleaseManager},
	PermManageAlerts:     {RoleAdmin, RoleReleaseManager},
	PermFileFeedback:     everyone,
	PermTriageFeedback:   {RoleAdmin, RoleProductOwner},
	PermManageWebhooks:   {RoleAdmin},
}

// Can reports whether role r holds permission p. An unknown permission is
// held by nobody, so a mistyped rule fails closed.
func (r Role) Can(p Permission) bool {
	for _, g := range grants[p] {
		if g == r {
			return true
		}
	}
	return false
}

// Permissions lists every permission that has a grant, for tests and docs.
func Permissions() []Permission {
	ps := make([]Permission, 0, len(grants))
	for p := range grants {
		ps = append(ps, p)
	}
	return ps
}

// CanGrant reports whether a user holding granter may give someone role
// (or change or take away a role someone holds): admin is granted only by
// admins, and nobody grants a role above their own in the order of Roles
// (most to least powerful). The error says why not.
func CanGrant(granter, role Role) error {
	if role == RoleAdmin && granter != RoleAdmin {
		return Errorf(CodeForbidden, "Only admins can grant or change the admin role.")
	}
	g, r := slices.Index(Roles, granter), slices.Index(Roles, role)
	if g < 0 || r < 0 || r < g {
		return Errorf(CodeForbidden, "Your role (%s) cannot grant or change %s, a role above your own.", granter.Label(), role.Label())
	}
	return nil
}
