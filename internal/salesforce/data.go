package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Record is one sObject row as the REST API returns it: field name →
// value, with "attributes" giving its type and URL, and relationship
// fields as nested records.
type Record map[string]any

// Type is the record's sObject type from its attributes.
func (r Record) Type() string {
	if a, ok := r["attributes"].(map[string]any); ok {
		s, _ := a["type"].(string)
		return s
	}
	return ""
}

// String returns a field as text ("" when absent or null).
func (r Record) String(field string) string {
	var v any = map[string]any(r)
	for _, part := range strings.Split(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			if rec, ok2 := v.(Record); ok2 {
				m = rec
			} else {
				return ""
			}
		}
		v = m[part]
	}
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		if v == float64(int64(v)) {
			return fmt.Sprintf("%d", int64(v))
		}
		return fmt.Sprint(v)
	default:
		return fmt.Sprint(v)
	}
}

type queryPage struct {
	TotalSize      int               `json:"totalSize"`
	Done           bool              `json:"done"`
	NextRecordsURL string            `json:"nextRecordsUrl"`
	Records        []json.RawMessage `json:"records"`
}

// queryPages runs a query and hands each page to fn, following
// nextRecordsUrl until done.
func (c *Client) queryPages(ctx context.Context, op, endpoint, soql string, fn func(*queryPage) error) error {
	path := c.dataPath(endpoint)
	q := url.Values{"q": {soql}}
	for {
		r, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, query: q, idempotent: true, maxBody: 256 << 20})
		if err != nil {
			return err
		}
		var p queryPage
		if err := json.Unmarshal(r.body, &p); err != nil {
			return c.malformed(op, r, err)
		}
		if err := fn(&p); err != nil {
			return err
		}
		if p.Done || p.NextRecordsURL == "" {
			return nil
		}
		if !strings.HasPrefix(p.NextRecordsURL, "/services/") {
			return &Error{Op: op, Org: c.cfg.Name, Message: "nextRecordsUrl " + p.NextRecordsURL + " is not a path of this org", Err: ErrMalformed}
		}
		path, q = p.NextRecordsURL, nil
	}
}

// QueryEach runs a SOQL query and hands each page of records to fn;
// with all (queryAll), deleted and archived rows are included.
func (c *Client) QueryEach(ctx context.Context, soql string, all bool, fn func(records []Record, total int) error) error {
	endpoint := "/query"
	if all {
		endpoint = "/queryAll"
	}
	return c.queryPages(ctx, "query", endpoint, soql, func(p *queryPage) error {
		recs := make([]Record, 0, len(p.Records))
		for _, raw := range p.Records {
			var rec Record
			if err := json.Unmarshal(raw, &rec); err != nil {
				return &Error{Op: "query", Org: c.cfg.Name, Message: "a record is not a JSON object", Err: ErrMalformed}
			}
			recs = append(recs, rec)
		}
		return fn(recs, p.TotalSize)
	})
}

// Query returns every record a query matches.
func (c *Client) Query(ctx context.Context, soql string) ([]Record, error) {
	var out []Record
	err := c.QueryEach(ctx, soql, false, func(rs []Record, _ int) error {
		out = append(out, rs...)
		return nil
	})
	return out, err
}

// QueryAll is Query including deleted and archived rows.
func (c *Client) QueryAll(ctx context.Context, soql string) ([]Record, error) {
	var out []Record
	err := c.QueryEach(ctx, soql, true, func(rs []Record, _ int) error {
		out = append(out, rs...)
		return nil
	})
	return out, err
}

// SObjectInfo is one entry of describeGlobal.
type SObjectInfo struct {
	Name          string `json:"name"`
	Label         string `json:"label"`
	LabelPlural   string `json:"labelPlural"`
	KeyPrefix     string `json:"keyPrefix"`
	Custom        bool   `json:"custom"`
	Queryable     bool   `json:"queryable"`
	Retrieveable  bool   `json:"retrieveable"`
	Replicateable bool   `json:"replicateable"`
	Createable    bool   `json:"createable"`
	Updateable    bool   `json:"updateable"`
	Deletable     bool   `json:"deletable"`
	CustomSetting bool   `json:"customSetting"`
}

// DescribeGlobalResult lists the org's sObjects.
type DescribeGlobalResult struct {
	Encoding     string        `json:"encoding"`
	MaxBatchSize int           `json:"maxBatchSize"`
	SObjects     []SObjectInfo `json:"sobjects"`
}

// DescribeGlobal lists the org's sObjects.
func (c *Client) DescribeGlobal(ctx context.Context) (*DescribeGlobalResult, error) {
	var out DescribeGlobalResult
	_, err := c.restJSON(ctx, "describeGlobal", http.MethodGet, c.dataPath("/sobjects"), nil, nil, &out, true)
	return &out, err
}

// Field describes one field of an sObject.
type Field struct {
	Name              string   `json:"name"`
	Label             string   `json:"label"`
	Type              string   `json:"type"`
	SoapType          string   `json:"soapType"`
	Length            int      `json:"length"`
	Precision         int      `json:"precision"`
	Scale             int      `json:"scale"`
	Nillable          bool     `json:"nillable"`
	Createable        bool     `json:"createable"`
	Updateable        bool     `json:"updateable"`
	Calculated        bool     `json:"calculated"`
	AutoNumber        bool     `json:"autoNumber"`
	ExternalID        bool     `json:"externalId"`
	IDLookup          bool     `json:"idLookup"`
	Unique            bool     `json:"unique"`
	Custom            bool     `json:"custom"`
	DefaultedOnCreate bool     `json:"defaultedOnCreate"`
	ReferenceTo       []string `json:"referenceTo"`
	RelationshipName  string   `json:"relationshipName"`
	CompoundFieldName string   `json:"compoundFieldName"`
}

