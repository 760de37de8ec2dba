package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

func sessionCookie(res response) *http.Cookie {
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "trellis_session" {
			return c
		}
	}
	return nil
}

func TestSignIn(t *testing.T) {
	t.Parallel()

	t.Run("GoodPasswordStartsAHardenedSession", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.user(alm.RoleDeveloper, "dev@example.com")
		br := b.browser()
		res := br.post("/login", url.Values{"email": {"DEV@example.com"}, "password": {testPassword}, "next": {"/plan"}})
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, "/plan", res.location())
		ck := sessionCookie(res)
		require.NotNil(t, ck)
		require.True(t, ck.HttpOnly)
		require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
		require.Equal(t, "/", ck.Path)

		page := br.get("/plan")
		require.Equal(t, http.StatusOK, page.status)
		doc := page.doc(t)
		require.Equal(t, 6, doc.Find(`[data-testid="nav"] a[data-testid^="nav-"]`).Length()-1, "overview plus six lifecycle stages")
		require.Equal(t, 0, doc.Find(`[data-testid="nav-admin-users"]`).Length(), "developers see no admin area")
		require.Contains(t, doc.Find(`[data-testid="empty-state"]`).Text(), "No projects yet")
	})

	t.Run("WrongPasswordReRendersWithTheEmail", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.user(alm.RoleDeveloper, "dev@example.com")
		res := b.browser().post("/login", url.Values{"email": {"dev@example.com"}, "password": {"not it at all"}})
		require.Equal(t, http.StatusUnauthorized, res.status)
		doc := res.doc(t)
		require.Contains(t, doc.Find(`[data-testid="form-error"]`).Text(), "do not match")
		v, _ := doc.Find(`input[name="email"]`).Attr("value")
		require.Equal(t, "dev@example.com", v)
		require.Nil(t, sessionCookie(res))
	})

	t.Run("UnknownEmailGetsTheSameAnswer", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		res := b.browser().post("/login", url.Values{"email": {"ghost@example.com"}, "password": {"whatever123"}})
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Contains(t, res.body, "That email and password do not match an account")
	})

	t.Run("RepeatedFailuresLockTheAccount", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleDeveloper, "dev@example.com")
		br := b.browser()
		var res response
		for i := 0; i < 5; i++ {
			res = br.post("/login", url.Values{"email": {"dev@example.com"}, "password": {"wrong password"}})
		}
		require.Equal(t, http.StatusUnauthorized, res.status)
		res = br.post("/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}})
		require.Equal(t, http.StatusUnauthorized, res.status, "a locked account refuses even the right password")
		locked := formError(t, res)
		// Every refusal reads the same, so nobody learns which accounts
		// exist, which are locked, or which sign in with SSO.
		sso, err := b.auth.CreateUser(b.ctx, alm.NewUser{Email: "sso@example.com", Name: "SSO Only", Role: alm.RoleDeveloper}, false)
		require.NoError(t, err)
		for who, form := range map[string]url.Values{
			"unknown email":  {"email": {"ghost@example.com"}, "password": {testPassword}},
			"wrong password": {"email": {"first-admin@example.com"}, "password": {"not the password"}},
			"SSO-only":       {"email": {sso.Email}, "password": {testPassword}},
		} {
			res := b.browser().post("/login", form)
			require.Equal(t, http.StatusUnauthorized, res.status, who)
			require.Equal(t, locked, formError(t, res), "%s must read as the locked account does", who)
		}

		admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
		res = admin.post("/admin/users/"+itoa(u.ID)+"/unlock", nil)
		require.Equal(t, http.StatusSeeOther, res.status)
		res = br.post("/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}})
		require.Equal(t, http.StatusSeeOther, res.status)

		entries, err := b.store.ListAudit(b.ctx, store.AuditFilter{Action: "session.login_failed"})
		require.NoError(t, err)
		require.Len(t, entries, 9, "each refusal is in the audit log, with its real reason")
	})

	t.Run("LockoutLapses", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.user(alm.RoleDeveloper, "dev@example.com")
		br := b.browser()
		for i := 0; i < 5; i++ {
			br.post("/login", url.Values{"email": {"dev@example.com"}, "password": {"wrong password"}})
		}
		b.clock.advance(16 * time.Minute)
		res := br.post("/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}})
		require.Equal(t, http.StatusSeeOther, res.status)
	})

	t.Run("DisabledAccountsCannotSignIn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleDeveloper, "dev@example.com")
		_, err := b.store.UpdateUser(b.ctx, u.ID, store.UserUpdate{Name: u.Name, Role: u.Role, Disabled: true})
		require.NoError(t, err)
		res := b.browser().post("/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}})
		require.Equal(t, http.StatusForbidden, res.status)
		require.Contains(t, res.body, "disabled")
	})

	t.Run("EachSignInGetsANewSessionID", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.user(alm.RoleDeveloper, "dev@example.com")
		br := b.browser()
		first := sessionCookie(br.post("/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}}))
		second := sessionCookie(br.post("/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}}))
		require.NotNil(t, first)
		require.NotNil(t, second)
		require.NotEqual(t, first.Value, second.Value)
	})

	t.Run("PlantedSessionCookieIsIgnored", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		br := b.browser()
		base, _ := url.Parse(b.srv.URL)
		br.client.Jar.SetCookies(base, []*http.Cookie{{Name: "trellis_session", Value: "attacker-chosen", Path: "/"}})
		res := br.get("/")
		require.Equal(t, http.StatusSeeOther, res.status)
		require.True(t, strings.HasPrefix(res.location(), "/login"))
	})

	t.Run("OpenRedirectsAreRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.user(alm.RoleDeveloper, "dev@example.com")
		for _, next := range []string{"//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
			res := b.browser().post("/login", url.Values{"email": {"dev@example.com"}, "password": {testPassword}, "next": {next}})
			require.Equal(t, "/", res.location(), "next=%q", next)
		}
	})
}

