package jobs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// BackupTickArgs starts the metadata backups that are due. It runs every
// minute on the elected leader; the claim in the database makes a second
// runner harmless.
type BackupTickArgs struct{}

// Kind names the job.
func (BackupTickArgs) Kind() string { return "backup_tick" }

// InsertOpts keeps one tick queued at a time.
func (BackupTickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBackup, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

// BackupTickWorker queues a snapshot for every org whose backup is due.
type BackupTickWorker struct {
	river.WorkerDefaults[BackupTickArgs]
	deps Deps
}

// Work queues the due backups.
func (w *BackupTickWorker) Work(ctx context.Context, _ *river.Job[BackupTickArgs]) error {
	_, err := StartDueBackups(ctx, w.deps.Store, river.ClientFromContext[pgx.Tx](ctx))
	return err
}

// StartDueBackups claims the due backup schedules and queues a snapshot
// (and, where data backups are on, a data backup run) for each, returning
// the snapshots.
func StartDueBackups(ctx context.Context, st *store.Store, c *Client) ([]alm.Snapshot, error) {
	orgs, err := st.ClaimDueBackups(ctx)
	if err != nil {
		return nil, err
	}
	var out []alm.Snapshot
	var errs []error
	dataOrgs, err := st.ClaimDueDataBackups(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	regressions, err := st.ClaimDueRegressions(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range regressions {
		if err := StartRegression(ctx, st, c, id, "regression schedule"); err != nil {
			errs = append(errs, err)
		}
	}
	for _, id := range dataOrgs {
		run, err := st.CreateDataBackupRun(ctx, id)
		if alm.ErrorCode(err) == alm.CodeConflict {
			continue // the last one is still going
		}
		if err == nil {
			_, err = c.Insert(ctx, DataBackupArgs{RunID: run.ID}, nil)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, id := range orgs {
		sn, err := st.CreateBackupSnapshot(ctx, id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := c.Insert(ctx, SnapshotArgs{SnapshotID: sn.ID}, nil); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sn)
	}
	return out, errors.Join(errs...)
}

// StartRegression queues a run of the org's local tests, labelled with why.
func StartRegression(ctx context.Context, st *store.Store, c *Client, orgID int64, why string) error {
	ctx = alm.WithActor(ctx, alm.Actor{Label: why})
	t, err := st.CreateTestRun(ctx, orgID, nil, nil, "RunLocalTests")
	if err != nil {
		return err
	}
	_, err = c.Insert(ctx, TestRunArgs{TestRunID: t.ID}, nil)
	return err
}

// MonitorArgs compares a finished org snapshot with the one before it.
type MonitorArgs struct {
	SnapshotID int64 `json:"snapshot_id"`
}

// Kind names the job.
func (MonitorArgs) Kind() string { return "monitor" }

// InsertOpts puts drift checks on their queue.
func (MonitorArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMonitor, MaxAttempts: 5}
}

// MonitorWorker finds drift: changes between two snapshots of an org that
// no Trellis deployment explains were made in the org directly.
type MonitorWorker struct {
	river.WorkerDefaults[MonitorArgs]
	deps Deps
}

// Work checks the snapshot, raises a drift alert when needed, and applies
// the org's backup retention.
func (w *MonitorWorker) Work(ctx context.Context, job *river.Job[MonitorArgs]) error {
	a, err := CheckDrift(ctx, w.deps, job.Args.SnapshotID)
	if err != nil {
		return err
	}
	if a != nil {
		if err := insertFollowUp(ctx, NotifyArgs{AlertID: a.ID}); err != nil {
			return err
		}
	}
	sn, err := w.deps.Store.SnapshotByID(ctx, job.Args.SnapshotID)
	if err != nil || sn.OrgID == nil {
		return err
	}
	if sn.Backup {
		// A scheduled backup is the daily look at the org: how it is
		// doing, and whether Salesforce upgraded it.
		c, _ := river.ClientFromContextSafely[pgx.Tx](ctx)
		if err := CheckHealth(ctx, w.deps, c, *sn.OrgID); err != nil && w.deps.Logger != nil {
			w.deps.Logger.Warn("org health check failed", "org", *sn.OrgID, "error", err)
		}
		if _, err := w.deps.Store.PruneBackups(ctx, *sn.OrgID); err != nil {
			return err
		}
	}
	return nil
}

// CheckHealth keeps a reading of an org's API use and org-wide coverage,
// and queues a regression run through c when Salesforce has upgraded the
// org (its newest API version went up) and the org's policy asks for one.
func CheckHealth(ctx context.Context, deps Deps, c *Client, orgID int64) error {
	if deps.Orgs == nil {
		return nil
	}
	org, err := deps.Store.OrgByID(ctx, orgID)
	if err != nil {
		return err
	}
	client, err := deps.Orgs.Client(ctx, org)
	if err != nil {
		return err
	}
	h := store.HealthSample{At: deps.Store.Now()}
	limits, err := client.Limits(ctx)
	if err != nil {
		return err
	}
	daily := limits["DailyApiRequests"]
	h.APIUsed, h.APIMax = daily.Max-daily.Remaining, daily.Max
	var cov []struct {
		PercentCovered *int `json:"PercentCovered"`
	}
	if err := client.ToolingQueryAll(ctx, "SELECT PercentCovered FROM ApexOrgWideCoverage", &cov); err == nil && len(cov) > 0 {
		h.Coverage = cov[0].PercentCovered
	}
	if vs, err := client.Versions(ctx); err == nil && len(vs) > 0 {
		h.APIVersion = vs[len(vs)-1].Version
	}
	if err := deps.Store.AddHealthSample(ctx, orgID, h); err != nil {
		return err
	}
	if h.APIVersion == "" {
		return nil
	}
	before, onUpgrade, err := deps.Store.NoteAPIVersion(ctx, orgID, h.APIVersion)
	if err != nil || before == "" || before == h.APIVersion || !onUpgrade || c == nil {
		return err
	}
	return StartRegression(ctx, deps.Store, c, orgID, "after the upgrade to API "+h.APIVersion)
}

// CheckDrift compares snapshot id with the org's previous one, records the
// difference, and raises a drift alert for changes no Trellis deployment
// in between made, naming who made them when the org's setup audit trail
// says. It returns the alert, or nil when there is no drift.
func CheckDrift(ctx context.Context, deps Deps, id int64) (*alm.Alert, error) {
	st := deps.Store
	sn, err := st.SnapshotByID(ctx, id)
	if err != nil || sn.OrgID == nil || sn.Status != alm.SnapDone {
		return nil, err
	}
	prev, ok, err := st.PreviousSnapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, st.RecordSnapshotDiff(ctx, id, sn.Components, 0, 0)
	}
	ma, err := st.SnapshotManifest(ctx, prev.ID)
	if err != nil {
		return nil, err
	}
	mb, err := st.SnapshotManifest(ctx, id)
	if err != nil {
		return nil, err
	}
	cmp := snapshot.Compare(ma, mb)
	until := sn.StartedAt
	if sn.FinishedAt != nil {
		until = *sn.FinishedAt
	}
	deployed, err := st.DeployedBetween(ctx, *sn.OrgID, prev.StartedAt, until)
	if err != nil {
		return nil, err
	}
	var added, changed, deleted int
	var drift []alm.DriftEntry
	for _, it := range cmp.Items {
		switch it.Change {
		case snapshot.New:
			added++
		case snapshot.Changed:
			changed++
		case snapshot.Deleted:
			deleted++
		default:
			continue
		}
		if deployed[it.Type+"\x00"+strings.ToLower(it.Name)] {
			continue
		}
		drift = append(drift, alm.DriftEntry{Type: it.Type, Name: it.Name, Change: string(it.Change), OldHash: it.HashA, NewHash: it.HashB})
	}
	if err := st.RecordSnapshotDiff(ctx, id, added, changed, deleted); err != nil {
		return nil, err
	}
	if len(drift) == 0 {
		return nil, nil
	}
	org, err := st.OrgByID(ctx, *sn.OrgID)
	if err != nil {
		return nil, err
	}
	body := fmt.Sprintf("%d component(s) changed in %s between snapshot #%d (%s) and #%d (%s) without a Trellis deployment.",
		len(drift), org.Name, prev.ID, prev.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), sn.ID, sn.StartedAt.UTC().Format("2006-01-02 15:04 UTC"))
	if deps.Orgs != nil {
		if err := whoChanged(ctx, deps, org, prev.StartedAt, drift); err != nil {
			// The drift stands without names; say why they are missing.
			body += " The setup audit trail could not be read: " + alm.ErrorMessage(err)
		}
	}
	title := fmt.Sprintf("%d change(s) made directly in %s", len(drift), org.Name)
	a, err := st.CreateAlert(ctx, store.NewAlert{Kind: alm.AlertDrift, Severity: alm.DriftSeverity(drift), OrgID: org.ID, Title: title, Body: body,
		Drift: drift, SnapshotID: id, PreviousID: prev.ID})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// whoChanged fills in who made each drifted change from the org's
// SetupAuditTrail since a time: the newest row whose text names the
// component (its last name segment, and its object for a child).
func whoChanged(ctx context.Context, deps Deps, org alm.Org, since time.Time, drift []alm.DriftEntry) error {
	client, err := deps.Orgs.Client(ctx, org)
	if err != nil {
		return err
	}
	rows, err := client.Query(ctx, fmt.Sprintf("SELECT Action, Section, Display, CreatedDate, CreatedBy.Name FROM SetupAuditTrail WHERE CreatedDate >= %s ORDER BY CreatedDate DESC LIMIT 2000",
		since.UTC().Add(-time.Minute).Format("2006-01-02T15:04:05Z")))
	if err != nil {
		return err
	}
	type entry struct {
		text, by, action string
		at               time.Time
	}
	var trail []entry
	for _, r := range rows {
		e := entry{text: strings.ToLower(str(r["Display"]) + " " + str(r["Section"])), action: str(r["Display"])}
		if by, ok := r["CreatedBy"].(map[string]any); ok {
			e.by = str(by["Name"])
		} else if by, ok := r["CreatedBy"].(salesforce.Record); ok {
			e.by = str(by["Name"])
		}
		e.at, _ = time.Parse("2006-01-02T15:04:05.000-0700", str(r["CreatedDate"]))
		trail = append(trail, e)
	}
	sort.SliceStable(trail, func(i, j int) bool { return trail[i].at.After(trail[j].at) })
	for i := range drift {
		parent, leaf, isChild := strings.Cut(drift[i].Name, ".")
		if !isChild {
			leaf = parent
		}
		for _, e := range trail {
			if !strings.Contains(e.text, strings.ToLower(leaf)) || (isChild && !strings.Contains(e.text, strings.ToLower(parent))) {
				continue
			}
			drift[i].By, drift[i].Action = e.by, e.action
			if !e.at.IsZero() {
				at := e.at
				drift[i].At = &at
			}
			break
		}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

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

// AlertSealContext binds sealed alert route targets to their use.
const AlertSealContext = "alert-route"

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
		return river.JobCancel(err)
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
	return postHook(ctx, string(target), title, text, link, "Open the alert")
}
