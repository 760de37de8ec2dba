package tracker_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/trackersim"
)

func connect(t *testing.T, kind tracker.Kind) (*trackersim.Sim, tracker.Client, tracker.Config) {
	t.Helper()
	sim := trackersim.New(kind)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := tracker.Config{Kind: kind, BaseURL: srv.URL, Scope: sim.Scope, User: sim.User, Token: sim.Token}
	c, err := tracker.New(cfg)
	require.NoError(t, err)
	return sim, c, cfg
}

// TestClients runs each tracker's client through its simulator: the
// connection test, search, read, update (title, Markdown description,
// labels, assignee by email), status moves, comments both ways and the
// link back to Trellis.
func TestClients(t *testing.T) {
	for _, kind := range tracker.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sim, c, _ := connect(t, kind)
			sim.AddUser(trackersim.User{ID: "acc-pat", Name: "Pat Owner", Email: "pat@example.com", Login: "pat"})
			require.NoError(t, c.Test(ctx))
			a := sim.Create("Discount approvals", "Managers **approve** discounts over 10%.\n\n- one\n- two", "crm")
			sim.Create("Lead routing", "Route leads by region.")

			found, err := c.Search(ctx, "", 10)
			require.NoError(t, err)
			require.Len(t, found, 2)
			is, err := c.Get(ctx, a)
			require.NoError(t, err)
			require.Equal(t, "Discount approvals", is.Title)
			require.Contains(t, is.Description, "**approve**", "the description arrives as Markdown")
			require.Contains(t, is.Description, "- one")
			require.Equal(t, []string{"crm"}, is.Labels)
			require.NotEmpty(t, is.URL)
			require.False(t, is.Updated.IsZero())

			title, desc, labels, who := "Discount approvals v2", "Now with _tiers_ and `code`.", []string{"crm", "pricing"}, "pat@example.com"
			require.NoError(t, c.Update(ctx, a, tracker.Patch{Title: &title, Description: &desc, Labels: &labels, Assignee: &who}))
			got, _ := sim.Get(a)
			require.Equal(t, title, got.Title)
			require.Equal(t, labels, got.Labels)
			require.Equal(t, "pat@example.com", got.Assignee)
			is, err = c.Get(ctx, a)
			require.NoError(t, err)
			require.Equal(t, desc, is.Description, "Markdown survives the tracker's own format")

			statuses, err := c.Statuses(ctx)
			require.NoError(t, err)
			require.Equal(t, sim.Statuses(), statuses)
			last := statuses[len(statuses)-1]
			require.NoError(t, c.Transition(ctx, a, last))
			got, _ = sim.Get(a)
			require.Equal(t, last, got.Status)

			sim.Comment(a, "Pat Owner", "Looks **good**")
			_, err = c.AddComment(ctx, a, "Deployed to *UAT*")
			require.NoError(t, err)
			cs, err := c.Comments(ctx, a)
			require.NoError(t, err)
			require.Len(t, cs, 2)
			require.Equal(t, "Looks **good**", cs[0].Body)
			require.Contains(t, cs[1].Body, "UAT")

			require.NoError(t, c.Link(ctx, a, "http://trellis.test/work-items/CRM-1", "CRM-1 in Trellis"))
			require.NoError(t, c.Link(ctx, a, "http://trellis.test/work-items/CRM-1", "CRM-1 in Trellis"), "linking twice is fine")
			got, _ = sim.Get(a)
			if kind == tracker.GitHub {
				n := 0
				for _, c := range got.Comments {
					if strings.Contains(c.Body, "http://trellis.test/work-items/CRM-1") {
						n++
					}
				}
				require.Equal(t, 1, n, "one comment carries the link")
			} else {
				require.Equal(t, []string{"http://trellis.test/work-items/CRM-1"}, got.Links)
			}
		})
	}
}

