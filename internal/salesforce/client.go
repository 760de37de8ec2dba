package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultAPIVersion is the API version calls use unless told otherwise.
const DefaultAPIVersion = "64.0"

// Config describes the connection to one org.
type Config struct {
	// Name identifies the org in errors and logs (never a secret).
	Name        string
	Credentials Credentials
	// APIVersion of the endpoints, e.g. "64.0"; DefaultAPIVersion if empty.
	APIVersion string
	HTTPClient *http.Client // http.DefaultClient's transport with a timeout if nil
	Logger     *slog.Logger // discards if nil
	Retry      RetryPolicy
	// APIBudget is the share (0–1] of the org's daily API requests this
	// client may use; past it calls fail with a *BudgetError. 0 means 1.
	APIBudget float64
	// Poll is how long the waiting helpers (WaitDeploy, Retrieve, test
	// runs, Bulk jobs) wait between status checks: Poll.First growing by
	// half each time up to Poll.Max.
	Poll PollPolicy
	// ClientName is sent in the SOAP CallOptions header (shows in the
	// org's logs).
	ClientName string
	// RetrieveFileLimit is the most files one retrieve may hold before
	// Retrieve splits it; MaxRetrieveFiles (the API's limit) if 0.
	RetrieveFileLimit int
}

// RetryPolicy bounds retries of transient failures.
type RetryPolicy struct {
	Attempts int           // tries in all, default 5
	Base     time.Duration // first backoff, default 500ms
	Max      time.Duration // longest backoff, default 30s
}

// PollPolicy paces status polling.
type PollPolicy struct {
	First time.Duration // default 1s
	Max   time.Duration // default 10s
}

// Client is a connection to one org. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
	log  *slog.Logger

	mu    sync.Mutex
	usage Usage
	meter *callMeter // nil: no limit of its own (see Metered)
}

// callMeter counts the calls a metered client may still make.
type callMeter struct {
	mu          sync.Mutex
	limit, made int
}

// take books one call; false when none is left.
func (m *callMeter) take() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.made >= m.limit {
		return false
	}
	m.made++
	return true
}

// Metered returns a client for the same org that makes at most limit
// calls (every request it sends, retries included, counts; OAuth token
// refreshes do not, as Salesforce does not count them), refusing the next
// one with a *CallLimitError before sending it. A piece of work with a
// share of the org's daily calls uses one, so it stops at or under its
// share rather than finding out after the fact.
func (c *Client) Metered(limit int) *Client {
	return &Client{cfg: c.cfg, http: c.http, log: c.log, usage: c.Usage(), meter: &callMeter{limit: max(limit, 0)}}
}

// Calls reports how many calls a metered client has made (0 otherwise).
func (c *Client) Calls() int {
	if c.meter == nil {
		return 0
	}
	c.meter.mu.Lock()
	defer c.meter.mu.Unlock()
	return c.meter.made
}

// Usage is the org's API consumption as last reported by Sforce-Limit-Info.
type Usage struct {
	Used, Max int
	At        time.Time
}

// New returns a client for the org cfg describes.
func New(cfg Config) (*Client, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("salesforce: Config.Credentials is required")
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	v, err := normalizeVersion(cfg.APIVersion)
	if err != nil {
		return nil, err
	}
	cfg.APIVersion = v
	if cfg.Retry.Attempts <= 0 {
		cfg.Retry.Attempts = 5
	}
	if cfg.Retry.Base <= 0 {
		cfg.Retry.Base = 500 * time.Millisecond
	}
	if cfg.Retry.Max <= 0 {
		cfg.Retry.Max = 30 * time.Second
	}
	if cfg.Poll.First <= 0 {
		cfg.Poll.First = time.Second
	}
	if cfg.Poll.Max <= 0 {
		cfg.Poll.Max = 10 * time.Second
	}
	if cfg.APIBudget <= 0 || cfg.APIBudget > 1 {
		cfg.APIBudget = 1
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "trellis"
	}
	hc := cfg.HTTPClient
	if hc == nil {
		// Retrieves of big orgs stream tens of megabytes; calls still end.
		hc = &http.Client{Timeout: 10 * time.Minute}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, http: hc, log: log}, nil
}

