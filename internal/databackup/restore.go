package databackup

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/crashpoint"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/store"
)

// RestoreRequest chooses records to put back: the given ids, or every
// record of the objects changed since a time (back as it was then). As of
// a backup run, or, without one, each chosen record as the latest run
// that still had it (so a deleted record comes back as it last was).
type RestoreRequest struct {
	AsOfRun int64      `json:"as_of_run"`
	Objects []string   `json:"objects"`
	IDs     []string   `json:"ids"`
	Since   *time.Time `json:"since"`
	DryRun  bool       `json:"dry_run"`
}

// maxRestore bounds one restore.
const maxRestore = 50000

// version is one record as a backup holds it.
type version struct {
	fields  map[string]string
	stamp   time.Time
	run     int64
	deleted bool
}

func id15(id string) string { return id[:min(15, len(id))] }

// Restore plans (dry run) or carries out a restore and returns a result
// per record. A record the org still has — under its own id, under the id
// an earlier restore gave it, or by an external id — is updated where it
// differs from the backup; one it has not is created (lookups to other
// recreated records mapped to their new ids; parents before children), and
// its new id is recorded so that no later restore creates it again.
// restoreID names the restore the new ids are recorded under (0 for none).
func Restore(ctx context.Context, st *store.Store, c *salesforce.Client, orgID, restoreID int64, req RestoreRequest) ([]alm.RecordResult, error) {
	if len(req.Objects) == 0 {
		return nil, alm.Invalid(map[string]string{"objects": "Name the objects to restore records of."})
	}
	if len(req.IDs) == 0 && req.Since == nil {
		return nil, alm.Invalid(map[string]string{"ids": "Choose records by id, or everything changed since a time."})
	}
	runIDs, latestExisting, err := restoreRuns(ctx, st, orgID, req)
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, id := range req.IDs {
		wanted[id15(id)] = true
	}
	restored, err := st.RestoredIDs(ctx, orgID)
	if err != nil {
		return nil, err
	}
	describes := map[string]*salesforce.SObjectDescribe{}
	picked := map[string]map[string]version{} // object → id → version to put back
	found := map[string]bool{}                // 15-char ids some backup holds
	var results []alm.RecordResult
	total := 0
	for _, obj := range req.Objects {
		d, err := c.Describe(ctx, obj)
		if err != nil {
			return nil, err
		}
		describes[obj] = d
		vs, gone, err := versions(ctx, st, runIDs, obj, wanted, req.Since, latestExisting)
		if err != nil {
			return nil, err
		}
		for id := range vs {
			found[id15(id)] = true
		}
		for id, v := range gone {
			found[id15(id)] = true
			results = append(results, alm.RecordResult{Object: obj, OldID: id, Action: "not_found", FromRun: v.run,
				Note: fmt.Sprintf("deleted as of backup run #%d; choose an earlier run, or none for the last one that had it", v.run)})
		}
		picked[obj] = vs
		total += len(vs)
	}
	for _, id := range req.IDs {
		if !found[id15(id)] {
			results = append(results, alm.RecordResult{OldID: id, Action: "not_found", Note: "in no backup of " + strings.Join(req.Objects, ", ")})
		}
	}
	if total > maxRestore {
		return nil, alm.Invalid(map[string]string{"ids": fmt.Sprintf("That is %d records; restore at most %d at a time.", total, maxRestore)})
	}
	// Lookups to records restores created before point at their new ids.
	idMap := map[string]string{}
	for oldID, newID := range restored {
		idMap[oldID] = newID
	}
	var selfRefs []selfRef
	for _, obj := range parentsFirst(req.Objects, describes) {
		rs, refs, err := restoreObject(ctx, st, c, orgID, restoreID, obj, describes[obj], picked[obj], restored, idMap, req.DryRun)
		results = append(results, rs...)
		selfRefs = append(selfRefs, refs...)
		if err != nil {
			return results, err
		}
	}
	if !req.DryRun {
		if err := fixSelfRefs(ctx, c, selfRefs, idMap); err != nil {
			return results, err
		}
	}
	if results == nil {
		results = []alm.RecordResult{}
	}
	return results, nil
}

// restoreRuns picks the runs to read: up to the chosen run (back to the
// full run its chain starts from), or, without one, every run, each
// record taken as the latest that still had it.
func restoreRuns(ctx context.Context, st *store.Store, orgID int64, req RestoreRequest) ([]int64, bool, error) {
	if req.AsOfRun == 0 {
		runs, err := st.FinishedDataRuns(ctx, orgID)
		if err != nil {
			return nil, false, err
		}
		if len(runs) == 0 {
			return nil, false, alm.Errorf(alm.CodeConflict, "There is no finished data backup to restore from.")
		}
		if req.Since != nil {
			// Changes since a time are read against the latest chain.
			last := runs[len(runs)-1]
			runs, err = st.RestoreRuns(ctx, orgID, last)
			return runs, false, err
		}
		return runs, true, nil
	}
	runs, err := st.RestoreRuns(ctx, orgID, req.AsOfRun)
	if err != nil {
		return nil, false, err
	}
	if len(runs) == 0 {
		return nil, false, alm.Errorf(alm.CodeConflict, "Backup run #%d is not a finished data backup of this org.", req.AsOfRun)
	}
	return runs, false, nil
}

