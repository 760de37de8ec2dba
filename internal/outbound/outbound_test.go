package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		bad  bool
	}{
		{"", "public", false},
		{"public", "public", false},
		{"loopback, private", "public,loopback,private", false},
		{"file,10.20.0.0/16", "public,file,10.20.0.0/16", false},
		{"any", "public,any", false},
		{"intranet", "", true},
		{"10.0.0.0/33", "", true},
	} {
		p, err := Parse(c.in)
		if (err != nil) != c.bad {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if !c.bad && p.String() != c.want {
			t.Errorf("%q: %s, want %s", c.in, p, c.want)
		}
	}
}

func TestAllows(t *testing.T) {
	pub := Policy{}
	lab := Policy{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	for _, c := range []struct {
		p    Policy
		ip   string
		want bool
	}{
		{pub, "8.8.8.8", true},
		{pub, "2606:4700::1111", true},
		{pub, "127.0.0.1", false},
		{pub, "::1", false},
		{pub, "::ffff:127.0.0.1", false},
		{pub, "169.254.169.254", false},
		{pub, "fe80::1", false},
		{pub, "10.1.2.3", false},
		{pub, "192.168.1.1", false},
		{pub, "172.16.0.1", false},
		{pub, "fd00::1", false},
		{pub, "100.64.0.1", false},
		{pub, "0.0.0.0", false},
		{Demo, "127.0.0.1", true},
		{Demo, "10.1.2.3", false},
		{Policy{Private: true}, "10.1.2.3", true},
		{Policy{LinkLocal: true}, "169.254.169.254", true},
		{lab, "10.20.9.9", true},
		{lab, "10.21.0.1", false},
		{Policy{Any: true}, "169.254.169.254", true},
	} {
		if got, _ := c.p.Allows(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("%s under %s: %v, want %v", c.ip, c.p, got, c.want)
		}
	}
}

// fakeResolver answers a fixed table, so tests can play DNS rebinding.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

func TestCheckURLAndGitURL(t *testing.T) {
	old := Resolver
	t.Cleanup(func() { Resolver = old })
	Resolver = fakeResolver{
		"hooks.example.com": {netip.MustParseAddr("93.184.216.34")},
		"metadata.evil":     {netip.MustParseAddr("169.254.169.254")},
		"split.evil":        {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")},
		"git.example.com":   {netip.MustParseAddr("93.184.216.35")},
	}
	ctx := context.Background()
	pub := Policy{}
	for _, c := range []struct {
		git  bool
		url  string
		ok   bool
		says string
	}{
		{false, "https://hooks.example.com/x", true, ""},
		{false, "http://169.254.169.254/latest/meta-data/", false, "link-local"},
		{false, "https://metadata.evil/", false, "link-local"},
		{false, "https://split.evil/", false, "private"},
		{false, "http://localhost:8080/", false, "loopback"},
		{false, "http://[::1]/", false, "loopback"},
		{false, "ftp://hooks.example.com/", false, "http"},
		{false, "https://nowhere.invalid/", false, "cannot be resolved"},
		{true, "https://git.example.com/org/repo.git", true, ""},
		{true, "git@git.example.com:org/repo.git", true, ""},
		{true, "ssh://git@127.0.0.1/org/repo.git", false, "loopback"},
		{true, "git@10.0.0.5:org/repo.git", false, "private"},
		{true, "file:///srv/repo.git", false, "file://"},
		{true, "/srv/repo.git", false, "local path"},
	} {
		var err error
		if c.git {
			err = pub.CheckGitURL(ctx, c.url)
		} else {
			err = pub.CheckURL(ctx, c.url)
		}
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), c.says)) {
			t.Errorf("%s: %v (want ok=%v, saying %q)", c.url, err, c.ok, c.says)
		}
	}
	if err := Demo.CheckGitURL(ctx, "file:///srv/repo.git"); err != nil {
		t.Errorf("the demo allows file://: %v", err)
	}
}

// TestClientRefusesAtConnectTime is DNS rebinding's answer: whatever a
// name resolved to when it was saved, the dial to a loopback address is
// refused.
func TestClientRefusesAtConnectTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	_, err := Policy{}.Client(0).Get(srv.URL)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("dial to %s under the public policy: %v", srv.URL, err)
	}
	res, err := Demo.Client(0).Get(srv.URL)
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("the demo policy reaches loopback: %v", err)
	}
	res.Body.Close()
}