func normalizeVersion(v string) (string, error) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 31 || f != float64(int(f)) {
		return "", fmt.Errorf("salesforce: API version %q: want a whole version of 31.0 or later, like 64.0", v)
	}
	return fmt.Sprintf("%d.0", int(f)), nil
}

// APIVersion is the version of the endpoints the client calls.
func (c *Client) APIVersion() string { return c.cfg.APIVersion }

// Name is the org's name as configured.
func (c *Client) Name() string { return c.cfg.Name }

// Usage returns the org's API usage as last seen.
func (c *Client) Usage() Usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usage
}

// call is one API request.
type call struct {
	op     string
	method string
	path   string // below the instance URL, e.g. /services/data/v64.0/query
	query  url.Values
	// body builds the request body; SOAP bodies carry the session id, so
	// it is rebuilt for each attempt with the current token.
	body   func(tok *Token) ([]byte, error)
	ctype  string
	accept string
	header http.Header
	// idempotent calls are retried after any transient failure; others
	// only when the org surely did not act (503, REQUEST_LIMIT_EXCEEDED,
	// a connection that was never made).
	idempotent bool
	soap       bool
	maxBody    int64 // default 64 MiB
	// okStatus lists statuses that are answers rather than errors
	// (e.g. 300 for an ambiguous upsert); 2xx always are.
	okStatus []int
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *Client) orgLabel(tok *Token) string {
	if c.cfg.Name != "" {
		return c.cfg.Name
	}
	if tok != nil {
		return tok.InstanceURL
	}
	return ""
}

// do sends a call with the retry, refresh and budget rules.
func (c *Client) do(ctx context.Context, cl call) (*response, error) {
	var (
		refreshed bool
		lastErr   error
	)
	for attempt := 0; attempt < c.cfg.Retry.Attempts; attempt++ {
		if attempt > 0 {
			if err := c.backoff(ctx, attempt, lastErr); err != nil {
				return nil, err
			}
		}
		if err := c.checkBudget(); err != nil {
			return nil, err
		}
		if c.meter != nil && !c.meter.take() {
			return nil, &CallLimitError{Org: c.cfg.Name, Limit: c.meter.limit}
		}
		tok, err := c.cfg.Credentials.Token(ctx)
		if err != nil {
			return nil, c.authError(cl.op, err)
		}
		resp, err := c.send(ctx, cl, tok)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &Error{Op: cl.op, Org: c.orgLabel(tok), Err: ctx.Err()}
			}
			lastErr = &Error{Op: cl.op, Org: c.orgLabel(tok), Err: err}
			if cl.idempotent || neverSent(err) {
				c.log.Warn("salesforce request failed, retrying", "org", c.orgLabel(tok), "op", cl.op, "attempt", attempt+1, "error", redact(err.Error(), tok.AccessToken))
				continue
			}
			return nil, lastErr
		}
		apiErr := c.classify(cl, tok, resp)
		if apiErr == nil {
			return resp, nil
		}
		switch {
		case apiErr.Code == "INVALID_SESSION_ID" || (resp.status == http.StatusUnauthorized && !cl.soap):
			if refreshed {
				return nil, apiErr
			}
			refreshed = true
			if _, err := c.cfg.Credentials.Refresh(ctx, tok); err != nil {
				if errors.Is(err, ErrNoSession) {
					// Nothing to refresh with: the org's own words say why.
					apiErr.Err = ErrNoSession
					return nil, apiErr
				}
				return nil, c.authError(cl.op, err)
			}
			attempt-- // a refreshed session is not a retry
			lastErr = nil
			continue
		case retryable(apiErr, resp.status, cl.idempotent):
			lastErr = apiErr
			c.log.Warn("salesforce request failed, retrying", "org", c.orgLabel(tok), "op", cl.op, "attempt", attempt+1, "status", resp.status, "code", apiErr.Code)
			continue
		default:
			return nil, apiErr
		}
	}
	return nil, lastErr
}

