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

const trackerConnCols = `id, project_id, kind, base_url, scope, username, import_as, status, error, checked_at, created_at, updated_at, token, webhook_secret`

func scanTrackerConn(row pgx.Row) (alm.TrackerConnection, error) {
	var c alm.TrackerConnection
	err := row.Scan(&c.ID, &c.ProjectID, &c.Kind, &c.BaseURL, &c.Scope, &c.Username, &c.ImportAs, &c.Status, &c.Error, &c.CheckedAt, &c.CreatedAt, &c.UpdatedAt,
		&c.SealedToken, &c.SealedSecret)
	return c, err
}

// TrackerConnection is the project's tracker connection.
func (s *Store) TrackerConnection(ctx context.Context, projectID int64) (alm.TrackerConnection, error) {
	c, err := scanTrackerConn(s.pool.QueryRow(ctx, `SELECT `+trackerConnCols+` FROM tracker_connections WHERE project_id = $1`, projectID))
	return c, notFound(err, "The project's tracker connection")
}

// TrackerConnectionByID reads a connection.
func (s *Store) TrackerConnectionByID(ctx context.Context, id int64) (alm.TrackerConnection, error) {
	c, err := scanTrackerConn(s.pool.QueryRow(ctx, `SELECT `+trackerConnCols+` FROM tracker_connections WHERE id = $1`, id))
	return c, notFound(err, "Tracker connection")
}

// TrackerConnections lists every connection (for the reconcile job).
func (s *Store) TrackerConnections(ctx context.Context) ([]alm.TrackerConnection, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+trackerConnCols+` FROM tracker_connections ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.TrackerConnection, error) { return scanTrackerConn(r) })
}

// SaveTrackerConnection creates or replaces the project's connection. An
// empty sealed token or secret keeps the one stored (forms never show
// them). The change is on the project's timeline, without the secrets.
func (s *Store) SaveTrackerConnection(ctx context.Context, c alm.TrackerConnection, sealedToken, sealedSecret string) (alm.TrackerConnection, error) {
	var out alm.TrackerConnection
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.Now()
		var err error
		out, err = scanTrackerConn(tx.QueryRow(ctx, `INSERT INTO tracker_connections (project_id, kind, base_url, scope, username, token, webhook_secret, import_as, status, error, checked_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'ok', '', $9, $9, $9)
			ON CONFLICT (project_id) DO UPDATE SET kind = EXCLUDED.kind, base_url = EXCLUDED.base_url, scope = EXCLUDED.scope, username = EXCLUDED.username,
				token = CASE WHEN $6 = '' THEN tracker_connections.token ELSE EXCLUDED.token END,
				webhook_secret = CASE WHEN $7 = '' THEN tracker_connections.webhook_secret ELSE EXCLUDED.webhook_secret END,
				import_as = EXCLUDED.import_as, status = 'ok', error = '', checked_at = EXCLUDED.checked_at, updated_at = EXCLUDED.updated_at
			RETURNING `+trackerConnCols, c.ProjectID, c.Kind, c.BaseURL, c.Scope, c.Username, sealedToken, sealedSecret, c.ImportAs, now))
		if err != nil {
			return err
		}
		if out.SealedToken == "" {
			return alm.Invalid(map[string]string{"token": "Enter the tracker's token."})
		}
		return s.record(ctx, tx, c.ProjectID, "project", c.ProjectID, "project.tracker", fmt.Sprintf("connected %s (%s)", c.Kind, c.Scope))
	})
	return out, err
}

// DeleteTrackerConnection disconnects the project's tracker; its links go
// with it, the Trellis records stay.
func (s *Store) DeleteTrackerConnection(ctx context.Context, projectID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM tracker_connections WHERE project_id = $1`, projectID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return s.record(ctx, tx, projectID, "project", projectID, "project.tracker", "disconnected the tracker")
	})
}

// SetTrackerConnectionStatus records whether the connection works.
func (s *Store) SetTrackerConnectionStatus(ctx context.Context, id int64, status, msg string) error {
	_, err := s.pool.Exec(ctx, `UPDATE tracker_connections SET status = $2, error = $3, checked_at = $4 WHERE id = $1`, id, status, truncate(msg, 1000), s.Now())
	return err
}

