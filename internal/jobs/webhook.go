package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// WebhookSealContext binds sealed webhook addresses and secrets to their use.
const WebhookSealContext = "webhook"

// WebhookDispatchArgs fans pending events out to the webhooks that want
// them. It runs every few seconds on the leader.
type WebhookDispatchArgs struct{}

// Kind names the job.
func (WebhookDispatchArgs) Kind() string { return "webhook_dispatch" }

// InsertOpts keeps one dispatch queued at a time.
func (WebhookDispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 2 * time.Second}}
}

// WebhookDispatchWorker queues a delivery job per new delivery.
type WebhookDispatchWorker struct {
	river.WorkerDefaults[WebhookDispatchArgs]
	deps Deps
}

// Work dispatches.
func (w *WebhookDispatchWorker) Work(ctx context.Context, _ *river.Job[WebhookDispatchArgs]) error {
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return DispatchWebhooks(ctx, w.deps.Store, c)
}

// DispatchWebhooks turns pending events into deliveries and queues them,
// and queues again any delivery whose job was never queued.
func DispatchWebhooks(ctx context.Context, st *store.Store, c *Client) error {
	deliver := job(c, func(id int64) river.JobArgs { return WebhookDeliverArgs{DeliveryID: id} })
	if _, err := st.DispatchWebhookEvents(ctx, 500, deliver); err != nil {
		return err
	}
	// Deliveries recorded before their jobs went in with them.
	stale, err := st.StaleDeliveries(ctx, time.Now().Add(-2*time.Minute))
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range stale {
		if _, err := c.Insert(ctx, WebhookDeliverArgs{DeliveryID: id}, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// WebhookDeliverArgs sends one delivery.
type WebhookDeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind names the job.
func (WebhookDeliverArgs) Kind() string { return "webhook_deliver" }

// webhookAttempts is how often a delivery is tried, River spacing the
// retries out (seconds at first, about an hour by the last).
const webhookAttempts = 8

// InsertOpts retries deliveries; one job per delivery.
func (WebhookDeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: webhookAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// WebhookDeliverWorker posts an event, signed.
type WebhookDeliverWorker struct {
	river.WorkerDefaults[WebhookDeliverArgs]
	deps Deps
}

// Work sends the delivery; an endpoint that fails gets River's retries,
// and the last failure marks the delivery failed with the reason.
func (w *WebhookDeliverWorker) Work(ctx context.Context, job *river.Job[WebhookDeliverArgs]) error {
	err := DeliverWebhook(ctx, w.deps, job.Args.DeliveryID, job.Attempt >= job.MaxAttempts)
	if errors.Is(err, errGone) {
		return river.JobCancel(err)
	}
	return err
}

var errGone = errors.New("the delivery or its webhook is gone")

// WebhookSignature is the X-Trellis-Signature header value for a body:
// "sha256=" and the hex HMAC-SHA256 of the timestamp, a dot and the body
// under the webhook's secret (the timestamp is signed so a captured
// request cannot be replayed later unnoticed).
func WebhookSignature(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// DeliverWebhook sends one delivery and records the attempt; last says a
// failure is final.
func DeliverWebhook(ctx context.Context, deps Deps, id int64, last bool) error {
	st := deps.Store
	d, err := st.WebhookDelivery(ctx, id)
	if alm.ErrorCode(err) == alm.CodeNotFound {
		return errGone
	}
	if err != nil {
		return err
	}
	if d.Status == "delivered" {
		return nil
	}
	if deps.Keyring == nil {
		return errors.New("no keyring on this worker to open the webhook's address")
	}
	url, err := deps.Keyring.Open(d.SealedURL, WebhookSealContext)
	if err != nil {
		return fmt.Errorf("open the webhook address: %w", err)
	}
	secret, err := deps.Keyring.Open(d.SealedSecret, WebhookSealContext)
	if err != nil {
		return fmt.Errorf("open the webhook secret: %w", err)
	}
	payload := map[string]any{"delivery": d.ID, "event": d.Event.Kind, "at": d.Event.At.UTC().Format(time.RFC3339Nano), "project": d.Event.Project,
		"entity": map[string]any{"type": d.Event.EntityType, "id": d.Event.EntityID}, "summary": d.Event.Summary}
	if link := eventLink(deps.BaseURL, d.Event); link != "" {
		payload["url"] = link
	}
	body, _ := json.Marshal(payload)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, string(url), bytes.NewReader(body))
	if err != nil {
		return st.RecordWebhookAttempt(ctx, id, "failed", 0, "bad address: "+err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Trellis-Webhook/1")
	req.Header.Set("X-Trellis-Event", d.Event.Kind)
	req.Header.Set("X-Trellis-Delivery", strconv.FormatInt(d.ID, 10))
	req.Header.Set("X-Trellis-Timestamp", ts)
	req.Header.Set("X-Trellis-Signature", WebhookSignature(secret, ts, body))
	resp, err := deps.hookClient().Do(req)
	code, msg := 0, ""
	if err != nil {
		msg = "no answer from " + RedactHook(string(url)) + ": " + strings.ReplaceAll(err.Error(), string(url), RedactHook(string(url)))
	} else {
		code = resp.StatusCode
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if code >= 300 {
			msg = fmt.Sprintf("%s answered %s", RedactHook(string(url)), resp.Status)
		}
	}
	if msg == "" {
		return st.RecordWebhookAttempt(ctx, id, "delivered", code, "")
	}
	status := "queued"
	if last {
		status = "failed"
	}
	if err := st.RecordWebhookAttempt(ctx, id, status, code, msg); err != nil {
		return err
	}
	return errors.New(msg)
}

// eventLink is the page an event is about, where its id alone finds it.
func eventLink(base string, e alm.WebhookEvent) string {
	base = strings.TrimSuffix(base, "/")
	switch e.EntityType {
	case "promotion":
		return fmt.Sprintf("%s/promotions/%d", base, e.EntityID)
	case "deployment":
		return fmt.Sprintf("%s/deployments/%d", base, e.EntityID)
	case "alert":
		return fmt.Sprintf("%s/alerts/%d", base, e.EntityID)
	case "release":
		if e.Project != "" {
			return fmt.Sprintf("%s/projects/%s/releases/%d", base, e.Project, e.EntityID)
		}
	}
	return ""
}