func (c *Client) authError(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		if e.Op == "" {
			e.Op = op
		}
		if e.Org == "" {
			e.Org = c.cfg.Name
		}
		if !errors.Is(e, ErrNoSession) && (e.Code == "invalid_grant" || e.Code == "inactive_user" || e.Code == "inactive_org") {
			return &Error{Op: op, Org: c.cfg.Name, Status: e.Status, Code: e.Code, Message: e.Message, Err: ErrNoSession}
		}
		return e
	}
	if errors.Is(err, ErrNoSession) {
		return &Error{Op: op, Org: c.cfg.Name, Err: err}
	}
	return &Error{Op: op, Org: c.cfg.Name, Message: "authentication failed", Err: err}
}

// neverSent reports whether the request cannot have reached the org.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func retryable(e *Error, status int, idempotent bool) bool {
	switch e.Code {
	case "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE":
		return true
	case "UNKNOWN_EXCEPTION":
		return idempotent
	}
	if errors.Is(e, ErrMalformed) && status < 500 {
		return false
	}
	switch status {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent
	}
	return false
}

// backoff waits before retry attempt n: exponential with jitter, or what
// the org asked for in Retry-After.
func (c *Client) backoff(ctx context.Context, n int, last error) error {
	d := c.cfg.Retry.Base << (n - 1)
	if d > c.cfg.Retry.Max || d <= 0 {
		d = c.cfg.Retry.Max
	}
	d = d/2 + rand.N(d/2+1)
	var re *retryAfterError
	if errors.As(last, &re) && re.after > d {
		d = min(re.after, c.cfg.Retry.Max)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return &Error{Op: "wait", Org: c.cfg.Name, Err: ctx.Err()}
	case <-t.C:
		return nil
	}
}

type retryAfterError struct{ after time.Duration }

func (e *retryAfterError) Error() string { return "retry after " + e.after.String() }

func (c *Client) send(ctx context.Context, cl call, tok *Token) (*response, error) {
	if tok.InstanceURL == "" {
		return nil, errors.New("the token has no instance URL")
	}
	u := strings.TrimSuffix(tok.InstanceURL, "/") + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		b, err := cl.body(tok)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	if cl.ctype != "" {
		req.Header.Set("Content-Type", cl.ctype)
	}
	if cl.accept != "" {
		req.Header.Set("Accept", cl.accept)
	} else if !cl.soap {
		req.Header.Set("Accept", "application/json")
	}
	if cl.soap {
		req.Header.Set("SOAPAction", `""`)
	} else {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	req.Header.Set("User-Agent", "trellis-salesforce/1")
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, errors.New(redact(err.Error(), tok.AccessToken))
	}
	defer resp.Body.Close()
	limit := cl.maxBody
	if limit <= 0 {
		limit = 64 << 20
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the answer is larger than %d MiB", limit>>20)
	}
	c.trackUsage(resp.Header.Get("Sforce-Limit-Info"))
	c.log.Debug("salesforce request", "org", c.orgLabel(tok), "op", cl.op, "method", cl.method, "path", cl.path,
		"status", resp.StatusCode, "bytes", len(data), "ms", time.Since(start).Milliseconds())
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// classify turns a non-success answer into an *Error, or returns nil.
func (c *Client) classify(cl call, tok *Token, r *response) *Error {
	org := c.orgLabel(tok)
	if cl.soap {
		if r.status == http.StatusOK {
			return nil
		}
		if f := parseFault(r.body); f != nil {
			return &Error{Op: cl.op, Org: org, Status: r.status, Code: f.code, Message: redact(f.message, tok.AccessToken)}
		}
		return &Error{Op: cl.op, Org: org, Status: r.status, Message: fmt.Sprintf("HTTP %d", r.status),
			Excerpt: excerpt(r.body, tok.AccessToken), Err: ErrMalformed}
	}
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	for _, s := range cl.okStatus {
		if s == r.status {
			return nil
		}
	}
	e := &Error{Op: cl.op, Org: org, Status: r.status}
	if code, msg, ok := parseRESTError(r.body); ok {
		e.Code, e.Message = code, redact(msg, tok.AccessToken)
	} else {
		e.Message = fmt.Sprintf("HTTP %d", r.status)
		e.Excerpt = excerpt(r.body, tok.AccessToken)
		if r.status < 500 && r.status != http.StatusTooManyRequests {
			e.Err = ErrMalformed
		}
	}
	if ra := r.header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && e.Err == nil {
			e.Err = &retryAfterError{time.Duration(s) * time.Second}
		}
	}
	return e
}

