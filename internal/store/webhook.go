package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-alm/trellis/internal/alm"
)

// emitEvent writes an event to the webhook outbox in the caller's
// transaction, so an event exists exactly when its change does; nothing is
// written while no webhook is set up.
func (s *Store) emitEvent(ctx context.Context, tx pgx.Tx, kind string, projectID int64, entityType string, entityID int64, summary string) error {
	// Events are kept while someone listens: a webhook, or the project's
	// work tracker.
	_, err := tx.Exec(ctx, `INSERT INTO webhook_events (kind, project_id, entity_type, entity_id, summary, at, origin)
		SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM webhooks WHERE active)
			OR EXISTS (SELECT 1 FROM tracker_connections WHERE project_id = $2)`,
		kind, nullID(projectID), entityType, entityID, truncate(summary, 2000), s.Now(), originFrom(ctx))
	if err != nil {
		return fmt.Errorf("webhook event: %w", err)
	}
	return nil
}

// Webhook is an endpoint events are sent to, with its sealed address and
// secret for the sender.
type Webhook struct {
	alm.Webhook
	SealedURL, SealedSecret string
}

// CreateWebhook adds an endpoint (address and secret sealed by the caller).
func (s *Store) CreateWebhook(ctx context.Context, w alm.Webhook, sealedURL, sealedSecret string) (alm.Webhook, error) {
	a := alm.ActorFrom(ctx)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO webhooks (url, url_hint, secret, events, created_label, created_at) VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING id, active, created_label, created_at`, sealedURL, w.URLHint, sealedSecret, w.Events, actorLabel(a), s.Now()).
			Scan(&w.ID, &w.Active, &w.CreatedBy, &w.CreatedAt); err != nil {
			return fmt.Errorf("create webhook: %w", err)
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "webhook.create", "webhook", fmt.Sprint(w.ID), w.URLHint+" for "+strings.Join(w.Events, ", ")))
	})
	return w, err
}

// Webhooks lists the endpoints with their recent delivery counts.
func (s *Store) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT w.id, w.url_hint, w.events, w.active, w.created_label, w.created_at, w.url, w.secret,
		(SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'delivered'),
		(SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'failed')
		FROM webhooks w ORDER BY w.id`)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Webhook, error) {
		var w Webhook
		return w, r.Scan(&w.ID, &w.URLHint, &w.Events, &w.Active, &w.CreatedBy, &w.CreatedAt, &w.SealedURL, &w.SealedSecret, &w.Delivered, &w.Failed)
	})
	if out == nil {
		out = []Webhook{}
	}
	return out, err
}

// DeleteWebhook removes an endpoint and its delivery history.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return alm.Errorf(alm.CodeNotFound, "That webhook was not found.")
		}
		return s.insertAudit(ctx, tx, alm.Audit(ctx, "webhook.delete", "webhook", fmt.Sprint(id), "webhook removed"))
	})
}

