package server_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
)

// TestBadTextIsRefusedNotStored sends NUL bytes and invalid UTF-8 through
// every way text reaches Trellis: the query, the path, JSON and forms.
// Each must be a 400 that says what is wrong, never a 500 from the
// database refusing to store it.
func TestBadTextIsRefusedNotStored(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	u := b.user(alm.RoleAdmin, "admin2@example.com")
	plan := seedPlan(t, b)
	tok := b.token(u)
	br := b.signedIn(u)
	reqs := "/api/v1/projects/" + plan.project.Key + "/requirements"
	for _, c := range []struct {
		name string
		do   func() response
		want string
	}{
		{"QueryNUL", func() response { return br.get("/projects/" + plan.project.Key + "/search?q=a%00b") }, "parameter q"},
		{"QueryBadUTF8", func() response { return b.api("GET", reqs+"?q=%ff%fe", tok, nil) }, "parameter q"},
		{"APIQueryNUL", func() response { return b.api("GET", "/api/v1/search?q=%00", tok, nil) }, "parameter q"},
		{"PathNUL", func() response { return br.get("/requirements/CRM-REQ-1%00") }, "path"},
		{"JSONEscapedNUL", func() response {
			return b.api("POST", reqs, tok, strings.NewReader(`{"title":"a\u0000b"}`))
		}, "NUL"},
		{"JSONBadUTF8", func() response {
			return b.api("POST", reqs, tok, bytes.NewReader([]byte("{\"title\":\"a\xff\"}")))
		}, "UTF-8"},
		{"FormNUL", func() response {
			return br.post("/projects/"+plan.project.Key+"/requirements", url.Values{"title": {"bad\x00title"}})
		}, "form's title"},
		{"FormBadUTF8", func() response {
			return br.post("/requirements/"+plan.req.Key+"/comments", url.Values{"body": {"\xc3\x28"}})
		}, "form's body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := c.do()
			require.Equal(t, http.StatusBadRequest, res.status, snippet(res.body))
			require.Contains(t, strings.ReplaceAll(res.body, "&#39;", "'"), c.want, snippet(res.body))
		})
	}
	// Nothing was stored.
	list := b.api("GET", reqs, tok, nil)
	require.NotContains(t, list.body, "bad")
}

// TestUploadOverTheLimitSaysSo: a form over the body limit is told its
// size limit (413), not that the form expired.
func TestUploadOverTheLimitSaysSo(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	u := b.user(alm.RoleAdmin, "admin2@example.com")
	plan := seedPlan(t, b)
	br := b.signedIn(u)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", br.csrf())
	mw.WriteField("kind", "problem")
	mw.WriteField("title", "Too big")
	fw, _ := mw.CreateFormFile("screenshot", "shot.png")
	fw.Write(bytes.Repeat([]byte{0x89}, 11<<20))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/projects/"+plan.project.Key+"/feedback", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res := br.do(req)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.status, snippet(res.body))
	require.Contains(t, res.body, "10 MB")
	require.NotContains(t, res.body, "expired")
}