// SObjectDescribe is describe's answer for one sObject.
type SObjectDescribe struct {
	Name               string  `json:"name"`
	Label              string  `json:"label"`
	KeyPrefix          string  `json:"keyPrefix"`
	Custom             bool    `json:"custom"`
	Queryable          bool    `json:"queryable"`
	Createable         bool    `json:"createable"`
	Updateable         bool    `json:"updateable"`
	Fields             []Field `json:"fields"`
	ChildRelationships []struct {
		ChildSObject     string `json:"childSObject"`
		Field            string `json:"field"`
		RelationshipName string `json:"relationshipName"`
	} `json:"childRelationships"`
}

// Describe describes one sObject.
func (c *Client) Describe(ctx context.Context, sobject string) (*SObjectDescribe, error) {
	var out SObjectDescribe
	_, err := c.restJSON(ctx, "describe "+sobject, http.MethodGet, c.dataPath("/sobjects/"+url.PathEscape(sobject)+"/describe"), nil, nil, &out, true)
	return &out, err
}

// SaveResult is the outcome for one record of a collection write.
type SaveResult struct {
	ID      string      `json:"id"`
	Success bool        `json:"success"`
	Created bool        `json:"created"`
	Errors  []SaveError `json:"errors"`
}

// SaveError explains a failed row. Collections name the code statusCode,
// other REST calls errorCode: both land in StatusCode.
type SaveError struct {
	StatusCode string   `json:"statusCode"`
	ErrorCode  string   `json:"errorCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// Code is the error code under either name.
func (e SaveError) Code() string {
	if e.StatusCode != "" {
		return e.StatusCode
	}
	return e.ErrorCode
}

// CollectionBatch is the most records one sObject Collections call takes.
const CollectionBatch = 200

// CreateRecords inserts records (each with attributes.type) 200 per call.
// With allOrNone each call succeeds or fails whole.
func (c *Client) CreateRecords(ctx context.Context, records []Record, allOrNone bool) ([]SaveResult, error) {
	return c.collection(ctx, "create records", http.MethodPost, c.dataPath("/composite/sobjects"), records, allOrNone)
}

// UpdateRecords updates records by Id, 200 per call.
func (c *Client) UpdateRecords(ctx context.Context, records []Record, allOrNone bool) ([]SaveResult, error) {
	return c.collection(ctx, "update records", http.MethodPatch, c.dataPath("/composite/sobjects"), records, allOrNone)
}

// UpsertRecords inserts or updates records of one sObject matched on an
// external id field (or Id), 200 per call.
func (c *Client) UpsertRecords(ctx context.Context, sobject, externalIDField string, records []Record, allOrNone bool) ([]SaveResult, error) {
	return c.collection(ctx, "upsert records", http.MethodPatch, c.dataPath("/composite/sobjects/"+url.PathEscape(sobject)+"/"+url.PathEscape(externalIDField)), records, allOrNone)
}

func (c *Client) collection(ctx context.Context, op, method, path string, records []Record, allOrNone bool) ([]SaveResult, error) {
	var out []SaveResult
	for start := 0; start < len(records); start += CollectionBatch {
		batch := records[start:min(start+CollectionBatch, len(records))]
		var res []SaveResult
		if _, err := c.restJSON(ctx, op, method, path, nil, map[string]any{"allOrNone": allOrNone, "records": batch}, &res, false); err != nil {
			return out, err
		}
		if len(res) != len(batch) {
			return out, &Error{Op: op, Org: c.cfg.Name, Message: fmt.Sprintf("%d results for %d records", len(res), len(batch)), Err: ErrMalformed}
		}
		out = append(out, res...)
	}
	return out, nil
}

// DeleteRecords deletes records by id, 200 per call.
func (c *Client) DeleteRecords(ctx context.Context, ids []string, allOrNone bool) ([]SaveResult, error) {
	var out []SaveResult
	for start := 0; start < len(ids); start += CollectionBatch {
		batch := ids[start:min(start+CollectionBatch, len(ids))]
		q := url.Values{"ids": {strings.Join(batch, ",")}, "allOrNone": {fmt.Sprint(allOrNone)}}
		var res []SaveResult
		if _, err := c.restJSON(ctx, "delete records", http.MethodDelete, c.dataPath("/composite/sobjects"), q, nil, &res, false); err != nil {
			return out, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// Limit is one of the org's limits.
type Limit struct {
	Max       int `json:"Max"`
	Remaining int `json:"Remaining"`
}

// Limits reads the org's limits (DailyApiRequests, DailyBulkV2QueryJobs…).
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	var out map[string]Limit
	_, err := c.restJSON(ctx, "limits", http.MethodGet, c.dataPath("/limits"), nil, nil, &out, true)
	if err == nil {
		if l, ok := out["DailyApiRequests"]; ok && l.Max > 0 {
			c.mu.Lock()
			c.usage = Usage{Used: l.Max - l.Remaining, Max: l.Max, At: c.usage.At}
			c.mu.Unlock()
		}
	}
	return out, err
}

// Version is one API version the org serves.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists the API versions the org serves.
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	var out []Version
	_, err := c.restJSON(ctx, "versions", http.MethodGet, "/services/data", nil, nil, &out, true)
	return out, err
}
