package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/trellis-alm/trellis/internal/store"
)

// ipLimiter throttles sign-in attempts per client address, on top of the
// per-account lockout, so one address cannot try many accounts quickly.
// Its buckets are in the database, shared by every replica.
type ipLimiter struct {
	st    *store.Store
	every time.Duration
	burst int
	log   *slog.Logger
}

func newIPLimiter(st *store.Store, every time.Duration, burst int, log *slog.Logger) *ipLimiter {
	return &ipLimiter{st: st, every: every, burst: burst, log: log}
}

// allow reports whether ip may make another attempt now. When the bucket
// cannot be read the attempt goes ahead: the account lockout still holds.
func (l *ipLimiter) allow(ctx context.Context, ip string) bool {
	ok, err := l.st.TakeToken(ctx, "signin:"+ip, l.every, l.burst)
	if err != nil && l.log != nil {
		l.log.WarnContext(ctx, "sign-in rate limit unavailable", slog.Any("err", err))
	}
	return ok
}
