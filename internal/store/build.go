package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// ReleaseCaptures lists the current captures of every work item in a
// release, for its build.
func (s *Store) ReleaseCaptures(ctx context.Context, releaseID int64) ([]alm.BuildComponent, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.type, c.name, c.change, coalesce(c.hash, ''), w.key
		FROM work_item_components c JOIN work_items w ON w.id = c.work_item_id
		WHERE w.release_id = $1 AND c.superseded_at IS NULL ORDER BY c.type, lower(c.name), w.number`, releaseID)
	if err != nil {
		return nil, fmt.Errorf("release captures: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.BuildComponent, error) {
		var c alm.BuildComponent
		return c, r.Scan(&c.Type, &c.Name, &c.Change, &c.Hash, &c.WorkItem)
	})
}

const buildCols = `id, coalesce(release_id, 0), number, api_version, checksum, components, deletes, coalesce(octet_length(artifact), artifact_bytes), created_label, created_at, coalesce((SELECT key FROM work_items WHERE id = work_item_id), '')`

func scanBuild(row pgx.Row) (alm.Build, error) {
	var b alm.Build
	err := row.Scan(&b.ID, &b.ReleaseID, &b.Number, &b.APIVersion, &b.Checksum, &b.Components, &b.Deletes, &b.Size, &b.CreatedBy, &b.CreatedAt, &b.WorkItem)
	return b, err
}

// NewBuild is a packaged build to record.
type NewBuild struct {
	ReleaseID  int64
	WorkItemID int64  // instead of ReleaseID: a work item's own change set
	ProjectID  int64  // instead of both: a stage branch deployed as it is
	GitCommit  string // the commit a build made from git carries
	APIVersion string
	Checksum   string
	Artifact   []byte
	Deletes    int
	Components []alm.BuildComponent
}

// CreateBuild records a build with the next number of its release.
func (s *Store) CreateBuild(ctx context.Context, n NewBuild) (alm.Build, error) {
	var b alm.Build
	// The object is stored before the row that names it (an object no row
	// names is collected later; a row naming no object would be a loss).
	art, key, err := s.keepContent(ctx, "artifacts", n.Artifact)
	if err != nil {
		return b, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var pid, ownerID int64
		var relName, entity string
		var err error
		switch {
		case n.WorkItemID != 0:
			entity, ownerID = "work_item", n.WorkItemID
			err = tx.QueryRow(ctx, `SELECT project_id, key FROM work_items WHERE id = $1 FOR UPDATE`, n.WorkItemID).Scan(&pid, &relName)
		case n.ProjectID != 0:
			entity, ownerID, pid = "project", n.ProjectID, n.ProjectID
			err = tx.QueryRow(ctx, `SELECT key FROM projects WHERE id = $1 FOR UPDATE`, n.ProjectID).Scan(&relName)
			relName += " branch build"
		default:
			entity, ownerID = "release", n.ReleaseID
			var status string
			err = tx.QueryRow(ctx, `SELECT project_id, name, status FROM releases WHERE id = $1 FOR UPDATE`, n.ReleaseID).Scan(&pid, &relName, &status)
			// A released release still builds: a production deploy rolled
			// back is fixed and built again under the same release.
			if err == nil && status == string(alm.RelAbandoned) {
				return alm.Errorf(alm.CodeInvalid, "%s was abandoned; a new build belongs to a live release.", relName)
			}
		}
		if err != nil {
			return notFound(err, "That "+strings.ReplaceAll(entity, "_", " "))
		}
		a := alm.ActorFrom(ctx)
		owner := entity + "_id"
		if entity == "release" {
			owner = "release_id"
		}
		b, err = scanBuild(tx.QueryRow(ctx, `INSERT INTO release_builds (`+owner+`, number, api_version, checksum, artifact, artifact_key, artifact_bytes, components, deletes, created_by, created_label, created_at, git_commit)
			VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM release_builds WHERE `+owner+` = $1), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+buildCols,
			ownerID, n.APIVersion, n.Checksum, art, key, len(n.Artifact), len(n.Components), n.Deletes, a.UserID, actorLabel(a), s.Now(), n.GitCommit))
		if err != nil {
			return fmt.Errorf("insert build: %w", err)
		}
		for _, c := range n.Components {
			if _, err := tx.Exec(ctx, `INSERT INTO build_components (build_id, type, name, change, hash, work_item) VALUES ($1, $2, $3, $4, $5, $6)`,
				b.ID, c.Type, c.Name, c.Change, nullIfEmpty(c.Hash), c.WorkItem); err != nil {
				return fmt.Errorf("insert build component: %w", err)
			}
		}
		if err := s.record(ctx, tx, pid, entity, ownerID, entity+".build",
			fmt.Sprintf("built %s #%d: %d components, checksum %s", relName, b.Number, len(n.Components), n.Checksum[:12])); err != nil {
			return err
		}
		if n.ReleaseID == 0 {
			return nil
		}
		return s.advanceRelease(ctx, tx, n.ReleaseID, alm.RelBuilding, fmt.Sprintf("build #%d", b.Number))
	})
	return b, err
}

