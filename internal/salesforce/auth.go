package salesforce

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// Login hosts.
const (
	LoginProduction = "https://login.salesforce.com"
	LoginSandbox    = "https://test.salesforce.com"
)

// Token is what the OAuth token endpoint grants.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	InstanceURL  string `json:"instance_url"`
	IdentityURL  string `json:"id"`
	IssuedAt     string `json:"issued_at,omitempty"` // milliseconds since the epoch
	Signature    string `json:"signature,omitempty"`
	Scope        string `json:"scope,omitempty"`
	TokenType    string `json:"token_type,omitempty"`
}

// OrgID and UserID come from the identity URL (.../id/{org}/{user}).
func (t *Token) OrgID() string  { return idPart(t.IdentityURL, 2) }
func (t *Token) UserID() string { return idPart(t.IdentityURL, 1) }

func idPart(identity string, fromEnd int) string {
	parts := strings.Split(strings.TrimSuffix(identity, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "id" {
		return ""
	}
	return parts[len(parts)-fromEnd]
}

// Credentials hand the client a session and renew it. Storing them
// (encrypted) is the application's business: implementations call back
// when a new token is granted.
type Credentials interface {
	// Token returns the current session, obtaining one if there is none.
	Token(ctx context.Context) (*Token, error)
	// Refresh replaces stale with a new session. Concurrent callers that
	// saw the same stale token share one refresh.
	Refresh(ctx context.Context, stale *Token) (*Token, error)
}

// RefreshCredentials renew the session with the refresh token
// (web-server flow connections).
type RefreshCredentials struct {
	OAuth *OAuthConfig
	// OnRefresh is told of each new token, to store it. The refresh
	// token is kept from the old one when the answer carries none.
	OnRefresh func(ctx context.Context, t *Token) error

	mu  sync.Mutex
	tok *Token
}

// NewRefreshCredentials starts from a token granted earlier.
func NewRefreshCredentials(oauth *OAuthConfig, tok *Token, onRefresh func(context.Context, *Token) error) *RefreshCredentials {
	return &RefreshCredentials{OAuth: oauth, OnRefresh: onRefresh, tok: tok}
}

func (r *RefreshCredentials) Token(ctx context.Context) (*Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tok == nil || r.tok.AccessToken == "" {
		if r.tok != nil && r.tok.RefreshToken != "" {
			return r.refreshLocked(ctx)
		}
		return nil, ErrNoSession
	}
	return r.tok, nil
}

func (r *RefreshCredentials) Refresh(ctx context.Context, stale *Token) (*Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tok != nil && stale != nil && r.tok.AccessToken != stale.AccessToken {
		return r.tok, nil // someone else refreshed meanwhile
	}
	return r.refreshLocked(ctx)
}

func (r *RefreshCredentials) refreshLocked(ctx context.Context) (*Token, error) {
	if r.tok == nil || r.tok.RefreshToken == "" {
		return nil, ErrNoSession
	}
	t, err := r.OAuth.Refresh(ctx, r.tok.RefreshToken)
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = r.tok.RefreshToken
	}
	if r.OnRefresh != nil {
		if err := r.OnRefresh(ctx, t); err != nil {
			return nil, fmt.Errorf("storing the refreshed token: %w", err)
		}
	}
	r.tok = t
	return t, nil
}

// JWTCredentials obtain sessions with the JWT bearer flow: no browser and
// no refresh token, for CI and headless connections.
type JWTCredentials struct {
	OAuth    *OAuthConfig
	Username string
	Key      *rsa.PrivateKey

	mu  sync.Mutex
	tok *Token
}

func (j *JWTCredentials) Token(ctx context.Context) (*Token, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.tok != nil {
		return j.tok, nil
	}
	t, err := j.OAuth.JWTBearer(ctx, j.Username, j.Key)
	if err != nil {
		return nil, err
	}
	j.tok = t
	return t, nil
}

func (j *JWTCredentials) Refresh(ctx context.Context, stale *Token) (*Token, error) {
	j.mu.Lock()
	if j.tok != nil && stale != nil && j.tok.AccessToken != stale.AccessToken {
		defer j.mu.Unlock()
		return j.tok, nil
	}
	j.tok = nil
	j.mu.Unlock()
	return j.Token(ctx)
}

// StaticCredentials use a session obtained elsewhere; it cannot be renewed.
type StaticCredentials struct{ Tok *Token }

func (s StaticCredentials) Token(context.Context) (*Token, error) {
	if s.Tok == nil {
		return nil, ErrNoSession
	}
	return s.Tok, nil
}

func (s StaticCredentials) Refresh(context.Context, *Token) (*Token, error) { return nil, ErrNoSession }

// OAuthConfig is a connected (or external client) app on a login host.
type OAuthConfig struct {
	// LoginURL is https://login.salesforce.com, https://test.salesforce.com
	// or the org's My Domain.
	LoginURL     string
	ClientID     string
	ClientSecret string // empty when the app does not require it
	RedirectURL  string
	Scopes       []string // default: api refresh_token id
	// Audience of JWT assertions; by default the production or sandbox
	// login host that LoginURL stands for.
	Audience   string
	HTTPClient *http.Client
}

func (o *OAuthConfig) endpoint(p string) string {
	return strings.TrimSuffix(o.LoginURL, "/") + p
}

func (o *OAuthConfig) client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: time.Minute}
}

