package server_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gittest"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/store"
)

// TestWebhooks sends work item and alert events to a receiver that checks
// each signature and fails its first request (the delivery is retried),
// and takes a signed push from a git host that snapshots the branch while
// an unsigned one is refused.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true})
	sd := seedPlan(t, b)
	tok := b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	const secret = "a-long-shared-secret-123"

	var mu sync.Mutex
	var got []map[string]any
	var calls atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("X-Trellis-Signature") != jobs.WebhookSignature([]byte(secret), r.Header.Get("X-Trellis-Timestamp"), body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)

	res := b.api("POST", "/api/v1/webhooks", tok, strings.NewReader(`{"url":"`+receiver.URL+`/in/token-abc","secret":"short","events":["work_item"]}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	res = b.api("POST", "/api/v1/webhooks", tok, strings.NewReader(`{"url":"`+receiver.URL+`/in/token-abc","secret":"`+secret+`","events":["work_item","alert"]}`))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	require.NotContains(t, res.body, "token-abc")
	require.NotContains(t, res.body, secret)
	hook := decode[alm.Webhook](t, res)

	_, err := b.store.MoveWorkItem(b.ctx, sd.item.Key, alm.WorkReady, "")
	require.NoError(t, err)
	_, err = b.store.CreateAlert(b.ctx, store.NewAlert{Kind: alm.AlertDrift, Severity: alm.SevWarning, Title: "Changed in Setup"})
	require.NoError(t, err)
	_, err = b.store.CreateRelease(b.ctx, sd.project.ID, alm.ReleaseInput{Name: "Not subscribed"})
	require.NoError(t, err)

	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 }, 60*time.Second, 100*time.Millisecond,
		"both events arrive, the first after a retry")
	mu.Lock()
	events := []string{got[0]["event"].(string), got[1]["event"].(string)}
	mu.Unlock()
	require.ElementsMatch(t, []string{"work_item.status", "alert.drift"}, events, "release events are not subscribed to")
	res = b.api("GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", hook.ID), tok, nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	ds := decode[struct{ Items []alm.WebhookDelivery }](t, res).Items
	require.Len(t, ds, 2)
	attempts := ds[0].Attempts + ds[1].Attempts
	require.Equal(t, 3, attempts, "one retried")
	page := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get("/admin/webhooks")
	require.Equal(t, http.StatusOK, page.status)
	require.NotContains(t, page.body, "token-abc")

	// A push in: the repository's secret signs it as GitHub would.
	src := t.TempDir()
	gittest.Init(t, src, "main")
	require.NoError(t, os.WriteFile(filepath.Join(src, "sfdx-project.json"), []byte(`{"packageDirectories":[{"path":"force-app","default":true}]}`), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(src, "force-app/main/default/classes"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "force-app/main/default/classes/A.cls"), []byte("public class A {}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "force-app/main/default/classes/A.cls-meta.xml"), []byte(testClassMeta), 0o644))
	gittest.CommitAll(t, src, "one")
	res = b.api("POST", "/api/v1/repositories", tok, strings.NewReader(fmt.Sprintf(`{"name":"crm","url":"file://%s"}`, src)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	repo := decode[alm.Repository](t, res)
	res = b.api("PUT", fmt.Sprintf("/api/v1/repositories/%d/hook", repo.ID), tok, strings.NewReader(`{"secret":"`+secret+`"}`))
	require.Equal(t, http.StatusOK, res.status, res.body)

	push := []byte(`{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"}`)
	post := func(header, value string) response {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/hooks/repositories/%d", b.srv.URL, repo.ID), bytes.NewReader(push))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set(header, value)
		}
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		return response{status: r.StatusCode, body: string(body)}
	}
	require.Equal(t, http.StatusUnauthorized, post("", "").status)
	require.Equal(t, http.StatusUnauthorized, post("X-Hub-Signature-256", "sha256=00").status)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(push)
	ok := post("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	require.Equal(t, http.StatusAccepted, ok.status, ok.body)
	require.Equal(t, http.StatusAccepted, post("X-Gitlab-Token", secret).status)
	var accepted struct{ Snapshot int64 }
	require.NoError(t, json.Unmarshal([]byte(ok.body), &accepted))
	require.Eventually(t, func() bool {
		sn, err := b.store.SnapshotByID(b.ctx, accepted.Snapshot)
		return err == nil && sn.Status == alm.SnapDone && sn.Ref == "main"
	}, 30*time.Second, 50*time.Millisecond)
}
