// Package ciclient is what `trellis ci` runs in a pipeline (GitHub Actions,
// GitLab CI, Jenkins…): it validates, promotes and deploys builds through
// Trellis's JSON API with a personal API token, waits for the outcome, and
// says how it went in one result that maps to an exit code.
package ciclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Outcome is how a command ended, and so the process's exit code.
type Outcome string

const (
	Succeeded Outcome = "succeeded" // exit 0
	Failed    Outcome = "failed"    // exit 1: the validation or deploy failed, or a gate refused it
	Pending   Outcome = "pending"   // exit 3: still running (no --wait, or the wait timed out)
)

// ExitCode maps an outcome to the process's exit code; 2 is a usage error
// and 4 an error talking to Trellis, both decided by the caller.
func (o Outcome) ExitCode() int {
	switch o {
	case Succeeded:
		return 0
	case Pending:
		return 3
	}
	return 1
}

// Result is what a command prints (as JSON with --json).
type Result struct {
	Outcome    Outcome        `json:"outcome"`
	Message    string         `json:"message"`
	Kind       string         `json:"kind"` // validation, promotion, deployment, build
	ID         int64          `json:"id"`
	Status     string         `json:"status"`
	URL        string         `json:"url"`
	Problems   []string       `json:"problems,omitempty"`
	Raw        map[string]any `json:"detail,omitempty"`
	PromotedTo string         `json:"stage,omitempty"`
}

// Client talks to one Trellis server.
type Client struct {
	Server string
	Token  string
	HTTP   *http.Client
	// Poll is how often a wait asks again (default 2 s).
	Poll time.Duration
}

// APIError is an answer Trellis gave instead of doing the thing.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code) }