// NewPKCE returns a fresh code verifier for one authorisation.
func NewPKCE() string { return oauth2.GenerateVerifier() }

// AuthCodeURL is where to send the browser to connect an org: the
// web-server flow with a PKCE S256 challenge for verifier.
func (o *OAuthConfig) AuthCodeURL(state, verifier string, extra url.Values) string {
	scopes := o.Scopes
	if len(scopes) == 0 {
		scopes = []string{"api", "refresh_token", "id"}
	}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {o.ClientID},
		"redirect_uri":          {o.RedirectURL},
		"state":                 {state},
		"scope":                 {strings.Join(scopes, " ")},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return o.endpoint("/services/oauth2/authorize") + "?" + q.Encode()
}

// Exchange trades the callback's code for a token.
func (o *OAuthConfig) Exchange(ctx context.Context, code, verifier string) (*Token, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"client_id":     {o.ClientID},
		"redirect_uri":  {o.RedirectURL},
		"code_verifier": {verifier},
	}
	if o.ClientSecret != "" {
		form.Set("client_secret", o.ClientSecret)
	}
	return o.token(ctx, "authorization code exchange", form)
}

// Refresh obtains a new session from a refresh token.
func (o *OAuthConfig) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {o.ClientID}}
	if o.ClientSecret != "" {
		form.Set("client_secret", o.ClientSecret)
	}
	return o.token(ctx, "token refresh", form, refreshToken)
}

// Password is the username-password grant (password followed by the
// user's security token). Salesforce discourages it; some orgs still use it.
func (o *OAuthConfig) Password(ctx context.Context, username, password string) (*Token, error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {o.ClientID}, "username": {username}, "password": {password}}
	if o.ClientSecret != "" {
		form.Set("client_secret", o.ClientSecret)
	}
	return o.token(ctx, "password login", form, password)
}

