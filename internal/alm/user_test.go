package alm

import (
	"testing"
	"time"
)

func TestNewUserValidate(t *testing.T) {
	t.Parallel()
	good := NewUser{Email: "ana@example.com", Name: "Ana", Role: RoleDeveloper, Password: "correct horse"}
	tests := []struct {
		name         string
		edit         func(*NewUser)
		needPassword bool
		wantFields   []string
	}{
		{"Valid", func(*NewUser) {}, true, nil},
		{"EmptyEverything", func(n *NewUser) { *n = NewUser{} }, true, []string{"email", "name", "role", "password"}},
		{"BadEmail", func(n *NewUser) { n.Email = "ana at example" }, true, []string{"email"}},
		{"DisplayNameEmailRefused", func(n *NewUser) { n.Email = "Ana <ana@example.com>" }, true, []string{"email"}},
		{"ShortPassword", func(n *NewUser) { n.Password = "short" }, true, []string{"password"}},
		{"SSOUserNeedsNoPassword", func(n *NewUser) { n.Password = "" }, false, nil},
		{"UnknownRole", func(n *NewUser) { n.Role = "owner" }, true, []string{"role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := good
			tt.edit(&n)
			err := n.Validate(tt.needPassword)
			fields := FieldErrors(err)
			if len(fields) != len(tt.wantFields) {
				t.Fatalf("field errors = %v, want keys %v", fields, tt.wantFields)
			}
			for _, f := range tt.wantFields {
				if fields[f] == "" {
					t.Errorf("no message for field %q in %v", f, fields)
				}
			}
		})
	}
}

func TestUserLocked(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	later := now.Add(time.Minute)
	earlier := now.Add(-time.Minute)
	if (User{LockedUntil: &later}).Locked(now) != true {
		t.Error("lock in the future should hold")
	}
	if (User{LockedUntil: &earlier}).Locked(now) != false {
		t.Error("lock in the past should have lapsed")
	}
	if (User{}).Locked(now) {
		t.Error("no lock should mean unlocked")
	}
}

func TestErrorHelpers(t *testing.T) {
	t.Parallel()
	if ErrorCode(nil) != "" {
		t.Error("nil error should have no code")
	}
	err := Errorf(CodeNotFound, "no user %d", 7)
	if ErrorCode(err) != CodeNotFound || ErrorMessage(err) != "no user 7" {
		t.Errorf("got %q %q", ErrorCode(err), ErrorMessage(err))
	}
	plain := errTest("db down: password=secret")
	if ErrorCode(plain) != CodeInternal || ErrorMessage(plain) == plain.Error() {
		t.Error("internal errors must not expose their text")
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
