package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const repoCols = `id, name, url, auth_kind, default_branch, last_fetched_at, last_error, created_at, host_kind, host_api`

func scanRepo(row pgx.Row) (alm.Repository, error) {
	var r alm.Repository
	err := row.Scan(&r.ID, &r.Name, &r.URL, &r.AuthKind, &r.DefaultBranch, &r.LastFetchedAt, &r.LastError, &r.CreatedAt, &r.HostKind, &r.HostAPI)
	return r, err
}

// NewRepository is what connecting a repository stores.
type NewRepository struct {
	Name, URL, AuthKind, DefaultBranch, Mirror string
}

// CreateRepository records a repository whose mirror is in place; seal
// seals its credential for the new id.
func (s *Store) CreateRepository(ctx context.Context, n NewRepository, seal SealFunc) (alm.Repository, error) {
	var r alm.Repository
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO repositories (name, url, auth_kind, default_branch, mirror, last_fetched_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, n.Name, n.URL, n.AuthKind, n.DefaultBranch, n.Mirror, now).Scan(&id)
		if isUniqueViolation(err, "repositories_name_key") {
			return alm.Invalid(map[string]string{"name": "Another repository is called " + n.Name + "."})
		}
		if err != nil {
			return fmt.Errorf("insert repository: %w", err)
		}
		sealed, err := seal(id)
		if err != nil {
			return err
		}
		if r, err = scanRepo(tx.QueryRow(ctx, `UPDATE repositories SET credentials = $2 WHERE id = $1 RETURNING `+repoCols, id, sealed)); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "repository.connect", "repository", fmt.Sprint(id), "connected "+n.Name+" ("+n.URL+")"))
	})
	return r, err
}

// RepositoryByID returns a repository.
func (s *Store) RepositoryByID(ctx context.Context, id int64) (alm.Repository, error) {
	r, err := scanRepo(s.pool.QueryRow(ctx, `SELECT `+repoCols+` FROM repositories WHERE id = $1`, id))
	return r, notFound(err, "That repository")
}

// RepositoryAccess returns a repository's mirror directory and sealed
// credential, for the code that fetches.
func (s *Store) RepositoryAccess(ctx context.Context, id int64) (mirror, sealed string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT mirror, credentials FROM repositories WHERE id = $1`, id).Scan(&mirror, &sealed)
	return mirror, sealed, notFound(err, "That repository")
}

// ListRepositories lists the connected repositories.
func (s *Store) ListRepositories(ctx context.Context) ([]alm.Repository, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+repoCols+` FROM repositories ORDER BY lower(name)`)
	if err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Repository, error) { return scanRepo(r) })
	if out == nil {
		out = []alm.Repository{}
	}
	return out, err
}

// SetRepositoryFetched records a fetch's outcome.
func (s *Store) SetRepositoryFetched(ctx context.Context, id int64, fetchErr string) error {
	_, err := s.pool.Exec(ctx, `UPDATE repositories SET last_error = $2, last_fetched_at = CASE WHEN $2 = '' THEN $3 ELSE last_fetched_at END WHERE id = $1`,
		id, truncate(fetchErr, 1000), s.Now())
	return err
}

// SetRepositoryHost says which git host's pull-request API a repository
// uses ("" tells it from the URL, none opens no pull requests).
func (s *Store) SetRepositoryHost(ctx context.Context, id int64, kind, api string) (alm.Repository, error) {
	switch kind {
	case "", "none", "github", "gitlab", "bitbucket", "azure":
	default:
		return alm.Repository{}, alm.Invalid(map[string]string{"host": "Choose github, gitlab, bitbucket, azure, none, or leave it empty to tell from the URL."})
	}
	var r alm.Repository
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = scanRepo(tx.QueryRow(ctx, `UPDATE repositories SET host_kind = $2, host_api = $3 WHERE id = $1 RETURNING `+repoCols, id, kind, api)); err != nil {
			return notFound(err, "That repository")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "repository.host", "repository", fmt.Sprint(id), fmt.Sprintf("pull requests on %q %s", kind, api)))
	})
	return r, err
}
