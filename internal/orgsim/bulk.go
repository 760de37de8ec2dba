package orgsim

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

type bulkJob struct {
	id, operation, object, query, delimiter, lineEnding string
	version                                             string
	created                                             time.Time
	step                                                time.Duration
	header                                              []string
	rows                                                [][]string
	aborted                                             bool
	err                                                 string
}

func (j *bulkJob) state(now time.Time) string {
	switch {
	case j.aborted:
		return "Aborted"
	case j.err != "":
		return "Failed"
	case now.Before(j.created.Add(j.step)):
		return "UploadComplete"
	case now.Before(j.created.Add(2 * j.step)):
		return "InProgress"
	}
	return "JobComplete"
}

func (o *Org) bulkInfo(j *bulkJob, now time.Time) map[string]any {
	st := j.state(now)
	info := map[string]any{
		"id": j.id, "operation": j.operation, "object": j.object, "createdById": o.st.UserID, "createdDate": restTime(j.created),
		"systemModstamp": restTime(now), "state": st, "concurrencyMode": "Parallel", "contentType": "CSV",
		"apiVersion": json64(j.version), "lineEnding": j.lineEnding, "columnDelimiter": j.delimiter, "jobType": "V2Query",
		"numberRecordsProcessed": 0, "retries": 0, "totalProcessingTime": 0, "isPkChunkingSupported": true,
	}
	if st == "JobComplete" {
		info["numberRecordsProcessed"] = len(j.rows)
		info["totalProcessingTime"] = int(2 * j.step / time.Millisecond)
	}
	if j.err != "" {
		info["errorMessage"] = j.err
	}
	return info
}

func json64(v string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimPrefix(v, "v"), 64)
	return f
}

var delimiters = map[string]rune{"COMMA": ',', "TAB": '\t', "PIPE": '|', "SEMICOLON": ';', "CARET": '^', "BACKQUOTE": '`'}

func (o *Org) bulkCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Operation       string `json:"operation"`
		Query           string `json:"query"`
		ContentType     string `json:"contentType"`
		ColumnDelimiter string `json:"columnDelimiter"`
		LineEnding      string `json:"lineEnding"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	body.ColumnDelimiter = nonEmpty(body.ColumnDelimiter, "COMMA")
	body.LineEnding = nonEmpty(body.LineEnding, "LF")
	switch {
	case body.Operation != "query" && body.Operation != "queryAll":
		restError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : operation must be query or queryAll")
		return
	case body.ContentType != "" && body.ContentType != "CSV":
		restError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : contentType must be CSV")
		return
	case delimiters[body.ColumnDelimiter] == 0:
		restError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : unknown columnDelimiter "+body.ColumnDelimiter)
		return
	case body.LineEnding != "LF" && body.LineEnding != "CRLF":
		restError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : lineEnding must be LF or CRLF")
		return
	}
	q, err := parseSOQL(body.Query)
	if err == nil && (q.count || q.offset > 0) {
		err = malformed("Bulk API query does not support COUNT() or OFFSET")
	}
	if err != nil {
		o.queryFailed(w, err)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t, err := o.tableFor(q.from, false, body.Operation == "queryAll")
	if err != nil {
		o.queryFailed(w, err)
		return
	}
	matched, _, err := t.run(q)
	if err != nil {
		o.queryFailed(w, err)
		return
	}
	j := &bulkJob{id: o.nextID("750"), operation: body.Operation, object: t.name, query: body.Query, delimiter: body.ColumnDelimiter,
		lineEnding: body.LineEnding, version: chi.URLParam(r, "version"), created: time.Now(), step: o.sim.opts.Step, header: q.fields}
	for _, row := range matched {
		var rec []string
		for _, f := range q.fields {
			v, _ := t.get(row, f)
			rec = append(rec, csvValue(v))
		}
		j.rows = append(j.rows, rec)
	}
	o.bulk[j.id] = j
	info := o.bulkInfo(j, j.created)
	delete(info, "jobType")
	delete(info, "numberRecordsProcessed")
	delete(info, "retries")
	delete(info, "totalProcessingTime")
	delete(info, "isPkChunkingSupported")
	writeJSON(w, http.StatusOK, info)
}

func csvValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	case float64:
		if v == float64(int64(v)) {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func (o *Org) bulkJob(w http.ResponseWriter, r *http.Request) *bulkJob {
	id := chi.URLParam(r, "id")
	for k, j := range o.bulk {
		if sameID(k, id) {
			return j
		}
	}
	restError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	return nil
}

func (o *Org) bulkGet(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if j := o.bulkJob(w, r); j != nil {
		writeJSON(w, http.StatusOK, o.bulkInfo(j, time.Now()))
	}
}

func (o *Org) bulkList(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var jobs []*bulkJob
	for _, j := range o.bulk {
		jobs = append(jobs, j)
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].created.Before(jobs[b].created) })
	var records []map[string]any
	for _, j := range jobs {
		records = append(records, o.bulkInfo(j, time.Now()))
	}
	if records == nil {
		records = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"done": true, "records": records, "nextRecordsUrl": nil})
}

func (o *Org) bulkAbort(w http.ResponseWriter, r *http.Request) {
	var body struct {
		State string `json:"state"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.bulkJob(w, r)
	if j == nil {
		return
	}
	if body.State != "Aborted" {
		restError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "only state Aborted can be set")
		return
	}
	if st := j.state(time.Now()); st == "JobComplete" || st == "Failed" {
		restError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job is already "+st)
		return
	}
	j.aborted = true
	writeJSON(w, http.StatusOK, o.bulkInfo(j, time.Now()))
}

func (o *Org) bulkDelete(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.bulkJob(w, r)
	if j == nil {
		return
	}
	if st := j.state(time.Now()); st == "UploadComplete" || st == "InProgress" {
		restError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job must be aborted or complete before it is deleted")
		return
	}
	delete(o.bulk, j.id)
	w.WriteHeader(http.StatusNoContent)
}

// bulkResults pages the job's CSV with locators.
func (o *Org) bulkResults(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	j := o.bulkJob(w, r)
	if j == nil {
		return
	}
	if st := j.state(time.Now()); st != "JobComplete" {
		restError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job is not complete: "+st)
		return
	}
	if chi.URLParam(r, "version") != j.version {
		restError(w, http.StatusConflict, "INVALIDJOBSTATE", "Results must be fetched with the API version that created the job ("+j.version+")")
		return
	}
	start := 0
	if loc := r.URL.Query().Get("locator"); loc != "" {
		n, err := strconv.Atoi(loc)
		if err != nil || n < 0 || n > len(j.rows) {
			restError(w, http.StatusBadRequest, "INVALIDLOCATOR", "invalid locator")
			return
		}
		start = n
	}
	page := 50000
	if m := r.URL.Query().Get("maxRecords"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n <= 0 {
			restError(w, http.StatusBadRequest, "INVALIDPARAMETER", "maxRecords must be a positive integer")
			return
		}
		page = n
	}
	end := min(start+page, len(j.rows))
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Comma = delimiters[j.delimiter]
	cw.UseCRLF = j.lineEnding == "CRLF"
	cw.Write(j.header)
	cw.WriteAll(j.rows[start:end])
	locator := "null"
	if end < len(j.rows) {
		locator = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Sforce-Locator", locator)
	w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(end-start))
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}
