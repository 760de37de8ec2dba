package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const tokenColumns = `t.id, t.user_id, u.email, t.name, t.prefix, t.created_at, t.last_used_at, t.expires_at, t.revoked_at`

func scanToken(row pgx.Row) (alm.APIToken, error) {
	var t alm.APIToken
	err := row.Scan(&t.ID, &t.UserID, &t.UserEmail, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &t.ExpiresAt, &t.RevokedAt)
	return t, err
}

// CreateToken stores a new API token's hash for the user.
func (s *Store) CreateToken(ctx context.Context, uid int64, name, prefix string, hash []byte, expiresAt *time.Time) (alm.APIToken, error) {
	var t alm.APIToken
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, prefix, hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, uid, name, prefix, hash, s.Now(), expiresAt).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		t, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`, id))
		if err != nil {
			return fmt.Errorf("read token: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "api_token.create", "api_token", strconv.FormatInt(id, 10),
			fmt.Sprintf("token %q (%s…) for %s", name, prefix, t.UserEmail)))
	})
	return t, err
}

// TokenUser returns the token with the hash and its owner, or a
// CodeNotFound error. Revoked and expired tokens are returned too; the
// caller decides.
func (s *Store) TokenUser(ctx context.Context, hash []byte) (alm.APIToken, alm.User, error) {
	// One query: every API call runs it.
	var t alm.APIToken
	var u alm.User
	var role string
	err := s.pool.QueryRow(ctx, `SELECT `+tokenColumns+`, `+userCols("u.")+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`, hash).Scan(
		&t.ID, &t.UserID, &t.UserEmail, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &t.ExpiresAt, &t.RevokedAt,
		&u.ID, &u.Email, &u.Name, &role, &u.HasPassword, &u.MustChangePassword, &u.OIDCIssuer, &u.OIDCSubject, &u.DisabledAt, &u.FailedLogins,
		&u.LockedUntil, &u.LastLoginAt, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return t, alm.User{}, notFound(err, "That API token")
	}
	u.Role = alm.Role(role)
	return t, u, nil
}

// TouchToken records that a token was used at at.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, id, at); err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

// ListTokens returns the tokens of one user (ownerID set) or of everyone,
// newest first.
func (s *Store) ListTokens(ctx context.Context, ownerID *int64) ([]alm.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE $1::bigint IS NULL OR t.user_id = $1 ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var ts []alm.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("scan token: %w", err)
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// RevokeToken revokes a token. With ownerID set, only that user's token can
// be revoked; another user's token is reported as not found.
func (s *Store) RevokeToken(ctx context.Context, id int64, ownerID *int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var name, prefix string
		err := tx.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $3)
			WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2) RETURNING name, prefix`, id, ownerID, s.Now()).Scan(&name, &prefix)
		if err != nil {
			return notFound(err, "That API token")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "api_token.revoke", "api_token", strconv.FormatInt(id, 10),
			fmt.Sprintf("revoked token %q (%s…)", name, prefix)))
	})
}
