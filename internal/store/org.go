package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// orgCols never include credentials: only OrgCredentials reads them.
const orgCols = `id, name, kind, login_url, instance_url, api_version, username, sf_org_id, sf_user_id, auth_kind, client_id,
	status, last_error, last_checked_at, created_at, updated_at`

func scanOrg(row pgx.Row) (alm.Org, error) {
	var o alm.Org
	var kind, status string
	err := row.Scan(&o.ID, &o.Name, &kind, &o.LoginURL, &o.InstanceURL, &o.APIVersion, &o.Username, &o.SFOrgID, &o.SFUserID, &o.AuthKind,
		&o.ClientID, &status, &o.LastError, &o.LastCheckedAt, &o.CreatedAt, &o.UpdatedAt)
	o.Kind, o.Status = alm.OrgKind(kind), alm.OrgStatus(status)
	return o, err
}

// OrgAuth is what a successful sign-in to an org established.
type OrgAuth struct {
	AuthKind    string // oauth or jwt
	InstanceURL string
	Username    string
	SFOrgID     string
	SFUserID    string
}

// SealFunc seals an org's credentials for the org with the given id.
type SealFunc func(orgID int64) (string, error)

// CreateOrg records a connected org; seal turns its credentials into the
// sealed text stored with it, bound to the new id, in the same
// transaction: an org is never saved without them.
func (s *Store) CreateOrg(ctx context.Context, n alm.NewOrg, a OrgAuth, seal SealFunc) (alm.Org, error) {
	if err := n.Validate(); err != nil {
		return alm.Org{}, err
	}
	var o alm.Org
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO orgs (name, kind, login_url, instance_url, api_version, username, sf_org_id, sf_user_id, auth_kind,
			client_id, connected_by, last_checked_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12) RETURNING id`,
			n.Name, string(n.Kind), n.LoginURL, a.InstanceURL, n.APIVersion, a.Username, a.SFOrgID, a.SFUserID, a.AuthKind, n.ClientID,
			alm.ActorFrom(ctx).UserID, now).Scan(&id)
		if isUniqueViolation(err, "orgs_name_key") {
			return alm.Invalid(map[string]string{"name": "Another org is called " + n.Name + "."})
		}
		if err != nil {
			return fmt.Errorf("insert org: %w", err)
		}
		sealed, err := seal(id)
		if err != nil {
			return err
		}
		if o, err = scanOrg(tx.QueryRow(ctx, `UPDATE orgs SET credentials = $2 WHERE id = $1 RETURNING `+orgCols, id, sealed)); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "org.connect", "org", fmt.Sprint(id),
			fmt.Sprintf("connected %s (%s, %s) as %s", n.Name, n.Kind.Label(), a.AuthKind, a.Username)))
	})
	return o, err
}

// ReauthorizeOrg stores fresh credentials for an org and marks it
// connected.
func (s *Store) ReauthorizeOrg(ctx context.Context, id int64, a OrgAuth, seal SealFunc) (alm.Org, error) {
	var o alm.Org
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		sealed, err := seal(id)
		if err != nil {
			return err
		}
		o, err = scanOrg(tx.QueryRow(ctx, `UPDATE orgs SET credentials = $2, instance_url = $3, username = $4, sf_org_id = $5, sf_user_id = $6,
			auth_kind = $7, status = 'connected', last_error = '', last_checked_at = $8, updated_at = $8 WHERE id = $1 RETURNING `+orgCols,
			id, sealed, a.InstanceURL, a.Username, a.SFOrgID, a.SFUserID, a.AuthKind, s.Now()))
		if err != nil {
			return notFound(err, "That org")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "org.reauthorize", "org", fmt.Sprint(id), "re-authorised "+o.Name+" as "+a.Username))
	})
	return o, err
}

// OrgCredentials returns an org's sealed credentials, for the one place
// that opens them to sign in.
func (s *Store) OrgCredentials(ctx context.Context, id int64) (string, error) {
	var c string
	err := s.pool.QueryRow(ctx, `SELECT credentials FROM orgs WHERE id = $1`, id).Scan(&c)
	return c, notFound(err, "That org")
}

// OrgByID returns an org.
func (s *Store) OrgByID(ctx context.Context, id int64) (alm.Org, error) {
	o, err := scanOrg(s.pool.QueryRow(ctx, `SELECT `+orgCols+` FROM orgs WHERE id = $1`, id))
	return o, notFound(err, "That org")
}

// ListOrgs lists the connected orgs, production first.
func (s *Store) ListOrgs(ctx context.Context) ([]alm.Org, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+orgCols+` FROM orgs ORDER BY status = 'disconnected',
		array_position(ARRAY['production','full_sandbox','partial_sandbox','developer_sandbox','scratch','developer'], kind), lower(name)`)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Org, error) { return scanOrg(r) })
	if out == nil {
		out = []alm.Org{}
	}
	return out, err
}

// SetOrgHealth records the outcome of talking to an org.
func (s *Store) SetOrgHealth(ctx context.Context, id int64, status alm.OrgStatus, lastError string) error {
	_, err := s.pool.Exec(ctx, `UPDATE orgs SET status = $2, last_error = $3, last_checked_at = $4, updated_at = $4 WHERE id = $1 AND status <> 'disconnected'`,
		id, string(status), truncate(lastError, 1000), s.Now())
	return err
}

// DisconnectOrg wipes an org's credentials; its snapshots and history stay.
func (s *Store) DisconnectOrg(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var name string
		if err := tx.QueryRow(ctx, `UPDATE orgs SET credentials = '', status = 'disconnected', updated_at = $2 WHERE id = $1 RETURNING name`,
			id, s.Now()).Scan(&name); err != nil {
			return notFound(err, "That org")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "org.disconnect", "org", fmt.Sprint(id), "disconnected "+name+"; credentials wiped"))
	})
}

// ListSnapshots lists an org's snapshots, newest first.
func (s *Store) ListSnapshots(ctx context.Context, orgID int64, limit int) ([]alm.Snapshot, error) {
	return s.listSnapshots(ctx, "x.org_id = $1", orgID, limit)
}

// ListRepoSnapshots lists a repository's snapshots, newest first.
func (s *Store) ListRepoSnapshots(ctx context.Context, repoID int64, limit int) ([]alm.Snapshot, error) {
	return s.listSnapshots(ctx, "x.repo_id = $1", repoID, limit)
}

func (s *Store) listSnapshots(ctx context.Context, cond string, id int64, limit int) ([]alm.Snapshot, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+snapCols+` FROM snapshots x LEFT JOIN orgs o ON o.id = x.org_id LEFT JOIN repositories rp ON rp.id = x.repo_id
		WHERE `+cond+` ORDER BY x.id DESC LIMIT $2`, id, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Snapshot, error) { return scanSnapshot(r) })
	if out == nil {
		out = []alm.Snapshot{}
	}
	return out, err
}

// SetOrgCredentials replaces an org's sealed credentials (key rotation).
func (s *Store) SetOrgCredentials(ctx context.Context, id int64, sealed string) error {
	_, err := s.pool.Exec(ctx, `UPDATE orgs SET credentials = $2 WHERE id = $1 AND credentials <> ''`, id, sealed)
	return err
}
