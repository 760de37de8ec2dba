// Package orgs connects Salesforce orgs to Trellis: the OAuth web-server
// flow from the browser, the JWT bearer flow for headless use, sealed
// credentials, a signed-in client for an org, health checks, and
// disconnecting. It is the only code that opens an org's credentials.
package orgs

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
)

// Config is the installation's connected app and where the browser comes
// back after approving.
type Config struct {
	// ClientID and ClientSecret are the default connected app (consumer
	// key and secret), used when a connect form leaves them empty.
	ClientID, ClientSecret string
	// CallbackURL is Trellis's /orgs/oauth/callback as browsers reach it.
	CallbackURL string
	HTTPClient  *http.Client
	Logger      *slog.Logger
	// RetrieveFileLimit overrides the Metadata API's 10,000 files per
	// retrieve (tests make it small to see retrieves split).
	RetrieveFileLimit int
}

// Service connects orgs and signs in to them.
type Service struct {
	st   *store.Store
	keys *secret.Keyring
	cfg  Config
}

// New returns a Service.
func New(st *store.Store, keys *secret.Keyring, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, keys: keys, cfg: cfg}
}

// credentials is what is sealed for an org.
type credentials struct {
	RefreshToken string `json:"refresh_token,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	PrivateKey   string `json:"private_key,omitempty"` // PEM
}

func sealContext(orgID int64) string { return "org:" + strconv.FormatInt(orgID, 10) + ":credentials" }

func (s *Service) sealer(c credentials) store.SealFunc {
	return func(id int64) (string, error) {
		b, _ := json.Marshal(c)
		return s.keys.Seal(b, sealContext(id))
	}
}

func (s *Service) oauth(loginURL, clientID, clientSecret string) *salesforce.OAuthConfig {
	if clientID == "" {
		clientID, clientSecret = s.cfg.ClientID, s.cfg.ClientSecret
	}
	return &salesforce.OAuthConfig{LoginURL: loginURL, ClientID: clientID, ClientSecret: clientSecret, RedirectURL: s.cfg.CallbackURL, HTTPClient: s.cfg.HTTPClient}
}

// Pending is a browser connect in flight, kept sealed in a cookie
// between the redirect to the org and the callback.
type Pending struct {
	Org          alm.NewOrg `json:"org"`
	ClientSecret string     `json:"client_secret,omitempty"`
	Verifier     string     `json:"verifier"`
	State        string     `json:"state"`
	ReauthID     int64      `json:"reauth_id,omitempty"`
	Expires      time.Time  `json:"expires"`
}

const pendingContext = "org-oauth-pending"

// StartOAuth checks the form and returns where to send the browser and
// the sealed pending state to keep until it comes back.
func (s *Service) StartOAuth(n alm.NewOrg, clientSecret string, reauthID int64) (authURL, sealed string, err error) {
	if err := n.Validate(); err != nil {
		return "", "", err
	}
	if n.ClientID == "" && s.cfg.ClientID == "" {
		return "", "", alm.Invalid(map[string]string{"client_id": "Give the connected app's consumer key (no default is configured: TRELLIS_SF_CLIENT_ID)."})
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	p := Pending{Org: n, ClientSecret: clientSecret, Verifier: salesforce.NewPKCE(), State: base64.RawURLEncoding.EncodeToString(b),
		ReauthID: reauthID, Expires: time.Now().Add(15 * time.Minute)}
	raw, _ := json.Marshal(p)
	if sealed, err = s.keys.Seal(raw, pendingContext); err != nil {
		return "", "", err
	}
	return s.oauth(n.LoginURL, n.ClientID, clientSecret).AuthCodeURL(p.State, p.Verifier, nil), sealed, nil
}

// OpenPending reads the sealed pending state back.
func (s *Service) OpenPending(sealed string) (Pending, error) {
	var p Pending
	raw, err := s.keys.Open(sealed, pendingContext)
	if err == nil {
		err = json.Unmarshal(raw, &p)
	}
	if err != nil || time.Now().After(p.Expires) {
		return p, alm.Errorf(alm.CodeInvalid, "This connection attempt expired or came from another browser. Start again from Connect an org.")
	}
	return p, nil
}

// FinishOAuth completes a browser connect: it checks the state, turns the
// code into tokens, reads who signed in, and saves the org (or its fresh
// credentials when re-authorising). Salesforce's own error (a denied
// approval, say) comes back as a clear message and nothing is saved.
func (s *Service) FinishOAuth(ctx context.Context, p Pending, state, code, oauthErr, oauthErrDesc string) (alm.Org, error) {
	if oauthErr != "" {
		if oauthErr == "access_denied" {
			return alm.Org{}, alm.Errorf(alm.CodeInvalid, "The org's user did not allow access, so nothing was connected.")
		}
		return alm.Org{}, alm.Errorf(alm.CodeInvalid, "The org refused the connection: %s (%s).", oauthErrDesc, oauthErr)
	}
	if state == "" || state != p.State {
		return alm.Org{}, alm.Errorf(alm.CodeInvalid, "This answer does not belong to the connection this browser started. Start again.")
	}
	if code == "" {
		return alm.Org{}, alm.Errorf(alm.CodeInvalid, "The org sent no authorisation code. Start again.")
	}
	oc := s.oauth(p.Org.LoginURL, p.Org.ClientID, p.ClientSecret)
	tok, err := oc.Exchange(ctx, code, p.Verifier)
	if err != nil {
		return alm.Org{}, alm.Errorf(alm.CodeInvalid, "The org did not accept the authorisation: %s", cleanErr(err))
	}
	if tok.RefreshToken == "" {
		return alm.Org{}, alm.Errorf(alm.CodeInvalid, "The org gave no refresh token: add the refresh_token (offline access) scope to the connected app.")
	}
	auth, apiVersion, err := s.whoAmI(ctx, oc, tok, p.Org.APIVersion)
	if err != nil {
		return alm.Org{}, err
	}
	p.Org.APIVersion = apiVersion
	auth.AuthKind = "oauth"
	c := credentials{RefreshToken: tok.RefreshToken, ClientSecret: p.ClientSecret}
	if p.ReauthID != 0 {
		return s.st.ReauthorizeOrg(ctx, p.ReauthID, auth, s.sealer(c))
	}
	return s.st.CreateOrg(ctx, p.Org, auth, s.sealer(c))
}

// ConnectJWT connects an org headless with the JWT bearer flow: the
// connected app's consumer key, the user to act as and the private key
// whose certificate the app holds. It signs in once before saving.
func (s *Service) ConnectJWT(ctx context.Context, n alm.NewOrg, keyPEM string) (alm.Org, error) {
	return s.connectJWT(ctx, n, keyPEM, 0)
}

// ReauthorizeJWT gives a JWT org a new key (after the certificate was
// renewed, say), signing in with it before saving.
func (s *Service) ReauthorizeJWT(ctx context.Context, org alm.Org, keyPEM string) (alm.Org, error) {
	n := alm.NewOrg{Name: org.Name, Kind: org.Kind, LoginURL: org.LoginURL, APIVersion: org.APIVersion, Username: org.Username, ClientID: org.ClientID}
	return s.connectJWT(ctx, n, keyPEM, org.ID)
}

func (s *Service) connectJWT(ctx context.Context, n alm.NewOrg, keyPEM string, reauthID int64) (alm.Org, error) {
	if err := n.Validate(); err != nil {
		return alm.Org{}, err
	}
	f := map[string]string{}
	if n.Username == "" {
		f["username"] = "Give the username to sign in as."
	}
	if n.ClientID == "" && s.cfg.ClientID == "" {
		f["client_id"] = "Give the connected app's consumer key."
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		f["private_key"] = err.Error()
	}
	if len(f) > 0 {
		return alm.Org{}, alm.Invalid(f)
	}
	oc := s.oauth(n.LoginURL, n.ClientID, "")
	tok, err := oc.JWTBearer(ctx, n.Username, key)
	if err != nil {
		return alm.Org{}, alm.Errorf(alm.CodeInvalid, "The org refused the JWT sign-in: %s", cleanErr(err))
	}
	auth, apiVersion, err := s.whoAmI(ctx, oc, tok, n.APIVersion)
	if err != nil {
		return alm.Org{}, err
	}
	n.APIVersion = apiVersion
	auth.AuthKind = "jwt"
	if n.ClientID == "" {
		n.ClientID = s.cfg.ClientID
	}
	seal := s.sealer(credentials{PrivateKey: strings.TrimSpace(keyPEM)})
	if reauthID != 0 {
		return s.st.ReauthorizeOrg(ctx, reauthID, auth, seal)
	}
	return s.st.CreateOrg(ctx, n, auth, seal)
}

func parseKey(keyPEM string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(keyPEM)))
	if block == nil {
		return nil, errors.New("Paste the private key in PEM form (-----BEGIN PRIVATE KEY-----).")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("That is not an RSA private key Trellis can read (PKCS#1 or PKCS#8).")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("The JWT bearer flow needs an RSA key.")
	}
	return rk, nil
}

// whoAmI reads the identity behind tok and settles the API version.
func (s *Service) whoAmI(ctx context.Context, oc *salesforce.OAuthConfig, tok *salesforce.Token, version string) (store.OrgAuth, string, error) {
	id, err := oc.Identity(ctx, tok)
	if err != nil {
		return store.OrgAuth{}, "", alm.Errorf(alm.CodeInvalid, "Signed in, but the org did not say who we are: %s", cleanErr(err))
	}
	if version == "" {
		version = salesforce.DefaultAPIVersion
	}
	return store.OrgAuth{InstanceURL: tok.InstanceURL, Username: id.Username, SFOrgID: id.OrganizationID, SFUserID: id.UserID}, version, nil
}

// cleanErr is an org error as a sentence, without tokens (the salesforce
// package already redacts them).
func cleanErr(err error) string { return strings.TrimSuffix(err.Error(), ".") + "." }

// Client returns a client signed in to org, refreshing its session as
// needed. A refresh the org refuses marks the org as needing
// re-authorisation.
func (s *Service) Client(ctx context.Context, org alm.Org) (*salesforce.Client, error) {
	if org.Status == alm.OrgDisconnected {
		return nil, alm.Errorf(alm.CodeConflict, "%s is disconnected; connect it again to use it.", org.Name)
	}
	sealed, err := s.st.OrgCredentials(ctx, org.ID)
	if err != nil {
		return nil, err
	}
	raw, err := s.keys.Open(sealed, sealContext(org.ID))
	if err != nil {
		return nil, alm.Errorf(alm.CodeConflict, "The credentials of %s cannot be opened with this installation's key (was TRELLIS_SECRET_KEY changed?). Re-authorise the org.", org.Name)
	}
	var c credentials
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("org %d credentials: %w", org.ID, err)
	}
	oc := s.oauth(org.LoginURL, org.ClientID, c.ClientSecret)
	var cr salesforce.Credentials
	if c.PrivateKey != "" {
		key, err := parseKey(c.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("org %d key: %w", org.ID, err)
		}
		cr = &salesforce.JWTCredentials{OAuth: oc, Username: org.Username, Key: key}
	} else {
		cr = salesforce.NewRefreshCredentials(oc, &salesforce.Token{RefreshToken: c.RefreshToken, InstanceURL: org.InstanceURL}, nil)
	}
	return salesforce.New(salesforce.Config{Name: org.Name, Credentials: cr, APIVersion: org.APIVersion, HTTPClient: s.cfg.HTTPClient, Logger: s.cfg.Logger,
		RetrieveFileLimit: s.cfg.RetrieveFileLimit})
}

// Health is what an org page shows about reaching the org.
type Health struct {
	OK         bool      `json:"ok"`
	Problem    string    `json:"problem,omitempty"`
	Username   string    `json:"username"`
	OrgID      string    `json:"org_id"`
	APIVersion string    `json:"api_version"`
	APIUsed    int       `json:"api_requests_used"`
	APIMax     int       `json:"api_requests_max"`
	CheckedAt  time.Time `json:"checked_at"`
}

// Check signs in to the org and reads its API allowance, recording the
// outcome on the org.
func (s *Service) Check(ctx context.Context, org alm.Org) Health {
	h := Health{Username: org.Username, OrgID: org.SFOrgID, APIVersion: org.APIVersion, CheckedAt: time.Now().UTC()}
	c, err := s.Client(ctx, org)
	if err == nil {
		var limits map[string]salesforce.Limit
		if limits, err = c.Limits(ctx); err == nil {
			if l, ok := limits["DailyApiRequests"]; ok {
				h.APIMax, h.APIUsed = l.Max, l.Max-l.Remaining
			}
		}
	}
	status := alm.OrgConnected
	if err != nil {
		h.Problem = alm.ErrorMessage(err)
		if alm.ErrorCode(err) == alm.CodeInternal {
			h.Problem = cleanErr(err)
		}
		if isAuthError(err) {
			status = alm.OrgNeedsReauth
			h.Problem = "The org no longer accepts Trellis's sign-in (" + cleanErr(err) + ") Re-authorise it."
		}
	} else {
		h.OK = true
	}
	if org.Status != alm.OrgDisconnected {
		if serr := s.st.SetOrgHealth(ctx, org.ID, status, h.Problem); serr != nil {
			s.cfg.Logger.WarnContext(ctx, "record org health", "org", org.ID, "err", serr)
		}
	}
	return h
}

func isAuthError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "invalid_grant") || strings.Contains(msg, "INVALID_SESSION_ID") || strings.Contains(msg, "expired access/refresh token") ||
		errors.Is(err, salesforce.ErrNoSession)
}

// Disconnect revokes the org's refresh token (best effort) and wipes its
// credentials; snapshots and history stay.
func (s *Service) Disconnect(ctx context.Context, org alm.Org) error {
	if sealed, err := s.st.OrgCredentials(ctx, org.ID); err == nil && sealed != "" {
		if raw, err := s.keys.Open(sealed, sealContext(org.ID)); err == nil {
			var c credentials
			if json.Unmarshal(raw, &c) == nil && c.RefreshToken != "" {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				if err := s.oauth(org.LoginURL, org.ClientID, c.ClientSecret).Revoke(rctx, c.RefreshToken); err != nil {
					s.cfg.Logger.InfoContext(ctx, "revoke refresh token", "org", org.ID, "err", cleanErr(err))
				}
				cancel()
			}
		}
	}
	return s.st.DisconnectOrg(ctx, org.ID)
}

// Rotate re-seals every org's credentials with the keyring's primary key
// (after TRELLIS_SECRET_KEY changed and the old key was kept as
// previous). It returns how many were re-sealed.
func (s *Service) Rotate(ctx context.Context) (int, error) {
	orgs, err := s.st.ListOrgs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range orgs {
		sealed, err := s.st.OrgCredentials(ctx, o.ID)
		if err != nil || sealed == "" || !s.keys.NeedsRotation(sealed) {
			continue
		}
		raw, err := s.keys.Open(sealed, sealContext(o.ID))
		if err != nil {
			return n, fmt.Errorf("org %s: %w", o.Name, err)
		}
		resealed, err := s.keys.Seal(raw, sealContext(o.ID))
		if err != nil {
			return n, err
		}
		if err := s.st.SetOrgCredentials(ctx, o.ID, resealed); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
