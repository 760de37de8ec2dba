package server_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// Baselines for what every later page builds on: the middleware stack, a
// session lookup, a rendered page, an API token lookup. Run with make bench.

func BenchmarkHealthz(b *testing.B) {
	bench(b, func(tb *testBundle) (*http.Request, *browser) {
		return mustReq(http.MethodGet, tb.srv.URL+"/healthz"), tb.browser()
	})
}

func BenchmarkOverviewPageWithSession(b *testing.B) {
	bench(b, func(tb *testBundle) (*http.Request, *browser) {
		u := must(tb.store.UserByEmail(tb.ctx, "first-admin@example.com"))
		return mustReq(http.MethodGet, tb.srv.URL+"/"), tb.signedIn(u)
	})
}

func BenchmarkAPIMeWithToken(b *testing.B) {
	bench(b, func(tb *testBundle) (*http.Request, *browser) {
		u := tb.user(alm.RoleDeveloper, "bench@example.com")
		req := mustReq(http.MethodGet, tb.srv.URL+"/api/v1/me")
		req.Header.Set("Authorization", "Bearer "+tb.token(u))
		return req, tb.browser()
	})
}

func bench(b *testing.B, prepare func(*testBundle) (*http.Request, *browser)) {
	tb := setup(b, setupOpts{})
	req, br := prepare(tb)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := br.client.Do(req.Clone(req.Context()))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}

// The Plan pages on a project of 2,000 requirements and 10,000 work items
// (make load runs the full 10,000/50,000 under 200 clients).

func benchPlan(b *testing.B, path string) {
	bench(b, func(tb *testBundle) (*http.Request, *browser) {
		_, err := tb.store.SeedLarge(tb.ctx, store.LargeSeed{Key: "PERF", Requirements: 2000, WorkItems: 10000})
		if err != nil {
			b.Fatal(err)
		}
		u := must(tb.store.UserByEmail(tb.ctx, "first-admin@example.com"))
		return mustReq(http.MethodGet, tb.srv.URL+path), tb.signedIn(u)
	})
}

func BenchmarkBoardPage(b *testing.B)       { benchPlan(b, "/projects/PERF/board") }
func BenchmarkRequirementPage(b *testing.B) { benchPlan(b, "/requirements/PERF-REQ-77") }
func BenchmarkMatrixPage(b *testing.B)      { benchPlan(b, "/projects/PERF/matrix") }
func BenchmarkSearchPage(b *testing.B)      { benchPlan(b, "/projects/PERF/search?q=approval") }
