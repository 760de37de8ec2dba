package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

const deploymentCols = `d.id, d.promotion_id, d.org_id, o.name, d.build_id, d.kind, d.rollback_of, d.test_level, d.status, d.phase, d.done, d.total,
	d.checksum, d.validation_id, d.deploy_id, d.cancel_requested, d.result, d.error, d.override_label, d.started_label, d.started_at, d.submitted_at, d.finished_at, d.restore_of`

func scanDeployment(row pgx.Row) (alm.Deployment, error) {
	var d alm.Deployment
	var res []byte
	err := row.Scan(&d.ID, &d.PromotionID, &d.OrgID, &d.OrgName, &d.BuildID, &d.Kind, &d.RollbackOf, &d.TestLevel, &d.Status, &d.Phase, &d.Done, &d.Total,
		&d.Checksum, &d.ValidationID, &d.DeployID, &d.CancelRequested, &res, &d.Error, &d.Override, &d.StartedBy, &d.StartedAt, &d.SubmittedAt, &d.Finished, &d.RestoreOf)
	if err == nil {
		err = json.Unmarshal(res, &d.Result)
	}
	return d, err
}

// NewDeployment is a deployment to queue.
type NewDeployment struct {
	PromotionID int64 // 0 for none
	OrgID       int64
	BuildID     int64 // 0 for a rollback, which carries its own artifact
	Kind        string
	RollbackOf  int64
	TestLevel   string
	Artifact    []byte
	Checksum    string
	Override    string // who overrode which gates, when they did
	RestoreOf   int64  // the snapshot a restore puts back
	Components  []alm.DeploymentComponent
	// Action is ActDeploy or ActRetry for a promotion's deploy, ActRollback
	// for a rollback.
	Action alm.PromotionAction
	Job    Job // the deploy job, queued with the record
}