// advanceRelease moves a release forward to status to (planning → building
// → in test) as its builds and deploys happen, never back and never past
// a status people set (approved) or a final one.
func (s *Store) advanceRelease(ctx context.Context, tx pgx.Tx, releaseID int64, to alm.RelStatus, why string) error {
	var pid int64
	var cur string
	if err := tx.QueryRow(ctx, `SELECT project_id, status FROM releases WHERE id = $1 FOR UPDATE`, releaseID).Scan(&pid, &cur); err != nil {
		return notFound(err, "That release")
	}
	if slices.Index(alm.RelStatuses, alm.RelStatus(cur)) >= slices.Index(alm.RelStatuses, to) {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE releases SET status = $2, rev = rev + 1, updated_at = $3 WHERE id = $1`, releaseID, string(to), s.Now()); err != nil {
		return fmt.Errorf("advance release: %w", err)
	}
	return s.record(ctx, tx, pid, "release", releaseID, "release.status",
		fmt.Sprintf("moved from %s to %s: %s", alm.RelStatus(cur).Label(), to.Label(), why))
}

// WorkItemCaptures lists a work item's current captures, for a build of
// its own change set.
func (s *Store) WorkItemCaptures(ctx context.Context, key string) (int64, []alm.BuildComponent, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM work_items WHERE key = upper($1)`, key).Scan(&id); err != nil {
		return 0, nil, notFound(err, "That work item")
	}
	rows, err := s.pool.Query(ctx, `SELECT c.type, c.name, c.change, coalesce(c.hash, ''), w.key
		FROM work_item_components c JOIN work_items w ON w.id = c.work_item_id
		WHERE w.id = $1 AND c.superseded_at IS NULL ORDER BY c.type, lower(c.name)`, id)
	if err != nil {
		return 0, nil, fmt.Errorf("work item captures: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.BuildComponent, error) {
		var c alm.BuildComponent
		return c, r.Scan(&c.Type, &c.Name, &c.Change, &c.Hash, &c.WorkItem)
	})
	return id, out, err
}

// WorkItemBuilds lists the builds of a work item's own change set.
func (s *Store) WorkItemBuilds(ctx context.Context, key string) ([]alm.Build, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+buildCols+` FROM release_builds WHERE work_item_id = (SELECT id FROM work_items WHERE key = upper($1)) ORDER BY number DESC`, key)
	if err != nil {
		return nil, fmt.Errorf("work item builds: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Build, error) { return scanBuild(r) })
	if out == nil {
		out = []alm.Build{}
	}
	return out, err
}

// BuildProject returns the project a build belongs to (through its release
// or work item) and a label for it.
func (s *Store) BuildProject(ctx context.Context, buildID int64) (projectID int64, projectKey, label string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT p.id, p.key, coalesce(x.name, w.key, 'branch ' || left(b.git_commit, 8))
		FROM release_builds b LEFT JOIN releases x ON x.id = b.release_id LEFT JOIN work_items w ON w.id = b.work_item_id
		JOIN projects p ON p.id = coalesce(x.project_id, w.project_id, b.project_id) WHERE b.id = $1`, buildID).Scan(&projectID, &projectKey, &label)
	return projectID, projectKey, label, notFound(err, "That build")
}

// ListBuilds lists a release's builds, newest first.
func (s *Store) ListBuilds(ctx context.Context, releaseID int64) ([]alm.Build, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+buildCols+` FROM release_builds WHERE release_id = $1 ORDER BY number DESC`, releaseID)
	if err != nil {
		return nil, fmt.Errorf("list builds: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Build, error) { return scanBuild(r) })
	if out == nil {
		out = []alm.Build{}
	}
	return out, err
}

// BuildByID returns a build and its components.
func (s *Store) BuildByID(ctx context.Context, id int64) (alm.Build, []alm.BuildComponent, error) {
	b, err := scanBuild(s.pool.QueryRow(ctx, `SELECT `+buildCols+` FROM release_builds WHERE id = $1`, id))
	if err != nil {
		return b, nil, notFound(err, "That build")
	}
	rows, err := s.pool.Query(ctx, `SELECT type, name, change, coalesce(hash, ''), work_item FROM build_components WHERE build_id = $1 ORDER BY type, lower(name)`, id)
	if err != nil {
		return b, nil, fmt.Errorf("build components: %w", err)
	}
	comps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.BuildComponent, error) {
		var c alm.BuildComponent
		return c, r.Scan(&c.Type, &c.Name, &c.Change, &c.Hash, &c.WorkItem)
	})
	return b, comps, err
}

// BuildArtifact returns a build's zip.
func (s *Store) BuildArtifact(ctx context.Context, id int64) ([]byte, error) {
	var z []byte
	var key *string
	if err := s.pool.QueryRow(ctx, `SELECT artifact, artifact_key FROM release_builds WHERE id = $1`, id).Scan(&z, &key); err != nil {
		return nil, notFound(err, "That build")
	}
	return s.content(ctx, z, key)
}

// ReleaseLabel returns a release's name and its project's key, for
// breadcrumbs.
func (s *Store) ReleaseLabel(ctx context.Context, releaseID int64) (projectKey, name string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT p.key, x.name FROM releases x JOIN projects p ON p.id = x.project_id WHERE x.id = $1`, releaseID).Scan(&projectKey, &name)
	return projectKey, name, notFound(err, "That release")
}
