package orgsim

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// Bulk API 2.0 ingest: a job is opened, CSV uploaded, closed
// (UploadComplete), then processed; results come back as CSV
// (`sf data import bulk`, `sf data upsert bulk`, `sf data delete bulk`).

type ingestJob struct {
	id, object, operation, externalID, version string
	delimiter, lineEnding                      string
	created, closed                            time.Time
	step                                       time.Duration
	state                                      string // Open, UploadComplete, Aborted, Failed (JobComplete is derived)
	upload                                     bytes.Buffer
	header                                     []string
	ok, failed, unprocessed                    [][]string // result rows (sf__ columns first)
	err                                        string
}

// ingestState reports the job's state, processing passing with time.
func (j *ingestJob) ingestState(now time.Time) string {
	if j.state != "UploadComplete" {
		return j.state
	}
	if now.Before(j.closed.Add(j.step)) {
		return "InProgress"
	}
	return "JobComplete"
}

func (o *Org) ingestInfo(r *http.Request, j *ingestJob, now time.Time) map[string]any {
	st := j.ingestState(now)
	info := map[string]any{
		"id": j.id, "operation": j.operation, "object": j.object, "createdById": o.st.UserID, "createdDate": restTime(j.created),
		"systemModstamp": restTime(now), "state": st, "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": json64(j.version),
		"jobType": "V2Ingest", "lineEnding": j.lineEnding, "columnDelimiter": j.delimiter, "externalIdFieldName": nil,
		"contentUrl":             "services/data/" + j.version + "/jobs/ingest/" + j.id + "/batches",
		"numberRecordsProcessed": 0, "numberRecordsFailed": 0, "retries": 0, "totalProcessingTime": 0, "apiActiveProcessingTime": 0, "apexProcessingTime": 0,
	}
	if j.externalID != "" {
		info["externalIdFieldName"] = j.externalID
	}
	if st == "JobComplete" || st == "Failed" {
		info["numberRecordsProcessed"] = len(j.ok) + len(j.failed)
		info["numberRecordsFailed"] = len(j.failed)
		info["totalProcessingTime"] = int(j.step / time.Millisecond)
	}
	if j.err != "" {
		info["errorMessage"] = j.err
	}
	return info
}

func (o *Org) ingestCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Object              string `json:"object"`
		Operation           string `json:"operation"`
		ExternalIDFieldName string `json:"externalIdFieldName"`
		ContentType         string `json:"contentType"`
		ColumnDelimiter     string `json:"columnDelimiter"`
		LineEnding          string `json:"lineEnding"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	body.ColumnDelimiter = nonEmpty(body.ColumnDelimiter, "COMMA")
	body.LineEnding = nonEmpty(body.LineEnding, "LF")
	switch body.Operation {
	case "insert", "update", "upsert", "delete", "hardDelete":
	default:
		restError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Invalid value for operation: %s", body.Operation))
		return
	}
	if body.ContentType != "" && body.ContentType != "CSV" {
		restError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : Invalid contentType: "+body.ContentType)
		return
	}
	if _, ok := delimiters[body.ColumnDelimiter]; !ok {
		restError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : Invalid columnDelimiter: "+body.ColumnDelimiter)
		return
	}
	if body.Operation == "upsert" && body.ExternalIDFieldName == "" {
		restError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : External ID was blank for "+body.Object+". An External ID must be specified for upsert.")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	def := o.schema(body.Object)
	if def == nil || readOnly(def.Name) {
		restError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Unable to find object: %s", body.Object))
		return
	}
	if body.Operation == "upsert" && !strings.EqualFold(body.ExternalIDFieldName, "Id") {
		if f := def.field(body.ExternalIDFieldName); f == nil || !f.External {
			restError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : The field %s is not an external ID field on %s", body.ExternalIDFieldName, def.Name))
			return
		}
	}
	if o.ingest == nil {
		o.ingest = map[string]*ingestJob{}
	}
	j := &ingestJob{id: o.nextID("750"), object: def.Name, operation: body.Operation, externalID: body.ExternalIDFieldName,
		version: chi.URLParam(r, "version"), delimiter: body.ColumnDelimiter, lineEnding: body.LineEnding,
		created: time.Now(), step: o.sim.opts.Step, state: "Open"}
	o.ingest[j.id] = j
	writeJSON(w, http.StatusOK, o.ingestInfo(r, j, time.Now()))
}

// ingestJobFor finds a job or answers 404. o.mu is held.
func (o *Org) ingestJobFor(w http.ResponseWriter, r *http.Request) *ingestJob {
	j := o.ingest[chi.URLParam(r, "id")]
	if j == nil {
		for id, x := range o.ingest {
			if sameID(id, chi.URLParam(r, "id")) {
				j = x
			}
		}
	}
	if j == nil {
		restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
	return j
}

func (o *Org) ingestUpload(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 150<<20))
	if err != nil {
		restError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "The upload could not be read")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.ingestJobFor(w, r)
	if j == nil {
		return
	}
	if j.state != "Open" {
		restError(w, http.StatusConflict, "INVALIDJOBSTATE", "Job's state does not allow data upload: "+j.ingestState(time.Now()))
		return
	}
	if j.upload.Len() > 0 {
		restError(w, http.StatusConflict, "INVALIDJOBSTATE", "Found multiple uploads for this job; upload all data for a job in one request.")
		return
	}
	j.upload.Write(data)
	w.WriteHeader(http.StatusCreated)
}

func (o *Org) ingestPatch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		State string `json:"state"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.ingestJobFor(w, r)
	if j == nil {
		return
	}
	now := time.Now()
	switch {
	case body.State == "Aborted" && (j.state == "Open" || j.ingestState(now) == "InProgress"):
		j.state = "Aborted"
	case body.State == "UploadComplete" && j.state == "Open":
		j.state, j.closed = "UploadComplete", now
		o.processIngestLocked(j)
	default:
		restError(w, http.StatusConflict, "INVALIDJOBSTATE", fmt.Sprintf("Job state %s cannot be set to %s", j.ingestState(now), body.State))
		return
	}
	writeJSON(w, http.StatusOK, o.ingestInfo(r, j, now))
}