// DispatchWebhookEvents turns pending outbox events into deliveries for
// every active webhook subscribed to them, marks the events dispatched,
// and returns the new deliveries' ids. Concurrent dispatchers skip each
// other's events.
func (s *Store) DispatchWebhookEvents(ctx context.Context, limit int, deliver Job) ([]int64, error) {
	var ids []int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, kind FROM webhook_events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
		if err != nil {
			return err
		}
		type ev struct {
			id   int64
			kind string
		}
		events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ev, error) {
			var e ev
			return e, r.Scan(&e.id, &e.kind)
		})
		if err != nil || len(events) == 0 {
			return err
		}
		hrows, err := tx.Query(ctx, `SELECT id, events FROM webhooks WHERE active`)
		if err != nil {
			return err
		}
		type hook struct {
			id     int64
			events []string
		}
		hooks, err := pgx.CollectRows(hrows, func(r pgx.CollectableRow) (hook, error) {
			var h hook
			return h, r.Scan(&h.id, &h.events)
		})
		if err != nil {
			return err
		}
		now := s.Now()
		for _, e := range events {
			for _, h := range hooks {
				if !alm.WebhookWants(h.events, e.kind) {
					continue
				}
				var id int64
				err := tx.QueryRow(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, created_at) VALUES ($1, $2, $3)
					ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id`, h.id, e.id, now).Scan(&id)
				if err == nil {
					ids = append(ids, id)
					if err := deliver.insert(ctx, tx, id); err != nil {
						return err
					}
				} else if err != pgx.ErrNoRows {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE webhook_events SET dispatched_at = $2 WHERE id = $1`, e.id, now); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// StaleDeliveries returns queued deliveries older than a time, whose job
// may never have been queued (the dispatcher stopped between the two).
func (s *Store) StaleDeliveries(ctx context.Context, before time.Time) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM webhook_deliveries WHERE status = 'queued' AND attempts = 0 AND created_at < $1 ORDER BY id LIMIT 500`, before)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// OutgoingDelivery is what sending one delivery needs.
type OutgoingDelivery struct {
	ID, WebhookID           int64
	SealedURL, SealedSecret string
	Status                  string
	Event                   alm.WebhookEvent
}

// WebhookDelivery reads a delivery with its event and endpoint.
func (s *Store) WebhookDelivery(ctx context.Context, id int64) (OutgoingDelivery, error) {
	var d OutgoingDelivery
	err := s.pool.QueryRow(ctx, `SELECT d.id, d.webhook_id, w.url, w.secret, d.status, e.id, e.kind, coalesce(p.key, ''), e.entity_type, e.entity_id, e.summary, e.at
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN webhook_events e ON e.id = d.event_id
		LEFT JOIN projects p ON p.id = e.project_id WHERE d.id = $1`, id).
		Scan(&d.ID, &d.WebhookID, &d.SealedURL, &d.SealedSecret, &d.Status, &d.Event.ID, &d.Event.Kind, &d.Event.Project, &d.Event.EntityType,
			&d.Event.EntityID, &d.Event.Summary, &d.Event.At)
	return d, notFound(err, "That delivery")
}

// RecordWebhookAttempt notes one try at a delivery: delivered, or still
// queued for a retry, or failed for good.
func (s *Store) RecordWebhookAttempt(ctx context.Context, id int64, status string, code int, errMsg string) error {
	_, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, response_status = $3, error = $4,
		delivered_at = CASE WHEN $2 = 'delivered' THEN $5::timestamptz ELSE delivered_at END WHERE id = $1`, id, status, code, truncate(errMsg, 1000), s.Now())
	return err
}

// WebhookDeliveries lists a webhook's recent deliveries.
func (s *Store) WebhookDeliveries(ctx context.Context, webhookID int64, limit int) ([]alm.WebhookDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.id, e.kind, e.summary, d.status, d.attempts, d.response_status, d.error, d.created_at, d.delivered_at
		FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2`, webhookID, limit)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.WebhookDelivery, error) {
		var d alm.WebhookDelivery
		return d, r.Scan(&d.ID, &d.Event, &d.Summary, &d.Status, &d.Attempts, &d.ResponseStatus, &d.Error, &d.CreatedAt, &d.DeliveredAt)
	})
	if out == nil {
		out = []alm.WebhookDelivery{}
	}
	return out, err
}

// SetRepositoryHookSecret stores a repository's sealed push-hook secret.
func (s *Store) SetRepositoryHookSecret(ctx context.Context, repoID int64, sealed string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE repositories SET hook_secret = $2 WHERE id = $1`, repoID, sealed)
	if err == nil && tag.RowsAffected() == 0 {
		err = alm.Errorf(alm.CodeNotFound, "That repository was not found.")
	}
	return err
}

// RepositoryHookSecret returns a repository's sealed push-hook secret ("" when none).
func (s *Store) RepositoryHookSecret(ctx context.Context, repoID int64) (string, error) {
	var sealed string
	err := s.pool.QueryRow(ctx, `SELECT hook_secret FROM repositories WHERE id = $1`, repoID).Scan(&sealed)
	return sealed, notFound(err, "That repository")
}

// PendingWebhookEvents reports whether any event waits for dispatch.
func (s *Store) PendingWebhookEvents(ctx context.Context) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhook_events WHERE dispatched_at IS NULL)
		OR EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'queued' AND attempts = 0 AND created_at < now() - interval '2 minutes')`).Scan(&ok)
	return ok, err
}

type originKey struct{}

// FromTracker marks ctx as a tracker sync's: the changes it makes are not
// sent back to the tracker they came from.
func FromTracker(ctx context.Context) context.Context {
	return context.WithValue(ctx, originKey{}, "tracker")
}

func originFrom(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}
