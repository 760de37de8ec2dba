package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/server"
	"github.com/trellis-alm/trellis/internal/store"
)

func TestOperations(t *testing.T) {
	t.Parallel()

	t.Run("HealthAndReadiness", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		require.Equal(t, http.StatusOK, b.browser().get("/healthz").status)
		res := b.browser().get("/readyz")
		require.Equal(t, http.StatusOK, res.status, res.body)
		require.Contains(t, res.body, "ready")
	})

	t.Run("ReadinessIs503WhenTheDatabaseIsGone", func(t *testing.T) {
		t.Parallel()
		pool, err := store.OpenPool(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
		require.NoError(t, err)
		defer pool.Close()
		st := store.New(pool, nil)
		s := server.New(server.Config{}, server.Deps{Store: st, Auth: auth.NewService(st, auth.DefaultConfig(), testLogger(t)), Keyring: newKeys(t), Logger: testLogger(t)})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Contains(t, rec.Body.String(), "The database is not answering")
		require.Contains(t, rec.Body.String(), `data-testid="error-page"`)
		require.NotContains(t, rec.Body.String(), "127.0.0.1:1", "internal detail must not reach the page")
		for _, path := range []string{"/readyz", "/healthz"} {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if path == "/readyz" {
				require.Equal(t, http.StatusServiceUnavailable, rec.Code)
				require.Contains(t, rec.Body.String(), `"database": "unreachable"`)
			} else {
				require.Equal(t, http.StatusOK, rec.Code, "the process itself is fine")
			}
		}
	})

	t.Run("ReadinessReportsAStoppedJobClient", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		s := server.New(server.Config{}, server.Deps{Store: b.store, Auth: b.auth, Keyring: b.keys, Logger: testLogger(t), JobsReady: func() bool { return false }})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Contains(t, rec.Body.String(), "jobs")
	})

	t.Run("MetricsByRouteAndJobs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		client, err := jobs.NewClient(b.store.Pool(), jobs.Deps{Store: b.store}, jobs.Config{})
		require.NoError(t, err)
		_, err = client.Insert(b.ctx, jobs.SessionPruneArgs{}, nil)
		require.NoError(t, err)
		b.browser().get("/healthz")
		b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get("/admin/users/" + itoa(1))
		res := b.browser().get("/metrics")
		require.Equal(t, http.StatusOK, res.status)
		require.Contains(t, res.body, `trellis_http_request_duration_seconds_count{code="200",method="GET",route="/healthz"} 1`)
		require.Contains(t, res.body, `route="/admin/users/{id}"`, "labelled by pattern, not path")
		require.Contains(t, res.body, `trellis_jobs{kind="session_prune",state="available"} 1`)
	})

	t.Run("MetricsTokenWhenConfigured", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		s := server.New(server.Config{MetricsToken: "scrape-secret"}, server.Deps{Store: b.store, Auth: b.auth, Keyring: b.keys, Logger: testLogger(t)})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Authorization", "Bearer scrape-secret")
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
	})

	t.Run("MetricsClosedInProductionWithoutAToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		s := server.New(server.Config{MetricsClosed: true}, server.Deps{Store: b.store, Auth: b.auth, Keyring: b.keys, Logger: testLogger(t)})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		require.Equal(t, http.StatusForbidden, rec.Code)
		require.Contains(t, rec.Body.String(), "TRELLIS_METRICS_ADDR")
		// The handler for a listener of its own serves them.
		rec = httptest.NewRecorder()
		s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "trellis_")
	})

	t.Run("SecurityHeadersAndRequestIDs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		res := b.browser().get("/login")
		h := res.header
		require.Contains(t, h.Get("Content-Security-Policy"), "script-src 'self'")
		require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
		require.Equal(t, "same-origin", h.Get("Referrer-Policy"))
		require.Equal(t, "DENY", h.Get("X-Frame-Options"))
		require.Len(t, h.Get("X-Request-Id"), 16)

		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/healthz", nil)
		req.Header.Set("X-Request-Id", "trace-abc-123")
		require.Equal(t, "trace-abc-123", b.browser().do(req).header.Get("X-Request-Id"))
		req.Header.Set("X-Request-Id", "<script>")
		require.NotEqual(t, "<script>", b.browser().do(req).header.Get("X-Request-Id"))
	})

	t.Run("BodiesOverTheLimitAreRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		br := b.browser()
		token := br.csrf()
		big := url.Values{"csrf_token": {token}, "email": {strings.Repeat("a", 11<<20)}}
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/login", strings.NewReader(big.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := br.do(req)
		require.Contains(t, []int{http.StatusForbidden, http.StatusRequestEntityTooLarge}, res.status)
	})

	t.Run("ErrorPagesForStrangers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		res := b.browser().get("/no/such/page")
		require.Equal(t, http.StatusNotFound, res.status)
		doc := res.doc(t)
		require.Equal(t, 1, doc.Find(`[data-testid="error-page"]`).Length())
		require.Equal(t, 0, doc.Find(`[data-testid="nav"]`).Length())

		req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/no/such/page", nil)
		req.Header.Set("Accept", "application/json")
		res = b.browser().do(req)
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.body), &body))
	})

	t.Run("ForbiddenPageForSignedInUsers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		res := b.signedIn(b.user(alm.RoleDeveloper, "d@example.com")).get("/admin/audit")
		require.Equal(t, http.StatusForbidden, res.status)
		require.Contains(t, res.doc(t).Find(`[data-testid="error-page"]`).Text(), "Developer")
	})
}