// restoreObject restores one object's chosen records.
func restoreObject(ctx context.Context, st *store.Store, c *salesforce.Client, orgID, restoreID int64, obj string, d *salesforce.SObjectDescribe,
	vs map[string]version, restored, idMap map[string]string, dryRun bool) ([]alm.RecordResult, []selfRef, error) {
	ids := make([]string, 0, len(vs))
	for id := range vs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// Where each record may be now: its own id, or the one a restore gave it.
	lookFor := append([]string(nil), ids...)
	for _, id := range ids {
		if n, ok := restored[id15(id)]; ok {
			lookFor = append(lookFor, n)
		}
	}
	current, err := currentRecords(ctx, c, obj, d, lookFor)
	if err != nil {
		return nil, nil, err
	}
	byExternal, extField, err := externalMatches(ctx, c, obj, d, vs, ids, current, restored)
	if err != nil {
		return nil, nil, err
	}
	var results []alm.RecordResult
	var selfRefs []selfRef
	var creates, updates []salesforce.Record
	var createRes, updateRes []int
	for _, id := range ids {
		v := vs[id]
		cur, exists := current[id]
		res := alm.RecordResult{Object: obj, OldID: id, FromRun: v.run}
		if !exists {
			if n, ok := restored[id15(id)]; ok {
				if cur, exists = current[n]; exists {
					res.NewID, res.Note = n, "restored before as "+n
				}
			}
		}
		if !exists {
			if cur, exists = byExternal[id]; exists {
				res.NewID, res.Note = fmt.Sprint(cur["Id"]), "found by its external id "+extField
			}
		}
		if exists {
			rec, changed := updateRecord(obj, d, id, v, cur, idMap)
			res.Action, res.Fields = "unchanged", changed
			if len(changed) > 0 {
				res.Action = "update"
				updates = append(updates, rec)
				updateRes = append(updateRes, len(results))
			}
			results = append(results, res)
			continue
		}
		rec, self := createRecord(obj, d, v, idMap)
		for f, to := range self {
			selfRefs = append(selfRefs, selfRef{obj: obj, oldID: id, field: f, to: to})
		}
		res.Action = "create"
		results = append(results, res)
		creates = append(creates, rec)
		createRes = append(createRes, len(results)-1)
	}
	if dryRun {
		for _, i := range createRes {
			idMap[id15(results[i].OldID)] = "(new)"
		}
		return results, selfRefs, nil
	}
	if len(creates) > 0 {
		saved, err := c.CreateRecords(ctx, creates, false)
		if err != nil {
			return results, selfRefs, err
		}
		made := map[string]string{}
		for k, sr := range saved {
			i := createRes[k]
			if sr.Success {
				results[i].NewID = sr.ID
				idMap[id15(results[i].OldID)] = sr.ID
				made[results[i].OldID] = sr.ID
			} else {
				results[i].Error = saveError(sr)
			}
		}
		// Recorded at once, so that even a restore cut short here never
		// creates these again.
		if err := st.RecordRestoredIDs(ctx, orgID, restoreID, obj, made); err != nil {
			return results, selfRefs, err
		}
		crashpoint.At("datarestore.recorded")
	}
	if len(updates) > 0 {
		saved, err := c.UpdateRecords(ctx, updates, false)
		if err != nil {
			return results, selfRefs, err
		}
		for k, sr := range saved {
			if !sr.Success {
				results[updateRes[k]].Error = saveError(sr)
			}
		}
	}
	return results, selfRefs, nil
}

