package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/server"
	"github.com/trellis-alm/trellis/internal/store"
)

func TestAPITokens(t *testing.T) {
	t.Parallel()

	t.Run("CreatedInTheBrowserShownOnceUsableOnTheAPI", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleReleaseManager, "rm@example.com")
		br := b.signedIn(u)
		res := br.post("/account/tokens", url.Values{"name": {"GitHub Actions"}, "expires": {"30"}})
		require.Equal(t, http.StatusCreated, res.status)
		token := strings.TrimSpace(res.doc(t).Find("#new-token-value").Text())
		require.True(t, strings.HasPrefix(token, "trl_"), token)

		page := br.get("/account")
		require.NotContains(t, page.body, token, "the secret is never shown again")
		require.Contains(t, page.body, "GitHub Actions")

		me := b.api(http.MethodGet, "/api/v1/me", token, nil)
		require.Equal(t, http.StatusOK, me.status)
		var got server.MeResponse
		require.NoError(t, json.Unmarshal([]byte(me.body), &got))
		require.Equal(t, "rm@example.com", got.Email)
		require.Equal(t, "release_manager", got.Role)
		require.Equal(t, "token", got.Auth)
		require.Equal(t, "GitHub Actions", got.Token.Name)
		require.NotNil(t, got.Token.ExpiresAt)

		list, err := b.store.ListTokens(b.ctx, &u.ID)
		require.NoError(t, err)
		require.NotNil(t, list[0].LastUsedAt, "use is recorded")
	})

	t.Run("RevokedTokensStopWorking", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleDeveloper, "dev@example.com")
		token := b.token(u)
		require.Equal(t, http.StatusOK, b.api(http.MethodGet, "/api/v1/me", token, nil).status)
		tokens, err := b.store.ListTokens(b.ctx, &u.ID)
		require.NoError(t, err)
		res := b.signedIn(u).post("/account/tokens/"+itoa(tokens[0].ID)+"/revoke", nil)
		require.Equal(t, http.StatusSeeOther, res.status)
		res = b.api(http.MethodGet, "/api/v1/me", token, nil)
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Contains(t, res.body, `"code": "unauthorized"`)
	})

	t.Run("AdminsRevokeAnyonesToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleDeveloper, "dev@example.com")
		token := b.token(u)
		tokens, _ := b.store.ListTokens(b.ctx, &u.ID)
		admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
		page := admin.get("/admin/tokens")
		require.Contains(t, page.doc(t).Find(`[data-testid="token-table"]`).Text(), "dev@example.com")
		require.Equal(t, http.StatusSeeOther, admin.post("/admin/tokens/"+itoa(tokens[0].ID)+"/revoke", nil).status)
		require.Equal(t, http.StatusUnauthorized, b.api(http.MethodGet, "/api/v1/me", token, nil).status)
	})

	t.Run("OthersCannotRevokeMyToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		owner := b.user(alm.RoleDeveloper, "owner@example.com")
		token := b.token(owner)
		tokens, _ := b.store.ListTokens(b.ctx, &owner.ID)
		other := b.signedIn(b.user(alm.RoleDeveloper, "other@example.com"))
		require.Equal(t, http.StatusNotFound, other.post("/account/tokens/"+itoa(tokens[0].ID)+"/revoke", nil).status)
		require.Equal(t, http.StatusOK, b.api(http.MethodGet, "/api/v1/me", token, nil).status)
	})

	t.Run("DisabledOwnersTokensStopWorking", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleDeveloper, "dev@example.com")
		token := b.token(u)
		_, err := b.store.UpdateUser(b.ctx, u.ID, store.UserUpdate{Name: u.Name, Role: u.Role, Disabled: true})
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, b.api(http.MethodGet, "/api/v1/me", token, nil).status)
	})

	t.Run("TokensActWithTheOwnersRole", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		token := b.token(b.user(alm.RoleViewer, "v@example.com"))
		res := b.api(http.MethodGet, "/admin/users", token, nil)
		require.Equal(t, http.StatusForbidden, res.status)
	})

	t.Run("MalformedAuthorizationIsAClearError", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
		res := b.browser().do(req)
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Contains(t, res.body, "Bearer")
		res = b.api(http.MethodGet, "/api/v1/me", "trl_nope", nil)
		require.Equal(t, http.StatusUnauthorized, res.status)
		res = b.api(http.MethodGet, "/api/v1/me", "", nil)
		require.Equal(t, http.StatusUnauthorized, res.status)
		var body struct {
			Error     struct{ Code, Message string }
			RequestID string `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.body), &body))
		require.Equal(t, "unauthorized", body.Error.Code)
		require.NotEmpty(t, body.RequestID)
	})

	t.Run("UnknownAPIPathIsJSON404", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		res := b.api(http.MethodGet, "/api/v1/nothing", b.token(b.user(alm.RoleViewer, "v@example.com")), nil)
		require.Equal(t, http.StatusNotFound, res.status)
		require.Equal(t, "application/json; charset=utf-8", res.header.Get("Content-Type"))
	})
}

func TestAdminUsers(t *testing.T) {
	t.Parallel()

	t.Run("CreateValidatesAndKeepsInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
		res := admin.post("/admin/users", url.Values{"name": {"Pat Owner"}, "email": {"first-admin@example.com"}, "role": {"product_owner"}, "password": {"short"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		doc := res.doc(t)
		name, _ := doc.Find(`input[name="name"]`).Attr("value")
		require.Equal(t, "Pat Owner", name)
		sel, _ := doc.Find(`select[name="role"] option[selected]`).Attr("value")
		require.Equal(t, "product_owner", sel)
		require.Contains(t, doc.Find(`[data-testid="error-email"]`).Text(), "already exists")
		require.Contains(t, doc.Find(`[data-testid="error-password"]`).Text(), "12 characters")

		res = admin.post("/admin/users", url.Values{"name": {"Pat Owner"}, "email": {"pat@example.com"}, "role": {"product_owner"}, "password": {"temporary pass 1"}})
		require.Equal(t, http.StatusSeeOther, res.status)
		list := admin.get("/admin/users")
		table := list.doc(t).Find(`[data-testid="users-table"]`).Text()
		require.Contains(t, table, "pat@example.com")
		require.Contains(t, table, "Must change password")
	})

	t.Run("EditRoleAndDisable", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleViewer, "v@example.com")
		session := b.signedIn(u)
		admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
		res := admin.post("/admin/users/"+itoa(u.ID), url.Values{"name": {"Vera"}, "role": {"developer"}})
		require.Equal(t, http.StatusSeeOther, res.status)
		got := must(b.store.UserByID(b.ctx, u.ID))
		require.Equal(t, alm.RoleDeveloper, got.Role)
		require.Equal(t, "Vera", got.Name)

		res = admin.post("/admin/users/"+itoa(u.ID), url.Values{"name": {"Vera"}, "role": {"developer"}, "disabled": {"on"}})
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, http.StatusSeeOther, session.get("/").status, "disabling signs the user out")
	})

	t.Run("TheLastAdminStays", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		me := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
		admin := b.signedIn(me)
		res := admin.post("/admin/users/"+itoa(me.ID), url.Values{"name": {me.Name}, "role": {"viewer"}})
		require.Equal(t, http.StatusConflict, res.status)
		require.Contains(t, res.doc(t).Find(`[data-testid="form-error"]`).Text(), "at least one active admin")
	})

	t.Run("UnknownUserIs404InTheLayout", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
		for _, p := range []string{"/admin/users/99999", "/admin/users/abc"} {
			res := admin.get(p)
			require.Equal(t, http.StatusNotFound, res.status, p)
			doc := res.doc(t)
			require.Equal(t, 1, doc.Find(`[data-testid="error-page"]`).Length())
			require.Equal(t, 1, doc.Find(`[data-testid="nav"]`).Length(), "errors render inside the app layout")
		}
	})
}

func TestAuditPage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	admin.post("/admin/users", url.Values{"name": {"Pat"}, "email": {"pat@example.com"}, "role": {"viewer"}, "password": {"temporary pass 1"}})

	res := admin.get("/admin/audit?action=user.create")
	require.Equal(t, http.StatusOK, res.status)
	rows := res.doc(t).Find(`[data-testid="audit-table"] tbody tr`)
	require.Equal(t, 2, rows.Length(), "the first admin and Pat")
	require.Contains(t, rows.First().Text(), "pat@example.com")
	require.Contains(t, rows.First().Text(), "first-admin@example.com", "the actor is recorded")

	res = admin.get("/admin/audit?actor=nobody-like-this")
	require.Equal(t, 1, res.doc(t).Find(`[data-testid="empty-state"]`).Length())

	res = admin.get("/admin/audit?from=yesterday")
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, res.body, "Dates must look like")
}
