package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// userCols lists the columns scanUser reads, qualified by a table alias
// ("u.") when the query joins users to another table.
func userCols(a string) string {
	return fmt.Sprintf(`%[1]sid, %[1]semail, %[1]sname, %[1]srole, %[1]spassword_hash IS NOT NULL,
	%[1]smust_change_password, coalesce(%[1]soidc_issuer, ''), coalesce(%[1]soidc_subject, ''),
	%[1]sdisabled_at, %[1]sfailed_logins, %[1]slocked_until, %[1]slast_login_at, %[1]screated_at, %[1]supdated_at`, a)
}

var userColumns = userCols("")

func scanUser(row pgx.Row) (alm.User, error) {
	var u alm.User
	var role string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.HasPassword, &u.MustChangePassword,
		&u.OIDCIssuer, &u.OIDCSubject, &u.DisabledAt, &u.FailedLogins,
		&u.LockedUntil, &u.LastLoginAt, &u.CreatedAt, &u.UpdatedAt)
	u.Role = alm.Role(role)
	return u, err
}

func userID(id int64) string { return strconv.FormatInt(id, 10) }

// CountUsers returns how many users exist; zero means setup is pending.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateUser adds a user with an already-hashed password ("" for SSO-only
// users). It returns a CodeInvalid error when the email is taken.
func (s *Store) CreateUser(ctx context.Context, n alm.NewUser, passwordHash string, mustChange bool) (alm.User, error) {
	var u alm.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = s.createUser(ctx, tx, n, passwordHash, mustChange)
		return err
	})
	return u, err
}

// CreateFirstAdmin creates the first user, an admin, only while there are
// no users; it returns a CodeConflict error once setup is done, so two
// browsers racing through the setup page cannot both win.
func (s *Store) CreateFirstAdmin(ctx context.Context, n alm.NewUser, passwordHash string) (alm.User, error) {
	n.Role = alm.RoleAdmin
	var u alm.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock users: %w", err)
		}
		var count int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&count); err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		if count > 0 {
			return alm.Errorf(alm.CodeConflict, "Setup is already done: an admin exists. Sign in instead.")
		}
		var err error
		u, err = s.createUser(ctx, tx, n, passwordHash, false)
		return err
	})
	return u, err
}

func (s *Store) createUser(ctx context.Context, tx pgx.Tx, n alm.NewUser, passwordHash string, mustChange bool) (alm.User, error) {
	now := s.Now()
	var hash *string
	if passwordHash != "" {
		hash = &passwordHash
	}
	u, err := scanUser(tx.QueryRow(ctx, `
		INSERT INTO users (email, name, role, password_hash, must_change_password, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		RETURNING `+userColumns, n.Email, n.Name, string(n.Role), hash, mustChange, now))
	if isUniqueViolation(err, "users_email_key") {
		return u, alm.Invalid(map[string]string{"email": "A user with this email already exists."})
	}
	if err != nil {
		return u, fmt.Errorf("insert user: %w", err)
	}
	err = s.insertAudit(ctx, tx, alm.Audit(ctx, "user.create", "user", userID(u.ID),
		fmt.Sprintf("created %s (%s) as %s", u.Email, u.Name, u.Role.Label())))
	return u, err
}

// UserByID returns the user with id, or a CodeNotFound error.
func (s *Store) UserByID(ctx context.Context, id int64) (alm.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, notFound(err, "That user")
}

// UserByEmail returns the user with email (case-insensitive), or a
// CodeNotFound error.
func (s *Store) UserByEmail(ctx context.Context, email string) (alm.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, email))
	return u, notFound(err, "That user")
}

// UserPasswordHash returns the stored password hash of the user, or "" for
// a user without a password.
func (s *Store) UserPasswordHash(ctx context.Context, id int64) (string, error) {
	var h *string
	err := s.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&h)
	if err != nil {
		return "", notFound(err, "That user")
	}
	if h == nil {
		return "", nil
	}
	return *h, nil
}

// ListUsers returns every user, admins first, then by name.
func (s *Store) ListUsers(ctx context.Context) ([]alm.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users
		ORDER BY disabled_at IS NOT NULL, array_position(ARRAY['admin','release_manager','developer','product_owner','viewer'], role), lower(name)`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []alm.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// UserUpdate is an admin's edit of a user.
type UserUpdate struct {
	Name     string
	Role     alm.Role
	Disabled bool
}

// UpdateUser changes a user's name, role and whether the account is
// disabled. It refuses (CodeConflict) to leave Trellis without an active
// admin. Disabling a user ends their sessions.
func (s *Store) UpdateUser(ctx context.Context, id int64, up UserUpdate) (alm.User, error) {
	var u alm.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "That user")
		}
		losesAdmin := before.Role == alm.RoleAdmin && !before.Disabled() && (up.Role != alm.RoleAdmin || up.Disabled)
		if losesAdmin {
			if err := s.ensureAnotherAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		now := s.Now()
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET name = $2, role = $3, updated_at = $4,
				disabled_at = CASE WHEN $5 THEN coalesce(disabled_at, $4) ELSE NULL END
			WHERE id = $1 RETURNING `+userColumns, id, up.Name, string(up.Role), now, up.Disabled))
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if up.Disabled {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "user.update", "user", userID(id), userChange(before, u)))
	})
	return u, err
}

