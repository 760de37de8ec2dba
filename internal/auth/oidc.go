package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/secret"
)

// OIDCConfig configures single sign-on against one OpenID Connect provider.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string   // BASE_URL + /auth/oidc/callback
	Scopes       []string // must include "openid"
	GroupsClaim  string   // ID token claim listing the user's groups
	RoleMap      map[string]alm.Role
	// DefaultRole is the role of a user none of whose groups is mapped;
	// empty refuses such users.
	DefaultRole alm.Role
	// HTTPClient reaches the provider; nil means a client with a timeout.
	HTTPClient *http.Client
}

// OIDC runs the authorization code flow with PKCE. The provider's discovery
// document is fetched on first use (and again after a failure), so Trellis
// starts even when the provider is briefly unreachable.
type OIDC struct {
	cfg     OIDCConfig
	keyring *secret.Keyring
	log     *slog.Logger

	mu       sync.Mutex
	provider *oidc.Provider
}

// NewOIDC returns an OIDC flow for cfg. keyring encrypts the short-lived
// cookie that carries state, nonce and the PKCE verifier to the callback.
func NewOIDC(cfg OIDCConfig, keyring *secret.Keyring, log *slog.Logger) *OIDC {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &OIDC{cfg: cfg, keyring: keyring, log: log}
}

func (o *OIDC) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.cfg.HTTPClient)
}

func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(o.ctx(ctx), o.cfg.Issuer)
	if err != nil {
		o.log.ErrorContext(ctx, "OIDC discovery failed", slog.String("issuer", o.cfg.Issuer), slog.Any("err", err))
		return nil, alm.Errorf(alm.CodeUnavailable, "The single sign-on provider cannot be reached right now. Try again, or sign in with a password.")
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth2Config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  o.cfg.RedirectURL,
		Scopes:       o.cfg.Scopes,
	}
}

// oidcState travels in an encrypted cookie from Begin to Finish.
type oidcState struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	ReturnTo string    `json:"r"`
	Expires  time.Time `json:"e"`
}

const oidcCookieContext = "oidc-login-state"

// Begin starts a sign-in: it returns the provider URL to send the browser
// to and the sealed value for the state cookie.
func (o *OIDC) Begin(ctx context.Context, returnTo string, now time.Time) (redirect, cookie string, err error) {
	p, err := o.discover(ctx)
	if err != nil {
		return "", "", err
	}
	st := oidcState{State: randomToken(24), Nonce: randomToken(24), Verifier: oauth2.GenerateVerifier(), ReturnTo: returnTo, Expires: now.Add(10 * time.Minute)}
	b, _ := json.Marshal(st)
	cookie, err = o.keyring.Seal(b, oidcCookieContext)
	if err != nil {
		return "", "", err
	}
	u := o.oauth2Config(p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return u, cookie, nil
}

// Identity is what the provider vouched for.
type Identity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
}

func flowError(msg string) error {
	return &alm.Error{Code: alm.CodeUnauthorized, Message: msg}
}

// Finish completes a sign-in from the callback request and the state
// cookie: it checks state, exchanges the code with the PKCE verifier,
// verifies the ID token (signature, issuer, audience, expiry) and its nonce.
func (o *OIDC) Finish(ctx context.Context, r *http.Request, cookie string, now time.Time) (Identity, string, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		o.log.WarnContext(ctx, "OIDC provider returned an error", slog.String("error", e), slog.String("description", q.Get("error_description")))
		return Identity{}, "", flowError("The sign-in provider refused the sign-in (" + truncate(e, 60) + "). Try again or ask an admin.")
	}
	raw, err := o.keyring.Open(cookie, oidcCookieContext)
	if err != nil {
		return Identity{}, "", flowError("The sign-in took too long or was started in another browser. Please try again.")
	}
	var st oidcState
	if err := json.Unmarshal(raw, &st); err != nil || now.After(st.Expires) {
		return Identity{}, "", flowError("The sign-in took too long. Please try again.")
	}
	if q.Get("state") == "" || q.Get("state") != st.State {
		return Identity{}, "", flowError("The sign-in response did not match this browser's request (state mismatch). Please try again.")
	}
	p, err := o.discover(ctx)
	if err != nil {
		return Identity{}, "", err
	}
	tok, err := o.oauth2Config(p).Exchange(o.ctx(ctx), q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		o.log.WarnContext(ctx, "OIDC code exchange failed", slog.Any("err", err))
		return Identity{}, "", flowError("The sign-in provider did not accept the sign-in code. Please try again.")
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return Identity{}, "", flowError("The sign-in provider returned no ID token.")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: func() time.Time { return now }}).Verify(o.ctx(ctx), rawID)
	if err != nil {
		o.log.WarnContext(ctx, "OIDC ID token rejected", slog.Any("err", err))
		return Identity{}, "", flowError("The sign-in provider's ID token did not verify.")
	}
	if idt.Nonce != st.Nonce {
		return Identity{}, "", flowError("The ID token was not issued for this sign-in (nonce mismatch). Please try again.")
	}
	id, err := o.identity(idt)
	return id, st.ReturnTo, err
}

