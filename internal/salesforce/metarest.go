package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
)

// DeployRequest is the Metadata REST resource for a deploy.
type DeployRequest struct {
	ID                       string         `json:"id"`
	ValidatedDeployRequestID string         `json:"validatedDeployRequestId"`
	DeployOptions            *DeployOptions `json:"deployOptions"`
	DeployResult             DeployResult   `json:"deployResult"`
}

// DeployREST starts a deploy through the Metadata REST API (multipart
// upload: no base64 inflation of the zip).
func (c *Client) DeployREST(ctx context.Context, zip []byte, opts DeployOptions) (*DeployRequest, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="json"`)
	h.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(h)
	if err := json.NewEncoder(pw).Encode(map[string]any{"deployOptions": opts}); err != nil {
		return nil, err
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="deploy.zip"`)
	h.Set("Content-Type", "application/zip")
	pw, _ = mw.CreatePart(h)
	pw.Write(zip)
	mw.Close()
	body := buf.Bytes()
	r, err := c.do(ctx, call{
		op: "deployRequest", method: http.MethodPost, path: c.dataPath("/metadata/deployRequest"),
		body:  func(*Token) ([]byte, error) { return body, nil },
		ctype: mw.FormDataContentType(), maxBody: 256 << 20,
	})
	if err != nil {
		return nil, err
	}
	var out DeployRequest
	if err := decodeLenient(r.body, &out); err != nil || out.ID == "" {
		if err == nil {
			err = errNoID
		}
		return nil, c.malformed("deployRequest", r, err)
	}
	return &out, nil
}

// DeployRequestStatus reads a REST deploy's status (with details).
func (c *Client) DeployRequestStatus(ctx context.Context, id string, details bool) (*DeployRequest, error) {
	q := url.Values{}
	if details {
		q.Set("includeDetails", "true")
	}
	r, err := c.do(ctx, call{op: "deployRequest status", method: http.MethodGet, path: c.dataPath("/metadata/deployRequest/" + url.PathEscape(id)), query: q, idempotent: true, maxBody: 256 << 20})
	if err != nil {
		return nil, err
	}
	var out DeployRequest
	if err := decodeLenient(r.body, &out); err != nil {
		return nil, c.malformed("deployRequest status", r, err)
	}
	return &out, nil
}

// CancelDeployREST asks for a REST deploy to stop.
func (c *Client) CancelDeployREST(ctx context.Context, id string) (*DeployRequest, error) {
	r, err := c.do(ctx, call{
		op: "cancel deployRequest", method: http.MethodPatch, path: c.dataPath("/metadata/deployRequest/" + url.PathEscape(id)),
		body: func(*Token) ([]byte, error) {
			return []byte(`{"deployResult":{"status":"Canceling"}}`), nil
		},
		ctype: "application/json", idempotent: true,
	})
	if err != nil {
		return nil, err
	}
	var out DeployRequest
	if err := decodeLenient(r.body, &out); err != nil {
		return nil, c.malformed("cancel deployRequest", r, err)
	}
	return &out, nil
}

// QuickDeployREST deploys a recent validation through REST; the answer
// carries the new deploy's id.
func (c *Client) QuickDeployREST(ctx context.Context, validationID string) (*DeployRequest, error) {
	body, _ := json.Marshal(map[string]string{"validatedDeployRequestId": validationID})
	r, err := c.do(ctx, call{
		op: "quick deploy", method: http.MethodPost, path: c.dataPath("/metadata/deployRequest/" + url.PathEscape(validationID)),
		body:  func(*Token) ([]byte, error) { return body, nil },
		ctype: "application/json",
	})
	if err != nil {
		return nil, err
	}
	var out DeployRequest
	if err := decodeLenient(r.body, &out); err != nil || out.ID == "" {
		if err == nil {
			err = errNoID
		}
		return nil, c.malformed("quick deploy", r, err)
	}
	return &out, nil
}