func (o *Org) ingestGet(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if j := o.ingestJobFor(w, r); j != nil {
		writeJSON(w, http.StatusOK, o.ingestInfo(r, j, time.Now()))
	}
}

func (o *Org) ingestList(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make([]string, 0, len(o.ingest))
	for id := range o.ingest {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	recs := []map[string]any{}
	for _, id := range ids {
		recs = append(recs, o.ingestInfo(r, o.ingest[id], time.Now()))
	}
	writeJSON(w, http.StatusOK, map[string]any{"done": true, "records": recs, "nextRecordsUrl": nil})
}

func (o *Org) ingestDelete(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.ingestJobFor(w, r)
	if j == nil {
		return
	}
	if st := j.ingestState(time.Now()); st == "Open" || st == "InProgress" {
		restError(w, http.StatusConflict, "INVALIDJOBSTATE", "Job state "+st+" does not allow deletion; abort it first")
		return
	}
	delete(o.ingest, j.id)
	w.WriteHeader(http.StatusNoContent)
}

// ingestResults serves successfulResults, failedResults and
// unprocessedrecords as CSV.
func (o *Org) ingestResults(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		defer o.mu.Unlock()
		j := o.ingestJobFor(w, r)
		if j == nil {
			return
		}
		st := j.ingestState(time.Now())
		if kind != "unprocessedrecords" && st != "JobComplete" && st != "Failed" {
			restError(w, http.StatusConflict, "INVALIDJOBSTATE", "Job is not complete; results are available once it is: "+st)
			return
		}
		var head []string
		var rows [][]string
		switch kind {
		case "successfulResults":
			head, rows = append([]string{"sf__Id", "sf__Created"}, j.header...), j.ok
		case "failedResults":
			head, rows = append([]string{"sf__Id", "sf__Error"}, j.header...), j.failed
		default:
			head, rows = j.header, j.unprocessed
			if j.state == "Open" || j.state == "Aborted" {
				rows = j.parsedUpload()
			}
		}
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		cw.Comma = delimiters[j.delimiter]
		cw.UseCRLF = j.lineEnding == "CRLF"
		if head != nil {
			cw.Write(head)
		}
		cw.WriteAll(rows)
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Sforce-Locator", "null")
		w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(len(rows)))
		w.WriteHeader(http.StatusOK)
		w.Write(b.Bytes())
	}
}

// parsedUpload reads the upload's records (after its header).
func (j *ingestJob) parsedUpload() [][]string {
	cr := csv.NewReader(bytes.NewReader(j.upload.Bytes()))
	cr.Comma = delimiters[j.delimiter]
	cr.FieldsPerRecord = -1
	all, err := cr.ReadAll()
	if err != nil || len(all) == 0 {
		return nil
	}
	return all[1:]
}

