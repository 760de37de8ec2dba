package store_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

func TestSessions(t *testing.T) {
	t.Parallel()

	t.Run("CreateLookUpTouchDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.user(t, userOpts{Email: "s@example.com"})
		sess := alm.Session{IDHash: []byte("hash-1"), UserID: u.ID, CreatedAt: b.clock.t, ExpiresAt: b.clock.t.Add(24 * time.Hour), IP: "192.0.2.9", UserAgent: "test"}
		require.NoError(t, b.store.CreateSession(b.ctx, sess, "password"))

		got, gu, err := b.store.SessionUser(b.ctx, []byte("hash-1"))
		require.NoError(t, err)
		require.Equal(t, u.ID, gu.ID)
		require.Equal(t, "s@example.com", gu.Email)
		require.Equal(t, "192.0.2.9", got.IP)
		require.True(t, got.Valid(b.clock.t.Add(time.Minute), time.Hour))
		require.False(t, got.Valid(b.clock.t.Add(2*time.Hour), time.Hour), "idle timeout")
		require.False(t, got.Valid(b.clock.t.Add(25*time.Hour), 48*time.Hour), "absolute timeout")

		later := b.clock.t.Add(30 * time.Minute)
		require.NoError(t, b.store.TouchSession(b.ctx, []byte("hash-1"), later))
		got, _, err = b.store.SessionUser(b.ctx, []byte("hash-1"))
		require.NoError(t, err)
		require.Equal(t, later, got.LastSeenAt.UTC())

		require.NoError(t, b.store.DeleteSession(b.ctx, []byte("hash-1")))
		_, _, err = b.store.SessionUser(b.ctx, []byte("hash-1"))
		require.Equal(t, alm.CodeNotFound, alm.ErrorCode(err))
		require.NoError(t, b.store.DeleteSession(b.ctx, []byte("hash-1")), "deleting twice is fine")
	})

	t.Run("PruneRemovesIdleAndExpired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.user(t, userOpts{})
		start := b.clock.t
		mk := func(id string, created time.Time, ttl time.Duration) {
			require.NoError(t, b.store.CreateSession(b.ctx, alm.Session{IDHash: []byte(id), UserID: u.ID, CreatedAt: created, ExpiresAt: created.Add(ttl)}, "password"))
		}
		mk("fresh", start, 48*time.Hour)
		mk("idle", start.Add(-3*time.Hour), 48*time.Hour)
		mk("expired", start.Add(-2*time.Hour), time.Hour)
		n, err := b.store.PruneSessions(b.ctx, 2*time.Hour)
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
		_, _, err = b.store.SessionUser(b.ctx, []byte("fresh"))
		require.NoError(t, err)
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()

	t.Run("CreateFindListRevoke", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.user(t, userOpts{Email: "tok@example.com"})
		tok, err := b.store.CreateToken(b.ctx, u.ID, "CI", "trl_abcd", []byte("h1"), nil)
		require.NoError(t, err)
		require.Equal(t, "tok@example.com", tok.UserEmail)
		require.True(t, tok.Active(b.clock.t))

		got, owner, err := b.store.TokenUser(b.ctx, []byte("h1"))
		require.NoError(t, err)
		require.Equal(t, tok.ID, got.ID)
		require.Equal(t, u.ID, owner.ID)

		require.NoError(t, b.store.TouchToken(b.ctx, tok.ID, b.clock.t.Add(time.Minute)))
		list, err := b.store.ListTokens(b.ctx, &u.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.NotNil(t, list[0].LastUsedAt)

		require.NoError(t, b.store.RevokeToken(b.ctx, tok.ID, &u.ID))
		got, _, err = b.store.TokenUser(b.ctx, []byte("h1"))
		require.NoError(t, err)
		require.False(t, got.Active(b.clock.t))
	})

	t.Run("OwnersCannotRevokeOthersTokens", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a := b.user(t, userOpts{})
		other := b.user(t, userOpts{})
		tok, err := b.store.CreateToken(b.ctx, a.ID, "mine", "trl_1", []byte("h2"), nil)
		require.NoError(t, err)
		err = b.store.RevokeToken(b.ctx, tok.ID, &other.ID)
		require.Equal(t, alm.CodeNotFound, alm.ErrorCode(err))
		require.NoError(t, b.store.RevokeToken(b.ctx, tok.ID, nil), "an admin (no owner filter) can revoke")
	})

	t.Run("UnknownHashIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.store.TokenUser(b.ctx, []byte("nope"))
		require.Equal(t, alm.CodeNotFound, alm.ErrorCode(err))
	})
}

func TestAuditLog(t *testing.T) {
	t.Parallel()

	t.Run("ChangesAreAuditedWithActorAndRequest", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.user(t, userOpts{Email: "audited@example.com", Role: alm.RoleViewer})
		es, err := b.store.ListAudit(b.ctx, store.AuditFilter{Target: "user:" + itoa(u.ID)})
		require.NoError(t, err)
		require.Len(t, es, 1)
		e := es[0]
		require.Equal(t, "user.create", e.Action)
		require.Equal(t, "tester@example.com", e.ActorLabel)
		require.Equal(t, "req-1", e.RequestID)
		require.Equal(t, "192.0.2.1", e.IP)
		require.Contains(t, e.Summary, "audited@example.com")
	})

	t.Run("RowsCannotBeChangedOrRemoved", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.user(t, userOpts{})
		for _, sql := range []string{
			`UPDATE audit_log SET summary = 'forged'`,
			`DELETE FROM audit_log`,
			`TRUNCATE audit_log`,
		} {
			_, err := b.store.Pool().Exec(b.ctx, sql)
			require.Error(t, err, sql)
			require.True(t, strings.Contains(err.Error(), "append-only"), "%s: %v", sql, err)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := b.user(t, userOpts{Email: "f@example.com"})
		require.NoError(t, b.store.Audit(actorCtx("someone@example.com"), alm.Audit(actorCtx("someone@example.com"), "admin.override", "stage", "7", "freeze overridden")))
		_, err := b.store.CreateToken(b.ctx, u.ID, "ci", "trl_x", []byte("hh"), nil)
		require.NoError(t, err)

		byActor, err := b.store.ListAudit(b.ctx, store.AuditFilter{Actor: "SOMEONE"})
		require.NoError(t, err)
		require.Len(t, byActor, 1)
		require.Equal(t, "admin.override", byActor[0].Action)

		byPrefix, err := b.store.ListAudit(b.ctx, store.AuditFilter{Action: "api_token."})
		require.NoError(t, err)
		require.Len(t, byPrefix, 1)

		all, err := b.store.ListAudit(b.ctx, store.AuditFilter{})
		require.NoError(t, err)
		require.Len(t, all, 3)
		page, err := b.store.ListAudit(b.ctx, store.AuditFilter{BeforeID: all[0].ID, Limit: 1})
		require.NoError(t, err)
		require.Len(t, page, 1)
		require.Equal(t, all[1].ID, page[0].ID)

		none, err := b.store.ListAudit(b.ctx, store.AuditFilter{Actor: "%"})
		require.NoError(t, err)
		require.Empty(t, none, "LIKE wildcards in the filter are literal")

		actions, err := b.store.AuditActions(b.ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"admin.override", "api_token.create", "user.create"}, actions)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
