package auth

import (
	"context"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
)

// Caller is who is making a request: the user and how they authenticated.
type Caller struct {
	User    alm.User
	Session *alm.Session  // set for browser sessions
	Token   *alm.APIToken // set for API tokens
}

// StartSession creates a session for u and returns the value to put in the
// cookie. Call it after every successful sign-in: a new value each time is
// what stops session fixation.
func (s *Service) StartSession(ctx context.Context, u alm.User, method, ip, userAgent string) (string, alm.Session, error) {
	value := randomToken(32)
	now := s.store.Now()
	sess := alm.Session{
		IDHash:     HashSecret(value),
		UserID:     u.ID,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(s.cfg.MaxAge),
		IP:         ip,
		UserAgent:  userAgent,
	}
	if err := s.store.CreateSession(ctx, sess, method); err != nil {
		return "", alm.Session{}, err
	}
	return value, sess, nil
}

// touchEvery limits writes: a busy user's session is touched at most once a
// minute, or a quarter of the idle timeout when that is shorter, so an
// active user is never taken for an idle one.
const touchEvery = time.Minute

func (s *Service) touchInterval() time.Duration { return min(touchEvery, s.cfg.IdleTimeout/4) }

// SessionCaller returns the caller behind a session cookie value, or a
// CodeUnauthorized error when the session is unknown, idle too long, past
// its absolute lifetime, or its user is disabled.
func (s *Service) SessionCaller(ctx context.Context, value string) (Caller, error) {
	if value == "" {
		return Caller{}, errNoSession
	}
	sess, u, err := s.store.SessionUser(ctx, HashSecret(value))
	if alm.ErrorCode(err) == alm.CodeNotFound {
		return Caller{}, errNoSession
	}
	if err != nil {
		return Caller{}, err
	}
	now := s.store.Now()
	if !sess.Valid(now, s.cfg.IdleTimeout) || u.Disabled() {
		_ = s.store.DeleteSession(ctx, sess.IDHash)
		return Caller{}, errSessionEnded
	}
	if now.Sub(sess.LastSeenAt) >= s.touchInterval() {
		if err := s.store.TouchSession(ctx, sess.IDHash, now); err != nil {
			return Caller{}, err
		}
		sess.LastSeenAt = now
	}
	return Caller{User: u, Session: &sess}, nil
}

var (
	errNoSession    = alm.Errorf(alm.CodeUnauthorized, "Please sign in.")
	errSessionEnded = alm.Errorf(alm.CodeUnauthorized, "Your session has ended. Please sign in again.")
)

// EndSession signs a session out.
func (s *Service) EndSession(ctx context.Context, value string) error {
	if value == "" {
		return nil
	}
	return s.store.DeleteSession(ctx, HashSecret(value))
}

// PruneSessions deletes sessions that can no longer be used.
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	return s.store.PruneSessions(ctx, s.cfg.IdleTimeout)
}