// CreateDeployment queues a deployment. For a promotion it moves the
// promotion to deploying in the same transaction, so two clicks never
// start two deploys.
func (s *Store) CreateDeployment(ctx context.Context, n NewDeployment) (alm.Deployment, error) {
	var id int64
	art, key, err := s.keepContent(ctx, "artifacts", n.Artifact)
	if err != nil {
		return alm.Deployment{}, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		if n.PromotionID != 0 {
			var err error
			if pid, _, _, err = lockPromotion(ctx, tx, n.PromotionID, n.Action); err != nil {
				return err
			}
			var active int64
			err = tx.QueryRow(ctx, `SELECT id FROM deployments WHERE promotion_id = $1 AND finished_at IS NULL LIMIT 1`, n.PromotionID).Scan(&active)
			if err == nil {
				return alm.Errorf(alm.CodeConflict, "Deployment #%d of this promotion is still running.", active)
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if n.Action != alm.ActRollback {
				if err := s.setPromotion(ctx, tx, n.PromotionID, alm.PromoDeploying, ""); err != nil {
					return err
				}
			}
		}
		a := alm.ActorFrom(ctx)
		if err := tx.QueryRow(ctx, `INSERT INTO deployments (promotion_id, org_id, build_id, kind, rollback_of, test_level, artifact, artifact_key, checksum, override_label, started_label, started_at, total, restore_of)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			nullID(n.PromotionID), n.OrgID, nullID(n.BuildID), n.Kind, nullID(n.RollbackOf), n.TestLevel, art, key, n.Checksum, n.Override,
			actorLabel(a), s.Now(), len(n.Components), nullID(n.RestoreOf)).Scan(&id); err != nil {
			return fmt.Errorf("insert deployment: %w", err)
		}
		for _, c := range n.Components {
			if _, err := tx.Exec(ctx, `INSERT INTO deployment_components (deployment_id, type, name, change, hash, work_item) VALUES ($1, $2, $3, $4, $5, $6)`,
				id, c.Type, c.Name, c.Change, nullIfEmpty(c.Hash), c.WorkItem); err != nil {
				return fmt.Errorf("insert deployment component: %w", err)
			}
		}
		if err := n.Job.insert(ctx, tx, id); err != nil {
			return err
		}
		if n.PromotionID != 0 {
			what := "deploy"
			if n.Kind == "rollback" {
				what = "rollback"
			}
			summary := fmt.Sprintf("started %s #%d of promotion #%d", what, id, n.PromotionID)
			if n.Override != "" {
				summary += " overriding " + n.Override
			}
			return s.record(ctx, tx, pid, "promotion", n.PromotionID, "promotion."+what, summary)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "deployment.start", "deployment", fmt.Sprint(id), n.Kind))
	})
	if err != nil {
		return alm.Deployment{}, err
	}
	return s.DeploymentByID(ctx, id)
}

// DeploymentByID returns a deployment.
func (s *Store) DeploymentByID(ctx context.Context, id int64) (alm.Deployment, error) {
	d, err := scanDeployment(s.pool.QueryRow(ctx, `SELECT `+deploymentCols+` FROM deployments d JOIN orgs o ON o.id = d.org_id WHERE d.id = $1`, id))
	return d, notFound(err, "That deployment")
}

// ListDeployments lists a promotion's deployments (rollbacks included),
// newest first.
func (s *Store) ListDeployments(ctx context.Context, promotionID int64) ([]alm.Deployment, error) {
	return s.deployments(ctx, `d.promotion_id = $1 ORDER BY d.id DESC`, promotionID)
}

// ActiveDeployments lists deployments still under way, oldest first.
func (s *Store) ActiveDeployments(ctx context.Context) ([]alm.Deployment, error) {
	return s.deployments(ctx, `d.finished_at IS NULL ORDER BY d.id`)
}

func (s *Store) deployments(ctx context.Context, where string, args ...any) ([]alm.Deployment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deploymentCols+` FROM deployments d JOIN orgs o ON o.id = d.org_id WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.Deployment, error) { return scanDeployment(r) })
	if out == nil {
		out = []alm.Deployment{}
	}
	return out, err
}

// DeploymentComponents lists what a deployment changes.
func (s *Store) DeploymentComponents(ctx context.Context, id int64) ([]alm.DeploymentComponent, error) {
	rows, err := s.pool.Query(ctx, `SELECT type, name, change, coalesce(hash, ''), coalesce(previous_hash, ''), existed, work_item
		FROM deployment_components WHERE deployment_id = $1 ORDER BY type, lower(name)`, id)
	if err != nil {
		return nil, fmt.Errorf("deployment components: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.DeploymentComponent, error) {
		var c alm.DeploymentComponent
		return c, r.Scan(&c.Type, &c.Name, &c.Change, &c.Hash, &c.PreviousHash, &c.Existed, &c.WorkItem)
	})
	if out == nil {
		out = []alm.DeploymentComponent{}
	}
	return out, err
}

// DeploymentArtifact returns the zip a deployment sends: its own (a
// rollback's) or its build's.
func (s *Store) DeploymentArtifact(ctx context.Context, id int64) ([]byte, error) {
	var z []byte
	var key *string
	err := s.pool.QueryRow(ctx, `SELECT CASE WHEN d.artifact IS NOT NULL OR d.artifact_key IS NOT NULL THEN d.artifact ELSE b.artifact END,
		CASE WHEN d.artifact IS NOT NULL OR d.artifact_key IS NOT NULL THEN d.artifact_key ELSE b.artifact_key END
		FROM deployments d LEFT JOIN release_builds b ON b.id = d.build_id WHERE d.id = $1`, id).Scan(&z, &key)
	if err != nil {
		return nil, notFound(err, "That deployment")
	}
	return s.content(ctx, z, key)
}

// RecordPreDeploy stores what the target held before the deploy: each
// component's previous version, or that it did not exist.
func (s *Store) RecordPreDeploy(ctx context.Context, id int64, prev map[string]string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT type, name FROM deployment_components WHERE deployment_id = $1`, id)
		if err != nil {
			return err
		}
		type k struct{ t, n string }
		keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (k, error) {
			var x k
			return x, r.Scan(&x.t, &x.n)
		})
		if err != nil {
			return err
		}
		for _, x := range keys {
			h, ok := prev[x.t+"\x00"+strings.ToLower(x.n)]
			if _, err := tx.Exec(ctx, `UPDATE deployment_components SET existed = $4, previous_hash = $5 WHERE deployment_id = $1 AND type = $2 AND name = $3`,
				id, x.t, x.n, ok, nullIfEmpty(h)); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeploymentProgress records where a deployment is.
func (s *Store) DeploymentProgress(ctx context.Context, id int64, status, phase string, done, total int) error {
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET status = $2, phase = $3, done = $4, total = $5 WHERE id = $1 AND finished_at IS NULL`, id, status, phase, done, total)
	return err
}