func TestSignOutAndTimeouts(t *testing.T) {
	t.Parallel()

	t.Run("SignOutEndsTheSessionServerSide", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.user(alm.RoleViewer, "v@example.com")
		br := b.browser()
		ck := sessionCookie(br.post("/login", url.Values{"email": {"v@example.com"}, "password": {testPassword}}))
		res := br.post("/logout", nil)
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, "/login", res.location())
		require.Contains(t, br.get("/login").body, "You are signed out.")

		replay := b.browser()
		base, _ := url.Parse(b.srv.URL)
		replay.client.Jar.SetCookies(base, []*http.Cookie{ck})
		require.Equal(t, http.StatusSeeOther, replay.get("/").status, "the old cookie must not work after sign-out")
	})

	t.Run("IdleSessionsEnd", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		br := b.signedIn(b.user(alm.RoleViewer, "v@example.com"))
		require.Equal(t, http.StatusOK, br.get("/").status)
		b.clock.advance(11 * time.Hour)
		require.Equal(t, http.StatusOK, br.get("/").status, "activity within the idle timeout keeps the session")
		b.clock.advance(11 * time.Hour)
		require.Equal(t, http.StatusOK, br.get("/").status)
		b.clock.advance(13 * time.Hour)
		res := br.get("/")
		require.Equal(t, http.StatusSeeOther, res.status, "13 idle hours exceed the 12-hour idle timeout")
	})

	t.Run("SessionsEndAtTheirAbsoluteLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		br := b.signedIn(b.user(alm.RoleViewer, "v@example.com"))
		for i := 1; i <= 20; i++ {
			b.clock.advance(11 * time.Hour)
			if br.get("/").status != http.StatusOK {
				require.Equal(t, 16, i, "should end at the first request after 168 hours (16 × 11 h)")
				return
			}
		}
		t.Fatal("a session active every 11 hours must still end after 7 days")
	})
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	u := b.user(alm.RoleDeveloper, "dev@example.com")

	postRaw := func(br *browser, form url.Values, header map[string]string) response {
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/account/tokens", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return br.do(req)
	}
	tests := []struct {
		name   string
		form   func(br *browser) url.Values
		header map[string]string
		want   int
	}{
		{"MissingTokenIsRefused", func(*browser) url.Values { return url.Values{"name": {"x"}} }, nil, http.StatusForbidden},
		{"ForgedTokenIsRefused", func(*browser) url.Values { return url.Values{"name": {"x"}, "csrf_token": {"forged"}} }, nil, http.StatusForbidden},
		{"AnotherBrowsersTokenIsRefused", func(*browser) url.Values {
			return url.Values{"name": {"x"}, "csrf_token": {b.signedIn(u).csrf()}}
		}, nil, http.StatusForbidden},
		{"CrossSiteRequestIsRefusedEvenWithToken", func(br *browser) url.Values {
			return url.Values{"name": {"x"}, "csrf_token": {br.csrf()}}
		}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"ForeignOriginIsRefused", func(br *browser) url.Values {
			return url.Values{"name": {"x"}, "csrf_token": {br.csrf()}}
		}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"OwnTokenIsAccepted", func(br *browser) url.Values {
			return url.Values{"name": {"x"}, "csrf_token": {br.csrf()}}
		}, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := b.signedIn(u)
			res := postRaw(br, tt.form(br), tt.header)
			require.Equal(t, tt.want, res.status, snippet(res.body))
		})
	}

	t.Run("BearerTokenCallsNeedNoCSRFToken", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/account/tokens", strings.NewReader("name=from-ci"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+b.token(u))
		res := b.browser().do(req)
		require.Equal(t, http.StatusCreated, res.status, snippet(res.body))
	})
}