// externalMatches finds, by the object's first external id field, the
// records the org has under another id than the backup's (loaded again
// by an integration, say), for those the ids did not find.
func externalMatches(ctx context.Context, c *salesforce.Client, obj string, d *salesforce.SObjectDescribe, vs map[string]version,
	ids []string, current map[string]salesforce.Record, restored map[string]string) (map[string]salesforce.Record, string, error) {
	field := ""
	for _, f := range d.Fields {
		if f.ExternalID && f.Type != "id" {
			field = f.Name
			break
		}
	}
	if field == "" {
		return nil, "", nil
	}
	byValue := map[string]string{} // external id value → backup id
	for _, id := range ids {
		if _, ok := current[id]; ok {
			continue
		}
		if n, ok := restored[id15(id)]; ok {
			if _, ok := current[n]; ok {
				continue
			}
		}
		if val := vs[id].fields[field]; val != "" {
			byValue[val] = id
		}
	}
	if len(byValue) == 0 {
		return nil, field, nil
	}
	vals := make([]string, 0, len(byValue))
	for v := range byValue {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	out := map[string]salesforce.Record{}
	var fields []string
	for _, f := range d.Fields {
		if f.Name == "Id" || (f.Updateable && !f.Calculated) {
			fields = append(fields, f.Name)
		}
	}
	for start := 0; start < len(vals); start += salesforce.CollectionBatch {
		batch := vals[start:min(start+salesforce.CollectionBatch, len(vals))]
		quoted := make([]string, len(batch))
		for i, v := range batch {
			quoted[i] = "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(v) + "'"
		}
		recs, err := c.Query(ctx, "SELECT "+strings.Join(fields, ", ")+" FROM "+obj+" WHERE "+field+" IN ("+strings.Join(quoted, ", ")+")")
		if err != nil {
			return nil, field, err
		}
		for _, r := range recs {
			if id, ok := byValue[fmt.Sprint(r[field])]; ok {
				out[id] = r
			}
		}
	}
	return out, field, nil
}

// versions reads an object's backed-up records. For chosen ids, each
// one's latest version — or, with latestExisting, its latest version that
// was not a deletion — and the chosen records whose latest version is a
// deletion (gone); with since, the records changed after it, each as its
// latest version at or before it.
func versions(ctx context.Context, st *store.Store, runIDs []int64, obj string, wanted map[string]bool, since *time.Time, latestExisting bool) (map[string]version, map[string]version, error) {
	keep := map[string]version{}
	changedAfter := map[string]bool{}
	err := st.DataChunks(ctx, runIDs, obj, func(run int64, data []byte) error {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("backup page: %w", err)
		}
		r := csv.NewReader(zr)
		head, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("backup page: %w", err)
		}
		iID, iDel, iStamp := slices.Index(head, "Id"), slices.Index(head, "IsDeleted"), slices.Index(head, "SystemModstamp")
		for {
			row, err := r.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("backup page: %w", err)
			}
			if iID < 0 {
				return nil
			}
			id := row[iID]
			if len(wanted) > 0 && !wanted[id15(id)] {
				continue
			}
			v := version{fields: map[string]string{}, run: run}
			for i, h := range head {
				v.fields[h] = row[i]
			}
			if iDel >= 0 {
				v.deleted = strings.EqualFold(row[iDel], "true")
			}
			if iStamp >= 0 {
				v.stamp, _ = parseStamp(row[iStamp])
			}
			if since != nil && v.stamp.After(*since) {
				changedAfter[id] = true
				continue
			}
			old, ok := keep[id]
			switch {
			case latestExisting && v.deleted && ok && !old.deleted:
				// Keep the last version in which it still existed.
			case !ok, latestExisting && old.deleted && !v.deleted, !v.stamp.Before(old.stamp):
				keep[id] = v
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	out, gone := map[string]version{}, map[string]version{}
	for id, v := range keep {
		if since != nil && !changedAfter[id] {
			continue
		}
		if v.deleted {
			if since == nil {
				gone[id] = v
			}
			continue // it was deleted at that point: nothing to put back
		}
		out[id] = v
	}
	return out, gone, nil
}

// parentsFirst orders objects so that one comes after every other one it
// looks up.
func parentsFirst(objects []string, ds map[string]*salesforce.SObjectDescribe) []string {
	deps := map[string][]string{}
	for _, o := range objects {
		for _, f := range ds[o].Fields {
			for _, to := range f.ReferenceTo {
				if to != o && slices.Contains(objects, to) && !slices.Contains(deps[o], to) {
					deps[o] = append(deps[o], to)
				}
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	var visit func(o string, stack map[string]bool)
	visit = func(o string, stack map[string]bool) {
		if seen[o] || stack[o] {
			return // done, or a cycle: its lookups go in as they are
		}
		stack[o] = true
		for _, p := range deps[o] {
			visit(p, stack)
		}
		seen[o] = true
		out = append(out, o)
	}
	for _, o := range objects {
		visit(o, map[string]bool{})
	}
	return out
}

// currentRecords reads the records that still exist, 200 ids a query.
func currentRecords(ctx context.Context, c *salesforce.Client, obj string, d *salesforce.SObjectDescribe, ids []string) (map[string]salesforce.Record, error) {
	var fields []string
	for _, f := range d.Fields {
		if f.Name == "Id" || (f.Updateable && !f.Calculated) {
			fields = append(fields, f.Name)
		}
	}
	out := map[string]salesforce.Record{}
	for start := 0; start < len(ids); start += salesforce.CollectionBatch {
		batch := ids[start:min(start+salesforce.CollectionBatch, len(ids))]
		quoted := make([]string, len(batch))
		for i, id := range batch {
			quoted[i] = "'" + strings.ReplaceAll(id, "'", "") + "'"
		}
		recs, err := c.Query(ctx, "SELECT "+strings.Join(fields, ", ")+" FROM "+obj+" WHERE Id IN ("+strings.Join(quoted, ", ")+")")
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			id, _ := r["Id"].(string)
			out[id] = r
			if len(id) == 18 {
				out[id[:15]] = r
			}
		}
	}
	for _, id := range ids {
		if r, ok := out[id[:min(15, len(id))]]; ok {
			out[id] = r
		}
	}
	return out, nil
}

type selfRef struct {
	obj, oldID, field, to string
}

// createRecord builds a record to insert from a backed-up version.
// Lookups to the object itself wait for a second pass (the record they
// name may not exist yet); they come back as self.
func createRecord(obj string, d *salesforce.SObjectDescribe, v version, idMap map[string]string) (salesforce.Record, map[string]string) {
	rec := salesforce.Record{"attributes": map[string]any{"type": obj}}
	self := map[string]string{}
	for _, f := range d.Fields {
		if !f.Createable || f.Calculated || f.AutoNumber {
			continue
		}
		raw, ok := v.fields[f.Name]
		if !ok || raw == "" {
			continue
		}
		if f.Type == "reference" {
			if slices.Contains(f.ReferenceTo, obj) {
				self[f.Name] = raw
				continue
			}
			if n, ok := idMap[id15(raw)]; ok {
				raw = n
			}
		}
		rec[f.Name] = convert(f, raw)
	}
	return rec, self
}

// updateRecord builds the update putting a record back, and names the
// fields that differ from the org's.
func updateRecord(obj string, d *salesforce.SObjectDescribe, id string, v version, cur salesforce.Record, idMap map[string]string) (salesforce.Record, []string) {
	rec := salesforce.Record{"attributes": map[string]any{"type": obj}, "Id": cur["Id"]}
	var changed []string
	for _, f := range d.Fields {
		if !f.Updateable || f.Calculated {
			continue
		}
		raw, ok := v.fields[f.Name]
		if !ok {
			continue
		}
		if f.Type == "reference" && raw != "" {
			if n, ok := idMap[id15(raw)]; ok {
				raw = n
			}
		}
		want := convert(f, raw)
		if same(want, cur[f.Name]) {
			continue
		}
		rec[f.Name] = want
		changed = append(changed, f.Name)
	}
	return rec, changed
}

// convert turns a Bulk CSV value into the JSON a write takes.
func convert(f salesforce.Field, raw string) any {
	if raw == "" {
		return nil
	}
	switch f.Type {
	case "boolean":
		return strings.EqualFold(raw, "true")
	case "int":
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return n
		}
		if x, err := strconv.ParseFloat(raw, 64); err == nil {
			return int64(x)
		}
	case "double", "currency", "percent":
		if x, err := strconv.ParseFloat(raw, 64); err == nil {
			return x
		}
	}
	return raw
}

// same compares a backed-up value with the org's, loosely about numbers
// and id lengths.
func same(a, b any) bool {
	if a == nil || b == nil {
		return (a == nil || a == "") && (b == nil || b == "")
	}
	af, aNum := toFloat(a)
	bf, bNum := toFloat(b)
	if aNum && bNum {
		return af == bf
	}
	as, bs := fmt.Sprint(a), fmt.Sprint(b)
	if len(as) == 18 && len(bs) == 18 || len(as) != 18 && len(bs) != 18 {
		return as == bs
	}
	return as[:min(15, len(as))] == bs[:min(15, len(bs))]
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

func saveError(sr salesforce.SaveResult) string {
	var msgs []string
	for _, e := range sr.Errors {
		msgs = append(msgs, e.Code()+": "+e.Message)
	}
	if len(msgs) == 0 {
		return "the org refused the record"
	}
	return strings.Join(msgs, "; ")
}

// fixSelfRefs sets the lookups a record has to its own object once every
// record is back, mapping recreated ids.
func fixSelfRefs(ctx context.Context, c *salesforce.Client, refs []selfRef, idMap map[string]string) error {
	var updates []salesforce.Record
	for _, r := range refs {
		id, ok := idMap[id15(r.oldID)]
		if !ok {
			continue
		}
		to := r.to
		if n, ok := idMap[id15(to)]; ok {
			to = n
		}
		updates = append(updates, salesforce.Record{"attributes": map[string]any{"type": r.obj}, "Id": id, r.field: to})
	}
	if len(updates) == 0 {
		return nil
	}
	_, err := c.UpdateRecords(ctx, updates, false)
	return err
}
