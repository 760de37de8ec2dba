package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/blobstore"

	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/outbound"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/secret"
)

// config is every setting Trellis reads from its environment, parsed and
// checked once at start-up.
type config struct {
	Addr        string
	WorkerAddr  string
	DataDir     string
	DatabaseURL string
	BaseURL     *url.URL
	SecretKey   []byte // nil: use the key file in the data directory
	// PreviousKeys still open what they sealed, during a key rotation.
	PreviousKeys [][]byte
	// SFClientID and SFClientSecret are the default connected app for
	// connecting orgs.
	SFClientID, SFClientSecret string
	// SMTP relays release announcements by email.
	SMTPAddr, SMTPFrom, SMTPUser, SMTPPassword string
	LogFormat                                  string
	LogLevel                                   string
	MigrateOnStart                             bool
	PGBinDir                                   string
	MetricsToken                               string
	// JobStaleAfter is how long a process may be silent before its running
	// jobs are taken back by another (TRELLIS_JOB_STALE_AFTER).
	JobStaleAfter time.Duration
	// MetricsAddr serves /metrics on a listener of its own (without a
	// token), for a scraper on an internal network.
	MetricsAddr string
	// Outbound is where webhooks, alert routes, announcement hooks and
	// repositories may point (TRELLIS_OUTBOUND_ALLOW).
	Outbound outbound.Policy
	Workers  int
	Session  auth.Config
	// Blob is the object store for snapshot blobs, artifacts and data
	// backup chunks (TRELLIS_BLOB_URL); URL empty keeps them in PostgreSQL.
	Blob blobstore.Settings
	// Demo starts simulated orgs and a sample project (make run sets it).
	Demo     bool
	DemoAddr string
	// DemoTrackerAddr is where the demo's simulated Jira listens.
	DemoTrackerAddr string
	OIDC            *oidcConfig // nil when single sign-on is off
}

type oidcConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	GroupsClaim  string
	RoleMap      map[string]alm.Role
	DefaultRole  alm.Role
}

// envError names the variable whose value is wrong.
type envError struct {
	name, value, want string
}

func (e envError) Error() string {
	if e.value == "" {
		return fmt.Sprintf("%s: %s", e.name, e.want)
	}
	return fmt.Sprintf("%s=%q: %s", e.name, e.value, e.want)
}

