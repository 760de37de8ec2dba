package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"
)

// Mail is how Trellis sends email: an SMTP relay (host:port) and the From
// address; user and password when the relay asks for them.
type Mail struct {
	Addr, From, User, Password string
}

// HookSealContext binds sealed webhook addresses to their use.
const HookSealContext = "announce-webhook"

// AnnounceArgs announces a release that reached production.
type AnnounceArgs struct {
	ReleaseID   int64 `json:"release_id"`
	PromotionID int64 `json:"promotion_id"`
}

// Kind names the job.
func (AnnounceArgs) Kind() string { return "announce" }

// InsertOpts puts announcements on the notify queue, retried as River
// does (a relay or chat service that is down gets another go later).
func (AnnounceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotify, MaxAttempts: 8}
}

// AnnounceWorker emails the project's recipients and posts to its chat
// webhooks (one JSON body that Slack and Teams incoming webhooks both read).
type AnnounceWorker struct {
	river.WorkerDefaults[AnnounceArgs]
	deps Deps
}

// Work sends the announcement.
func (w *AnnounceWorker) Work(ctx context.Context, job *river.Job[AnnounceArgs]) error {
	st := w.deps.Store
	p, err := st.PromotionByID(ctx, job.Args.PromotionID)
	if err != nil {
		return gone(err)
	}
	rel, err := st.ReleaseByID(ctx, p.ProjectID, job.Args.ReleaseID)
	if err != nil {
		return gone(err)
	}
	emails, hooks, err := st.ProjectAnnouncements(ctx, p.ProjectID)
	if err != nil {
		return err
	}
	link := strings.TrimSuffix(w.deps.BaseURL, "/") + fmt.Sprintf("/projects/%s/releases/%d", p.ProjectKey, rel.ID)
	name := rel.Name
	if rel.Version != "" {
		name += " " + rel.Version
	}
	title := fmt.Sprintf("%s is live in %s", name, p.StageName)
	text := fmt.Sprintf("%s (%s, build #%d, checksum %s).\n\n%s\n\nRelease notes: %s", title, p.OrgName, p.BuildNumber, short(p.Checksum), strings.TrimSpace(rel.Notes), link)
	var errs []error
	if len(emails) > 0 {
		if err := sendMail(w.deps, emails, title, text); err != nil {
			errs = append(errs, err)
		}
	}
	for _, sealed := range hooks {
		if w.deps.Keyring == nil {
			errs = append(errs, errors.New("no keyring on this worker to open the webhook addresses"))
			break
		}
		h, err := w.deps.Keyring.Open(sealed, HookSealContext)
		if err != nil {
			errs = append(errs, fmt.Errorf("open a webhook address: %w", err))
			continue
		}
		if err := postHook(ctx, w.deps.hookClient(), string(h), title, text, link, "Release notes"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// sendMail sends a plain-text email through the configured relay; without
// one it logs and sends nothing (retrying cannot help, and webhooks should
// still go out).
func sendMail(deps Deps, to []string, subject, body string) error {
	m := deps.Mail
	if m.Addr == "" {
		if deps.Logger != nil {
			deps.Logger.Warn("email recipients are set but TRELLIS_SMTP_ADDR is not: no email sent", "subject", subject)
		}
		return nil
	}
	from := m.From
	if from == "" {
		from = "trellis@localhost"
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nDate: %s\r\n\r\n",
		from, strings.Join(to, ", "), strings.NewReplacer("\r", " ", "\n", " ").Replace(subject), time.Now().UTC().Format(time.RFC1123Z))
	msg.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	var auth smtp.Auth
	if m.User != "" {
		host := m.Addr
		if i := strings.LastIndex(host, ":"); i > 0 {
			host = host[:i]
		}
		auth = smtp.PlainAuth("", m.User, m.Password, host)
	}
	if err := smtp.SendMail(m.Addr, auth, from, to, msg.Bytes()); err != nil {
		return fmt.Errorf("send email via %s: %w", m.Addr, err)
	}
	return nil
}

// hookClient posts webhooks, announcements and alerts within the
// outbound policy; chat services answer fast or not at all.
func (d Deps) hookClient() *http.Client { return d.Outbound.Client(15 * time.Second) }

// postHook posts one message that Slack (text) and Teams (MessageCard)
// incoming webhooks both accept, with a button to link named linkName.
func postHook(ctx context.Context, client *http.Client, url, title, text, link, linkName string) error {
	body, _ := json.Marshal(map[string]any{
		"text":     text,
		"@type":    "MessageCard",
		"@context": "https://schema.org/extensions",
		"summary":  title,
		"title":    title,
		"potentialAction": []any{map[string]any{"@type": "OpenUri", "name": linkName,
			"targets": []any{map[string]string{"os": "default", "uri": link}}}},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", RedactHook(url), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webhook %s answered %s", RedactHook(url), resp.Status)
	}
	return nil
}

// RedactHook shows a webhook address by its scheme and host: its path is
// the secret.
func RedactHook(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(webhook)"
	}
	return p.Scheme + "://" + p.Host + "/…"
}