// TestClientFaults: each fault a person must fix is named, and the ones
// that pass are marked for retry with the tracker's own wait.
func TestClientFaults(t *testing.T) {
	for _, kind := range tracker.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sim, c, cfg := connect(t, kind)
			key := sim.Create("A story", "")

			sim.Revoke(true)
			err := c.Test(ctx)
			require.Equal(t, tracker.CodeAuth, tracker.CodeOf(err), "%v", err)
			require.Contains(t, err.Error(), "revoked")
			require.False(t, tracker.Retryable(err))
			sim.Revoke(false)

			wrong := cfg
			wrong.Scope = map[tracker.Kind]string{tracker.Azure: "contoso/Nope", tracker.GitHub: "acme/nope"}[kind]
			if wrong.Scope == "" {
				wrong.Scope = "NOPE"
			}
			wc, err := tracker.New(wrong)
			require.NoError(t, err)
			err = wc.Test(ctx)
			require.Equal(t, tracker.CodeProject, tracker.CodeOf(err), "%v", err)

			badURL := cfg
			badURL.BaseURL = "http://127.0.0.1:1"
			bc, _ := tracker.New(badURL)
			err = bc.Test(ctx)
			require.Equal(t, tracker.CodeURL, tracker.CodeOf(err), "%v", err)

			sim.ReadOnly(true)
			err = c.Test(ctx)
			if kind != tracker.Azure { // Azure DevOps tells write access only on a write
				require.Equal(t, tracker.CodePermission, tracker.CodeOf(err), "%v", err)
			}
			title := "x"
			err = c.Update(ctx, key, tracker.Patch{Title: &title})
			require.Equal(t, tracker.CodePermission, tracker.CodeOf(err), "%v", err)
			sim.ReadOnly(false)

			sim.RateLimit(1, 7*time.Second)
			_, err = c.Get(ctx, key)
			require.Equal(t, tracker.CodeRateLimit, tracker.CodeOf(err), "%v", err)
			require.Equal(t, 7*time.Second, tracker.RetryAfter(err))
			require.True(t, tracker.Retryable(err))
			_, err = c.Get(ctx, key)
			require.NoError(t, err)

			sim.Down(true)
			_, err = c.Get(ctx, key)
			require.Equal(t, tracker.CodeDown, tracker.CodeOf(err), "%v", err)
			require.True(t, tracker.Retryable(err))
			sim.Down(false)

			sim.Delete(key)
			_, err = c.Get(ctx, key)
			require.Equal(t, tracker.CodeNotFound, tracker.CodeOf(err), "%v", err)
			require.Contains(t, err.Error(), "deleted")

			_, err = c.Search(ctx, map[tracker.Kind]string{tracker.Azure: "[System.Nonsense] ~~ 3", tracker.GitHub: ""}[kind]+jqlJunk(kind), 10)
			if kind != tracker.GitHub {
				require.Equal(t, tracker.CodeInvalid, tracker.CodeOf(err), "%v", err)
			}
		})
	}
}

func jqlJunk(k tracker.Kind) string {
	if k == tracker.JiraCloud || k == tracker.JiraDC {
		return "statuss === 'x"
	}
	return ""
}

// TestWebhooks: each tracker's webhook is read only when its signature
// (or Azure DevOps's basic-auth secret) matches.
func TestWebhooks(t *testing.T) {
	for _, kind := range tracker.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			sim, c, _ := connect(t, kind)
			key := sim.Create("Story", "")
			type delivery struct {
				r    *http.Request
				body []byte
			}
			got := make(chan delivery, 4)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var b bytes.Buffer
				_, _ = b.ReadFrom(r.Body)
				got <- delivery{r, b.Bytes()}
			}))
			defer hook.Close()
			sim.SendWebhooksTo(hook.URL, "s3cret")
			sim.Move(key, sim.Statuses()[1])
			d := <-got
			ev, err := c.Webhook(d.r, d.body, "s3cret")
			require.NoError(t, err)
			require.Equal(t, []string{key}, ev.Keys)
			require.False(t, ev.Deleted)
			_, err = c.Webhook(d.r, d.body, "other")
			require.Equal(t, tracker.CodeSignature, tracker.CodeOf(err))
			sim.Delete(key)
			d = <-got
			ev, err = c.Webhook(d.r, d.body, "s3cret")
			require.NoError(t, err)
			require.True(t, ev.Deleted)
		})
	}
}