// parseRESTError reads the error shapes of the REST family: an array of
// {message, errorCode|statusCode}, or an OAuth-style {error,
// error_description}.
func parseRESTError(body []byte) (code, msg string, ok bool) {
	var arr []struct {
		Message    string `json:"message"`
		ErrorCode  string `json:"errorCode"`
		StatusCode string `json:"statusCode"`
	}
	if json.Unmarshal(body, &arr) == nil && len(arr) > 0 {
		code = arr[0].ErrorCode
		if code == "" {
			code = arr[0].StatusCode
		}
		msgs := make([]string, 0, len(arr))
		for _, a := range arr {
			msgs = append(msgs, a.Message)
		}
		return code, strings.Join(msgs, "; "), code != "" || msgs[0] != ""
	}
	var obj struct {
		Error     string `json:"error"`
		Desc      string `json:"error_description"`
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if json.Unmarshal(body, &obj) == nil {
		if obj.Error != "" {
			return obj.Error, obj.Desc, true
		}
		if obj.ErrorCode != "" {
			return obj.ErrorCode, obj.Message, true
		}
	}
	return "", "", false
}

// trackUsage records "api-usage=25/15000".
func (c *Client) trackUsage(h string) {
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k != "api-usage" {
			continue
		}
		u, m, ok := strings.Cut(v, "/")
		if !ok {
			continue
		}
		used, err1 := strconv.Atoi(u)
		max, err2 := strconv.Atoi(m)
		if err1 != nil || err2 != nil || max <= 0 {
			continue
		}
		c.mu.Lock()
		c.usage = Usage{Used: used, Max: max, At: time.Now()}
		c.mu.Unlock()
	}
}

func (c *Client) checkBudget() error {
	if c.cfg.APIBudget >= 1 {
		return nil
	}
	c.mu.Lock()
	u := c.usage
	c.mu.Unlock()
	if u.Max == 0 || float64(u.Used) < c.cfg.APIBudget*float64(u.Max) {
		return nil
	}
	return &BudgetError{Org: c.cfg.Name, Used: u.Used, Max: u.Max, Share: c.cfg.APIBudget}
}

// restJSON sends a JSON call and decodes the answer into out (if not nil).
func (c *Client) restJSON(ctx context.Context, op, method, path string, query url.Values, in, out any, idempotent bool) (*response, error) {
	cl := call{op: op, method: method, path: path, query: query, idempotent: idempotent}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		cl.body = func(*Token) ([]byte, error) { return b, nil }
		cl.ctype = "application/json"
	}
	r, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := decodeJSON(r.body, out); err != nil {
			return nil, c.malformed(op, r, err)
		}
	}
	return r, nil
}

func (c *Client) malformed(op string, r *response, err error) error {
	return &Error{Op: op, Org: c.cfg.Name, Status: r.status, Message: "unexpected answer: " + err.Error(),
		Excerpt: excerpt(r.body), Err: ErrMalformed}
}

func (c *Client) dataPath(rest string) string {
	return "/services/data/v" + c.cfg.APIVersion + rest
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// poller paces repeated status checks.
type poller struct {
	next, max time.Duration
}

func (c *Client) poller() *poller { return &poller{next: c.cfg.Poll.First, max: c.cfg.Poll.Max} }

func (p *poller) wait(ctx context.Context) error {
	d := p.next
	p.next = min(p.max, p.next+p.next/2)
	return sleep(ctx, d)
}
