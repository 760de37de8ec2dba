// Package databackup backs up an org's records through Bulk API 2.0 and
// restores them through sObject collections. A run streams each object's
// result pages into gzip'd CSV chunks, one page in memory at a time, so a
// backup of millions of records costs the memory of one page; the first
// run takes everything, later runs only what changed since (SystemModstamp,
// deleted rows included). A restore reads the chunks back up to a run and
// writes records in parent-before-child order, mapping the ids of records
// it recreates into the lookups that point at them.
package databackup

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/store"
)

// keyStandard are the standard objects backed up by default, with every
// queryable custom object.
var keyStandard = []string{"Account", "Asset", "Campaign", "CampaignMember", "Case", "Contact", "Contract", "Event", "Lead",
	"Opportunity", "OpportunityLineItem", "Order", "OrderItem", "Pricebook2", "PricebookEntry", "Product2", "Quote", "Task"}

// PageRecords bounds one result page, and so the memory a run needs.
const PageRecords = 20000

// Objects resolves a policy's objects: the named ones, or by default the
// org's queryable custom objects and the key standard ones it has.
func Objects(ctx context.Context, c *salesforce.Client, named []string) ([]string, error) {
	if len(named) > 0 {
		return named, nil
	}
	g, err := c.DescribeGlobal(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range g.SObjects {
		if !o.Queryable || o.CustomSetting {
			continue
		}
		if (o.Custom && strings.HasSuffix(o.Name, "__c")) || slices.Contains(keyStandard, o.Name) {
			out = append(out, o.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// backupFields are the fields a backup keeps: every queryable one but
// compound and binary fields (their parts are kept, or they cannot come
// through Bulk CSV).
func backupFields(d *salesforce.SObjectDescribe) []string {
	var out []string
	for _, f := range d.Fields {
		switch f.Type {
		case "address", "location", "base64":
			continue
		}
		out = append(out, f.Name)
	}
	return out
}

// Run takes one data backup run. It returns the run's status: done, or
// partial when the API budget ran out (what was stored stays, and the
// next run carries on from each object's watermark).
func Run(ctx context.Context, st *store.Store, c *salesforce.Client, runID int64, notify store.Job) (string, error) {
	run, err := st.DataBackupRun(ctx, runID)
	if err != nil {
		return "", err
	}
	pol, err := st.DataBackupPolicy(ctx, run.OrgID)
	if err != nil {
		return "", err
	}
	limits, err := c.Limits(ctx)
	if err != nil {
		return "", err
	}
	daily := limits["DailyApiRequests"]
	// The run's share, less the call that read the limits. Every call
	// after this goes through a metered client that refuses the first one
	// over the share before sending it, so the run ends at or under it.
	mc := c
	if daily.Max > 0 {
		mc = c.Metered(int(pol.APIShare*float64(daily.Max)) - 1)
	}
	calls := func() int { return mc.Calls() + 1 }
	objects, err := Objects(ctx, mc, pol.Objects)
	if errors.Is(err, salesforce.ErrBudget) {
		return "partial", st.DataRunProgress(ctx, runID, "", nil, calls())
	}
	if err != nil {
		return "", err
	}
	marks, err := st.DataWatermarks(ctx, run.OrgID)
	if err != nil {
		return "", err
	}
	// A run taken up again after its process died keeps the objects it had
	// finished; the others are read again from their watermark.
	finished := map[string]alm.DataObjectCount{}
	for _, o := range run.Objects {
		if o.State == alm.ObjectDone {
			finished[o.Object] = o
		}
	}
	var counts []alm.DataObjectCount
	var churn []string
	status := "done"
	stopped := false
	for i, obj := range objects {
		if c, ok := finished[obj]; ok {
			counts = append(counts, c)
			continue
		}
		if stopped {
			counts = append(counts, alm.DataObjectCount{Object: obj, State: alm.ObjectNotReached})
			continue
		}
		if err := st.DataRunProgress(ctx, runID, fmt.Sprintf("%s (%d of %d)", obj, i+1, len(objects)), counts, calls()); err != nil {
			return "", err
		}
		prev, incremental := marks[obj]
		if err := st.DeleteDataChunks(ctx, runID, obj); err != nil {
			return "", err
		}
		cnt, mark, err := backupObject(ctx, st, mc, runID, obj, prev, incremental)
		if errors.Is(err, salesforce.ErrBudget) {
			status, stopped = "partial", true
			cnt.State, cnt.Error = alm.ObjectStopped, "stopped here: API share reached"
			counts = append(counts, cnt)
			continue
		}
		if err != nil {
			// One object the org refuses (no access, say) does not sink
			// the others; the run says which and why.
			cnt.State, cnt.Error = alm.ObjectFailed, err.Error()
			counts = append(counts, cnt)
			status = "partial"
			continue
		}
		cnt.State = alm.ObjectDone
		counts = append(counts, cnt)
		if err := st.SetDataWatermark(ctx, run.OrgID, obj, mark); err != nil {
			return "", err
		}
		if incremental && prev.Records > 0 && float64(cnt.Changed+cnt.Deleted)/float64(prev.Records) > pol.ChurnAlert {
			churn = append(churn, fmt.Sprintf("%s: %d changed and %d deleted of %d records", obj, cnt.Changed, cnt.Deleted, prev.Records))
		}
	}
	if err := st.DataRunProgress(ctx, runID, "", counts, calls()); err != nil {
		return "", err
	}
	if len(churn) > 0 {
		org, _ := st.OrgByID(ctx, run.OrgID)
		if _, err := st.CreateAlert(ctx, store.NewAlert{Kind: alm.AlertDataChurn, Severity: alm.SevWarning, OrgID: run.OrgID,
			Title:  fmt.Sprintf("Unusual record changes in %s", org.Name),
			Body:   fmt.Sprintf("Data backup run #%d saw more than %.0f%% of these objects' records change or go: %s.", runID, pol.ChurnAlert*100, strings.Join(churn, "; ")),
			Notify: notify}); err != nil {
			return "", err
		}
	}
	return status, nil
}

// backupObject stores one object's records (all, or changed since prev)
// page by page and returns its counts and new watermark.
func backupObject(ctx context.Context, st *store.Store, c *salesforce.Client, runID int64, obj string, prev store.DataWatermark, incremental bool) (alm.DataObjectCount, store.DataWatermark, error) {
	cnt := alm.DataObjectCount{Object: obj}
	mark := prev
	d, err := c.Describe(ctx, obj)
	if err != nil {
		return cnt, mark, err
	}
	soql := "SELECT " + strings.Join(backupFields(d), ", ") + " FROM " + obj
	if incremental {
		soql += " WHERE SystemModstamp > " + prev.At.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	job, err := c.StartBulkQuery(ctx, soql, incremental)
	if err != nil {
		return cnt, mark, err
	}
	if _, err := c.WaitBulkQuery(ctx, job.ID, nil); err != nil {
		return cnt, mark, err
	}
	created := int64(0)
	seq := 0
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	err = c.BulkQueryResults(ctx, job.ID, PageRecords, func(page []byte, n int) error {
		stats, err := scanPage(page, prev.At, incremental)
		if err != nil {
			return err
		}
		if stats.maxStamp.After(mark.At) {
			mark.At = stats.maxStamp
		}
		created += stats.created
		cnt.Records += stats.rows
		cnt.Deleted += stats.deleted
		gz.Reset()
		zw.Reset(&gz)
		if _, err := zw.Write(page); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		cnt.Bytes += int64(gz.Len())
		seq++
		return st.PutDataChunk(ctx, runID, obj, seq, int(stats.rows), gz.Bytes())
	})
	if incremental {
		cnt.Changed = cnt.Records - cnt.Deleted
		mark.Records = max(0, prev.Records+created-cnt.Deleted)
	} else {
		mark.Records = cnt.Records
	}
	if errors.Is(err, salesforce.ErrBudget) {
		// What was stored is kept; the watermark moves only as far as the
		// pages read, which Bulk returns in no particular order, so it
		// stays put and the next run reads this object again.
		return cnt, prev, err
	}
	return cnt, mark, err
}

type pageStats struct {
	rows, deleted, created int64
	maxStamp               time.Time
}

// bulkTime is how Bulk API CSV writes datetimes (and SOQL takes them).
const bulkTime = "2006-01-02T15:04:05.000Z"

// parseStamp reads a datetime as Bulk CSV or REST writes it.
func parseStamp(s string) (time.Time, bool) {
	for _, layout := range []string{bulkTime, "2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// scanPage counts a CSV page's rows, deletions and new records, and finds
// its latest SystemModstamp.
func scanPage(page []byte, since time.Time, incremental bool) (pageStats, error) {
	var s pageStats
	r := csv.NewReader(bytes.NewReader(page))
	r.ReuseRecord = true
	head, err := r.Read()
	if err == io.EOF {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("bulk results: %w", err)
	}
	iDel, iStamp, iCreated := slices.Index(head, "IsDeleted"), slices.Index(head, "SystemModstamp"), slices.Index(head, "CreatedDate")
	for {
		row, err := r.Read()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, fmt.Errorf("bulk results: %w", err)
		}
		s.rows++
		if iDel >= 0 && strings.EqualFold(row[iDel], "true") {
			s.deleted++
		}
		if iStamp >= 0 {
			if t, ok := parseStamp(row[iStamp]); ok && t.After(s.maxStamp) {
				s.maxStamp = t
			}
		}
		if incremental && iCreated >= 0 {
			if t, ok := parseStamp(row[iCreated]); ok && t.After(since) {
				s.created++
			}
		}
	}
}

// Summary says how a run ended object by object: every object named, with
// its state (done, stopped, failed, not reached), for the run's note.
func Summary(counts []alm.DataObjectCount) string {
	parts := make([]string, 0, len(counts))
	for _, c := range counts {
		switch {
		case c.State == alm.ObjectStopped:
			parts = append(parts, c.Object+" stopped here: API share reached")
		case c.State == alm.ObjectFailed:
			parts = append(parts, c.Object+" failed ("+c.Error+")")
		case c.State != "":
			parts = append(parts, c.Object+" "+c.State)
		}
	}
	return strings.Join(parts, "; ")
}
