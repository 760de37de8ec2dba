package salesforce

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// BulkJob is a Bulk API 2.0 query job.
type BulkJob struct {
	ID                     string  `json:"id"`
	Operation              string  `json:"operation"`
	Object                 string  `json:"object"`
	State                  string  `json:"state"` // UploadComplete, InProgress, JobComplete, Failed, Aborted
	APIVersion             float64 `json:"apiVersion"`
	NumberRecordsProcessed int     `json:"numberRecordsProcessed"`
	ErrorMessage           string  `json:"errorMessage"`
	CreatedDate            Time    `json:"createdDate"`
}

// Finished reports whether the job reached a final state.
func (j *BulkJob) Finished() bool {
	return j.State == "JobComplete" || j.State == "Failed" || j.State == "Aborted"
}

// StartBulkQuery creates a Bulk 2.0 query job (queryAll includes deleted
// rows); results come as CSV.
func (c *Client) StartBulkQuery(ctx context.Context, soql string, all bool) (*BulkJob, error) {
	op := "query"
	if all {
		op = "queryAll"
	}
	var out BulkJob
	body := map[string]string{"operation": op, "query": soql, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
	if _, err := c.restJSON(ctx, "bulk query", http.MethodPost, c.dataPath("/jobs/query"), nil, body, &out, false); err != nil {
		return nil, err
	}
	if out.ID == "" {
		return nil, &Error{Op: "bulk query", Org: c.cfg.Name, Message: "no job id in the answer", Err: ErrMalformed}
	}
	return &out, nil
}

// BulkQueryStatus reads a job's state.
func (c *Client) BulkQueryStatus(ctx context.Context, id string) (*BulkJob, error) {
	var out BulkJob
	_, err := c.restJSON(ctx, "bulk query status", http.MethodGet, c.dataPath("/jobs/query/"+url.PathEscape(id)), nil, nil, &out, true)
	return &out, err
}

// WaitBulkQuery polls a job until it finishes.
func (c *Client) WaitBulkQuery(ctx context.Context, id string, progress func(*BulkJob)) (*BulkJob, error) {
	p := c.poller()
	for {
		j, err := c.BulkQueryStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(j)
		}
		if j.Finished() {
			if j.State != "JobComplete" {
				return j, &Error{Op: "bulk query " + id, Org: c.cfg.Name, Code: j.State, Message: j.ErrorMessage}
			}
			return j, nil
		}
		if err := p.wait(ctx); err != nil {
			return j, &Error{Op: "bulk query " + id, Org: c.cfg.Name, Err: err}
		}
	}
}

// BulkQueryResults hands each page of CSV (header row first on every
// page) to fn, following Sforce-Locator until the org says "null".
// maxRecords bounds a page (0: the org's choice).
func (c *Client) BulkQueryResults(ctx context.Context, id string, maxRecords int, fn func(csv []byte, records int) error) error {
	locator := ""
	for {
		q := url.Values{}
		if locator != "" {
			q.Set("locator", locator)
		}
		if maxRecords > 0 {
			q.Set("maxRecords", strconv.Itoa(maxRecords))
		}
		r, err := c.do(ctx, call{op: "bulk query results", method: http.MethodGet, path: c.dataPath("/jobs/query/" + url.PathEscape(id) + "/results"),
			query: q, accept: "text/csv", idempotent: true, maxBody: 1 << 30})
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(r.header.Get("Sforce-NumberOfRecords"))
		if err := fn(r.body, n); err != nil {
			return err
		}
		locator = r.header.Get("Sforce-Locator")
		if locator == "" || locator == "null" {
			return nil
		}
	}
}

// AbortBulkQuery stops a job.
func (c *Client) AbortBulkQuery(ctx context.Context, id string) error {
	_, err := c.restJSON(ctx, "abort bulk query", http.MethodPatch, c.dataPath("/jobs/query/"+url.PathEscape(id)), nil, map[string]string{"state": "Aborted"}, nil, true)
	return err
}