func (s *Store) ensureAnotherAdmin(ctx context.Context, tx pgx.Tx, id int64) error {
	var others int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1`, id).Scan(&others)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if others == 0 {
		return alm.Errorf(alm.CodeConflict, "Trellis needs at least one active admin: make someone else an admin first.")
	}
	return nil
}

func userChange(a, b alm.User) string {
	s := b.Email + ":"
	if a.Name != b.Name {
		s += fmt.Sprintf(" name %q → %q;", a.Name, b.Name)
	}
	if a.Role != b.Role {
		s += fmt.Sprintf(" role %s → %s;", a.Role, b.Role)
	}
	if a.Disabled() != b.Disabled() {
		if b.Disabled() {
			s += " disabled;"
		} else {
			s += " enabled;"
		}
	}
	if s == b.Email+":" {
		s += " no change"
	}
	return s
}

// SetPassword stores a new password hash. mustChange forces a change at the
// next sign-in (after an admin reset). Every session of the user except
// keepSession (nil for none) ends, and any lockout is lifted.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string, mustChange bool, keepSession []byte, action string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = $3,
			failed_logins = 0, locked_until = NULL, updated_at = $4 WHERE id = $1`, id, hash, mustChange, s.Now())
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return alm.Errorf(alm.CodeNotFound, "That user was not found.")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash IS DISTINCT FROM $2`, id, keepSession); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		summary := "password changed; other sessions ended"
		if mustChange {
			summary = "password reset by an admin; must be changed at next sign-in"
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, action, "user", userID(id), summary))
	})
}

// RecordLoginFailure counts a failed sign-in and locks the account for
// lockFor once maxFailures are reached. It returns the updated user.
func (s *Store) RecordLoginFailure(ctx context.Context, id int64, maxFailures int, lockFor time.Duration) (alm.User, error) {
	var u alm.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET failed_logins = failed_logins + 1,
				locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3::timestamptz ELSE locked_until END
			WHERE id = $1 RETURNING `+userColumns, id, maxFailures, now.Add(lockFor)))
		if err != nil {
			return notFound(err, "That user")
		}
		summary := fmt.Sprintf("wrong password (%d in a row)", u.FailedLogins)
		if u.Locked(now) {
			summary += fmt.Sprintf("; locked until %s", u.LockedUntil.Format(time.RFC3339))
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "session.login_failed", "user", userID(id), summary))
	})
	return u, err
}

// UnlockUser lifts a lockout.
func (s *Store) UnlockUser(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1`, id, s.Now())
		if err != nil {
			return fmt.Errorf("unlock user: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return alm.Errorf(alm.CodeNotFound, "That user was not found.")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "user.unlock", "user", userID(id), "lockout lifted"))
	})
}

// UserByOIDC returns the user linked to the issuer and subject, or a
// CodeNotFound error.
func (s *Store) UserByOIDC(ctx context.Context, issuer, subject string) (alm.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2`, issuer, subject))
	return u, notFound(err, "That user")
}

// LinkOIDC ties an existing user to an OIDC identity, on their first SSO
// sign-in with a matching verified email.
func (s *Store) LinkOIDC(ctx context.Context, id int64, issuer, subject string) (alm.User, error) {
	var u alm.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET oidc_issuer = $2, oidc_subject = $3, updated_at = $4
			WHERE id = $1 RETURNING `+userColumns, id, issuer, subject, s.Now()))
		if err != nil {
			return notFound(err, "That user")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "user.link_sso", "user", userID(id), "linked to SSO identity at "+issuer))
	})
	return u, err
}

// CreateSSOUser adds a user who signs in through OIDC and has no password.
func (s *Store) CreateSSOUser(ctx context.Context, n alm.NewUser, issuer, subject string) (alm.User, error) {
	var u alm.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = s.createUser(ctx, tx, n, "", false)
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET oidc_issuer = $2, oidc_subject = $3 WHERE id = $1 RETURNING `+userColumns, u.ID, issuer, subject))
		return err
	})
	return u, err
}

// SyncSSOLogin records a successful SSO sign-in: the role from the
// identity provider's groups (when mapped), and the login time.
func (s *Store) SyncSSOLogin(ctx context.Context, id int64, role alm.Role) (alm.User, error) {
	var u alm.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "That user")
		}
		if role == "" || role == before.Role {
			u = before
			return nil
		}
		if before.Role == alm.RoleAdmin {
			if err := s.ensureAnotherAdmin(ctx, tx, id); err != nil {
				// Keep the last admin an admin rather than lock everyone out.
				u = before
				return nil
			}
		}
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET role = $2, updated_at = $3 WHERE id = $1 RETURNING `+userColumns, id, string(role), s.Now()))
		if err != nil {
			return fmt.Errorf("sync role: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "user.sso_role", "user", userID(id),
			fmt.Sprintf("role %s → %s from identity provider groups", before.Role, role)))
	})
	return u, err
}
