// Package browsertest runs user journeys in headless Chromium for tests:
// one browser per test package, a fresh tab (and cookie jar) per test. A
// tab fails its test on any JavaScript exception, console error or
// Content-Security-Policy violation, and saves a screenshot when its test
// fails, into the test artefacts directory.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser is a running headless Chromium.
type Browser struct {
	ctx    context.Context
	cancel context.CancelFunc
	dir    string
}

// ErrNoChromium explains how to get a browser for the browser tests.
var ErrNoChromium = errors.New("no Chromium found for the browser tests: install it (sudo apt-get install chromium) or set CHROME_PATH to a Chrome or Chromium binary")

// FindChromium returns the browser binary: CHROME_PATH, or the usual names.
func FindChromium() (string, error) {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Start launches Chromium with flags that suit a closed, headless machine
// (no sandbox under root, no background network traffic).
func Start() (*Browser, error) {
	path, err := FindChromium()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "trellis-chromium-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1366, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// The first action allocates the browser and binds its lifetime to the
	// context it runs in, so it must not run under a timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	return &Browser{ctx: ctx, cancel: func() { cancelCtx(); cancelAlloc() }, dir: dir}, nil
}

// Close stops the browser.
func (b *Browser) Close() {
	b.cancel()
	os.RemoveAll(b.dir)
}

// tabCount numbers tabs, so each failing tab's screenshot keeps its own
// file.
var tabCount atomic.Int64

// Tab is one browser tab bound to a test.
type Tab struct {
	t   *testing.T
	Ctx context.Context

	mu       sync.Mutex
	problems []string
}

// NewTab opens a tab in its own browser context (fresh cookies) for t. The
// tab closes when t ends; console problems seen by then fail t.
func (b *Browser) NewTab(t *testing.T) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	tab := &Tab{t: t, Ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		cancelTimeout()
		cancel()
		t.Fatalf("open tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if problem(m) {
				tab.mu.Lock()
				tab.problems = append(tab.problems, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
				tab.mu.Unlock()
			}
		}
	}()
	n := tabCount.Add(1)
	t.Cleanup(func() {
		if t.Failed() {
			tab.Screenshot(fmt.Sprintf("FAILED-tab%d", n))
		}
		cancelTimeout()
		cancel()
		<-done
		for _, p := range tab.Problems() {
			t.Errorf("browser console: %s", p)
		}
	})
	return tab
}

// problem reports whether a console message is a defect of the page: an
// exception, a console.error, a CSP violation. Failed network requests are
// not: a 401 or 422 page is an expected answer to a bad form.
func problem(m chromedp.ConsoleMessage) bool {
	if m.IsException() {
		return true
	}
	if m.Type != chromedp.ConsoleError {
		return false
	}
	return m.Source != "network"
}

// Problems returns the console problems seen so far.
func (tab *Tab) Problems() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.problems...)
}

// Do runs actions, failing the test (with a screenshot) on error or when
// they take over 30 seconds.
func (tab *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	tab.DoWithin(30*time.Second, actions...)
}

// DoWithin is Do with its own time limit, for waits on background work
// (a deploy) that a loaded test machine may take longer over.
func (tab *Tab) DoWithin(limit time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, limit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tab.t.Fatalf("browser: %v", err)
	}
}

// Text returns the visible text of the first element matching css.
func (tab *Tab) Text(css string) string {
	tab.t.Helper()
	return tab.read(css, "innerText")
}

// Value returns the current value of the first form control matching css.
func (tab *Tab) Value(css string) string {
	tab.t.Helper()
	return tab.read(css, "value")
}

// read evaluates a property in the page rather than through DevTools node
// ids: those go stale when a form post replaces the document between a wait
// and the read ("No node with given id found"). It waits up to 10 s for the
// element, since the new document may still be arriving.
func (tab *Tab) read(css, prop string) string {
	tab.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e === null ? null : String(e.%s); })()`, css, prop)
	deadline := time.Now().Add(10 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		v, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[*string](js))
		if err == nil && v != nil {
			return *v
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	tab.t.Fatalf("%s of %s: no such element (%v)", prop, css, lastErr)
	return ""
}

// Location returns the current URL.
func (tab *Tab) Location() string {
	tab.t.Helper()
	s, err := chromedp.Run(tab.Ctx, chromedp.Location())
	if err != nil {
		tab.t.Fatalf("location: %v", err)
	}
	return s
}

// Count returns how many elements match css.
func (tab *Tab) Count(css string) int {
	tab.t.Helper()
	n, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", css)))
	if err != nil {
		tab.t.Fatalf("count %s: %v", css, err)
	}
	return n
}

// Screenshot saves a full-page screenshot named after the test and name in
// the artefacts directory, and returns its path ("" if it could not).
func (tab *Tab) Screenshot(name string) string {
	ctx, cancel := context.WithTimeout(tab.Ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 means PNG
	if err != nil {
		tab.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	dir := ArtifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tab.t.Logf("screenshot dir: %v", err)
		return ""
	}
	safe := regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	path := filepath.Join(dir, safe.ReplaceAllString(tab.t.Name(), "_")+"-"+safe.ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tab.t.Logf("screenshot: %v", err)
		return ""
	}
	tab.t.Logf("screenshot: %s", path)
	return path
}

// ArtifactsDir is where screenshots go: TRELLIS_TEST_ARTIFACTS, else
// test-artifacts/ at the top of the repository.
func ArtifactsDir() string {
	if d := os.Getenv("TRELLIS_TEST_ARTIFACTS"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "test-artifacts")
		}
		if d == filepath.Dir(d) {
			return filepath.Join(dir, "test-artifacts")
		}
	}
}

// Main starts one browser for a test package and stops it after the tests.
// Tests reach it with Shared. A missing Chromium fails the browser tests
// with ErrNoChromium's advice rather than skipping them.
func Main(run func() int) int {
	code := run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Close()
	}
	return code
}

var (
	sharedMu  sync.Mutex
	shared    *Browser
	sharedErr error
)

// Shared returns the package's browser, starting it on first use.
func Shared(t *testing.T) *Browser {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start()
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// WaitText waits (up to 20 s) until the page's visible text contains s,
// for pages whose markup the test does not control.
func (tab *Tab) WaitText(s string) {
	tab.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.body !== null && document.body.innerText.includes(%q)", s)))
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tab.t.Fatalf("the page never showed %q", s)
}