// SubmittingDeployment records that the deploy is about to be sent, so a
// worker that dies before storing the org's id knows to look for it.
func (s *Store) SubmittingDeployment(ctx context.Context, id int64, kind string, validationID int64, notes []string) error {
	res, _ := json.Marshal(alm.ValidationResult{Notes: notes, ComponentErrors: []alm.ValidationProblem{}, TestFailures: []alm.ValidationProblem{}})
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET submitted_at = $2, kind = $3, validation_id = $4, status = 'deploying', phase = 'submitting', result = $5 WHERE id = $1`,
		id, s.Now(), kind, nullID(validationID), res)
	return err
}

// StartDeployment records the org's deploy id before anything waits on it.
func (s *Store) StartDeployment(ctx context.Context, id int64, deployID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE deployments SET deploy_id = $2, status = 'deploying', phase = 'Pending' WHERE id = $1`, id, deployID)
	return err
}

// DeployIDsSince returns the org deploy ids (15-character form) that
// deployments into an org sent since a time recorded.
func (s *Store) DeployIDsSince(ctx context.Context, orgID int64, since time.Time) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT left(deploy_id, 15) FROM deployments WHERE org_id = $1 AND deploy_id <> '' AND coalesce(submitted_at, started_at) >= $2
		UNION SELECT left(deploy_id, 15) FROM validations WHERE org_id = $1 AND deploy_id <> '' AND started_at >= $2`, orgID, since.Add(-time.Hour))
	if err != nil {
		return nil, fmt.Errorf("deploy ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("deploy ids: %w", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// RequestCancel asks a running deployment to stop.
func (s *Store) RequestCancel(ctx context.Context, id int64) (alm.Deployment, error) {
	d, err := s.DeploymentByID(ctx, id)
	if err != nil {
		return d, err
	}
	if d.Finished != nil {
		return d, alm.Errorf(alm.CodeConflict, "Deployment #%d has already finished (%s).", id, d.Status)
	}
	if d.CancelRequested {
		return d, alm.Errorf(alm.CodeConflict, "Cancel of deployment #%d was already asked for; its job stops it at the next safe point (if no job is running it, the reconciler takes it up within a minute).", id)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE deployments SET cancel_requested = true WHERE id = $1`, id); err != nil {
			return err
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "deployment.cancel", "deployment", fmt.Sprint(id), "cancel requested"))
	})
	if err != nil {
		return d, err
	}
	return s.DeploymentByID(ctx, id)
}

// ReleaseFinal is what a successful deploy into the last stage does to its
// release, in the same transaction: release it with these notes (unless
// edited by hand) and queue its announcement.
type ReleaseFinal struct {
	ReleaseID int64
	Notes     string
	Announce  Job
}

