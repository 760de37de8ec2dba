package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

func TestUsers(t *testing.T) {
	t.Parallel()

	t.Run("CreateAndFindCaseInsensitively", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.user(t, userOpts{Email: "ana@example.com", Role: alm.RoleProductOwner})
		got, err := b.store.UserByEmail(b.ctx, "ANA@Example.com")
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)
		require.Equal(t, alm.RoleProductOwner, got.Role)
		require.True(t, got.HasPassword)
		require.Equal(t, b.clock.t, got.CreatedAt.UTC())
	})

	t.Run("DuplicateEmailIsAFieldError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.user(t, userOpts{Email: "dup@example.com"})
		_, err := b.store.CreateUser(b.ctx, alm.NewUser{Email: "DUP@example.com", Name: "Other", Role: alm.RoleViewer}, "h", false)
		require.Equal(t, alm.CodeInvalid, alm.ErrorCode(err))
		require.Contains(t, alm.FieldErrors(err)["email"], "already exists")
	})

	t.Run("UnknownUserIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.store.UserByID(b.ctx, 999)
		require.Equal(t, alm.CodeNotFound, alm.ErrorCode(err))
		_, err = b.store.UserByEmail(b.ctx, "nobody@example.com")
		require.Equal(t, alm.CodeNotFound, alm.ErrorCode(err))
	})

	t.Run("FirstAdminOnlyOnceEvenWhenRacing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = b.store.CreateFirstAdmin(b.ctx, alm.NewUser{Email: "admin" + string(rune('a'+i)) + "@example.com", Name: "Admin"}, "h")
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				require.Equal(t, alm.CodeConflict, alm.ErrorCode(err))
			}
		}
		require.Equal(t, 1, wins)
		n, err := b.store.CountUsers(b.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})

	t.Run("LastActiveAdminCannotBeDemotedOrDisabled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		admin := b.user(t, userOpts{Role: alm.RoleAdmin})
		_, err := b.store.UpdateUser(b.ctx, admin.ID, updateOf(admin, alm.RoleDeveloper, false))
		require.Equal(t, alm.CodeConflict, alm.ErrorCode(err))
		_, err = b.store.UpdateUser(b.ctx, admin.ID, updateOf(admin, alm.RoleAdmin, true))
		require.Equal(t, alm.CodeConflict, alm.ErrorCode(err))

		other := b.user(t, userOpts{Role: alm.RoleAdmin})
		got, err := b.store.UpdateUser(b.ctx, admin.ID, updateOf(admin, alm.RoleViewer, false))
		require.NoError(t, err)
		require.Equal(t, alm.RoleViewer, got.Role)
		_, err = b.store.UpdateUser(b.ctx, other.ID, updateOf(other, alm.RoleAdmin, true))
		require.Equal(t, alm.CodeConflict, alm.ErrorCode(err), "the remaining admin must stay")
	})

	t.Run("DisablingEndsSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.user(t, userOpts{Role: alm.RoleAdmin})
		u := b.user(t, userOpts{})
		require.NoError(t, b.store.CreateSession(b.ctx, alm.Session{IDHash: []byte("s1"), UserID: u.ID, CreatedAt: b.clock.t, ExpiresAt: b.clock.t.Add(time.Hour)}, "password"))
		got, err := b.store.UpdateUser(b.ctx, u.ID, updateOf(u, u.Role, true))
		require.NoError(t, err)
		require.True(t, got.Disabled())
		n, err := b.store.CountUserSessions(b.ctx, u.ID)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("FailuresLockAfterLimitAndLoginResets", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.user(t, userOpts{})
		var got alm.User
		var err error
		for i := 0; i < 3; i++ {
			got, err = b.store.RecordLoginFailure(b.ctx, u.ID, 3, 15*time.Minute)
			require.NoError(t, err)
		}
		require.Equal(t, 3, got.FailedLogins)
		require.True(t, got.Locked(b.clock.t))
		require.False(t, got.Locked(b.clock.t.Add(16*time.Minute)))

		require.NoError(t, b.store.CreateSession(b.ctx, alm.Session{IDHash: []byte("x"), UserID: u.ID, CreatedAt: b.clock.t, ExpiresAt: b.clock.t.Add(time.Hour)}, "password"))
		got, err = b.store.UserByID(b.ctx, u.ID)
		require.NoError(t, err)
		require.Zero(t, got.FailedLogins)
		require.Nil(t, got.LockedUntil)
		require.NotNil(t, got.LastLoginAt)
	})

	t.Run("SetPasswordEndsOtherSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.user(t, userOpts{})
		for _, id := range []string{"keep", "other1", "other2"} {
			require.NoError(t, b.store.CreateSession(b.ctx, alm.Session{IDHash: []byte(id), UserID: u.ID, CreatedAt: b.clock.t, ExpiresAt: b.clock.t.Add(time.Hour)}, "password"))
		}
		require.NoError(t, b.store.SetPassword(b.ctx, u.ID, "newhash", false, []byte("keep"), "user.password_change"))
		n, err := b.store.CountUserSessions(b.ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		h, err := b.store.UserPasswordHash(b.ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, "newhash", h)

		require.NoError(t, b.store.SetPassword(b.ctx, u.ID, "temp", true, nil, "user.password_reset"))
		got, err := b.store.UserByID(b.ctx, u.ID)
		require.NoError(t, err)
		require.True(t, got.MustChangePassword)
		n, _ = b.store.CountUserSessions(b.ctx, u.ID)
		require.Zero(t, n, "an admin reset ends every session")
	})

	t.Run("SSOUsersLinkAndSyncRoles", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.user(t, userOpts{Role: alm.RoleAdmin})
		u := b.user(t, userOpts{Email: "sso@example.com", Role: alm.RoleViewer})
		_, err := b.store.UserByOIDC(b.ctx, "https://idp", "sub-1")
		require.Equal(t, alm.CodeNotFound, alm.ErrorCode(err))
		linked, err := b.store.LinkOIDC(b.ctx, u.ID, "https://idp", "sub-1")
		require.NoError(t, err)
		require.True(t, linked.SSO())
		found, err := b.store.UserByOIDC(b.ctx, "https://idp", "sub-1")
		require.NoError(t, err)
		require.Equal(t, u.ID, found.ID)
		synced, err := b.store.SyncSSOLogin(b.ctx, u.ID, alm.RoleReleaseManager)
		require.NoError(t, err)
		require.Equal(t, alm.RoleReleaseManager, synced.Role)

		fresh, err := b.store.CreateSSOUser(b.ctx, alm.NewUser{Email: "new@example.com", Name: "New", Role: alm.RoleDeveloper}, "https://idp", "sub-2")
		require.NoError(t, err)
		require.False(t, fresh.HasPassword)
		require.Equal(t, "sub-2", fresh.OIDCSubject)
	})

	t.Run("SSOSyncKeepsTheLastAdmin", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		admin := b.user(t, userOpts{Role: alm.RoleAdmin})
		got, err := b.store.SyncSSOLogin(b.ctx, admin.ID, alm.RoleViewer)
		require.NoError(t, err)
		require.Equal(t, alm.RoleAdmin, got.Role)
	})

	t.Run("ListPutsAdminsFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.user(t, userOpts{Role: alm.RoleViewer})
		b.user(t, userOpts{Role: alm.RoleAdmin})
		users, err := b.store.ListUsers(context.Background())
		require.NoError(t, err)
		require.Len(t, users, 2)
		require.Equal(t, alm.RoleAdmin, users[0].Role)
	})
}

func updateOf(u alm.User, role alm.Role, disabled bool) store.UserUpdate {
	return store.UserUpdate{Name: u.Name, Role: role, Disabled: disabled}
}