// StatusMappings lists the connection's status mapping.
func (s *Store) StatusMappings(ctx context.Context, connID int64) ([]alm.StatusMapping, error) {
	rows, err := s.pool.Query(ctx, `SELECT entity, remote, local FROM tracker_status_map WHERE connection_id = $1 ORDER BY entity, remote`, connID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.StatusMapping, error) {
		var m alm.StatusMapping
		return m, r.Scan(&m.Entity, &m.Remote, &m.Local)
	})
}

// SaveStatusMappings replaces the connection's status mapping.
func (s *Store) SaveStatusMappings(ctx context.Context, connID int64, ms []alm.StatusMapping) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		if err := tx.QueryRow(ctx, `SELECT project_id FROM tracker_connections WHERE id = $1`, connID).Scan(&pid); err != nil {
			return notFound(err, "Tracker connection")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tracker_status_map WHERE connection_id = $1`, connID); err != nil {
			return err
		}
		for _, m := range ms {
			if m.Local == "" {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tracker_status_map (connection_id, entity, remote, local) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
				connID, m.Entity, m.Remote, m.Local); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, pid, "project", pid, "project.tracker", fmt.Sprintf("updated the tracker status mapping (%s)", alm.Count(len(ms), "status")))
	})
}

const trackerLinkCols = `l.id, l.connection_id, c.project_id, c.kind, l.entity_type, l.entity_id,
	coalesce(r.key, w.key, ''), coalesce(r.title, w.title, ''), l.remote_key, l.remote_url, l.remote_status, l.synced, l.state, l.error, l.synced_at, l.created_at`

const trackerLinkFrom = ` FROM tracker_links l JOIN tracker_connections c ON c.id = l.connection_id
	LEFT JOIN requirements r ON l.entity_type = 'requirement' AND r.id = l.entity_id
	LEFT JOIN work_items w ON l.entity_type = 'work_item' AND w.id = l.entity_id`

func scanTrackerLink(row pgx.Row) (alm.TrackerLink, error) {
	var l alm.TrackerLink
	var synced []byte
	err := row.Scan(&l.ID, &l.ConnectionID, &l.ProjectID, &l.Kind, &l.EntityType, &l.EntityID, &l.EntityKey, &l.EntityTitle, &l.RemoteKey, &l.RemoteURL,
		&l.RemoteStatus, &synced, &l.State, &l.Error, &l.SyncedAt, &l.CreatedAt)
	if err == nil {
		l.Synced = map[string]string{}
		_ = json.Unmarshal(synced, &l.Synced)
	}
	return l, err
}

// TrackerLinks lists a connection's links, troubled ones first.
func (s *Store) TrackerLinks(ctx context.Context, connID int64) ([]alm.TrackerLink, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+trackerLinkCols+trackerLinkFrom+` WHERE l.connection_id = $1
		ORDER BY (l.state = 'ok'), l.id DESC`, connID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.TrackerLink, error) { return scanTrackerLink(r) })
}

// TrackerLinkByID reads a link.
func (s *Store) TrackerLinkByID(ctx context.Context, id int64) (alm.TrackerLink, error) {
	l, err := scanTrackerLink(s.pool.QueryRow(ctx, `SELECT `+trackerLinkCols+trackerLinkFrom+` WHERE l.id = $1`, id))
	return l, notFound(err, "Tracker link")
}

// TrackerLinkFor is the link of a requirement or work item, if any.
func (s *Store) TrackerLinkFor(ctx context.Context, entityType string, entityID int64) (alm.TrackerLink, error) {
	l, err := scanTrackerLink(s.pool.QueryRow(ctx, `SELECT `+trackerLinkCols+trackerLinkFrom+` WHERE l.entity_type = $1 AND l.entity_id = $2`, entityType, entityID))
	return l, notFound(err, "Tracker link")
}

// TrackerLinkByRemote finds the link of a tracker's issue.
func (s *Store) TrackerLinkByRemote(ctx context.Context, connID int64, key string) (alm.TrackerLink, error) {
	l, err := scanTrackerLink(s.pool.QueryRow(ctx, `SELECT `+trackerLinkCols+trackerLinkFrom+` WHERE l.connection_id = $1 AND l.remote_key = $2`, connID, key))
	return l, notFound(err, "Tracker link")
}

// CreateTrackerLink links a record with an issue, on the record's
// timeline. A record has one link, an issue one record.
func (s *Store) CreateTrackerLink(ctx context.Context, connID int64, entityType string, entityID int64, key, url, label string) (alm.TrackerLink, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		if err := tx.QueryRow(ctx, `SELECT project_id FROM tracker_connections WHERE id = $1`, connID).Scan(&pid); err != nil {
			return notFound(err, "Tracker connection")
		}
		err := tx.QueryRow(ctx, `INSERT INTO tracker_links (connection_id, entity_type, entity_id, remote_key, remote_url, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			connID, entityType, entityID, key, url, s.Now()).Scan(&id)
		if isUniqueViolation(err, "tracker_links_connection_id_remote_key_key") {
			return alm.Invalid(map[string]string{"key": label + " is already linked to another Trellis record."})
		}
		if isUniqueViolation(err, "tracker_links_entity_type_entity_id_key") {
			return alm.Invalid(map[string]string{"key": "This record is already linked to an issue; unlink it first."})
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, pid, entityType, entityID, entityType+".tracker", "linked to "+label)
	})
	if err != nil {
		return alm.TrackerLink{}, err
	}
	return s.TrackerLinkByID(ctx, id)
}

