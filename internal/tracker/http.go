package tracker

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

// request is one call to a tracker's REST API.
type request struct {
	method, url string
	body        any    // JSON-encoded unless raw
	contentType string // default application/json
	auth        func(*http.Request)
	headers     map[string]string
}

// maxBody caps what Trellis reads from a tracker's answer.
const maxBody = 16 << 20

// call sends rq and decodes a 2xx JSON answer into out (when not nil);
// anything else becomes an *Error naming what went wrong.
func call(ctx context.Context, hc *http.Client, product string, rq request, out any) (http.Header, error) {
	var body io.Reader
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, body)
	if err != nil {
		return nil, &Error{Code: CodeURL, Msg: fmt.Sprintf("The %s address is not a URL: %v", product, err)}
	}
	req.Header.Set("Accept", "application/json")
	if rq.body != nil {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range rq.headers {
		req.Header.Set(k, v)
	}
	if rq.auth != nil {
		rq.auth(req)
	}
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Code: CodeDown, Msg: fmt.Sprintf("%s did not answer at %s: %v", product, req.URL.Host, unwrapURLError(err))}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return res.Header, &Error{Code: CodeDown, Msg: fmt.Sprintf("%s's answer broke off: %v", product, err)}
	}
	if e := statusError(product, res, raw); e != nil {
		return res.Header, e
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return res.Header, nil
	}
	if !strings.Contains(res.Header.Get("Content-Type"), "json") || json.Unmarshal(raw, out) != nil {
		// Sign-in pages and proxies answer 200 with HTML: not the API.
		return res.Header, &Error{Code: CodeURL, Status: res.StatusCode, Msg: fmt.Sprintf("%s at %s did not answer like its REST API (got %s); check the address.", product, req.URL.Host, describeType(res.Header.Get("Content-Type")))}
	}
	return res.Header, nil
}

func describeType(ct string) string {
	if ct == "" {
		return "no content type"
	}
	ct, _, _ = strings.Cut(ct, ";")
	return ct
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusError classifies a non-2xx answer (and Azure DevOps's 203, its
// sign-in page for a bad token).
func statusError(product string, res *http.Response, raw []byte) *Error {
	s := res.StatusCode
	if s >= 200 && s < 300 && s != http.StatusNonAuthoritativeInfo {
		return nil
	}
	detail := apiMessage(raw)
	e := &Error{Status: s}
	switch {
	case s == http.StatusNonAuthoritativeInfo || s == http.StatusUnauthorized:
		e.Code, e.Msg = CodeAuth, fmt.Sprintf("%s refused the credentials (HTTP %d): the token is wrong, expired or revoked.", product, s)
	case s == http.StatusTooManyRequests || (s == http.StatusForbidden && res.Header.Get("X-RateLimit-Remaining") == "0"):
		e.Code, e.RetryAfter = CodeRateLimit, retryAfter(res.Header)
		e.Msg = fmt.Sprintf("%s is rate limiting Trellis; trying again in %s.", product, e.RetryAfter.Round(time.Second))
	case s == http.StatusForbidden:
		e.Code, e.Msg = CodePermission, fmt.Sprintf("%s says the token may not do this (HTTP 403)%s.", product, suffix(detail))
	case s == http.StatusNotFound || s == http.StatusGone:
		e.Code, e.Msg = CodeNotFound, fmt.Sprintf("%s has no such record (HTTP %d)%s.", product, s, suffix(detail))
	case s >= 500:
		e.Code, e.Msg = CodeDown, fmt.Sprintf("%s is failing (HTTP %d); Trellis will try again.", product, s)
	default:
		e.Code, e.Msg = CodeInvalid, fmt.Sprintf("%s refused the request (HTTP %d)%s.", product, s, suffix(detail))
	}
	return e
}

func suffix(detail string) string {
	if detail == "" {
		return ""
	}
	return ": " + detail
}

// retryAfter reads Retry-After (seconds or a date) or GitHub's reset time;
// a minute when the tracker says nothing.
func retryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
			return 0
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if d := time.Until(time.Unix(n, 0)); d > 0 {
				return d
			}
		}
	}
	return time.Minute
}

// apiMessage pulls the human part out of the trackers' error bodies:
// Jira's errorMessages/errors, Azure DevOps's and GitHub's message.
func apiMessage(raw []byte) string {
	var v struct {
		Message       string            `json:"message"`
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	parts := append([]string{}, v.ErrorMessages...)
	for k, m := range v.Errors {
		parts = append(parts, k+": "+m)
	}
	if v.Message != "" {
		parts = append(parts, v.Message)
	}
	s := strings.Join(parts, "; ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
