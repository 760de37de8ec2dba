package auth

import (
	"context"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
)

// TokenPrefix starts every API token, so secret scanners (and people) can
// recognise one.
const TokenPrefix = "trl_"

// CreateToken makes a new API token for u and returns its secret value,
// which is shown once and never stored.
func (s *Service) CreateToken(ctx context.Context, u alm.User, name string, ttl time.Duration) (string, alm.APIToken, error) {
	name = strings.TrimSpace(name)
	if msg := alm.ValidateTokenName(name); msg != "" {
		return "", alm.APIToken{}, alm.Invalid(map[string]string{"name": msg})
	}
	if u.Disabled() {
		return "", alm.APIToken{}, alm.Errorf(alm.CodeInvalid, "%s is disabled; enable the account before giving it a token.", u.Email)
	}
	value := TokenPrefix + randomToken(30)
	var expires *time.Time
	if ttl > 0 {
		e := s.store.Now().Add(ttl)
		expires = &e
	}
	t, err := s.store.CreateToken(ctx, u.ID, name, value[:len(TokenPrefix)+6], HashSecret(value), expires)
	return value, t, err
}

// TokenCaller returns the caller behind an API token, or a
// CodeUnauthorized error for an unknown, revoked or expired token or a
// disabled owner. The caller acts with the owner's current role.
func (s *Service) TokenCaller(ctx context.Context, value string) (Caller, error) {
	if !strings.HasPrefix(value, TokenPrefix) {
		return Caller{}, errBadToken
	}
	t, u, err := s.store.TokenUser(ctx, HashSecret(value))
	if alm.ErrorCode(err) == alm.CodeNotFound {
		return Caller{}, errBadToken
	}
	if err != nil {
		return Caller{}, err
	}
	now := s.store.Now()
	if !t.Active(now) || u.Disabled() {
		return Caller{}, errBadToken
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
			return Caller{}, err
		}
		t.LastUsedAt = &now
	}
	return Caller{User: u, Token: &t}, nil
}

var errBadToken = alm.Errorf(alm.CodeUnauthorized, "The API token is missing, unknown, revoked or expired.")
