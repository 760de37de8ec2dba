// The monitor job: drift detection after every org snapshot (see package
// drift for the rules).

package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/drift"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

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
	// An alert's delivery is queued with the alert.
	if _, err := CheckDrift(ctx, w.deps, job.Args.SnapshotID); err != nil {
		return err
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
	drifted := drift.Detect(cmp, deployed)
	if err := st.RecordSnapshotDiff(ctx, id, cmp.Totals.New, cmp.Totals.Changed, cmp.Totals.Deleted); err != nil {
		return nil, err
	}
	if len(drifted) == 0 {
		return nil, nil
	}
	org, err := st.OrgByID(ctx, *sn.OrgID)
	if err != nil {
		return nil, err
	}
	if devOrg(org.Kind) {
		// A developer's own org changes all day: that is the work, not drift.
		return nil, nil
	}
	body := fmt.Sprintf("%s changed in %s between snapshot #%d (%s) and #%d (%s) without a Trellis deployment.",
		alm.Count(len(drifted), "component"), org.Name, prev.ID, prev.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), sn.ID, sn.StartedAt.UTC().Format("2006-01-02 15:04 UTC"))
	if deps.Orgs != nil {
		if err := whoChanged(ctx, deps, org, prev.StartedAt, drifted); err != nil {
			// The drift stands without names; say why they are missing.
			body += " The setup audit trail could not be read: " + alm.ErrorMessage(err)
		}
	}
	title := fmt.Sprintf("%s made directly in %s", alm.Count(len(drifted), "change"), org.Name)
	a, err := st.CreateAlert(ctx, store.NewAlert{Kind: alm.AlertDrift, Severity: alm.DriftSeverity(drifted), OrgID: org.ID, Title: title, Body: body,
		Drift: drifted, SnapshotID: id, PreviousID: prev.ID, Notify: NotifyJob(running(ctx))})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// whoChanged fills in who made each drifted change from the org's
// SetupAuditTrail since a time: the newest row whose text names the
// component (its last name segment, and its object for a child).
func whoChanged(ctx context.Context, deps Deps, org alm.Org, since time.Time, entries []alm.DriftEntry) error {
	client, err := deps.Orgs.Client(ctx, org)
	if err != nil {
		return err
	}
	rows, err := client.Query(ctx, fmt.Sprintf("SELECT Action, Section, Display, CreatedDate, CreatedBy.Name FROM SetupAuditTrail WHERE CreatedDate >= %s ORDER BY CreatedDate DESC LIMIT 2000",
		since.UTC().Add(-time.Minute).Format("2006-01-02T15:04:05Z")))
	if err != nil {
		return err
	}
	trail := make([]drift.AuditRow, 0, len(rows))
	for _, r := range rows {
		row := drift.AuditRow{Display: str(r["Display"]), Section: str(r["Section"])}
		if by, ok := r["CreatedBy"].(map[string]any); ok {
			row.By = str(by["Name"])
		} else if by, ok := r["CreatedBy"].(salesforce.Record); ok {
			row.By = str(by["Name"])
		}
		row.At, _ = time.Parse("2006-01-02T15:04:05.000-0700", str(r["CreatedDate"]))
		trail = append(trail, row)
	}
	drift.Attribute(entries, trail)
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// devOrg reports an org developers change by hand as their work.
func devOrg(k alm.OrgKind) bool {
	return k == alm.OrgDeveloperSandbox || k == alm.OrgScratch || k == alm.OrgDeveloper
}