// Refused reports whether Trellis refused the request on its merits (a gate
// not met, bad input, a conflict), as opposed to not letting the caller in
// or failing to answer.
func (e *APIError) Refused() bool {
	return e.Status == http.StatusBadRequest || e.Status == http.StatusConflict || e.Status == http.StatusUnprocessableEntity
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Server, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("reach Trellis at %s: %w", c.Server, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var e struct {
			Error struct {
				Code    string            `json:"code"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
			} `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		msg := e.Error.Message
		for _, f := range e.Error.Fields {
			msg += " " + f
		}
		if msg == "" {
			msg = strings.TrimSpace(string(data))
		}
		return &APIError{Status: res.StatusCode, Code: e.Error.Code, Message: msg}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (c *Client) link(path string) string { return strings.TrimSuffix(c.Server, "/") + path }

// refusal turns a 4xx into a failed result (a gate said no); other errors
// stay errors.
func refusal(kind string, err error) (Result, error) {
	var ae *APIError
	if errors.As(err, &ae) && ae.Refused() {
		return Result{Outcome: Failed, Kind: kind, Message: ae.Message}, nil
	}
	return Result{}, err
}

// waitFor polls until done says the thing ended, or ctx ends (then the
// result is pending).
func (c *Client) waitFor(ctx context.Context, check func() (bool, error)) (bool, error) {
	poll := c.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	for {
		done, err := check()
		if err != nil || done {
			return done, err
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(poll):
		}
	}
}

type validation struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Result struct {
		ComponentErrors []problem `json:"component_errors"`
		TestFailures    []problem `json:"test_failures"`
	} `json:"result"`
	Finished *time.Time `json:"finished_at"`
}

type problem struct {
	Where   string `json:"where"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func (p problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.Where, p.Line, p.Message)
	}
	return p.Where + ": " + p.Message
}

// Validate runs a check-only deploy of a build into an org (by id or name)
// and, with wait, waits for its outcome.
func (c *Client) Validate(ctx context.Context, build int64, org, testLevel string, wait bool) (Result, error) {
	orgID, err := c.orgID(ctx, org)
	if err != nil {
		return Result{}, err
	}
	var v validation
	if err := c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/builds/%d/validations", build), map[string]any{"org_id": orgID, "test_level": testLevel}, &v); err != nil {
		return refusal("validation", err)
	}
	if wait {
		_, err := c.waitFor(ctx, func() (bool, error) {
			var list struct{ Items []validation }
			if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/builds/%d/validations", build), nil, &list); err != nil {
				return false, err
			}
			for _, x := range list.Items {
				if x.ID == v.ID {
					v = x
				}
			}
			return v.Finished != nil, nil
		})
		if err != nil {
			return Result{}, err
		}
	}
	r := Result{Kind: "validation", ID: v.ID, Status: v.Status, URL: c.link(fmt.Sprintf("/builds/%d#validations", build))}
	for _, p := range v.Result.ComponentErrors {
		r.Problems = append(r.Problems, p.String())
	}
	for _, p := range v.Result.TestFailures {
		r.Problems = append(r.Problems, p.String())
	}
	switch {
	case v.Finished == nil:
		r.Outcome, r.Message = Pending, fmt.Sprintf("Validation #%d is %s.", v.ID, v.Status)
	case v.Status == "succeeded":
		r.Outcome, r.Message = Succeeded, fmt.Sprintf("Validation #%d passed.", v.ID)
	default:
		r.Outcome, r.Message = Failed, fmt.Sprintf("Validation #%d %s. %s", v.ID, v.Status, v.Error)
	}
	return r, nil
}

type promotion struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	StageName string `json:"stage"`
	Reason    string `json:"reason"`
}

// Promote opens a promotion of a build into a stage ("" for the next one it
// is not deployed in).
func (c *Client) Promote(ctx context.Context, build int64, stage string) (Result, error) {
	var p promotion
	if err := c.do(ctx, http.MethodPost, "/api/v1/promotions", map[string]any{"build_id": build, "stage": stage}, &p); err != nil {
		return refusal("promotion", err)
	}
	return Result{Outcome: Succeeded, Kind: "promotion", ID: p.ID, Status: p.Status, PromotedTo: p.StageName, URL: c.link(fmt.Sprintf("/promotions/%d", p.ID)),
		Message: fmt.Sprintf("Promotion #%d into %s is %s.", p.ID, p.StageName, p.Status)}, nil
}

type deployment struct {
	ID       int64      `json:"id"`
	Kind     string     `json:"kind"`
	Status   string     `json:"status"`
	Error    string     `json:"error"`
	Finished *time.Time `json:"finished_at"`
	Result   struct {
		ComponentErrors []problem `json:"component_errors"`
		TestFailures    []problem `json:"test_failures"`
	} `json:"result"`
}

// Deploy promotes a build into a stage (or deploys an open promotion) and,
// with wait, waits for the deployment's outcome. A gate that is not met
// (approvals, validation, a change window) fails with its reason.
func (c *Client) Deploy(ctx context.Context, build int64, stage string, promotionID int64, wait bool) (Result, error) {
	if promotionID == 0 {
		r, err := c.Promote(ctx, build, stage)
		if err != nil || r.Outcome != Succeeded {
			return r, err
		}
		promotionID = r.ID
	}
	var d deployment
	if err := c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/promotions/%d/deploy", promotionID), map[string]any{}, &d); err != nil {
		r, err := refusal("deployment", err)
		r.URL = c.link(fmt.Sprintf("/promotions/%d", promotionID))
		return r, err
	}
	return c.deployment(ctx, d.ID, wait)
}

func (c *Client) deployment(ctx context.Context, id int64, wait bool) (Result, error) {
	var d deployment
	get := func() error {
		var body struct{ Deployment deployment }
		if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/deployments/%d", id), nil, &body); err != nil {
			return err
		}
		d = body.Deployment
		return nil
	}
	if err := get(); err != nil {
		return Result{}, err
	}
	if wait {
		if _, err := c.waitFor(ctx, func() (bool, error) { return d.Finished != nil, get() }); err != nil {
			return Result{}, err
		}
		if d.Finished == nil {
			if err := get(); err != nil {
				return Result{}, err
			}
		}
	}
	r := Result{Kind: "deployment", ID: d.ID, Status: d.Status, URL: c.link(fmt.Sprintf("/deployments/%d", d.ID))}
	for _, p := range append(d.Result.ComponentErrors, d.Result.TestFailures...) {
		r.Problems = append(r.Problems, p.String())
	}
	switch {
	case d.Finished == nil:
		r.Outcome, r.Message = Pending, fmt.Sprintf("Deployment #%d is %s.", d.ID, d.Status)
	case d.Status == "succeeded":
		r.Outcome, r.Message = Succeeded, fmt.Sprintf("Deployment #%d (%s) succeeded.", d.ID, strings.ReplaceAll(d.Kind, "_", " "))
	default:
		r.Outcome, r.Message = Failed, fmt.Sprintf("Deployment #%d %s. %s", d.ID, d.Status, d.Error)
	}
	return r, nil
}

// Status reports where a promotion, deployment or validation stands
// (kind: promotion, deployment, build), waiting for the end with wait.
func (c *Client) Status(ctx context.Context, kind string, id int64, wait bool) (Result, error) {
	switch kind {
	case "deployment":
		return c.deployment(ctx, id, wait)
	case "promotion":
		var body struct {
			Promotion   promotion
			Deployments []deployment
		}
		if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/promotions/%d", id), nil, &body); err != nil {
			return Result{}, err
		}
		if len(body.Deployments) > 0 && (wait || body.Deployments[0].Finished != nil) {
			return c.deployment(ctx, body.Deployments[0].ID, wait)
		}
		p := body.Promotion
		r := Result{Kind: "promotion", ID: p.ID, Status: p.Status, PromotedTo: p.StageName, URL: c.link(fmt.Sprintf("/promotions/%d", p.ID)),
			Message: fmt.Sprintf("Promotion #%d into %s is %s.", p.ID, p.StageName, p.Status)}
		switch p.Status {
		case "deployed":
			r.Outcome = Succeeded
		case "failed", "rejected", "abandoned", "canceled", "rolled_back":
			r.Outcome = Failed
			if p.Reason != "" {
				r.Message += " " + p.Reason
			}
		default:
			r.Outcome = Pending
		}
		return r, nil
	}
	return Result{}, fmt.Errorf("status of %q: use promotion or deployment", kind)
}

// orgID resolves an org given by id or by name.
func (c *Client) orgID(ctx context.Context, org string) (int64, error) {
	if id, err := strconv.ParseInt(org, 10, 64); err == nil {
		return id, nil
	}
	var list struct {
		Items []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		}
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/orgs", nil, &list); err != nil {
		return 0, err
	}
	for _, o := range list.Items {
		if strings.EqualFold(o.Name, org) {
			return o.ID, nil
		}
	}
	return 0, &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "There is no connected org named " + url.QueryEscape(org) + "."}
}
