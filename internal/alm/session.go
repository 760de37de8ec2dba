package alm

import "time"

// Session is a signed-in browser. Trellis keeps only a hash of the cookie
// value, so a copy of the database cannot be used to sign in.
type Session struct {
	IDHash     []byte
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// Valid reports whether the session is usable at now, given the idle timeout.
func (s Session) Valid(now time.Time, idle time.Duration) bool {
	return now.Before(s.ExpiresAt) && now.Sub(s.LastSeenAt) < idle
}
