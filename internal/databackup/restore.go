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
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/store"
)

// RestoreRequest chooses records to put back: the given ids, or every
// record of the objects changed since a time (back as it was then), as of
// a backup run (0: the latest).
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
	deleted bool
}

// Restore plans (dry run) or carries out a restore and returns a result
// per record. Records missing from the org are created (lookups to other
// recreated records mapped to their new ids; parents before children);
// records still there are updated where they differ from the backup.
func Restore(ctx context.Context, st *store.Store, c *salesforce.Client, orgID int64, req RestoreRequest) ([]alm.RecordResult, error) {
	if len(req.Objects) == 0 {
		return nil, alm.Invalid(map[string]string{"objects": "Name the objects to restore records of."})
	}
	if len(req.IDs) == 0 && req.Since == nil {
		return nil, alm.Invalid(map[string]string{"ids": "Choose records by id, or everything changed since a time."})
	}
	asOf := req.AsOfRun
	if asOf == 0 {
		runs, err := st.DataBackupRuns(ctx, orgID, 50)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.Status == "done" || r.Status == "partial" {
				asOf = r.ID
				break
			}
		}
	}
	runIDs, err := st.RestoreRuns(ctx, orgID, asOf)
	if err != nil {
		return nil, err
	}
	if len(runIDs) == 0 {
		return nil, alm.Errorf(alm.CodeConflict, "There is no finished data backup to restore from.")
	}
	wanted := map[string]bool{}
	for _, id := range req.IDs {
		wanted[id] = true
		if len(id) == 18 {
			wanted[id[:15]] = true
		}
	}
	describes := map[string]*salesforce.SObjectDescribe{}
	picked := map[string]map[string]version{} // object → id → version to put back
	total := 0
	for _, obj := range req.Objects {
		d, err := c.Describe(ctx, obj)
		if err != nil {
			return nil, err
		}
		describes[obj] = d
		vs, err := versions(ctx, st, runIDs, obj, wanted, req.Since)
		if err != nil {
			return nil, err
		}
		picked[obj] = vs
		total += len(vs)
	}
	if total == 0 {
		return []alm.RecordResult{}, nil
	}
	if total > maxRestore {
		return nil, alm.Invalid(map[string]string{"ids": fmt.Sprintf("That is %d records; restore at most %d at a time.", total, maxRestore)})
	}
	order := parentsFirst(req.Objects, describes)
	idMap := map[string]string{} // recreated: old id → new id
	var results []alm.RecordResult
	var selfRefs []selfRef
	for _, obj := range order {
		d := describes[obj]
		vs := picked[obj]
		ids := make([]string, 0, len(vs))
		for id := range vs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		current, err := currentRecords(ctx, c, obj, d, ids)
		if err != nil {
			return nil, err
		}
		var creates, updates []salesforce.Record
		var createRes, updateRes []int
		for _, id := range ids {
			v := vs[id]
			cur, exists := current[id]
			if exists {
				rec, changed := updateRecord(obj, d, id, v, cur, idMap)
				if len(changed) == 0 {
					results = append(results, alm.RecordResult{Object: obj, OldID: id, Action: "unchanged"})
					continue
				}
				results = append(results, alm.RecordResult{Object: obj, OldID: id, Action: "update", Fields: changed})
				updates = append(updates, rec)
				updateRes = append(updateRes, len(results)-1)
				continue
			}
			rec, self := createRecord(obj, d, v, idMap)
			for f, to := range self {
				selfRefs = append(selfRefs, selfRef{obj: obj, oldID: id, field: f, to: to})
			}
			results = append(results, alm.RecordResult{Object: obj, OldID: id, Action: "create"})
			creates = append(creates, rec)
			createRes = append(createRes, len(results)-1)
		}
		if req.DryRun {
			for _, i := range createRes {
				idMap[results[i].OldID] = "(new)"
			}
			continue
		}
		if len(creates) > 0 {
			saved, err := c.CreateRecords(ctx, creates, false)
			if err != nil {
				return results, err
			}
			for k, sr := range saved {
				i := createRes[k]
				if sr.Success {
					results[i].NewID = sr.ID
					idMap[results[i].OldID] = sr.ID
				} else {
					results[i].Error = saveError(sr)
				}
			}
		}
		if len(updates) > 0 {
			saved, err := c.UpdateRecords(ctx, updates, false)
			if err != nil {
				return results, err
			}
			for k, sr := range saved {
				if !sr.Success {
					results[updateRes[k]].Error = saveError(sr)
				}
			}
		}
	}
	if !req.DryRun {
		if err := fixSelfRefs(ctx, c, selfRefs, idMap); err != nil {
			return results, err
		}
	}
	return results, nil
}

// versions reads an object's backed-up records: for chosen ids, each one's
// latest version; with since, the records changed after it, each as its
// latest version at or before it.
func versions(ctx context.Context, st *store.Store, runIDs []int64, obj string, wanted map[string]bool, since *time.Time) (map[string]version, error) {
	keep := map[string]version{}
	changedAfter := map[string]bool{}
	err := st.DataChunks(ctx, runIDs, obj, func(_ int64, data []byte) error {
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
			if len(wanted) > 0 && !wanted[id] && !wanted[id[:min(15, len(id))]] {
				continue
			}
			v := version{fields: map[string]string{}}
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
			if old, ok := keep[id]; !ok || !v.stamp.Before(old.stamp) {
				keep[id] = v
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out := map[string]version{}
	for id, v := range keep {
		if v.deleted {
			continue // it was deleted at that point: nothing to put back
		}
		if since != nil && !changedAfter[id] {
			continue
		}
		out[id] = v
	}
	return out, nil
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
			if n, ok := idMap[raw]; ok {
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
		if f.Type == "reference" {
			if n, ok := idMap[raw]; ok {
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
		id, ok := idMap[r.oldID]
		if !ok {
			continue
		}
		to := r.to
		if n, ok := idMap[to]; ok {
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
