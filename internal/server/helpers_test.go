package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"
	"riverqueue.com/riverui"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/browsertest"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/outbound"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/server"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

func TestMain(m *testing.M) {
	os.Exit(browsertest.Main(func() int { return testdb.Run(m) }))
}

// clock is a settable time source shared by the store and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testBundle is a real server over a fresh database, reached over HTTP.
type testBundle struct {
	t       testing.TB
	ctx     context.Context
	srv     *httptest.Server
	server  *server.Server
	store   *store.Store
	auth    *auth.Service
	clock   *clock
	keys    *secret.Keyring
	jobs    *jobs.Client
	sim     *orgsim.Sim   // with setupOpts.Develop
	orgs    *orgs.Service // with setupOpts.Develop
	jobDeps jobs.Deps     // with setupOpts.Develop
}

// setupOpts adjusts the server a test gets.
type setupOpts struct {
	OIDC   func(base string, keys *secret.Keyring, log *slog.Logger) *auth.OIDC
	NoUser bool // leave the installation un-set-up
	JobsUI bool // mount River's UI on a real job client
	// Develop runs simulated orgs, the orgs service and a working job
	// client, for the Develop pages.
	Develop bool
	// SimOrgs names the simulated orgs (default dev and uat).
	SimOrgs []string
	// DemoSettingUp stands for a demo still seeding.
	DemoSettingUp func() bool
	// Outbound is the outbound policy; tests post to hooks on loopback,
	// so the default is the demo's (loopback and file://).
	Outbound *outbound.Policy
}

func (o setupOpts) outbound() outbound.Policy {
	if o.Outbound != nil {
		return *o.Outbound
	}
	return outbound.Demo
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func setup(t testing.TB, o setupOpts) *testBundle {
	t.Helper()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	st := store.New(testdb.New(t), c.now)
	keys, err := secret.New(must(secret.ParseKey(secret.GenerateKey())))
	require.NoError(t, err)
	log := testLogger(t)
	svc := auth.NewService(st, auth.DefaultConfig(), log)
	b := &testBundle{t: t, ctx: context.Background(), store: st, auth: svc, clock: c, keys: keys}
	deps := server.Deps{Store: st, Auth: svc, Keyring: keys, Logger: log, DemoSettingUp: o.DemoSettingUp}
	if o.JobsUI {
		client, err := jobs.NewClient(st.Pool(), jobs.Deps{Store: st, Logger: log}, jobs.Config{})
		require.NoError(t, err)
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(client, nil), Logger: log, Prefix: "/admin/jobs"})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		require.NoError(t, ui.Start(ctx))
		deps.Jobs, deps.JobsUI = client, ui
		_, err = client.Insert(ctx, jobs.SessionPruneArgs{}, nil)
		require.NoError(t, err)
	}
	b.srv = httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + b.srv.Listener.Addr().String())
	if o.OIDC != nil {
		deps.OIDC = o.OIDC(base.String(), keys, log)
	}
	if o.Develop {
		names := o.SimOrgs
		if len(names) == 0 {
			names = []string{"dev", "uat"}
		}
		sim, err := orgsim.Start(orgsim.Options{Orgs: names, Step: 20 * time.Millisecond})
		require.NoError(t, err)
		t.Cleanup(func() { sim.Close() })
		b.sim = sim
		deps.Orgs = orgs.New(st, keys, orgs.Config{CallbackURL: base.String() + "/orgs/oauth/callback", Logger: log})
		deps.Repos = repos.New(st, keys, t.TempDir(), o.outbound())
		b.orgs = deps.Orgs
		b.jobDeps = jobs.Deps{Store: st, Orgs: deps.Orgs, Repos: deps.Repos, SnapshotChunk: 4, SessionIdle: time.Hour, Logger: log, Outbound: o.outbound(),
			BaseURL: base.String(), Keyring: keys}
		client, err := jobs.NewClient(st.Pool(), b.jobDeps,
			jobs.Config{Work: true, FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 20 * time.Millisecond, NoSchedules: true})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		require.NoError(t, client.Start(ctx))
		t.Cleanup(func() {
			_ = client.Stop(context.Background())
			cancel()
		})
		deps.Jobs = client
		b.jobs = client
	}
	b.server = server.New(server.Config{BaseURL: base, Version: "test", Outbound: o.outbound()}, deps)
	b.srv.Config.Handler = b.server
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	if !o.NoUser {
		b.user(alm.RoleAdmin, "first-admin@example.com")
	}
	return b
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

const testPassword = "correct horse battery"

// user creates an account with testPassword.
func (b *testBundle) user(role alm.Role, email string) alm.User {
	b.t.Helper()
	u, err := b.auth.CreateUser(b.ctx, alm.NewUser{Email: email, Name: "Test " + string(role), Role: role, Password: testPassword}, false)
	require.NoError(b.t, err)
	return u
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each answer.
type browser struct {
	b      *testBundle
	client *http.Client
}

func (b *testBundle) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{b: b, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn returns a browser holding a fresh session for u, made directly
// (no password hashing), for tests about what comes after sign-in.
func (b *testBundle) signedIn(u alm.User) *browser {
	b.t.Helper()
	br := b.browser()
	value, _, err := b.auth.StartSession(b.ctx, u, "test", "127.0.0.1", "test")
	require.NoError(b.t, err)
	base, _ := url.Parse(b.srv.URL)
	br.client.Jar.SetCookies(base, []*http.Cookie{{Name: "trellis_session", Value: value, Path: "/"}})
	return br
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) location() string { return r.header.Get("Location") }

func (r response) doc(t testing.TB) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	require.NoError(t, err)
	return d
}

func (br *browser) do(req *http.Request) response {
	br.b.t.Helper()
	res, err := br.client.Do(req)
	require.NoError(br.b.t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (br *browser) get(path string) response {
	br.b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, br.b.srv.URL+path, nil)
	return br.do(req)
}

// csrf fetches a page (following redirects to wherever this browser is
// sent) to obtain the browser's anti-forgery token.
func (br *browser) csrf() string {
	br.b.t.Helper()
	path := "/login"
	for i := 0; i < 4; i++ {
		res := br.get(path)
		if tok, _ := res.doc(br.b.t).Find(`input[name="csrf_token"]`).First().Attr("value"); tok != "" {
			return tok
		}
		if res.location() == "" {
			break
		}
		path = res.location()
	}
	br.b.t.Fatal("no csrf token found")
	return ""
}

// post submits a form, adding the CSRF token unless the form has one.
func (br *browser) post(path string, form url.Values) response {
	br.b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", br.csrf())
	}
	req, _ := http.NewRequest(http.MethodPost, br.b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return br.do(req)
}

// api calls the JSON API with a bearer token.
func (b *testBundle) api(method, path, token string, body io.Reader) response {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return b.browser().do(req)
}

func (b *testBundle) token(u alm.User) string {
	b.t.Helper()
	v, _, err := b.auth.CreateToken(b.ctx, u, "test token", time.Hour)
	require.NoError(b.t, err)
	return v
}

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func newKeys(t *testing.T) *secret.Keyring {
	t.Helper()
	k, err := secret.New(must(secret.ParseKey(secret.GenerateKey())))
	require.NoError(t, err)
	return k
}
