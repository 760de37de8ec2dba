package gittest

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// HTTPServer serves the bare repositories under root over git's smart
// HTTP protocol (git http-backend), fetch and push, as a git host does.
// With a token, requests must carry it as the basic-auth password;
// setToken changes it (a token expiring).
func HTTPServer(t testing.TB, root, token string) (url string, setToken func(string)) {
	t.Helper()
	gitBin := RequireGit(t)
	backend := &cgi.Handler{Path: gitBin, Args: []string{"http-backend"}, Dir: root,
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=trellis"}}
	var current atomic.Value
	current.Store(token)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if want := current.Load().(string); want != "" {
			if _, pw, ok := r.BasicAuth(); !ok || pw != want {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(tok string) { current.Store(tok) }
}

// Bare makes a bare copy of the repository at src as root/name.git and
// returns its path.
func Bare(t testing.TB, src, root, name string) string {
	t.Helper()
	dst := filepath.Join(root, name+".git")
	if out, err := exec.Command("git", "clone", "-q", "--bare", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("git clone --bare: %v\n%s", err, out)
	}
	// Accept pushes over HTTP.
	if out, err := exec.Command("git", "-C", dst, "config", "http.receivepack", "true").CombinedOutput(); err != nil {
		t.Fatalf("git config: %v\n%s", err, out)
	}
	return dst
}

// Protect refuses every push to branch in the bare repository, as a git
// host's branch protection does, with the host's kind of message.
func Protect(t testing.TB, bare, branch string) {
	t.Helper()
	hook := "#!/bin/sh\nwhile read old new ref; do\n  if [ \"$ref\" = \"refs/heads/" + branch + "\" ]; then\n    echo \"error: GH006: Protected branch update failed for refs/heads/" + branch + ".\" >&2\n    exit 1\n  fi\ndone\n"
	if err := os.WriteFile(filepath.Join(bare, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
}

// RequireGit returns the git binary, failing the test when it is missing:
// the suite needs it (the README says so, and .ci/run installs it).
func RequireGit(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("git")
	if err != nil {
		tb.Fatal("these tests need the git binary on the PATH (apt-get install git)")
	}
	return bin
}
