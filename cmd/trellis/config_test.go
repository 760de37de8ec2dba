package main

import (
	"os"
	"strings"
	"testing"

	"github.com/trellis-alm/trellis/internal/alm"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const goodKey = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./.trellis" || c.DatabaseURL != "" || c.LogFormat != "text" {
		t.Errorf("defaults: %+v", c)
	}
	if c.BaseURL.String() != "http://localhost:8080" {
		t.Errorf("base URL %s", c.BaseURL)
	}
	if !c.MigrateOnStart || c.OIDC != nil || c.SecretKey != nil || c.Workers != 10 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestParseConfigValues(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(envOf(map[string]string{
		"TRELLIS_ADDR":               ":9000",
		"DATABASE_URL":               "postgres://u:p@db:5432/trellis",
		"TRELLIS_SECRET_KEY":         goodKey,
		"TRELLIS_BASE_URL":           "https://trellis.example.com/",
		"TRELLIS_LOG_FORMAT":         "json",
		"TRELLIS_MIGRATE_ON_START":   "false",
		"TRELLIS_OIDC_ISSUER":        "https://idp.example.com/realms/acme",
		"TRELLIS_OIDC_CLIENT_ID":     "trellis",
		"TRELLIS_OIDC_CLIENT_SECRET": "s3cret",
		"TRELLIS_OIDC_ROLE_MAP":      "trellis-admins=admin, release=release_manager",
		"TRELLIS_OIDC_DEFAULT_ROLE":  "none",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL.String() != "https://trellis.example.com" || c.LogFormat != "json" || c.MigrateOnStart {
		t.Errorf("%+v", c)
	}
	if c.OIDC == nil || c.OIDC.RoleMap["release"] != alm.RoleReleaseManager || c.OIDC.DefaultRole != "" {
		t.Errorf("oidc: %+v", c.OIDC)
	}
	if len(c.SecretKey) != 32 {
		t.Errorf("secret key not parsed")
	}
}

// Every wrong value stops start-up with a message naming its variable.
func TestParseConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TRELLIS_ADDR": "8080"}, "TRELLIS_ADDR"},
		{map[string]string{"TRELLIS_ADDR": "localhost:http2"}, "TRELLIS_ADDR"},
		{map[string]string{"TRELLIS_LOG_FORMAT": "yaml"}, "TRELLIS_LOG_FORMAT"},
		{map[string]string{"TRELLIS_LOG_LEVEL": "loud"}, "TRELLIS_LOG_LEVEL"},
		{map[string]string{"TRELLIS_BASE_URL": "trellis.example.com"}, "TRELLIS_BASE_URL"},
		{map[string]string{"TRELLIS_BASE_URL": "https://example.com/trellis"}, "TRELLIS_BASE_URL"},
		{map[string]string{"TRELLIS_SECRET_KEY": "too-short"}, "TRELLIS_SECRET_KEY"},
		{map[string]string{"DATABASE_URL": "postgres://db/trellis"}, "TRELLIS_SECRET_KEY"},
		{map[string]string{"DATABASE_URL": "db.example.com", "TRELLIS_SECRET_KEY": goodKey}, "DATABASE_URL"},
		{map[string]string{"TRELLIS_MIGRATE_ON_START": "sometimes"}, "TRELLIS_MIGRATE_ON_START"},
		{map[string]string{"TRELLIS_WORKERS": "0"}, "TRELLIS_WORKERS"},
		{map[string]string{"TRELLIS_SESSION_IDLE_TIMEOUT": "5s"}, "TRELLIS_SESSION_IDLE_TIMEOUT"},
		{map[string]string{"TRELLIS_SESSION_MAX_AGE": "forever"}, "TRELLIS_SESSION_MAX_AGE"},
		{map[string]string{"TRELLIS_OIDC_ISSUER": "https://idp"}, "TRELLIS_OIDC_CLIENT_ID"},
		{map[string]string{"TRELLIS_OIDC_CLIENT_ID": "x"}, "TRELLIS_OIDC_ISSUER"},
		{map[string]string{"TRELLIS_OIDC_CLIENT_ID": "x", "TRELLIS_OIDC_ISSUER": "idp.example.com"}, "TRELLIS_OIDC_ISSUER"},
		{map[string]string{"TRELLIS_OIDC_CLIENT_ID": "x", "TRELLIS_OIDC_ISSUER": "https://idp", "TRELLIS_OIDC_ROLE_MAP": "admins=root"}, "TRELLIS_OIDC_ROLE_MAP"},
		{map[string]string{"TRELLIS_OIDC_CLIENT_ID": "x", "TRELLIS_OIDC_ISSUER": "https://idp", "TRELLIS_OIDC_DEFAULT_ROLE": "guest"}, "TRELLIS_OIDC_DEFAULT_ROLE"},
		{map[string]string{"TRELLIS_OIDC_CLIENT_ID": "x", "TRELLIS_OIDC_ISSUER": "https://idp", "TRELLIS_OIDC_SCOPES": "email profile"}, "TRELLIS_OIDC_SCOPES"},
	}
	for _, tt := range tests {
		_, err := parseConfig(envOf(tt.env))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("env %v: err = %v, want it to start with %s", tt.env, err, tt.want)
		}
	}
}

func TestSecretKeyIsNeverEchoed(t *testing.T) {
	t.Parallel()
	_, err := parseConfig(envOf(map[string]string{"TRELLIS_SECRET_KEY": "almost-a-real-secret-value"}))
	if err == nil || strings.Contains(err.Error(), "almost-a-real-secret-value") {
		t.Errorf("the error must not repeat the key: %v", err)
	}
}

func TestSecretKeyFile(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/key"
	if err := os.WriteFile(path, []byte(goodKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig(envOf(map[string]string{"TRELLIS_SECRET_KEY_FILE": path, "DATABASE_URL": "postgres://db/trellis"}))
	if err != nil || len(c.SecretKey) != 32 {
		t.Fatalf("key from file: %v", err)
	}
	_, err = parseConfig(envOf(map[string]string{"TRELLIS_SECRET_KEY_FILE": path + ".missing"}))
	if err == nil || !strings.HasPrefix(err.Error(), "TRELLIS_SECRET_KEY_FILE") {
		t.Errorf("missing file: %v", err)
	}
	_, err = parseConfig(envOf(map[string]string{"TRELLIS_SECRET_KEY_FILE": path, "TRELLIS_SECRET_KEY": goodKey}))
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both set: %v", err)
	}
}