// FinishDeployment records a deployment's outcome and moves its promotion:
// a deploy to deployed, failed or canceled; a successful full rollback
// marks the rolled-back promotion; a deploy that succeeded with final
// (into the last stage) releases its release, all in one transaction.
//
// A promotion made as a merge whose deploy succeeded queues push, which
// puts the merge on the stage's branch, in the same transaction.
func (s *Store) FinishDeployment(ctx context.Context, id int64, status string, res alm.ValidationResult, errMsg string, fullRollback bool, final *ReleaseFinal, push Job) error {
	b, _ := json.Marshal(res)
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var promo *int64
		var kind string
		var rollbackOf *int64
		var finished *time.Time
		if err := tx.QueryRow(ctx, `SELECT promotion_id, kind, rollback_of, finished_at FROM deployments WHERE id = $1 FOR UPDATE`, id).Scan(&promo, &kind, &rollbackOf, &finished); err != nil {
			return notFound(err, "That deployment")
		}
		if finished != nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE deployments SET status = $2, result = $3, error = $4, finished_at = $5, phase = '' WHERE id = $1`,
			id, status, b, truncate(errMsg, 2000), s.Now()); err != nil {
			return err
		}
		var projectID int64
		if promo != nil {
			if err := tx.QueryRow(ctx, `SELECT project_id FROM promotions WHERE id = $1`, *promo).Scan(&projectID); err != nil {
				return fmt.Errorf("deployment's promotion: %w", err)
			}
		}
		if err := s.emitEvent(ctx, tx, "deployment."+status, projectID, "deployment", id, fmt.Sprintf("%s #%d %s", kind, id, status)); err != nil {
			return err
		}
		if kind == "restore" && status == "succeeded" {
			// An undo: drift alerts whose every change this restore put
			// back are closed by it.
			if _, err := tx.Exec(ctx, `UPDATE alerts a SET status = 'resolved', resolved_label = $2, updated_at = $3
				WHERE a.kind = 'drift' AND a.status IN ('open', 'acknowledged') AND a.org_id = (SELECT org_id FROM deployments WHERE id = $1)
				AND jsonb_array_length(coalesce(a.details->'drift', '[]'::jsonb)) > 0
				AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(a.details->'drift') e WHERE NOT EXISTS (
					SELECT 1 FROM deployment_components dc WHERE dc.deployment_id = $1 AND dc.type = e->>'type' AND lower(dc.name) = lower(e->>'name')))`,
				id, fmt.Sprintf("undone by restore #%d", id), s.Now()); err != nil {
				return fmt.Errorf("close undone drift: %w", err)
			}
		}
		if promo == nil {
			return nil
		}
		var pid int64
		if err := tx.QueryRow(ctx, `SELECT project_id FROM promotions WHERE id = $1 FOR UPDATE`, *promo).Scan(&pid); err != nil {
			return err
		}
		if kind == "rollback" {
			if status == "succeeded" && fullRollback {
				if err := s.setPromotion(ctx, tx, *promo, alm.PromoRolledBack, fmt.Sprintf("Rolled back by deployment #%d.", id)); err != nil {
					return err
				}
				if err := s.rollBackWorkItems(ctx, tx, *promo, id); err != nil {
					return err
				}
			}
			return s.record(ctx, tx, pid, "promotion", *promo, "promotion.rollback."+status, fmt.Sprintf("rollback #%d of promotion #%d %s", id, *promo, status))
		}
		next := map[string]alm.PromotionStatus{"succeeded": alm.PromoDeployed, "failed": alm.PromoFailed, "canceled": alm.PromoCanceled}[status]
		if next == "" {
			next = alm.PromoFailed
		}
		if err := s.setPromotion(ctx, tx, *promo, next, errMsg); err != nil {
			return err
		}
		if next == alm.PromoDeployed {
			if err := s.advanceWorkItems(ctx, tx, *promo); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `UPDATE promotions SET git_state = 'pushing' WHERE id = $1 AND git_state IN ('merged', 'push_failed')`, *promo)
			if err != nil {
				return err
			}
			if tag.RowsAffected() > 0 {
				if err := push.insert(ctx, tx, *promo); err != nil {
					return err
				}
			}
			if final != nil {
				if _, err := s.finaliseRelease(ctx, tx, final.ReleaseID, final.Notes, final.Announce); err != nil {
					return err
				}
			}
		}
		return s.record(ctx, tx, pid, "promotion", *promo, "promotion.deploy."+status, fmt.Sprintf("deployment #%d of promotion #%d %s", id, *promo, status))
	})
}

// advanceWorkItems moves the work items a promotion carried along the board
// (see alm.AfterDeploy) and notes the deploy on each one's timeline, so the
// board follows the pipeline without anyone dragging cards; a deploy short
// of the last stage puts the release in test (the last stage releases it).
func (s *Store) advanceWorkItems(ctx context.Context, tx pgx.Tx, promoID int64) error {
	var stage string
	var last bool
	if err := tx.QueryRow(ctx, `SELECT m.stage_name, m.stage_position >= (SELECT max(position) FROM pipeline_stages WHERE project_id = m.project_id)
		FROM promotions m WHERE m.id = $1`, promoID).Scan(&stage, &last); err != nil {
		return fmt.Errorf("promotion stage: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT c.work_item FROM build_components c JOIN promotions m ON m.build_id = c.build_id
		WHERE m.id = $1 AND c.work_item <> '' ORDER BY 1`, promoID)
	if err != nil {
		return fmt.Errorf("promoted work items: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if !last {
		var rel *int64
		if err := tx.QueryRow(ctx, `SELECT b.release_id FROM promotions m JOIN release_builds b ON b.id = m.build_id WHERE m.id = $1`, promoID).Scan(&rel); err != nil {
			return fmt.Errorf("promoted release: %w", err)
		}
		if rel != nil {
			if err := s.advanceRelease(ctx, tx, *rel, alm.RelInTest, fmt.Sprintf("deployed to %s by promotion #%d", stage, promoID)); err != nil {
				return err
			}
		}
	}
	for _, k := range keys {
		cur, err := lockItem(ctx, tx, k)
		if alm.ErrorCode(err) == alm.CodeNotFound {
			continue // deleted since it was captured
		} else if err != nil {
			return err
		}
		summary := fmt.Sprintf("deployed to %s by promotion #%d", stage, promoID)
		if to, move := alm.AfterDeploy(cur.Status, last); move {
			if _, err := tx.Exec(ctx, `UPDATE work_items SET status = $2, version = version + 1, updated_at = $3,
				rank = (SELECT coalesce(max(rank), 0) + 1024 FROM work_items WHERE project_id = $4 AND status = $2)
				WHERE id = $1`, cur.ID, string(to), s.Now(), cur.ProjectID); err != nil {
				return fmt.Errorf("advance work item: %w", err)
			}
			summary += fmt.Sprintf("; moved from %s to %s", cur.Status.Label(), to.Label())
		}
		if err := s.record(ctx, tx, cur.ProjectID, "work_item", cur.ID, "work_item.deployed", summary); err != nil {
			return err
		}
		if err := s.followDelivery(ctx, tx, cur.ID, fmt.Sprintf("%s deployed to %s", cur.Key, stage)); err != nil {
			return err
		}
	}
	return nil
}