// JWTBearer obtains a session for username with an RS256 assertion signed
// by the key whose certificate the connected app holds.
func (o *OAuthConfig) JWTBearer(ctx context.Context, username string, key *rsa.PrivateKey) (*Token, error) {
	if key == nil {
		return nil, &Error{Op: "JWT login", Message: "no private key"}
	}
	aud := o.Audience
	if aud == "" {
		aud = audienceFor(o.LoginURL)
	}
	claims := jwt.RegisteredClaims{
		Issuer:    o.ClientID,
		Subject:   username,
		Audience:  jwt.ClaimStrings{aud},
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(3 * time.Minute)),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	// Salesforce reads a bare {"alg":"RS256"}; "typ" is harmless.
	assertion, err := t.SignedString(key)
	if err != nil {
		return nil, &Error{Op: "JWT login", Message: "signing the assertion", Err: err}
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	return o.token(ctx, "JWT login", form, assertion)
}

// audienceFor maps a login URL to the audience Salesforce expects: the
// sandbox host for sandboxes, the production host for Salesforce's
// production hosts, otherwise (a simulator, a proxy) the URL itself.
func audienceFor(login string) string {
	u, err := url.Parse(login)
	if err != nil {
		return LoginProduction
	}
	h := strings.ToLower(u.Hostname())
	switch {
	case h == "test.salesforce.com" || strings.HasSuffix(h, ".sandbox.my.salesforce.com"):
		return LoginSandbox
	case h == "login.salesforce.com" || strings.HasSuffix(h, ".salesforce.com"):
		return LoginProduction
	}
	return strings.TrimSuffix(login, "/")
}

// Revoke ends a session or a refresh token (and the sessions issued
// from it).
func (o *OAuthConfig) Revoke(ctx context.Context, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.endpoint("/services/oauth2/revoke"),
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := o.client().Do(req)
	if err != nil {
		return &Error{Op: "revoke", Org: o.LoginURL, Err: errors.New(redact(err.Error(), token))}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return oauthError("revoke", o.LoginURL, resp.StatusCode, body, token)
}

// Identity is who a session belongs to.
type Identity struct {
	UserID         string `json:"user_id"`
	OrganizationID string `json:"organization_id"`
	Username       string `json:"username"`
	DisplayName    string `json:"display_name"`
	Email          string `json:"email"`
}

// Identity fetches the identity of the session's user.
func (o *OAuthConfig) Identity(ctx context.Context, t *Token) (*Identity, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.IdentityURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := o.client().Do(req)
	if err != nil {
		return nil, &Error{Op: "identity", Org: t.InstanceURL, Err: errors.New(redact(err.Error(), t.AccessToken))}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, oauthError("identity", t.InstanceURL, resp.StatusCode, body, t.AccessToken)
	}
	var id Identity
	if err := json.Unmarshal(body, &id); err != nil {
		return nil, &Error{Op: "identity", Org: t.InstanceURL, Status: resp.StatusCode, Excerpt: excerpt(body, t.AccessToken), Err: ErrMalformed}
	}
	return &id, nil
}

// token posts a grant to the token endpoint. secrets are scrubbed from
// any error.
func (o *OAuthConfig) token(ctx context.Context, op string, form url.Values, secrets ...string) (*Token, error) {
	secrets = append(secrets, o.ClientSecret)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt)*time.Second); err != nil {
				return nil, &Error{Op: op, Org: o.LoginURL, Err: err}
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.endpoint("/services/oauth2/token"), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := o.client().Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &Error{Op: op, Org: o.LoginURL, Err: ctx.Err()}
			}
			lastErr = &Error{Op: op, Org: o.LoginURL, Err: errors.New(redact(err.Error(), secrets...))}
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if rerr != nil {
			lastErr = &Error{Op: op, Org: o.LoginURL, Err: rerr}
			continue
		}
		if resp.StatusCode >= 500 {
			lastErr = oauthError(op, o.LoginURL, resp.StatusCode, body, secrets...)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, oauthError(op, o.LoginURL, resp.StatusCode, body, secrets...)
		}
		var t Token
		if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" || t.InstanceURL == "" {
			// The body may hold a token: never quote it.
			return nil, &Error{Op: op, Org: o.LoginURL, Status: resp.StatusCode, Message: "the token endpoint's answer has no access token and instance URL", Err: ErrMalformed}
		}
		return &t, nil
	}
	return nil, lastErr
}

func oauthError(op, org string, status int, body []byte, secrets ...string) error {
	e := &Error{Op: op, Org: org, Status: status}
	var o struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	if json.Unmarshal(body, &o) == nil && o.Error != "" {
		e.Code, e.Message = o.Error, redact(o.Desc, secrets...)
		return e
	}
	if code, msg, ok := parseRESTError(body); ok {
		e.Code, e.Message = code, redact(msg, secrets...)
		return e
	}
	e.Message = fmt.Sprintf("HTTP %d", status)
	e.Excerpt = excerpt(body, secrets...)
	e.Err = ErrMalformed
	return e
}

// LoginURL picks the login host for an org: "production" (and Developer
// Edition), "sandbox", or "mydomain" with the org's My Domain, given as
// the bare name ("acme", "acme--uat.sandbox") or its full host.
func LoginURL(kind, myDomain string) (string, error) {
	switch kind {
	case "production":
		return LoginProduction, nil
	case "sandbox":
		return LoginSandbox, nil
	case "mydomain":
	default:
		return "", fmt.Errorf("login host %q: choose production, sandbox or mydomain", kind)
	}
	d := strings.ToLower(strings.TrimSpace(myDomain))
	d = strings.TrimPrefix(strings.TrimPrefix(d, "https://"), "http://")
	d = strings.TrimSuffix(d, "/")
	if !strings.HasSuffix(d, ".my.salesforce.com") {
		d += ".my.salesforce.com"
	}
	name := strings.TrimSuffix(d, ".my.salesforce.com")
	name = strings.TrimSuffix(name, ".sandbox")
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.HasPrefix(name, "-") {
		return "", fmt.Errorf("My Domain %q: want a name like acme or acme--uat.sandbox (letters, digits and hyphens)", myDomain)
	}
	return "https://" + d, nil
}
