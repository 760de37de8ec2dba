package orgs_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

type bundle struct {
	ctx  context.Context
	st   *store.Store
	keys *secret.Keyring
	key  []byte
	svc  *orgs.Service
	sim  *orgsim.Sim
}

const callback = "http://trellis.test/orgs/oauth/callback"

func setup(t *testing.T) *bundle {
	t.Helper()
	sim, err := orgsim.Start(orgsim.Options{Orgs: []string{"dev", "uat"}, Step: 5 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	key := mustKey(t)
	keys, err := secret.New(key)
	require.NoError(t, err)
	st := store.New(testdb.New(t), nil)
	b := &bundle{ctx: alm.WithActor(context.Background(), alm.Actor{Label: "tester@example.com"}), st: st, keys: keys, key: key, sim: sim}
	b.svc = orgs.New(st, keys, orgs.Config{CallbackURL: callback})
	return b
}

func mustKey(t *testing.T) []byte {
	k, err := secret.ParseKey(secret.GenerateKey())
	require.NoError(t, err)
	return k
}

func keyPEM(o *orgsim.Org) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(o.JWTKey())}))
}

func newOrg(o *orgsim.Org, name string) alm.NewOrg {
	return alm.NewOrg{Name: name, Kind: alm.OrgDeveloperSandbox, LoginURL: o.Info().LoginURL, ClientID: o.ClientID(), Username: o.Username()}
}

// approve plays the browser on the simulator's approval page.
func approve(t *testing.T, o *orgsim.Org, authURL, decision string) url.Values {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u, err := url.Parse(authURL)
	require.NoError(t, err)
	resp, err := noRedirect.PostForm(u.Scheme+"://"+u.Host+u.Path, url.Values{"q": {u.RawQuery}, "username": {o.Username()}, "password": {o.Password()}, "decision": {decision}})
	require.NoError(t, err)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc.String(), callback), loc.String())
	return loc.Query()
}

func TestConnectWithJWT(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dev := b.sim.Org("dev")
	org, err := b.svc.ConnectJWT(b.ctx, newOrg(dev, "Dev"), keyPEM(dev))
	require.NoError(t, err)
	require.Equal(t, "jwt", org.AuthKind)
	require.Equal(t, dev.ID(), org.SFOrgID)
	require.Equal(t, alm.OrgConnected, org.Status)

	sealed, err := b.st.OrgCredentials(b.ctx, org.ID)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sealed, "v1."))
	require.NotContains(t, sealed, "PRIVATE KEY", "the key is sealed, not stored")

	h := b.svc.Check(b.ctx, org)
	require.True(t, h.OK, h.Problem)
	require.Positive(t, h.APIMax)

	// Bad input is refused and nothing is saved.
	_, err = b.svc.ConnectJWT(b.ctx, newOrg(dev, "Dev again"), "not a key")
	require.Contains(t, alm.FieldErrors(err)["private_key"], "PEM")
	bad := newOrg(dev, "Wrong app")
	bad.ClientID = "not-the-consumer-key"
	_, err = b.svc.ConnectJWT(b.ctx, bad, keyPEM(dev))
	require.Contains(t, alm.ErrorMessage(err), "refused the JWT sign-in")
	uat := b.sim.Org("uat")
	_, err = b.svc.ConnectJWT(b.ctx, newOrg(dev, "Other key"), keyPEM(uat))
	require.Error(t, err, "a key the app does not hold")
	_, err = b.svc.ConnectJWT(b.ctx, newOrg(dev, "Dev"), keyPEM(dev))
	require.Contains(t, alm.FieldErrors(err)["name"], "Another org is called Dev")
	list, err := b.st.ListOrgs(b.ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)

	// A new key re-authorises the same org; a wrong one changes nothing.
	_, err = b.svc.ReauthorizeJWT(b.ctx, org, keyPEM(uat))
	require.Error(t, err)
	again, err := b.svc.ReauthorizeJWT(b.ctx, org, keyPEM(dev))
	require.NoError(t, err)
	require.Equal(t, org.ID, again.ID)
	require.True(t, b.svc.Check(b.ctx, again).OK)
}

func TestConnectWithTheBrowserFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	uat := b.sim.Org("uat")
	n := newOrg(uat, "UAT")
	n.Kind = alm.OrgFullSandbox

	authURL, pending, err := b.svc.StartOAuth(n, uat.ClientSecret(), 0)
	require.NoError(t, err)
	require.NotContains(t, pending, uat.ClientSecret(), "the pending state is sealed")
	p, err := b.svc.OpenPending(pending)
	require.NoError(t, err)

	// Denied consent: a clear message, nothing saved.
	q := approve(t, uat, authURL, "deny")
	_, err = b.svc.FinishOAuth(b.ctx, p, q.Get("state"), q.Get("code"), q.Get("error"), q.Get("error_description"))
	require.Contains(t, alm.ErrorMessage(err), "did not allow access")

	// An answer for another connection is refused.
	q = approve(t, uat, authURL, "allow")
	_, err = b.svc.FinishOAuth(b.ctx, p, "forged", q.Get("code"), "", "")
	require.Contains(t, alm.ErrorMessage(err), "does not belong")
	list, err := b.st.ListOrgs(b.ctx)
	require.NoError(t, err)
	require.Empty(t, list)

	org, err := b.svc.FinishOAuth(b.ctx, p, q.Get("state"), q.Get("code"), "", "")
	require.NoError(t, err)
	require.Equal(t, "oauth", org.AuthKind)
	require.Equal(t, uat.Username(), org.Username)
	require.True(t, b.svc.Check(b.ctx, org).OK)

	// The code works once.
	_, err = b.svc.FinishOAuth(b.ctx, p, q.Get("state"), q.Get("code"), "", "")
	require.Contains(t, alm.ErrorMessage(err), "did not accept the authorisation")

	// A tampered or foreign pending state does not open.
	_, err = b.svc.OpenPending(pending[:len(pending)-2] + "xx")
	require.Error(t, err)
}

func TestRevokedAndDisconnected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	uat := b.sim.Org("uat")
	authURL, pending, err := b.svc.StartOAuth(newOrg(uat, "UAT"), uat.ClientSecret(), 0)
	require.NoError(t, err)
	p, err := b.svc.OpenPending(pending)
	require.NoError(t, err)
	q := approve(t, uat, authURL, "allow")
	org, err := b.svc.FinishOAuth(b.ctx, p, q.Get("state"), q.Get("code"), "", "")
	require.NoError(t, err)

	// Someone revokes Trellis's access in the org: the org needs re-authorising.
	_, err = b.svc.Client(b.ctx, org)
	require.NoError(t, err)
	require.NoError(t, b.svc.Disconnect(b.ctx, org))
	got, err := b.st.OrgByID(b.ctx, org.ID)
	require.NoError(t, err)
	require.Equal(t, alm.OrgDisconnected, got.Status)
	sealed, err := b.st.OrgCredentials(b.ctx, org.ID)
	require.NoError(t, err)
	require.Empty(t, sealed, "credentials are wiped")
	_, err = b.svc.Client(b.ctx, got)
	require.Contains(t, alm.ErrorMessage(err), "disconnected")

	// Re-authorise through the browser: the same org, connected again.
	authURL, pending, err = b.svc.StartOAuth(newOrg(uat, "UAT"), uat.ClientSecret(), org.ID)
	require.NoError(t, err)
	p, err = b.svc.OpenPending(pending)
	require.NoError(t, err)
	q = approve(t, uat, authURL, "allow")
	again, err := b.svc.FinishOAuth(b.ctx, p, q.Get("state"), q.Get("code"), "", "")
	require.NoError(t, err)
	require.Equal(t, org.ID, again.ID)
	require.Equal(t, alm.OrgConnected, again.Status)

	// The refresh token revoked at the org: the health check says so.
	sealed, err = b.st.OrgCredentials(b.ctx, org.ID)
	require.NoError(t, err)
	raw, err := b.keys.Open(sealed, "org:"+itoa(org.ID)+":credentials")
	require.NoError(t, err)
	refresh := strings.Split(strings.Split(string(raw), `"refresh_token":"`)[1], `"`)[0]
	resp, err := http.PostForm(uat.Info().LoginURL+"/services/oauth2/revoke", url.Values{"token": {refresh}})
	require.NoError(t, err)
	resp.Body.Close()
	h := b.svc.Check(b.ctx, again)
	require.False(t, h.OK)
	require.Contains(t, h.Problem, "Re-authorise")
	got, err = b.st.OrgByID(b.ctx, org.ID)
	require.NoError(t, err)
	require.Equal(t, alm.OrgNeedsReauth, got.Status)
	require.NotContains(t, h.Problem, refresh, "no token in messages")
}

func TestRotateReSealsWithTheNewKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dev := b.sim.Org("dev")
	org, err := b.svc.ConnectJWT(b.ctx, newOrg(dev, "Dev"), keyPEM(dev))
	require.NoError(t, err)

	oldKey := b.keys
	newKey := mustKey(t)
	both, err := secret.New(newKey, b.key)
	require.NoError(t, err)
	svc := orgs.New(b.st, both, orgs.Config{CallbackURL: callback})
	n, err := svc.Rotate(b.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = svc.Rotate(b.ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to rotate")

	onlyNew, err := secret.New(newKey)
	require.NoError(t, err)
	require.True(t, orgs.New(b.st, onlyNew, orgs.Config{}).Check(b.ctx, org).OK, "the new key alone opens the credentials")
	h := orgs.New(b.st, oldKey, orgs.Config{}).Check(b.ctx, org)
	require.False(t, h.OK)
	require.Contains(t, h.Problem, "cannot be opened")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
