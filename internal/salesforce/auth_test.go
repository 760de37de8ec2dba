package salesforce_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/trellis-alm/trellis/internal/salesforce"
)

func TestWebServerFlowWithPKCEAndRefresh(t *testing.T) {
	t.Parallel()
	o := startSim(t).Orgs()[0]
	oc, tok := webLogin(t, o)
	if tok.RefreshToken == "" || tok.InstanceURL != o.BaseURL || tok.OrgID() != o.ID() || !strings.HasPrefix(tok.UserID(), "005") {
		t.Fatalf("token: %+v", tok)
	}
	id, err := oc.Identity(ctx(t), tok)
	if err != nil || id.Username != o.Username() || id.OrganizationID != o.ID() {
		t.Fatalf("identity: %v %+v", err, id)
	}
	var stored []*salesforce.Token
	var mu sync.Mutex
	creds := salesforce.NewRefreshCredentials(oc, tok, func(_ context.Context, t *salesforce.Token) error {
		mu.Lock()
		defer mu.Unlock()
		stored = append(stored, t)
		return nil
	})
	c := client(t, o, creds)
	o.ExpireSessions()
	// Concurrent calls on an expired session share one refresh.
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Query(ctx(t), "SELECT Id FROM Account LIMIT 1")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(stored) != 1 || stored[0].RefreshToken != tok.RefreshToken || stored[0].AccessToken == tok.AccessToken {
		t.Fatalf("one refresh, stored with the old refresh token kept: %d refreshes", len(stored))
	}
	// Revoking the refresh token ends the connection: the app must ask again.
	if err := oc.Revoke(ctx(t), tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	o.ExpireSessions()
	_, err = c.Query(ctx(t), "SELECT Id FROM Account LIMIT 1")
	if !errors.Is(err, salesforce.ErrNoSession) || salesforce.Code(err) != "invalid_grant" {
		t.Fatalf("after revoke: %v", err)
	}
	if strings.Contains(err.Error(), tok.RefreshToken) || strings.Contains(err.Error(), tok.AccessToken) {
		t.Fatal("the error must not carry tokens")
	}
}

func TestJWTBearerFlow(t *testing.T) {
	t.Parallel()
	o := startSim(t, "prod").Orgs()[0]
	oc := oauthFor(o)
	oc.ClientSecret = ""
	creds := &salesforce.JWTCredentials{OAuth: oc, Username: o.Username(), Key: o.JWTKey()}
	c := client(t, o, creds)
	if _, err := c.Query(ctx(t), "SELECT Id FROM Account LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	// A session that expires is replaced with a new assertion.
	o.ExpireSessions()
	if _, err := c.Query(ctx(t), "SELECT Id FROM Account LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := []struct {
		name     string
		username string
		key      *rsa.PrivateKey
		client   string
		audience string
		code     string
	}{
		{"WrongKey", o.Username(), other, o.ClientID(), "", "invalid_grant"},
		{"UnknownUser", "someone@else.test", o.JWTKey(), o.ClientID(), "", "invalid_grant"},
		{"UnknownApp", o.Username(), o.JWTKey(), "3MVGnope", "", "invalid_client_id"},
		{"WrongAudience", o.Username(), o.JWTKey(), o.ClientID(), "https://evil.example", "invalid_grant"},
		{"SandboxAudience", o.Username(), o.JWTKey(), o.ClientID(), salesforce.LoginSandbox, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := *oc
			cfg.ClientID, cfg.Audience = tc.client, tc.audience
			_, err := cfg.JWTBearer(ctx(t), tc.username, tc.key)
			if salesforce.Code(err) != tc.code {
				t.Fatalf("want %q, got %v", tc.code, err)
			}
		})
	}
}

func TestPasswordGrantErrors(t *testing.T) {
	t.Parallel()
	o := startSim(t).Orgs()[0]
	oc := oauthFor(o)
	if _, err := oc.Password(ctx(t), o.Username(), o.Password()+o.SecurityToken()); err != nil {
		t.Fatalf("password + security token: %v", err)
	}
	_, err := oc.Password(ctx(t), o.Username(), "wrong-password")
	if salesforce.Code(err) != "invalid_grant" || !strings.Contains(err.Error(), "authentication failure") || strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("bad password: %v", err)
	}
	bad := *oc
	bad.ClientID = "nope"
	if _, err := bad.Password(ctx(t), o.Username(), o.Password()); salesforce.Code(err) != "invalid_client_id" {
		t.Fatalf("bad client: %v", err)
	}
	bad = *oc
	bad.ClientSecret = "wrong-secret-value"
	if _, err := bad.Password(ctx(t), o.Username(), o.Password()); salesforce.Code(err) != "invalid_client" {
		t.Fatalf("bad secret: %v", err)
	}
	if _, err := oc.Refresh(ctx(t), "00Dnope!nope"); salesforce.Code(err) != "invalid_grant" {
		t.Fatalf("bad refresh token: %v", err)
	}
	if _, err := oc.Exchange(ctx(t), "not-a-code", salesforce.NewPKCE()); salesforce.Code(err) != "invalid_grant" {
		t.Fatalf("bad code: %v", err)
	}
}