// processIngestLocked applies the upload now (its state reads InProgress
// for one step, as a real job would take a while). o.mu is held.
func (o *Org) processIngestLocked(j *ingestJob) {
	cr := csv.NewReader(bytes.NewReader(j.upload.Bytes()))
	cr.Comma = delimiters[j.delimiter]
	all, err := cr.ReadAll()
	if err != nil || len(all) == 0 {
		j.state, j.err = "Failed", "InvalidBatch : Failed to parse the uploaded CSV: "+fmt.Sprint(nonNil(err))
		if len(all) == 0 && err == nil {
			j.err = "InvalidBatch : The uploaded data is empty"
		}
		return
	}
	def := o.schema(j.object)
	j.header = all[0]
	for _, h := range j.header {
		if strings.Contains(h, ".") {
			continue // relationship by external id (Account.External_Id__c)
		}
		if def.field(h) == nil {
			j.state, j.err = "Failed", fmt.Sprintf("InvalidBatch : Field name not found : %s", h)
			j.unprocessed = all[1:]
			return
		}
	}
	now := time.Now()
	for _, rec := range all[1:] {
		id, created, problem := o.ingestRow(def, j, rec, now)
		if problem != "" {
			j.failed = append(j.failed, append([]string{id, problem}, rec...))
			continue
		}
		j.ok = append(j.ok, append([]string{id, strconv.FormatBool(created)}, rec...))
	}
	o.saveLocked()
}

// ingestRow applies one CSV record; problem is Salesforce's
// "CODE:message:fields --" form. o.mu is held.
func (o *Org) ingestRow(def *objDef, j *ingestJob, rec []string, now time.Time) (id string, created bool, problem string) {
	fields := map[string]any{}
	for i, h := range j.header {
		if i >= len(rec) || rec[i] == "" {
			continue // empty cells leave fields alone
		}
		v := rec[i]
		f := def.field(h)
		if f == nil {
			continue
		}
		if v == "#N/A" {
			fields[f.Name] = nil
			continue
		}
		switch f.Type {
		case "boolean":
			b, err := strconv.ParseBool(strings.ToLower(v))
			if err != nil {
				return "", false, fmt.Sprintf("INVALID_FIELD:Failed to deserialize field at col %d. Due to, '%s' is not a valid value for the type xsd:boolean:%s --", i, v, f.Name)
			}
			fields[f.Name] = b
		case "int", "double", "currency", "percent":
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return "", false, fmt.Sprintf("INVALID_FIELD:Failed to deserialize field at col %d. Due to, '%s' is not a valid value for the type xsd:double:%s --", i, v, f.Name)
			}
			fields[f.Name] = n
		default:
			fields[f.Name] = v
		}
	}
	fail := func(errs []map[string]any) string {
		e := errs[0]
		fs, _ := e["fields"].([]string)
		return fmt.Sprintf("%s:%s:%s --", e["statusCode"], e["message"], strings.Join(fs, ","))
	}
	idOf := func() string { s, _ := fields["Id"].(string); return s }
	switch j.operation {
	case "insert":
		delete(fields, "Id")
		row, errs := o.writeRecord(def, fields, nil, now)
		if errs != nil {
			return "", false, fail(errs)
		}
		o.st.Records[def.Name] = append(o.st.Records[def.Name], row)
		return fmt.Sprint(row["Id"]), true, ""
	case "update", "upsert":
		i := -1
		var existing Record
		if j.operation == "update" || strings.EqualFold(j.externalID, "Id") {
			if idOf() == "" {
				if j.operation == "update" {
					return "", false, "MISSING_ARGUMENT:Id not specified in an update call:Id --"
				}
			} else if i, existing = o.findRecord(def, idOf()); existing == nil {
				return idOf(), false, "ENTITY_IS_DELETED:entity is deleted:-- "
			}
		} else {
			key := fields[def.field(j.externalID).Name]
			if key == nil {
				return "", false, fmt.Sprintf("MISSING_ARGUMENT:%s not specified:%s --", j.externalID, j.externalID)
			}
			for k, row := range o.st.Records[def.Name] {
				if row["IsDeleted"] != true && fmt.Sprint(row[def.field(j.externalID).Name]) == fmt.Sprint(key) {
					if existing != nil {
						return "", false, fmt.Sprintf("DUPLICATE_EXTERNAL_ID:%s: more than one record found for external id field:%s --", j.externalID, j.externalID)
					}
					i, existing = k, row
				}
			}
		}
		delete(fields, "Id")
		if existing == nil {
			row, errs := o.writeRecord(def, fields, nil, now)
			if errs != nil {
				return "", false, fail(errs)
			}
			o.st.Records[def.Name] = append(o.st.Records[def.Name], row)
			return fmt.Sprint(row["Id"]), true, ""
		}
		row, errs := o.writeRecord(def, fields, existing, now)
		if errs != nil {
			return fmt.Sprint(existing["Id"]), false, fail(errs)
		}
		o.st.Records[def.Name][i] = row
		return fmt.Sprint(row["Id"]), false, ""
	default: // delete, hardDelete
		_, existing := o.findRecord(def, idOf())
		if existing == nil {
			return idOf(), false, "ENTITY_IS_DELETED:entity is deleted:--"
		}
		existing["IsDeleted"] = true
		o.stamp(existing, def.Name, now)
		return fmt.Sprint(existing["Id"]), false, ""
	}
}