// ComponentHistory lists every deployment that changed a component in an
// org, newest first, with its build, work items and requirements.
func (s *Store) ComponentHistory(ctx context.Context, orgID int64, typ, name string) ([]alm.ComponentHistoryEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.id, d.kind, d.status, c.change, coalesce(c.hash, ''), coalesce(c.previous_hash, ''),
		coalesce(d.build_id, r.build_id), coalesce(b.number, 0), coalesce(x.name, ''), d.promotion_id, coalesce(m.stage_name, ''),
		coalesce((SELECT array_agg(DISTINCT bc.work_item ORDER BY bc.work_item) FROM build_components bc
			WHERE bc.build_id = coalesce(d.build_id, r.build_id) AND bc.type = c.type AND lower(bc.name) = lower(c.name) AND bc.work_item <> ''), '{}'),
		d.started_label, d.started_at, d.finished_at
		FROM deployment_components c JOIN deployments d ON d.id = c.deployment_id
		LEFT JOIN deployments r ON r.id = d.rollback_of
		LEFT JOIN release_builds b ON b.id = coalesce(d.build_id, r.build_id) LEFT JOIN releases x ON x.id = b.release_id
		LEFT JOIN promotions m ON m.id = d.promotion_id
		WHERE d.org_id = $1 AND c.type = $2 AND lower(c.name) = lower($3) ORDER BY d.id DESC LIMIT 200`, orgID, typ, name)
	if err != nil {
		return nil, fmt.Errorf("component history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.ComponentHistoryEntry, error) {
		var e alm.ComponentHistoryEntry
		return e, r.Scan(&e.DeploymentID, &e.Kind, &e.Status, &e.Change, &e.Hash, &e.PreviousHash, &e.BuildID, &e.BuildNumber, &e.ReleaseName,
			&e.PromotionID, &e.Stage, &e.WorkItems, &e.By, &e.At, &e.Finished)
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Requirements = []string{}
		if len(out[i].WorkItems) == 0 {
			continue
		}
		if err := s.pool.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT k ORDER BY k), '{}') FROM work_items w, unnest(w.requirement_keys) k WHERE w.key = ANY($1)`,
			out[i].WorkItems).Scan(&out[i].Requirements); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []alm.ComponentHistoryEntry{}
	}
	return out, nil
}