// DeleteTrackerLink unlinks a record from its issue.
func (s *Store) DeleteTrackerLink(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid, eid int64
		var et, key string
		err := tx.QueryRow(ctx, `DELETE FROM tracker_links l USING tracker_connections c WHERE l.id = $1 AND c.id = l.connection_id
			RETURNING c.project_id, l.entity_type, l.entity_id, l.remote_key`, id).Scan(&pid, &et, &eid, &key)
		if err != nil {
			return notFound(err, "Tracker link")
		}
		return s.record(ctx, tx, pid, et, eid, et+".tracker", "unlinked from "+key)
	})
}

// SaveTrackerLinkState records a sync's outcome: the agreed values, the
// tracker's status and the link's health.
func (s *Store) SaveTrackerLinkState(ctx context.Context, id int64, remoteURL, remoteStatus string, synced map[string]string, state, msg string) error {
	b, _ := json.Marshal(synced)
	_, err := s.pool.Exec(ctx, `UPDATE tracker_links SET remote_url = coalesce(nullif($2, ''), remote_url), remote_status = $3, synced = $4, state = $5, error = $6,
		synced_at = CASE WHEN $5 IN ('ok', 'warning') THEN $7 ELSE synced_at END WHERE id = $1`, id, remoteURL, remoteStatus, b, state, truncate(msg, 1000), s.Now())
	return err
}

// SetTrackerLinkError marks a link troubled without touching what was
// agreed.
func (s *Store) SetTrackerLinkError(ctx context.Context, id int64, state, msg string) error {
	_, err := s.pool.Exec(ctx, `UPDATE tracker_links SET state = $2, error = $3 WHERE id = $1`, id, state, truncate(msg, 1000))
	return err
}

// TrackedFields reads the fields a record shares with its issue.
func (s *Store) TrackedFields(ctx context.Context, entityType string, id int64) (alm.TrackedFields, error) {
	var f alm.TrackedFields
	var q string
	switch entityType {
	case "requirement":
		q = `SELECT t.title, t.description, t.status, coalesce(u.email, ''), t.labels, t.updated_at, t.version FROM requirements t LEFT JOIN users u ON u.id = t.owner_id WHERE t.id = $1`
	case "work_item":
		q = `SELECT t.title, t.description, t.status, coalesce(u.email, ''), t.labels, t.updated_at, t.version FROM work_items t LEFT JOIN users u ON u.id = t.assignee_id WHERE t.id = $1`
	default:
		return f, fmt.Errorf("no tracked fields on %s", entityType)
	}
	err := s.pool.QueryRow(ctx, q, id).Scan(&f.Title, &f.Description, &f.Status, &f.Assignee, &f.Labels, &f.UpdatedAt, &f.Version)
	return f, notFound(err, strings.ReplaceAll(entityType, "_", " "))
}