func (o *OIDC) identity(idt *oidc.IDToken) (Identity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, flowError("The ID token's claims could not be read.")
	}
	id := Identity{Issuer: idt.Issuer, Subject: idt.Subject}
	id.Email, _ = claims["email"].(string)
	id.EmailVerified, _ = claims["email_verified"].(bool)
	for _, k := range []string{"name", "preferred_username", "email"} {
		if v, _ := claims[k].(string); v != "" {
			id.Name = v
			break
		}
	}
	switch g := claims[o.cfg.GroupsClaim].(type) {
	case []any:
		for _, v := range g {
			if s, ok := v.(string); ok {
				id.Groups = append(id.Groups, s)
			}
		}
	case string:
		id.Groups = strings.Fields(strings.ReplaceAll(g, ",", " "))
	}
	return id, nil
}

// Role returns the most powerful role the identity's groups map to, the
// default role when none maps, or "" (refuse) when there is no default.
func (o *OIDC) Role(id Identity) alm.Role {
	best := -1
	for _, g := range id.Groups {
		if r, ok := o.cfg.RoleMap[g]; ok {
			if i := slices.Index(alm.Roles, r); i >= 0 && (best < 0 || i < best) {
				best = i
			}
		}
	}
	if best >= 0 {
		return alm.Roles[best]
	}
	return o.cfg.DefaultRole
}

// SignIn finds or creates the Trellis user for a verified identity: by
// subject, then (first SSO sign-in) by verified email, else a new account
// with the role from the groups. It refuses disabled users and users whose
// groups map to no role when no default role is configured.
func (s *Service) SignIn(ctx context.Context, o *OIDC, id Identity) (alm.User, error) {
	role := o.Role(id)
	u, err := s.store.UserByOIDC(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil:
	case alm.ErrorCode(err) != alm.CodeNotFound:
		return alm.User{}, err
	case id.Email != "" && id.EmailVerified:
		u, err = s.store.UserByEmail(ctx, id.Email)
		if alm.ErrorCode(err) == alm.CodeNotFound {
			u, err = s.createSSOUser(ctx, id, role)
		} else if err == nil {
			if u.SSO() {
				return alm.User{}, alm.Errorf(alm.CodeForbidden, "%s is already linked to another single sign-on identity. Ask an admin.", u.Email)
			}
			u, err = s.store.LinkOIDC(ctx, u.ID, id.Issuer, id.Subject)
		}
		if err != nil {
			return alm.User{}, err
		}
	default:
		return alm.User{}, alm.Errorf(alm.CodeForbidden, "The sign-in provider did not give a verified email address, so Trellis cannot match you to an account. Ask an admin.")
	}
	if u.Disabled() {
		return alm.User{}, alm.Errorf(alm.CodeForbidden, "This account is disabled. Ask an admin to enable it.")
	}
	if len(o.cfg.RoleMap) > 0 {
		if role == "" {
			return alm.User{}, alm.Errorf(alm.CodeForbidden, "None of your groups gives access to Trellis. Ask an admin.")
		}
		return s.store.SyncSSOLogin(ctx, u.ID, role)
	}
	return u, nil
}

func (s *Service) createSSOUser(ctx context.Context, id Identity, role alm.Role) (alm.User, error) {
	if role == "" {
		return alm.User{}, alm.Errorf(alm.CodeForbidden, "None of your groups gives access to Trellis. Ask an admin.")
	}
	n := alm.NewUser{Email: id.Email, Name: id.Name, Role: role}
	n.Normalize()
	if n.Name == "" {
		n.Name = n.Email
	}
	if err := n.Validate(false); err != nil {
		return alm.User{}, fmt.Errorf("identity from provider: %w", err)
	}
	return s.store.CreateSSOUser(ctx, n, id.Issuer, id.Subject)
}