// parseConfig reads the environment through getenv. The first wrong value
// stops start-up with an error naming its variable.
func parseConfig(getenv func(string) string) (config, error) {
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := config{
		Addr:            env("TRELLIS_ADDR", "127.0.0.1:8080"),
		WorkerAddr:      env("TRELLIS_WORKER_ADDR", ""),
		DataDir:         env("TRELLIS_DATA_DIR", "./.trellis"),
		DatabaseURL:     env("DATABASE_URL", ""),
		LogFormat:       env("TRELLIS_LOG_FORMAT", "text"),
		LogLevel:        env("TRELLIS_LOG_LEVEL", "info"),
		PGBinDir:        env("TRELLIS_PG_BINDIR", ""),
		MetricsToken:    env("TRELLIS_METRICS_TOKEN", ""),
		MetricsAddr:     env("TRELLIS_METRICS_ADDR", ""),
		Session:         auth.DefaultConfig(),
		DemoAddr:        env("TRELLIS_DEMO_ADDR", "127.0.0.1:7100"),
		DemoTrackerAddr: env("TRELLIS_DEMO_TRACKER_ADDR", "127.0.0.1:7200"),
	}
	steps := []func() error{
		func() error { return checkAddr("TRELLIS_ADDR", c.Addr) },
		func() error {
			if c.WorkerAddr == "" {
				return nil
			}
			return checkAddr("TRELLIS_WORKER_ADDR", c.WorkerAddr)
		},
		func() error { return oneOf("TRELLIS_LOG_FORMAT", c.LogFormat, "text", "json") },
		func() error { return oneOf("TRELLIS_LOG_LEVEL", c.LogLevel, "debug", "info", "warn", "error") },
		func() (err error) {
			c.MigrateOnStart, err = boolEnv("TRELLIS_MIGRATE_ON_START", env("TRELLIS_MIGRATE_ON_START", "true"))
			return
		},
		func() (err error) {
			c.Demo, err = boolEnv("TRELLIS_DEMO", env("TRELLIS_DEMO", "false"))
			return
		},
		func() error { return checkAddr("TRELLIS_DEMO_ADDR", c.DemoAddr) },
		func() error { return checkAddr("TRELLIS_DEMO_TRACKER_ADDR", c.DemoTrackerAddr) },
		func() error {
			if c.MetricsAddr == "" {
				return nil
			}
			return checkAddr("TRELLIS_METRICS_ADDR", c.MetricsAddr)
		},
		func() (err error) {
			v := env("TRELLIS_OUTBOUND_ALLOW", "public")
			if c.Outbound, err = outbound.Parse(v); err != nil {
				return envError{"TRELLIS_OUTBOUND_ALLOW", v, err.Error()}
			}
			return nil
		},
		func() (err error) {
			c.Workers, err = intEnv("TRELLIS_WORKERS", env("TRELLIS_WORKERS", "10"), 1, 1000)
			return
		},
		func() (err error) {
			v := env("TRELLIS_JOB_STALE_AFTER", "45s")
			if c.JobStaleAfter, err = time.ParseDuration(v); err != nil || c.JobStaleAfter < 2*time.Second {
				err = envError{"TRELLIS_JOB_STALE_AFTER", v, "want a duration of at least 2s, like 45s"}
			}
			return
		},
		func() (err error) {
			c.Session.IdleTimeout, err = durationEnv("TRELLIS_SESSION_IDLE_TIMEOUT", env("TRELLIS_SESSION_IDLE_TIMEOUT", "12h"))
			return
		},
		func() (err error) {
			c.Session.MaxAge, err = durationEnv("TRELLIS_SESSION_MAX_AGE", env("TRELLIS_SESSION_MAX_AGE", "168h"))
			return
		},
		func() error {
			if c.DatabaseURL != "" && !strings.Contains(c.DatabaseURL, "://") && !strings.Contains(c.DatabaseURL, "=") {
				return envError{"DATABASE_URL", "", "want a URL like postgres://user:password@host:5432/trellis, or leave it unset for the private database"}
			}
			return nil
		},
		func() (err error) { c.BaseURL, err = baseURL(env("TRELLIS_BASE_URL", ""), c.Addr); return },
		func() error {
			key, err := secretKeyValue(getenv)
			if err != nil {
				return err
			}
			return parseSecretKey(&c, key)
		},
		func() error {
			for _, v := range strings.Fields(strings.ReplaceAll(env("TRELLIS_SECRET_KEY_PREVIOUS", ""), ",", " ")) {
				k, err := secret.ParseKey(v)
				if err != nil {
					return envError{"TRELLIS_SECRET_KEY_PREVIOUS", "", err.Error()}
				}
				c.PreviousKeys = append(c.PreviousKeys, k)
			}
			return nil
		},
		func() error {
			c.SFClientID, c.SFClientSecret = env("TRELLIS_SF_CLIENT_ID", ""), env("TRELLIS_SF_CLIENT_SECRET", "")
			return nil
		},
		func() error {
			c.SMTPAddr, c.SMTPFrom = env("TRELLIS_SMTP_ADDR", ""), env("TRELLIS_SMTP_FROM", "")
			c.SMTPUser, c.SMTPPassword = env("TRELLIS_SMTP_USER", ""), env("TRELLIS_SMTP_PASSWORD", "")
			if c.SMTPAddr != "" {
				return checkAddr("TRELLIS_SMTP_ADDR", c.SMTPAddr)
			}
			return nil
		},
		func() (err error) { c.OIDC, err = parseOIDC(env); return },
		func() error {
			v := env("TRELLIS_BLOB_URL", "")
			if v == "" {
				return nil
			}
			c.Blob = blobstore.FromEnv(v, getenv)
			if _, err := blobstore.Open(c.Blob); err != nil {
				return envError{"TRELLIS_BLOB_URL", v, err.Error()}
			}
			return nil
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return c, err
		}
	}
	return c, nil
}

func checkAddr(name, v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return envError{name, v, "want host:port, e.g. 127.0.0.1:8080 or :8080"}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return envError{name, v, "the port must be a number from 0 to 65535"}
	}
	return nil
}

func oneOf(name, v string, choices ...string) error {
	for _, c := range choices {
		if v == c {
			return nil
		}
	}
	return envError{name, v, "want one of " + strings.Join(choices, ", ")}
}

func boolEnv(name, v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, envError{name, v, "want true or false"}
	}
	return b, nil
}

func intEnv(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, envError{name, v, fmt.Sprintf("want a whole number from %d to %d", lo, hi)}
	}
	return n, nil
}

func durationEnv(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute {
		return 0, envError{name, v, "want a duration of at least a minute, like 30m, 12h or 168h"}
	}
	return d, nil
}