// TrackerChange is what a tracker changed on a record; nil fields stay.
type TrackerChange struct {
	Title, Description, Status, Assignee *string
	Labels                               *[]string
	Notes                                []string // for the timeline (conflicts, who changed it)
}

// ApplyTrackerChange writes a tracker's change to a record in one step:
// the fields, the version, and a timeline entry saying where it came
// from. The event it writes is marked as the tracker's own, so it is not
// sent back.
func (s *Store) ApplyTrackerChange(ctx context.Context, entityType string, id int64, product string, ch TrackerChange) error {
	ctx = FromTracker(ctx)
	table, person := "work_items", "assignee_id"
	if entityType == "requirement" {
		table, person = "requirements", "owner_id"
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		if err := tx.QueryRow(ctx, `SELECT project_id FROM `+table+` WHERE id = $1 FOR UPDATE`, id).Scan(&pid); err != nil {
			return notFound(err, entityType)
		}
		var sets []string
		args := []any{id}
		var said []string
		add := func(col string, v any, what string) {
			args = append(args, v)
			sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
			said = append(said, what)
		}
		if ch.Title != nil {
			add("title", *ch.Title, "title")
		}
		if ch.Description != nil {
			add("description", *ch.Description, "description")
		}
		if ch.Status != nil {
			label := alm.WorkStatus(*ch.Status).Label()
			if entityType == "requirement" {
				label = alm.ReqStatus(*ch.Status).Label()
			}
			add("status", *ch.Status, "status to "+label)
		}
		if ch.Labels != nil {
			add("labels", *ch.Labels, "labels")
		}
		if ch.Assignee != nil {
			var uid *int64
			if *ch.Assignee != "" {
				var u int64
				if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE lower(email) = lower($1)`, *ch.Assignee).Scan(&u); err == nil {
					uid = &u
				} else if !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
			}
			if uid != nil || *ch.Assignee == "" {
				add(person, uid, "assignee")
			}
		}
		if len(sets) > 0 {
			args = append(args, s.Now())
			sets = append(sets, fmt.Sprintf("updated_at = $%d", len(args)), "version = version + 1")
			if _, err := tx.Exec(ctx, `UPDATE `+table+` SET `+strings.Join(sets, ", ")+` WHERE id = $1`, args...); err != nil {
				return err
			}
		}
		if len(said) == 0 && len(ch.Notes) == 0 {
			return nil
		}
		// The caller's actor is the tracker (or its person): "Jira Cloud
		// changed status to In progress".
		summary := "changed " + strings.Join(said, ", ")
		if len(said) == 0 {
			summary = "in " + product
		}
		if len(ch.Notes) > 0 {
			summary += " (" + strings.Join(ch.Notes, "; ") + ")"
		}
		return s.record(ctx, tx, pid, entityType, id, entityType+".tracker", summary)
	})
}

// NoteOnTimeline writes a tracker note (a comment from the tracker on a
// work item, a conflict Trellis won) on a record's timeline.
func (s *Store) NoteOnTimeline(ctx context.Context, entityType string, id int64, summary string) (int64, error) {
	ctx = FromTracker(ctx)
	table := "work_items"
	if entityType == "requirement" {
		table = "requirements"
	}
	var tid int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var pid int64
		if err := tx.QueryRow(ctx, `SELECT project_id FROM `+table+` WHERE id = $1`, id).Scan(&pid); err != nil {
			return notFound(err, entityType)
		}
		if err := s.record(ctx, tx, pid, entityType, id, entityType+".tracker", summary); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT max(id) FROM timeline WHERE entity_type = $1 AND entity_id = $2`, entityType, id).Scan(&tid)
	})
	return tid, err
}

