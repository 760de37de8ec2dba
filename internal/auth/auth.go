package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// Config holds the sign-in rules.
type Config struct {
	IdleTimeout time.Duration // a session unused this long ends
	MaxAge      time.Duration // a session ends this long after sign-in regardless
	MaxFailures int           // wrong passwords in a row before a lockout
	LockFor     time.Duration // how long a lockout lasts
}

// DefaultConfig returns the rules used unless configured otherwise.
func DefaultConfig() Config {
	return Config{IdleTimeout: 12 * time.Hour, MaxAge: 7 * 24 * time.Hour, MaxFailures: 5, LockFor: 15 * time.Minute}
}

// Service signs people in and identifies callers.
type Service struct {
	store *store.Store
	cfg   Config
	log   *slog.Logger
}

// NewService returns a Service over st.
func NewService(st *store.Store, cfg Config, log *slog.Logger) *Service {
	return &Service{store: st, cfg: cfg, log: log}
}

// Config returns the service's rules.
func (s *Service) Config() Config { return s.cfg }

// ErrBadCredentials is the one answer to every refused sign-in — an
// unknown email, a wrong password, a locked account, an account that signs
// in only with single sign-on — so the form does not reveal which accounts
// exist or what state they are in.
var ErrBadCredentials = alm.Errorf(alm.CodeUnauthorized, "That email and password do not match an account you can sign in to with a password. After several wrong tries an account is locked for a few minutes; accounts that use single sign-on sign in with the SSO button.")

// Login checks an email and password and returns the user. A wrong password
// counts towards a lockout; a locked or disabled account is refused with a
// message that says so (only once the password was right, for disabled).
func (s *Service) Login(ctx context.Context, email, password string) (alm.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := s.store.UserByEmail(ctx, email)
	if alm.ErrorCode(err) == alm.CodeNotFound {
		_, _, _ = CheckPassword(dummyHash(), password)
		s.auditRefusal(ctx, "unknown email "+truncate(email, 80))
		return alm.User{}, ErrBadCredentials
	}
	if err != nil {
		return alm.User{}, err
	}
	now := s.store.Now()
	if u.Locked(now) {
		_, _, _ = CheckPassword(dummyHash(), password)
		s.auditRefusal(ctx, "locked account "+truncate(email, 80))
		return alm.User{}, ErrBadCredentials
	}
	hash, err := s.store.UserPasswordHash(ctx, u.ID)
	if err != nil {
		return alm.User{}, err
	}
	if hash == "" {
		_, _, _ = CheckPassword(dummyHash(), password)
		s.auditRefusal(ctx, "password sign-in to a single sign-on account "+truncate(email, 80))
		return alm.User{}, ErrBadCredentials
	}
	ok, rehash, err := CheckPassword(hash, password)
	if err != nil {
		return alm.User{}, err
	}
	if !ok {
		if _, err = s.store.RecordLoginFailure(ctx, u.ID, s.cfg.MaxFailures, s.cfg.LockFor); err != nil {
			return alm.User{}, err
		}
		return alm.User{}, ErrBadCredentials
	}
	if u.Disabled() {
		return alm.User{}, alm.Errorf(alm.CodeForbidden, "This account is disabled. Ask an admin to enable it.")
	}
	if rehash {
		if h, err := HashPassword(password); err == nil {
			_ = s.store.SetPassword(ctx, u.ID, h, u.MustChangePassword, nil, "user.password_rehash")
		}
	}
	return u, nil
}

func (s *Service) auditRefusal(ctx context.Context, summary string) {
	if err := s.store.Audit(ctx, alm.Audit(ctx, "session.login_failed", "", "", summary)); err != nil {
		s.log.ErrorContext(ctx, "audit refused sign-in", slog.Any("err", err))
	}
}

// SetupFirstAdmin creates the first account, an admin, while none exists.
func (s *Service) SetupFirstAdmin(ctx context.Context, n alm.NewUser) (alm.User, error) {
	n.Normalize()
	n.Role = alm.RoleAdmin
	if err := n.Validate(true); err != nil {
		return alm.User{}, err
	}
	if msg := WeakPassword(n.Password, n.Email, n.Name); msg != "" {
		return alm.User{}, alm.Invalid(map[string]string{"password": msg})
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return alm.User{}, err
	}
	return s.store.CreateFirstAdmin(ctx, n, hash)
}

// CreateUser creates a local account. With an empty password the user can
// only sign in through SSO.
func (s *Service) CreateUser(ctx context.Context, n alm.NewUser, mustChange bool) (alm.User, error) {
	n.Normalize()
	fields := alm.FieldErrors(n.Validate(false))
	if fields == nil {
		fields = map[string]string{}
	}
	if fields["password"] == "" && n.Password != "" {
		if msg := WeakPassword(n.Password, n.Email, n.Name); msg != "" {
			fields["password"] = msg
		}
	}
	// Report a taken email with the other mistakes, not one round later.
	if fields["email"] == "" {
		if _, err := s.store.UserByEmail(ctx, n.Email); err == nil {
			fields["email"] = "A user with this email already exists."
		}
	}
	if len(fields) > 0 {
		return alm.User{}, alm.Invalid(fields)
	}
	hash := ""
	if n.Password != "" {
		var err error
		if hash, err = HashPassword(n.Password); err != nil {
			return alm.User{}, err
		}
	}
	return s.store.CreateUser(ctx, n, hash, mustChange)
}

// ChangePassword changes the caller's own password after checking the
// current one, and ends their other sessions.
func (s *Service) ChangePassword(ctx context.Context, u alm.User, sessionHash []byte, current, next string) error {
	fields := map[string]string{}
	if u.HasPassword {
		hash, err := s.store.UserPasswordHash(ctx, u.ID)
		if err != nil {
			return err
		}
		if ok, _, err := CheckPassword(hash, current); err != nil {
			return err
		} else if !ok {
			fields["current"] = "That is not your current password."
		}
	}
	if msg := alm.ValidatePassword(next); msg != "" {
		fields["new"] = msg
	} else if msg := WeakPassword(next, u.Email, u.Name); msg != "" {
		fields["new"] = msg
	} else if next == current {
		fields["new"] = "Choose a password different from the current one."
	}
	if len(fields) > 0 {
		return alm.Invalid(fields)
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	return s.store.SetPassword(ctx, u.ID, hash, false, sessionHash, "user.password_change")
}

// ResetPassword gives a user a new random password that must be changed at
// the next sign-in, ends their sessions, and returns it to show the admin once.
func (s *Service) ResetPassword(ctx context.Context, uid int64) (string, error) {
	p := RandomPassword()
	hash, err := HashPassword(p)
	if err != nil {
		return "", err
	}
	if err := s.store.SetPassword(ctx, uid, hash, true, nil, "user.password_reset"); err != nil {
		return "", err
	}
	return p, nil
}

// randomToken returns n random bytes, URL-safe base64 encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the SHA-256 of a session or token value: what the
// database keeps instead of the value.
func HashSecret(v string) []byte {
	sum := sha256.Sum256([]byte(v))
	return sum[:]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
