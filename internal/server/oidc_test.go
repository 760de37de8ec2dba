package server_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/secret"
)

// oidcBundle is a Trellis server wired to an in-process OIDC provider.
type oidcBundle struct {
	*testBundle
	idp *mockoidc.MockOIDC
}

func setupOIDC(t *testing.T, defaultRole alm.Role) *oidcBundle {
	t.Helper()
	idp, err := mockoidc.Run()
	require.NoError(t, err)
	t.Cleanup(func() { _ = idp.Shutdown() })
	var b *testBundle
	b = setup(t, setupOpts{OIDC: func(base string, keys *secret.Keyring, log *slog.Logger) *auth.OIDC {
		cfg := idp.Config()
		return auth.NewOIDC(auth.OIDCConfig{
			Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			RedirectURL: base + "/auth/oidc/callback",
			Scopes:      []string{"openid", "email", "profile", "groups"},
			GroupsClaim: "groups",
			RoleMap:     map[string]alm.Role{"trellis-admins": alm.RoleAdmin, "trellis-release": alm.RoleReleaseManager, "devs": alm.RoleDeveloper},
			DefaultRole: defaultRole,
		}, keys, log)
	}})
	return &oidcBundle{testBundle: b, idp: idp}
}

// flow walks a browser through the provider: start, authorize, callback.
// tamper may rewrite the authorize URL or the callback URL on the way.
type flow struct {
	authorize func(*url.URL)
	callback  func(*url.URL)
}

func (o *oidcBundle) login(br *browser, user *mockoidc.MockUser, f flow) response {
	o.t.Helper()
	if user != nil {
		o.idp.QueueUser(user)
	}
	start := br.get("/auth/oidc/start?next=/plan")
	require.Equal(o.t, http.StatusFound, start.status, snippet(start.body))
	authz, err := url.Parse(start.location())
	require.NoError(o.t, err)
	require.True(o.t, strings.HasPrefix(authz.String(), o.idp.AuthorizationEndpoint()))
	q := authz.Query()
	require.NotEmpty(o.t, q.Get("state"))
	require.NotEmpty(o.t, q.Get("nonce"))
	require.Equal(o.t, "S256", q.Get("code_challenge_method"))
	require.Equal(o.t, o.srv.URL+"/auth/oidc/callback", q.Get("redirect_uri"))
	if f.authorize != nil {
		f.authorize(authz)
	}
	idpRes := br.do(mustReq(http.MethodGet, authz.String()))
	require.Equal(o.t, http.StatusFound, idpRes.status, idpRes.body)
	cb, err := url.Parse(idpRes.location())
	require.NoError(o.t, err)
	if f.callback != nil {
		f.callback(cb)
	}
	return br.do(mustReq(http.MethodGet, cb.String()))
}