// TrackerCommentRefs maps the link's mirrored comments: tracker id → the
// Trellis side (comment:<id>, timeline:<id>, event:<id>).
func (s *Store) TrackerCommentRefs(ctx context.Context, linkID int64) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT remote_id, local_ref FROM tracker_comments WHERE link_id = $1`, linkID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var r, l string
		if err := rows.Scan(&r, &l); err != nil {
			return nil, err
		}
		out[r] = l
	}
	return out, rows.Err()
}

// AddTrackerCommentRef records a mirrored comment.
func (s *Store) AddTrackerCommentRef(ctx context.Context, linkID int64, remoteID, localRef string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tracker_comments (link_id, remote_id, local_ref) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, linkID, remoteID, localRef)
	return err
}

// TrackerEvent is an outbox event about a linked record.
type TrackerEvent struct {
	ID         int64
	Kind       string
	EntityType string
	EntityID   int64
	Summary    string
	Links      []int64 // the links it concerns
	Delivery   bool    // it is posted on the links' issues
}

// DispatchTrackerEvents reads the event outbox past the tracker cursor
// and hands each event that concerns linked records (and did not come
// from a tracker) to queue, in the transaction that moves the cursor: an
// event is queued once, even with several replicas.
func (s *Store) DispatchTrackerEvents(ctx context.Context, limit int, isDelivery func(kind, summary string) bool, queue func(ctx context.Context, tx pgx.Tx, e TrackerEvent) error) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var last int64
		if err := tx.QueryRow(ctx, `SELECT last_id FROM tracker_cursor FOR UPDATE`).Scan(&last); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT e.id, e.kind, e.entity_type, e.entity_id, e.summary, e.origin,
				coalesce((SELECT array_agg(l.id) FROM tracker_links l WHERE l.entity_type = e.entity_type AND l.entity_id = e.entity_id), '{}'),
				coalesce((SELECT array_agg(DISTINCT l.id) FROM promotions p JOIN tracker_links l ON l.entity_type = 'work_item'
					AND (l.entity_id = p.work_item_id OR l.entity_id IN (SELECT w.id FROM build_components bc JOIN work_items w ON w.key = bc.work_item WHERE bc.build_id = p.build_id))
					WHERE e.entity_type = 'promotion' AND p.id = e.entity_id), '{}')
			FROM webhook_events e WHERE e.id > $1 ORDER BY e.id LIMIT $2`, last, limit)
		if err != nil {
			return err
		}
		var evs []TrackerEvent
		for rows.Next() {
			var e TrackerEvent
			var origin string
			var direct, viaPromotion []int64
			if err := rows.Scan(&e.ID, &e.Kind, &e.EntityType, &e.EntityID, &e.Summary, &origin, &direct, &viaPromotion); err != nil {
				rows.Close()
				return err
			}
			last = e.ID
			e.Links = append(direct, viaPromotion...)
			if origin == "tracker" || len(e.Links) == 0 {
				continue
			}
			evs = append(evs, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range evs {
			e.Delivery = isDelivery(e.Kind, e.Summary)
			if e.Delivery {
				for _, l := range e.Links {
					if _, err := tx.Exec(ctx, `INSERT INTO tracker_deliveries (link_id, event_id, kind, summary) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
						l, e.ID, e.Kind, e.Summary); err != nil {
						return err
					}
				}
			}
			if err := queue(ctx, tx, e); err != nil {
				return err
			}
		}
		n = len(evs)
		_, err = tx.Exec(ctx, `UPDATE tracker_cursor SET last_id = $1`, last)
		return err
	})
	return n, err
}

// EntityIDByKey resolves a requirement or work item key to its id and project.
func (s *Store) EntityIDByKey(ctx context.Context, entityType, key string) (int64, int64, error) {
	table := "work_items"
	if entityType == "requirement" {
		table = "requirements"
	}
	var id, pid int64
	err := s.pool.QueryRow(ctx, `SELECT id, project_id FROM `+table+` WHERE key = upper($1)`, key).Scan(&id, &pid)
	return id, pid, notFound(err, key)
}

// PendingTrackerEvents reports whether events wait past the tracker
// cursor (and any tracker is connected).
func (s *Store) PendingTrackerEvents(ctx context.Context) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tracker_connections) AND EXISTS (SELECT 1 FROM webhook_events WHERE id > (SELECT last_id FROM tracker_cursor))`).Scan(&ok)
	return ok, err
}

// TrackerLinkIDs lists the links of a connection (all when connID is 0)
// whose issue still exists.
func (s *Store) TrackerLinkIDs(ctx context.Context, connID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM tracker_links WHERE state <> 'deleted' AND ($1 = 0 OR connection_id = $1) ORDER BY id`, connID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// ErrLinkBusy says another worker is syncing the link.
var ErrLinkBusy = errors.New("the tracker link is being synced by another worker")

// linkLease is how long a sync may hold its link before another worker
// may take it (its worker died).
const linkLease = 5 * time.Minute

// WithLinkLock runs fn holding the link's lease, so two workers (or
// replicas) never sync one link at once and post a comment twice. The
// lease is a row, not a held connection: a worker waiting on it must not
// hold one of the pool's connections while the holder needs another.
//
// owner is the job that holds it: the same job, rescued after its process
// died, takes its lease back at once instead of waiting for it to lapse.
func (s *Store) WithLinkLock(ctx context.Context, linkID, owner int64, fn func(context.Context) error) error {
	tag, err := s.pool.Exec(ctx, `UPDATE tracker_links SET lease_until = $2, lease_owner = $4
		WHERE id = $1 AND (lease_until IS NULL OR lease_until < $3 OR lease_owner = $4)`,
		linkID, s.Now().Add(linkLease), s.Now(), owner)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tracker_links WHERE id = $1)`, linkID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fn(ctx) // unlinked since: fn finds nothing to do
		}
		return ErrLinkBusy
	}
	defer func() {
		_, _ = s.pool.Exec(context.WithoutCancel(ctx), `UPDATE tracker_links SET lease_until = NULL, lease_owner = NULL WHERE id = $1 AND lease_owner = $2`, linkID, owner)
	}()
	return fn(ctx)
}

// WorkItemIssue is the tracker kind and issue key a work item is linked
// to ("" when none), for branch names and commit messages.
func (s *Store) WorkItemIssue(ctx context.Context, workItemID int64) (kind, key string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT c.kind, l.remote_key FROM tracker_links l JOIN tracker_connections c ON c.id = l.connection_id
		WHERE l.entity_type = 'work_item' AND l.entity_id = $1`, workItemID).Scan(&kind, &key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil
	}
	return kind, key, err
}

// TrackerDelivery is a delivery event waiting to be posted on an issue.
type TrackerDelivery struct {
	EventID       int64
	Kind, Summary string
}

// PendingTrackerDeliveries lists a link's unposted deliveries in the order
// they happened.
func (s *Store) PendingTrackerDeliveries(ctx context.Context, linkID int64) ([]TrackerDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT event_id, kind, summary FROM tracker_deliveries WHERE link_id = $1 AND posted_at IS NULL ORDER BY event_id`, linkID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TrackerDelivery, error) {
		var d TrackerDelivery
		return d, r.Scan(&d.EventID, &d.Kind, &d.Summary)
	})
}

// MarkTrackerDelivered records that a delivery was posted as remoteID (and
// that the comment is Trellis's own, so it is never read back).
func (s *Store) MarkTrackerDelivered(ctx context.Context, linkID, eventID int64, remoteID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE tracker_deliveries SET remote_id = $3, posted_at = $4 WHERE link_id = $1 AND event_id = $2`, linkID, eventID, remoteID, s.Now())
	if err == nil {
		err = s.AddTrackerCommentRef(ctx, linkID, remoteID, "event:"+fmt.Sprint(eventID))
	}
	return err
}

// TrackerLinksOfItems maps work item keys to their tracker links (items
// without one are absent), for pages that list work items.
func (s *Store) TrackerLinksOfItems(ctx context.Context, keys []string) (map[string]alm.TrackerLink, error) {
	out := map[string]alm.TrackerLink{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+trackerLinkCols+trackerLinkFrom+` WHERE l.entity_type = 'work_item' AND w.key = ANY($1)`, keys)
	if err != nil {
		return nil, err
	}
	links, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (alm.TrackerLink, error) { return scanTrackerLink(r) })
	for _, l := range links {
		out[l.EntityKey] = l
	}
	return out, err
}