// baseURL parses TRELLIS_BASE_URL, or derives it from the listen address so
// that the default setup needs no configuration.
func baseURL(v, addr string) (*url.URL, error) {
	if v == "" {
		host, port, _ := net.SplitHostPort(addr)
		if host == "" || host == "0.0.0.0" || host == "::" || host == "127.0.0.1" || host == "::1" {
			host = "localhost"
		}
		return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, envError{"TRELLIS_BASE_URL", v, "want the address people use to reach Trellis, like https://trellis.example.com"}
	}
	if u.Path != "" && u.Path != "/" {
		return nil, envError{"TRELLIS_BASE_URL", v, "Trellis must be served at the root of its host; drop the path"}
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	return u, nil
}

// secretKeyValue reads TRELLIS_SECRET_KEY, or the file named by
// TRELLIS_SECRET_KEY_FILE (Docker and Kubernetes secrets are files).
func secretKeyValue(getenv func(string) string) (string, error) {
	path := strings.TrimSpace(getenv("TRELLIS_SECRET_KEY_FILE"))
	if path == "" {
		return getenv("TRELLIS_SECRET_KEY"), nil
	}
	if getenv("TRELLIS_SECRET_KEY") != "" {
		return "", envError{"TRELLIS_SECRET_KEY_FILE", path, "set either TRELLIS_SECRET_KEY or TRELLIS_SECRET_KEY_FILE, not both"}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", envError{"TRELLIS_SECRET_KEY_FILE", path, "cannot read the key file: " + err.Error()}
	}
	return string(b), nil
}

func parseSecretKey(c *config, v string) error {
	if strings.TrimSpace(v) == "" {
		if c.DatabaseURL != "" {
			return envError{"TRELLIS_SECRET_KEY", "", "required when DATABASE_URL is set, so that every replica shares the key (make one with: openssl rand -base64 32)"}
		}
		return nil
	}
	k, err := secret.ParseKey(v)
	if err != nil {
		// Never echo the value: it may be a real key with a typo.
		return envError{"TRELLIS_SECRET_KEY", "", err.Error()}
	}
	c.SecretKey = k
	return nil
}

func parseOIDC(env func(string, string) string) (*oidcConfig, error) {
	issuer, id := env("TRELLIS_OIDC_ISSUER", ""), env("TRELLIS_OIDC_CLIENT_ID", "")
	if issuer == "" && id == "" {
		return nil, nil
	}
	if issuer == "" {
		return nil, envError{"TRELLIS_OIDC_ISSUER", "", "required when TRELLIS_OIDC_CLIENT_ID is set"}
	}
	if id == "" {
		return nil, envError{"TRELLIS_OIDC_CLIENT_ID", "", "required when TRELLIS_OIDC_ISSUER is set"}
	}
	if u, err := url.Parse(issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, envError{"TRELLIS_OIDC_ISSUER", issuer, "want the provider's issuer URL, like https://login.example.com/realms/acme"}
	}
	o := &oidcConfig{
		Issuer:       issuer,
		ClientID:     id,
		ClientSecret: env("TRELLIS_OIDC_CLIENT_SECRET", ""),
		Scopes:       strings.Fields(strings.ReplaceAll(env("TRELLIS_OIDC_SCOPES", "openid email profile"), ",", " ")),
		GroupsClaim:  env("TRELLIS_OIDC_GROUPS_CLAIM", "groups"),
		RoleMap:      map[string]alm.Role{},
	}
	hasOpenID := false
	for _, s := range o.Scopes {
		hasOpenID = hasOpenID || s == "openid"
	}
	if !hasOpenID {
		return nil, envError{"TRELLIS_OIDC_SCOPES", env("TRELLIS_OIDC_SCOPES", ""), "must include openid"}
	}
	if m := env("TRELLIS_OIDC_ROLE_MAP", ""); m != "" {
		for _, pair := range strings.Split(m, ",") {
			group, role, ok := strings.Cut(strings.TrimSpace(pair), "=")
			r, err := alm.ParseRole(strings.TrimSpace(role))
			if !ok || strings.TrimSpace(group) == "" || err != nil {
				return nil, envError{"TRELLIS_OIDC_ROLE_MAP", m, "want group=role pairs separated by commas, e.g. trellis-admins=admin,devs=developer; roles: admin, release_manager, developer, product_owner, viewer"}
			}
			o.RoleMap[strings.TrimSpace(group)] = r
		}
	}
	switch d := env("TRELLIS_OIDC_DEFAULT_ROLE", "viewer"); d {
	case "none":
	default:
		r, err := alm.ParseRole(d)
		if err != nil {
			return nil, envError{"TRELLIS_OIDC_DEFAULT_ROLE", d, "want a role (admin, release_manager, developer, product_owner, viewer) or none to refuse users without a mapped group"}
		}
		o.DefaultRole = r
	}
	return o, nil
}

// jobDeps are what every worker process passes the job workers besides
// its store and services.
func (c config) mail() jobs.Mail {
	return jobs.Mail{Addr: c.SMTPAddr, From: c.SMTPFrom, User: c.SMTPUser, Password: c.SMTPPassword}
}

// production reports whether Trellis runs on a database of its own
// choosing (DATABASE_URL) rather than the private one of a trial.
func (c config) production() bool { return c.DatabaseURL != "" }

// outbound is the outbound policy in force: TRELLIS_OUTBOUND_ALLOW, plus
// loopback and file:// when the demo runs (its orgs, hooks and repository
// are local).
func (c config) outbound() outbound.Policy {
	if c.Demo && !c.production() {
		return c.Outbound.With(outbound.Demo)
	}
	return c.Outbound
}
