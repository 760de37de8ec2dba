package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/salesforce"
)

type simOrg struct {
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	OrgID        string `json:"org_id"`
	InstanceURL  string `json:"instance_url"`
	LoginURL     string `json:"login_url"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	AccessToken  string `json:"access_token"`
	JWTKeyFile   string `json:"jwt_key_file"`
}

// startOrgsim runs `trellis orgsim --json` until the test ends and
// returns the orgs it printed.
func startOrgsim(t *testing.T, data string, extra ...string) []simOrg {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		args := append([]string{"orgsim", "--addr", "127.0.0.1:0", "--data", data, "--step", "10ms", "--json"}, extra...)
		done <- runWith(ctx, args, envOf(nil), stdio{in: strings.NewReader(""), out: pw, err: io.Discard})
		pw.Close()
	}()
	var doc struct {
		Orgs []simOrg `json:"orgs"`
	}
	if err := json.NewDecoder(pr).Decode(&doc); err != nil {
		cancel()
		t.Fatalf("orgsim --json: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("orgsim stopped with %v", err)
		}
	})
	return doc.Orgs
}

func TestOrgsimCommand(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	orgs := startOrgsim(t, data, "--orgs", "dev,prod")
	if len(orgs) != 2 || orgs[0].Name != "dev" || orgs[1].Kind != "production" || orgs[0].InstanceURL == orgs[1].InstanceURL {
		t.Fatalf("orgs: %+v", orgs)
	}
	for _, o := range orgs {
		if o.LoginURL == "" || o.Username == "" || o.Password == "" || o.ClientID == "" || o.ClientSecret == "" || !strings.HasPrefix(o.AccessToken, o.OrgID[:15]+"!") || o.JWTKeyFile == "" {
			t.Errorf("%s lacks connection details: %+v", o.Name, o)
		}
	}
	// The printed token works as is, and so do the printed credentials.
	req, _ := http.NewRequest("GET", orgs[0].InstanceURL+"/services/data/v64.0/query?q=SELECT+Id+FROM+Account+LIMIT+1", nil)
	req.Header.Set("Authorization", "Bearer "+orgs[0].AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("query with the printed token: %v %v", err, resp)
	}
	resp.Body.Close()
	oc := &salesforce.OAuthConfig{LoginURL: orgs[1].LoginURL, ClientID: orgs[1].ClientID, ClientSecret: orgs[1].ClientSecret}
	tok, err := oc.Password(context.Background(), orgs[1].Username, orgs[1].Password)
	if err != nil || tok.InstanceURL != orgs[1].InstanceURL {
		t.Fatalf("password login: %v %+v", err, tok)
	}
}

func TestOrgsimKeepsOrgsAcrossRestarts(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	first := func() simOrg {
		ctx, cancel := context.WithCancel(context.Background())
		out := &lockedBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- runWith(ctx, []string{"orgsim", "--addr", "127.0.0.1:0", "--data", data, "--orgs", "uat", "--json"}, envOf(nil), stdio{out: out, err: io.Discard})
		}()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "}\n") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var doc struct{ Orgs []simOrg }
		if err := json.Unmarshal([]byte(out.String()), &doc); err != nil || len(doc.Orgs) != 1 {
			t.Fatalf("%v %s", err, out.String())
		}
		return doc.Orgs[0]
	}
	a, b := first(), first()
	if a.OrgID != b.OrgID || a.ClientID != b.ClientID || a.Password != b.Password || a.AccessToken == b.AccessToken {
		t.Errorf("a restart should keep the org (and issue a fresh session): %+v %+v", a, b)
	}
}

func TestOrgsimUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"orgsim", "--orgs", " , "}, {"orgsim", "extra"}, {"orgsim", "--step", "-1s"}, {"orgsim", "--nope"}} {
		if r := runCLI(t, nil, "", args...); exitCode(r.e) != 2 {
			t.Errorf("%v: %v", args, r.e)
		}
	}
	if r := runCLI(t, nil, "", "orgsim", "--orgs", "bad name!", "--addr", "127.0.0.1:0", "--data", t.TempDir()); r.e == nil || exitCode(r.e) != 1 || !strings.Contains(r.e.Error(), "bad name!") {
		t.Errorf("bad org name: %v", r.e)
	}
}

// lockedBuffer is written by the command while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
