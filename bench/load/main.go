// Command load measures the Plan pages under load: 200 concurrent clients
// (closed loop, no think time unless -think is set) request the board, a
// requirement page, the traceability matrix, search and /healthz, mixed
// in one run so /healthz's figures are the baseline under the same load.
// It prints p50/p95/p99 latency and requests per second per target, and
// each target's p95 as a multiple of /healthz's.
//
// By default it is self-contained: it starts a private PostgreSQL in a
// temporary directory, migrates it, seeds a project of 10,000
// requirements and 50,000 work items (store.SeedLarge, as `make
// seed-large` does), and serves Trellis in this process on a loopback
// port with the production connection pool and middleware. With -url and
// -token it loads a running Trellis instead (after `make seed-large`).
//
//	go run ./bench/load [-clients 200] [-duration 30s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/trellis-alm/trellis/bench/benchdb"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/server"
	"github.com/trellis-alm/trellis/internal/store"
)

func main() {
	clients := flag.Int("clients", 200, "concurrent clients")
	duration := flag.Duration("duration", 30*time.Second, "how long to measure (after a 3 s warm-up)")
	think := flag.Duration("think", 0, "pause between a client's requests (0: closed loop, as fast as answers come)")
	reqs := flag.Int("requirements", 10000, "requirements to seed")
	items := flag.Int("work-items", 50000, "work items to seed")
	target := flag.String("url", "", "load a running Trellis at this URL instead of starting one")
	token := flag.String("token", "", "an API token for -url (trellis token create …)")
	project := flag.String("project", "PERF", "the seeded project's key")
	flag.Parse()

	ctx := context.Background()
	base, tok := *target, *token
	if base == "" {
		var stop func()
		base, tok, stop = startTrellis(ctx, *project, *reqs, *items)
		defer stop()
	} else if tok == "" {
		fail(fmt.Errorf("-url needs -token"))
	}
	nReq := *reqs
	words := []string{"approval", "quote discount", "territory forecast", "mobile offline", "\"lead scoring\"", "invoice -billing", "escalation", "knowledge article"}
	targets := []struct {
		name string
		path func(r *rand.Rand) string
	}{
		{"board", func(*rand.Rand) string { return "/projects/" + *project + "/board" }},
		{"requirement page", func(r *rand.Rand) string { return fmt.Sprintf("/requirements/%s-REQ-%d", *project, 1+r.IntN(nReq)) }},
		{"matrix", func(*rand.Rand) string { return "/projects/" + *project + "/matrix" }},
		{"search", func(r *rand.Rand) string {
			return "/projects/" + *project + "/search?q=" + url.QueryEscape(words[r.IntN(len(words))])
		}},
		{"/healthz", func(*rand.Rand) string { return "/healthz" }},
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: *clients * 2, MaxIdleConnsPerHost: *clients * 2, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// Check every target answers 200 before measuring anything.
	r0 := rand.New(rand.NewPCG(1, 2))
	for _, t := range targets {
		if code := get(client, base+t.path(r0), tok); code != http.StatusOK {
			fail(fmt.Errorf("%s answered %d", t.name, code))
		}
	}

	type sample struct {
		target int
		d      time.Duration
		ok     bool
	}
	var mu sync.Mutex
	var samples []sample
	var clientsDone sync.WaitGroup
	// phase: 0 warming up, 1 measuring, 2 stopping.
	var phase atomic.Int32
	for c := range *clients {
		clientsDone.Add(1)
		go func() {
			defer clientsDone.Done()
			r := rand.New(rand.NewPCG(uint64(c), 7))
			local := make([]sample, 0, 4096)
			for i := c; ; i++ {
				ph := phase.Load()
				if ph == 2 {
					break
				}
				ti := i % len(targets)
				t0 := time.Now()
				code := get(client, base+targets[ti].path(r), tok)
				if d := time.Since(t0); ph == 1 && phase.Load() == 1 {
					local = append(local, sample{ti, d, code == http.StatusOK})
				}
				if *think > 0 {
					time.Sleep(*think)
				}
			}
			mu.Lock()
			samples = append(samples, local...)
			mu.Unlock()
		}()
	}
	fmt.Printf("load: %d clients, %s warm-up then %s measured, think time %s, against %s\n", *clients, 3*time.Second, *duration, *think, base)
	time.Sleep(3 * time.Second)
	phase.Store(1)
	t0 := time.Now()
	time.Sleep(*duration)
	phase.Store(2)
	elapsed := time.Since(t0)
	clientsDone.Wait()

	by := make([][]time.Duration, len(targets))
	errs := make([]int, len(targets))
	for _, s := range samples {
		by[s.target] = append(by[s.target], s.d)
		if !s.ok {
			errs[s.target]++
		}
	}
	pct := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		return ds[min(len(ds)-1, int(float64(len(ds))*p))]
	}
	for _, ds := range by {
		slices.Sort(ds)
	}
	base95 := pct(by[len(targets)-1], .95)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "target\trequests\terrors\treq/s\tp50\tp95\tp99\tp95 ÷ /healthz p95\t")
	total := 0
	for i, t := range targets {
		ds := by[i]
		total += len(ds)
		fmt.Fprintf(w, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%.2f×\t\n", t.name, len(ds), errs[i], float64(len(ds))/elapsed.Seconds(),
			ms(pct(ds, .5)), ms(pct(ds, .95)), ms(pct(ds, .99)), float64(pct(ds, .95))/float64(base95))
	}
	fmt.Fprintf(w, "all\t%d\t\t%.0f\t\t\t\t\t\n", total, float64(total)/elapsed.Seconds())
	w.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func get(c *http.Client, u, token string) int {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// startTrellis runs a private PostgreSQL and Trellis in this process, seeds
// the project and returns the base URL, an admin's API token and a stop
// function.
func startTrellis(ctx context.Context, key string, reqs, items int) (string, string, func()) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := benchdb.Start(ctx, "load", log)
	fail(err)
	st := db.Store
	actx := alm.WithActor(ctx, alm.Actor{Label: "bench/load"})
	fmt.Printf("seeding %s: %d requirements, %d work items…\n", key, reqs, items)
	t0 := time.Now()
	_, err = st.SeedLarge(actx, store.LargeSeed{Key: key, Requirements: reqs, WorkItems: items})
	fail(err)
	fmt.Printf("seeded in %s\n", time.Since(t0).Round(time.Millisecond))

	keys, err := secret.New(must(secret.ParseKey(secret.GenerateKey())))
	fail(err)
	svc := auth.NewService(st, auth.DefaultConfig(), log)
	u, err := svc.CreateUser(actx, alm.NewUser{Email: "load@example.com", Name: "Load Test", Role: alm.RoleAdmin, Password: "load test password"}, false)
	fail(err)
	tok, _, err := svc.CreateToken(actx, u, "load", time.Hour)
	fail(err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	fail(err)
	base := "http://" + ln.Addr().String()
	bu, _ := url.Parse(base)
	// Requests are logged as in production, to a sink instead of a terminal.
	reqLog := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv := server.New(server.Config{BaseURL: bu, Version: "load"}, server.Deps{Store: st, Auth: svc, Keyring: keys, Logger: reqLog})
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return base, tok, func() {
		_ = hs.Shutdown(context.Background())
		db.Close()
	}
}

func must[T any](v T, err error) T {
	fail(err)
	return v
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}