func TestSetup(t *testing.T) {
	t.Parallel()

	t.Run("FreshInstallSendsEveryPageToSetup", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{NoUser: true})
		for _, p := range []string{"/", "/login", "/admin/users"} {
			res := b.browser().get(p)
			require.Equal(t, http.StatusSeeOther, res.status, p)
			require.Equal(t, "/setup", res.location(), p)
		}
		require.Equal(t, http.StatusOK, b.browser().get("/healthz").status)
		res := b.api(http.MethodGet, "/api/v1/me", "", nil)
		require.Equal(t, http.StatusServiceUnavailable, res.status)
		require.Contains(t, res.body, "not set up")
	})

	t.Run("InvalidInputReRendersWithValues", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{NoUser: true})
		res := b.browser().post("/setup", url.Values{"name": {"Ana"}, "email": {"not-an-email"}, "password": {"short"}, "confirm": {"short"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		doc := res.doc(t)
		name, _ := doc.Find(`input[name="name"]`).Attr("value")
		require.Equal(t, "Ana", name)
		require.NotEmpty(t, doc.Find(`[data-testid="error-email"]`).Text())
		require.NotEmpty(t, doc.Find(`[data-testid="error-password"]`).Text())

		res = b.browser().post("/setup", url.Values{"name": {"Ana"}, "email": {"ana@example.com"}, "password": {testPassword}, "confirm": {"something else"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.Contains(t, res.doc(t).Find(`[data-testid="error-confirm"]`).Text(), "differ")
	})

	t.Run("CreatesTheFirstAdminOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{NoUser: true})
		br := b.browser()
		res := br.post("/setup", url.Values{"name": {"Ana Admin"}, "email": {"ana@example.com"}, "password": {testPassword}, "confirm": {testPassword}})
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, "/", res.location())
		home := br.get("/")
		require.Equal(t, http.StatusOK, home.status)
		require.Contains(t, home.body, "Welcome to Trellis")
		require.Equal(t, 1, home.doc(t).Find(`[data-testid="nav-admin-users"]`).Length())

		again := b.browser()
		require.Equal(t, "/login", again.get("/setup").location())
		res = again.post("/setup", url.Values{"name": {"Mallory"}, "email": {"m@example.com"}, "password": {testPassword}, "confirm": {testPassword}})
		require.Equal(t, "/login", res.location())
		n, err := b.store.CountUsers(b.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

func TestPasswords(t *testing.T) {
	t.Parallel()

	t.Run("ChangeChecksTheCurrentPasswordAndEndsOtherSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleDeveloper, "dev@example.com")
		other := b.signedIn(u)
		br := b.signedIn(u)
		res := br.post("/account/password", url.Values{"current": {"wrong one"}, "new": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.Contains(t, res.doc(t).Find(`[data-testid="error-current"]`).Text(), "not your current password")

		res = br.post("/account/password", url.Values{"current": {testPassword}, "new": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		require.Equal(t, http.StatusSeeOther, res.status)
		require.Equal(t, http.StatusOK, br.get("/account").status, "this session stays")
		require.Equal(t, http.StatusSeeOther, other.get("/account").status, "other sessions end")
		_, err := b.auth.Login(b.ctx, "dev@example.com", "a brand new passphrase")
		require.NoError(t, err)
	})

	t.Run("AdminResetForcesAChangeAtNextSignIn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleDeveloper, "dev@example.com")
		admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
		res := admin.post("/admin/users/"+itoa(u.ID)+"/reset-password", nil)
		require.Equal(t, http.StatusOK, res.status)
		temp := strings.TrimSpace(res.doc(t).Find(`#temp-password-value`).Text())
		require.Len(t, temp, 16)

		br := b.browser()
		res = br.post("/login", url.Values{"email": {"dev@example.com"}, "password": {temp}})
		require.Equal(t, "/account/password", res.location())
		require.Equal(t, "/account/password", br.get("/plan").location(), "every page leads to the password change")
		page := br.get("/account/password")
		require.Equal(t, http.StatusOK, page.status)
		require.Equal(t, 1, page.doc(t).Find(`[data-testid="forced-password-form"]`).Length())
		res = br.post("/account/password", url.Values{"current": {temp}, "new": {"my own passphrase"}, "confirm": {"my own passphrase"}})
		require.Equal(t, "/", res.location())
		require.Equal(t, http.StatusOK, br.get("/plan").status)
	})

	t.Run("CommonAndShortPasswordsAreRefusedWithAReason", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		u := b.user(alm.RoleDeveloper, "dana.smith@example.com")
		br := b.signedIn(u)
		for _, c := range []struct{ pw, says string }{
			{"short pass", "at least 12 characters"},
			{"password1234", "too easy to guess"},
			{"Password123!", "too easy to guess"},
			{"qwertyuiop123", "too easy to guess"},
			{"iloveyou2024!", "too easy to guess"},
			{"aaaaaaaaaaaa", "too easy to guess"},
			{"danasmith2024", "too easy to guess"}, // built from the user's own name
		} {
			res := br.post("/account/password", url.Values{"current": {testPassword}, "new": {c.pw}, "confirm": {c.pw}})
			require.Equal(t, http.StatusUnprocessableEntity, res.status, c.pw)
			require.Contains(t, strings.ToLower(res.doc(t).Find(`[data-testid="error-new"]`).Text()), c.says, c.pw)
		}
		admin := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
		res := admin.post("/admin/users", url.Values{"name": {"New Person"}, "email": {"new@example.com"}, "role": {"viewer"}, "password": {"letmein12345"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.status)
		require.Contains(t, res.body, "too easy to guess")
	})
}

func itoa(n int64) string { return fmtInt(n) }

func formError(t *testing.T, res response) string {
	t.Helper()
	return strings.TrimSpace(res.doc(t).Find(`[data-testid="form-error"]`).Text())
}
