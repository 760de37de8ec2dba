// Package outbound decides where Trellis may connect on a user's say-so:
// webhooks, alert routes, release announcement hooks and git
// repositories are addresses people type in, and an address inside the
// network Trellis runs in (loopback, a cloud's metadata service on a
// link-local address, private ranges) would let them reach what they
// should not. A Policy is checked when an address is saved and again on
// every connection, against the IP actually dialled, so a name that
// resolves somewhere harmless at save time and somewhere internal later
// (DNS rebinding) is still refused.
//
// The policy is TRELLIS_OUTBOUND_ALLOW: a comma-separated list of
// "public" (the default: public addresses only), "loopback", "private"
// (RFC 1918 and unique-local), "link-local", "file" (file:// repositories),
// CIDR prefixes such as 10.20.0.0/16, or "any". Demo mode adds loopback
// and file.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy says which addresses outbound connections may reach. The zero
// Policy allows public addresses only.
type Policy struct {
	Loopback  bool
	Private   bool
	LinkLocal bool
	File      bool // file:// repositories
	Any       bool // everything, file:// included
	Prefixes  []netip.Prefix
}

// Demo is the policy demo mode adds: the simulated orgs, git server and
// hooks listen on loopback, and the demo repository is a local folder.
var Demo = Policy{Loopback: true, File: true}

// Parse reads a TRELLIS_OUTBOUND_ALLOW value; the error names the part it
// does not understand.
func Parse(s string) (Policy, error) {
	var p Policy
	for _, part := range strings.Split(s, ",") {
		switch part = strings.TrimSpace(strings.ToLower(part)); part {
		case "", "public":
		case "loopback":
			p.Loopback = true
		case "private":
			p.Private = true
		case "link-local":
			p.LinkLocal = true
		case "file":
			p.File = true
		case "any":
			p.Any = true
		default:
			pre, err := netip.ParsePrefix(part)
			if err != nil {
				return p, fmt.Errorf("%q is not public, loopback, private, link-local, file, any or a CIDR prefix", part)
			}
			p.Prefixes = append(p.Prefixes, pre.Masked())
		}
	}
	return p, nil
}

// With returns p also allowing what q allows.
func (p Policy) With(q Policy) Policy {
	p.Loopback, p.Private, p.LinkLocal = p.Loopback || q.Loopback, p.Private || q.Private, p.LinkLocal || q.LinkLocal
	p.File, p.Any = p.File || q.File, p.Any || q.Any
	p.Prefixes = append(append([]netip.Prefix(nil), p.Prefixes...), q.Prefixes...)
	return p
}

// String is the policy as TRELLIS_OUTBOUND_ALLOW would spell it.
func (p Policy) String() string {
	parts := []string{"public"}
	for _, x := range []struct {
		on   bool
		name string
	}{{p.Loopback, "loopback"}, {p.Private, "private"}, {p.LinkLocal, "link-local"}, {p.File, "file"}, {p.Any, "any"}} {
		if x.on {
			parts = append(parts, x.name)
		}
	}
	for _, pre := range p.Prefixes {
		parts = append(parts, pre.String())
	}
	return strings.Join(parts, ",")
}

// ErrRefused is wrapped by every refusal.
var ErrRefused = errors.New("refused by the outbound policy")

// Allows reports whether an IP may be reached, and if not, which kind of
// address it is.
func (p Policy) Allows(ip netip.Addr) (bool, string) {
	ip = ip.Unmap()
	if p.Any {
		return true, ""
	}
	for _, pre := range p.Prefixes {
		if pre.Contains(ip) {
			return true, ""
		}
	}
	switch {
	case ip.IsLoopback():
		return p.Loopback, "a loopback address"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return p.LinkLocal, "a link-local address (where clouds serve instance metadata)"
	case ip.IsPrivate():
		return p.Private, "a private network address"
	case ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return false, "not an address a server can be reached at"
	case cgnat.Contains(ip):
		return p.Private, "a carrier-grade NAT address"
	}
	return true, ""
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// refusal explains why host (at ip) may not be reached.
func refusal(host string, ip netip.Addr, kind string) error {
	at := ""
	if host != ip.String() {
		at = " (" + ip.String() + ")"
	}
	return fmt.Errorf("%s%s is %s, which Trellis does not connect to: ask an admin to allow it with TRELLIS_OUTBOUND_ALLOW: %w", host, at, kind, ErrRefused)
}

// Resolver looks names up; net.DefaultResolver by default.
var Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
} = net.DefaultResolver

// CheckHost resolves host and checks every address it has: all must be
// allowed, since a connection may use any of them.
func (p Policy) CheckHost(ctx context.Context, host string) error {
	if p.Any {
		return nil
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		if ok, kind := p.Allows(ip); !ok {
			return refusal(host, ip, kind)
		}
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		if !p.Loopback {
			return refusal(host, netip.MustParseAddr("127.0.0.1"), "a loopback address")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%s cannot be resolved: %w", host, err)
	}
	for _, ip := range ips {
		if ok, kind := p.Allows(ip); !ok {
			return refusal(host, ip, kind)
		}
	}
	return nil
}

// CheckURL checks an http(s) address Trellis would post to.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("give an http:// or https:// address")
	}
	return p.CheckHost(ctx, u.Hostname())
}

// CheckGitURL checks a repository's clone URL: https://, http://, ssh://,
// git://, scp-like (git@host:org/repo.git), or file:// and local paths,
// which only a policy allowing file accepts.
func (p Policy) CheckGitURL(ctx context.Context, raw string) error {
	raw = strings.TrimSpace(raw)
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		switch u.Scheme {
		case "file":
			if p.File || p.Any {
				return nil
			}
			return fmt.Errorf("file:// repositories are for the demo and for installations that allow them (TRELLIS_OUTBOUND_ALLOW=file): %w", ErrRefused)
		case "http", "https", "ssh", "git", "git+ssh", "ssh+git":
			if u.Hostname() == "" {
				return errors.New("the URL names no host")
			}
			return p.CheckHost(ctx, u.Hostname())
		}
		return fmt.Errorf("%s:// is not a git transport Trellis uses", u.Scheme)
	}
	// scp-like: [user@]host:path, where host has no slash before the colon.
	if i := strings.Index(raw, ":"); i > 0 && !strings.Contains(raw[:i], "/") {
		host := raw[:i]
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
		return p.CheckHost(ctx, host)
	}
	if p.File || p.Any {
		return nil
	}
	return fmt.Errorf("a local path is a file:// repository, for the demo and for installations that allow it (TRELLIS_OUTBOUND_ALLOW=file): %w", ErrRefused)
}

// Dialer returns a dialer that refuses, at connect time, an address the
// policy does not allow: the check sees the IP being dialled, whatever a
// name resolved to when it was saved.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("outbound: %q is not an IP address", host)
		}
		if ok, kind := p.Allows(ip); !ok {
			return refusal(host, ip, kind)
		}
		return nil
	}}
}

// Client returns an HTTP client whose connections obey the policy, with
// the timeout for the whole exchange. It does not follow redirects to
// addresses the policy refuses (each hop dials through the same check).
func (p Policy) Client(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy would dial for us, past the check
	t.DialContext = p.Dialer(10 * time.Second).DialContext
	return &http.Client{Timeout: timeout, Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}