// ProjectAnnouncements returns where a project announces releases.
func (s *Store) ProjectAnnouncements(ctx context.Context, projectID int64) (emails, webhooks []string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT announce_emails, announce_webhooks FROM projects WHERE id = $1`, projectID).Scan(&emails, &webhooks)
	return emails, webhooks, notFound(err, "That project")
}

// SetProjectAnnouncements sets where a project announces releases.
func (s *Store) SetProjectAnnouncements(ctx context.Context, projectID int64, emails, webhooks []string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE projects SET announce_emails = $2, announce_webhooks = $3 WHERE id = $1`, projectID, emails, webhooks); err != nil {
			return err
		}
		return s.record(ctx, tx, projectID, "project", projectID, "project.announcements",
			fmt.Sprintf("announcements go to %s and %s", alm.Count(len(emails), "address"), alm.Count(len(webhooks), "webhook")))
	})
}

// FinaliseRelease marks a release released with its notes final, once.
// It reports whether this call did it.
// Generated notes become the release's text, so later edits to work items
// no longer change what was announced.
func (s *Store) FinaliseRelease(ctx context.Context, releaseID int64, generated string, announce Job) (bool, error) {
	done := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		done, err = s.finaliseRelease(ctx, tx, releaseID, generated, announce)
		return err
	})
	return done, err
}

func (s *Store) finaliseRelease(ctx context.Context, tx pgx.Tx, releaseID int64, generated string, announce Job) (bool, error) {
	var pid int64
	var name string
	err := tx.QueryRow(ctx, `UPDATE releases SET status = 'released', notes_final_at = $2, updated_at = $2, rev = rev + 1,
		notes = CASE WHEN notes_edited THEN notes ELSE $3 END, notes_edited = true
		WHERE id = $1 AND notes_final_at IS NULL RETURNING project_id, name`, releaseID, s.Now(), generated).Scan(&pid, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := announce.insert(ctx, tx, releaseID); err != nil {
		return false, err
	}
	return true, s.record(ctx, tx, pid, "release", releaseID, "release.released", name+" released to production; notes finalised")
}

// DeployedBetween returns the components ("Type\x00lowercase name") that
// Trellis deployments into an org changed between two times: the
// changes a snapshot comparison may show that are not drift.
func (s *Store) DeployedBetween(ctx context.Context, orgID int64, from, to time.Time) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT c.type, lower(c.name) FROM deployment_components c JOIN deployments d ON d.id = c.deployment_id
		WHERE d.org_id = $1 AND d.status IN ('succeeded', 'failed', 'canceled') AND d.started_at <= $3 AND coalesce(d.finished_at, $3) >= $2`, orgID, from, to)
	if err != nil {
		return nil, fmt.Errorf("deployed components: %w", err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var t, n string
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		out[t+"\x00"+n] = true
	}
	return out, rows.Err()
}

// rollBackWorkItems takes the work items a rolled-back promotion carried
// out of Done or In release (their change is no longer where it was
// deployed), saying why on each, and their requirements back into
// delivery.
func (s *Store) rollBackWorkItems(ctx context.Context, tx pgx.Tx, promoID, deploymentID int64) error {
	var stage string
	if err := tx.QueryRow(ctx, `SELECT stage_name FROM promotions WHERE id = $1`, promoID).Scan(&stage); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT c.work_item FROM build_components c JOIN promotions m ON m.build_id = c.build_id
		WHERE m.id = $1 AND c.work_item <> '' ORDER BY 1`, promoID)
	if err != nil {
		return err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, k := range keys {
		cur, err := lockItem(ctx, tx, k)
		if alm.ErrorCode(err) == alm.CodeNotFound {
			continue
		} else if err != nil {
			return err
		}
		why := fmt.Sprintf("rolled back from %s by deployment #%d", stage, deploymentID)
		if cur.Status == alm.WorkDone || cur.Status == alm.WorkInRelease {
			if _, err := tx.Exec(ctx, `UPDATE work_items SET status = 'ready_to_promote', version = version + 1, updated_at = $2 WHERE id = $1`, cur.ID, s.Now()); err != nil {
				return err
			}
			why += fmt.Sprintf("; moved from %s to %s", cur.Status.Label(), alm.WorkReadyToPromote.Label())
		}
		if err := s.record(ctx, tx, cur.ProjectID, "work_item", cur.ID, "work_item.rolled_back", why); err != nil {
			return err
		}
		if err := s.followDelivery(ctx, tx, cur.ID, k+" "+why); err != nil {
			return err
		}
	}
	return nil
}
