package alm

import "testing"

func TestRoleCan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role Role
		perm Permission
		want bool
	}{
		{RoleAdmin, PermManageUsers, true},
		{RoleAdmin, PermView, true},
		{RoleReleaseManager, PermManageUsers, false},
		{RoleDeveloper, PermReadAudit, false},
		{RoleViewer, PermView, true},
		{RoleViewer, PermOwnAccount, true},
		{RoleViewer, PermManageJobs, false},
		{RoleAdmin, Permission("no_such_permission"), false},
		{Role("root"), PermView, false},
	}
	for _, tt := range tests {
		if got := tt.role.Can(tt.perm); got != tt.want {
			t.Errorf("%s.Can(%s) = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
}

func TestEveryRoleIsDescribed(t *testing.T) {
	t.Parallel()
	for _, r := range Roles {
		if r.Description() == "" || r.Label() == "" {
			t.Errorf("role %s lacks a label or description", r)
		}
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	if _, err := ParseRole("superuser"); ErrorCode(err) != CodeInvalid {
		t.Errorf("ParseRole(superuser) error code = %q, want invalid", ErrorCode(err))
	}
}

func TestEveryPermissionIsGranted(t *testing.T) {
	t.Parallel()
	for _, p := range Permissions() {
		if !RoleAdmin.Can(p) {
			t.Errorf("admin lacks %s: every permission should be held by admin", p)
		}
	}
}

func TestCanGrant(t *testing.T) {
	for _, c := range []struct {
		granter, role Role
		ok            bool
	}{
		{RoleAdmin, RoleAdmin, true},
		{RoleAdmin, RoleViewer, true},
		{RoleReleaseManager, RoleAdmin, false},
		{RoleReleaseManager, RoleReleaseManager, true},
		{RoleReleaseManager, RoleDeveloper, true},
		{RoleReleaseManager, RoleViewer, true},
		{RoleDeveloper, RoleReleaseManager, false},
		{RoleViewer, RoleDeveloper, false},
		{RoleReleaseManager, RoleProductOwner, true},
	} {
		err := CanGrant(c.granter, c.role)
		if (err == nil) != c.ok {
			t.Errorf("%s granting %s: %v, want ok=%v", c.granter, c.role, err, c.ok)
		}
		if err != nil && ErrorCode(err) != CodeForbidden {
			t.Errorf("%s granting %s: code %s", c.granter, c.role, ErrorCode(err))
		}
	}
}