func mustReq(method, u string) *http.Request {
	r, err := http.NewRequest(method, u, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func mockUser(sub, email string, groups ...string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: sub, Email: email, EmailVerified: true, PreferredUsername: strings.Split(email, "@")[0], Groups: groups}
}

func TestOIDC(t *testing.T) {
	t.Parallel()

	t.Run("NewUserGetsTheRoleOfTheirGroups", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		br := o.browser()
		res := o.login(br, mockUser("sub-rm", "rm@example.com", "staff", "trellis-release"), flow{})
		require.Equal(t, http.StatusSeeOther, res.status, snippet(res.body))
		require.Equal(t, "/plan", res.location())
		require.NotNil(t, sessionCookie(res))
		u := must(o.store.UserByEmail(o.ctx, "rm@example.com"))
		require.Equal(t, alm.RoleReleaseManager, u.Role)
		require.Equal(t, "sub-rm", u.OIDCSubject)
		require.False(t, u.HasPassword)
		require.Equal(t, http.StatusOK, br.get("/plan").status)
	})

	t.Run("MostPowerfulMappedGroupWins", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		o.login(o.browser(), mockUser("sub-x", "x@example.com", "devs", "trellis-admins"), flow{})
		require.Equal(t, alm.RoleAdmin, must(o.store.UserByEmail(o.ctx, "x@example.com")).Role)
	})

	t.Run("UnmappedGroupsGetTheDefaultRole", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		o.login(o.browser(), mockUser("sub-v", "v@example.com", "marketing"), flow{})
		require.Equal(t, alm.RoleViewer, must(o.store.UserByEmail(o.ctx, "v@example.com")).Role)
	})

	t.Run("UnmappedGroupsRefusedWithoutADefault", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, "")
		res := o.login(o.browser(), mockUser("sub-n", "n@example.com", "marketing"), flow{})
		require.Equal(t, http.StatusForbidden, res.status)
		require.Contains(t, res.body, "None of your groups")
		n, _ := o.store.CountUsers(o.ctx)
		require.Equal(t, 1, n, "nobody was created")
	})

	t.Run("FirstSignInLinksAnExistingAccountByVerifiedEmail", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		local := o.user(alm.RoleViewer, "dana@example.com")
		res := o.login(o.browser(), mockUser("sub-dana", "dana@example.com", "devs"), flow{})
		require.Equal(t, http.StatusSeeOther, res.status)
		u := must(o.store.UserByID(o.ctx, local.ID))
		require.Equal(t, "sub-dana", u.OIDCSubject)
		require.Equal(t, alm.RoleDeveloper, u.Role, "the role follows the provider's groups")

		// Later the provider reports a new email: the subject still matches.
		res = o.login(o.browser(), mockUser("sub-dana", "dana.new@example.com", "devs"), flow{})
		require.Equal(t, http.StatusSeeOther, res.status)
		n, _ := o.store.CountUsers(o.ctx)
		require.Equal(t, 2, n, "no second account")
	})

	t.Run("UnverifiedEmailDoesNotLink", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		o.user(alm.RoleAdmin, "boss@example.com")
		u := mockUser("sub-evil", "boss@example.com", "devs")
		u.EmailVerified = false
		res := o.login(o.browser(), u, flow{})
		require.Equal(t, http.StatusForbidden, res.status)
		require.Contains(t, res.body, "verified email")
		require.Empty(t, must(o.store.UserByEmail(o.ctx, "boss@example.com")).OIDCSubject)
	})

	t.Run("TamperedStateIsRefused", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		res := o.login(o.browser(), mockUser("sub-t", "t@example.com"), flow{callback: func(u *url.URL) {
			q := u.Query()
			q.Set("state", q.Get("state")+"x")
			u.RawQuery = q.Encode()
		}})
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Contains(t, res.body, "state mismatch")
		require.Nil(t, sessionCookie(res))
	})

	t.Run("WrongNonceIsRefused", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		res := o.login(o.browser(), mockUser("sub-n", "n@example.com"), flow{authorize: func(u *url.URL) {
			q := u.Query()
			q.Set("nonce", "replayed-nonce")
			u.RawQuery = q.Encode()
		}})
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Contains(t, res.body, "nonce mismatch")
		require.Nil(t, sessionCookie(res))
	})

	t.Run("CallbackInAnotherBrowserIsRefused", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		other := o.browser()
		res := o.login(o.browser(), mockUser("sub-c", "c@example.com"), flow{callback: func(u *url.URL) {
			// Deliver the code to a browser that never started a sign-in.
			got := other.do(mustReq(http.MethodGet, u.String()))
			require.Equal(t, http.StatusUnauthorized, got.status)
			require.Contains(t, got.body, "another browser")
		}})
		require.Equal(t, http.StatusSeeOther, res.status, "the right browser still succeeds")
	})

	t.Run("ProviderErrorsAreShown", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		res := o.browser().get("/auth/oidc/callback?error=access_denied&error_description=user+cancelled")
		require.Equal(t, http.StatusUnauthorized, res.status)
		require.Contains(t, res.body, "access_denied")
	})

	t.Run("LoginPageOffersSSO", func(t *testing.T) {
		t.Parallel()
		o := setupOIDC(t, alm.RoleViewer)
		require.Equal(t, 1, o.browser().get("/login").doc(t).Find(`[data-testid="sso-login"]`).Length())
		plain := setup(t, setupOpts{})
		require.Equal(t, 0, plain.browser().get("/login").doc(t).Find(`[data-testid="sso-login"]`).Length())
		require.Equal(t, http.StatusNotFound, plain.browser().get("/auth/oidc/start").status)
	})
}
