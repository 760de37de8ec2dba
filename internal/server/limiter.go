package server

import (
	"sync"

	"golang.org/x/time/rate"
)

// ipLimiter throttles sign-in attempts per client address, on top of the
// per-account lockout, so one address cannot try many accounts quickly.
type ipLimiter struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	byIP  map[string]*rate.Limiter
}

func newIPLimiter(every rate.Limit, burst int) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, byIP: map[string]*rate.Limiter{}}
}

// allow reports whether ip may make another attempt now.
func (l *ipLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.byIP[ip]
	if !ok {
		// Forget everyone at a size that cannot exhaust memory; a full
		// bucket for all is the worst that follows.
		if len(l.byIP) > 10000 {
			l.byIP = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.byIP[ip] = lim
	}
	return lim.Allow()
}
