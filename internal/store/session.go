package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// CreateSession stores a new session and records the sign-in on the user:
// last login time, failed-attempt counter reset, and an audit row.
func (s *Store) CreateSession(ctx context.Context, sess alm.Session, method string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES ($1, $2, $3, $3, $4, $5, $6)`, sess.IDHash, sess.UserID, sess.CreatedAt, sess.ExpiresAt, sess.IP, truncate(sess.UserAgent, 300))
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		var email string
		err = tx.QueryRow(ctx, `UPDATE users SET last_login_at = $2, failed_logins = 0, locked_until = NULL WHERE id = $1 RETURNING email`,
			sess.UserID, sess.CreatedAt).Scan(&email)
		if err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		// The request was anonymous until now; the sign-in is the user's act.
		e := alm.Audit(ctx, "session.login", "user", userID(sess.UserID), "signed in with "+method)
		e.ActorID, e.ActorLabel = &sess.UserID, email
		return s.insertAudit(ctx, tx, e)
	})
}

// SessionUser returns the session with the hash and its user, or a
// CodeNotFound error.
func (s *Store) SessionUser(ctx context.Context, idHash []byte) (alm.Session, alm.User, error) {
	var sess alm.Session
	row := s.pool.QueryRow(ctx, `SELECT s.id_hash, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent,
		`+userCols("u.")+` FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`, idHash)
	var u alm.User
	var role string
	err := row.Scan(&sess.IDHash, &sess.UserID, &sess.CreatedAt, &sess.LastSeenAt, &sess.ExpiresAt, &sess.IP, &sess.UserAgent,
		&u.ID, &u.Email, &u.Name, &role, &u.HasPassword, &u.MustChangePassword,
		&u.OIDCIssuer, &u.OIDCSubject, &u.DisabledAt, &u.FailedLogins,
		&u.LockedUntil, &u.LastLoginAt, &u.CreatedAt, &u.UpdatedAt)
	u.Role = alm.Role(role)
	return sess, u, notFound(err, "That session")
}

// TouchSession records activity on a session, for the idle timeout.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1`, idHash, at); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session (sign-out). Ending a session that is already
// gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var uid int64
		err := tx.QueryRow(ctx, `DELETE FROM sessions WHERE id_hash = $1 RETURNING user_id`, idHash).Scan(&uid)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "session.logout", "user", userID(uid), "signed out"))
	})
}

// PruneSessions deletes sessions past their absolute expiry or idle longer
// than idle, and returns how many went.
func (s *Store) PruneSessions(ctx context.Context, idle time.Duration) (int64, error) {
	now := s.Now()
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2`, now, now.Add(-idle))
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CountUserSessions returns how many sessions a user has open.
func (s *Store) CountUserSessions(ctx context.Context, uid int64) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE user_id = $1`, uid).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}
