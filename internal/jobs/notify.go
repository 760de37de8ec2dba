// Alert delivery along the routes that take an alert.

package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/riverqueue/river"
	"github.com/trellis-alm/trellis/internal/store"
)

// AlertSealContext binds sealed alert route targets to their use.
const AlertSealContext = "alert-route"

// NotifyArgs delivers an alert along the routes that take it.
type NotifyArgs struct {
	AlertID int64 `json:"alert_id"`
}

// Kind names the job.
func (NotifyArgs) Kind() string { return "notify" }

// InsertOpts retries deliveries as River does.
func (NotifyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: 8}
}

// NotifyWorker sends an alert by email and to chat webhooks.
type NotifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	deps Deps
}

// Work delivers the alert to every matching route not yet reached.
func (w *NotifyWorker) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
	return Notify(ctx, w.deps, job.Args.AlertID)
}

// Notify delivers an alert to every matching route it has not reached,
// recording each delivery; it fails (for a retry) when any route failed.
func Notify(ctx context.Context, deps Deps, alertID int64) error {
	st := deps.Store
	a, err := st.AlertByID(ctx, alertID)
	if err != nil {
		return gone(err)
	}
	routes, err := st.ListAlertRoutes(ctx)
	if err != nil {
		return err
	}
	sent, err := st.DeliveredRoutes(ctx, alertID)
	if err != nil {
		return err
	}
	link := strings.TrimSuffix(deps.BaseURL, "/") + fmt.Sprintf("/alerts/%d", a.ID)
	title := fmt.Sprintf("[%s] %s", strings.ToUpper(string(a.Severity)), a.Title)
	text := a.Body
	for i, d := range a.Drift {
		if i == 20 {
			text += fmt.Sprintf("\n… and %d more", len(a.Drift)-20)
			break
		}
		text += fmt.Sprintf("\n- %s %s %s", d.Change, d.Type, d.Name)
		if d.By != "" {
			text += " by " + d.By
		}
	}
	text += "\n\n" + link
	var errs []error
	for _, r := range routes {
		if sent[r.ID] || !r.Matches(a.Kind, a.Severity) {
			continue
		}
		err := deliver(ctx, deps, r, title, text, link)
		msg := ""
		if err != nil {
			msg = err.Error()
			errs = append(errs, err)
		}
		if err := st.RecordDelivery(ctx, alertID, r.ID, msg); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func deliver(ctx context.Context, deps Deps, r store.AlertRoute, title, text, link string) error {
	if deps.Keyring == nil {
		return errors.New("no keyring on this worker to open the route's address")
	}
	target, err := deps.Keyring.Open(r.Sealed, AlertSealContext)
	if err != nil {
		return fmt.Errorf("open a route address: %w", err)
	}
	if r.Channel == "email" {
		if deps.Mail.Addr == "" {
			return errors.New("TRELLIS_SMTP_ADDR is not set, so email alerts cannot be sent")
		}
		return sendMail(deps, []string{string(target)}, title, text)
	}
	return postHook(ctx, deps.hookClient(), string(target), title, text, link, "Open the alert")
}
