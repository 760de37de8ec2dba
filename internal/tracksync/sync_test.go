package tracksync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
	"github.com/trellis-alm/trellis/internal/tracker"
	"github.com/trellis-alm/trellis/internal/trackersim"
	"github.com/trellis-alm/trellis/internal/tracksync"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// BenchmarkSync is one link's two-way sync over HTTP against the GitHub
// simulator, with a change on the tracker's side each time: read the
// issue and its comments, merge, write the record and the timeline.
func BenchmarkSync(b *testing.B) {
	ctx := alm.WithActor(context.Background(), alm.Actor{Label: "bench"})
	st := store.New(testdb.New(b), time.Now)
	key, _ := secret.ParseKey(secret.GenerateKey())
	keys, _ := secret.New(key)
	sim := trackersim.New(tracker.GitHub)
	gh := httptest.NewServer(sim)
	b.Cleanup(gh.Close)
	svc := &tracksync.Service{Store: st, Keyring: keys, HTTP: http.DefaultClient, BaseURL: "http://trellis.test"}
	p, err := st.CreateProject(ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	if err != nil {
		b.Fatal(err)
	}
	c, _, err := svc.Connect(ctx, alm.TrackerConnection{ProjectID: p.ID, Kind: "github", BaseURL: gh.URL, Scope: sim.Scope}, sim.Token, false)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SaveStatusMappings(ctx, c.ID, []alm.StatusMapping{{Entity: "work_item", Remote: "open", Local: "backlog"}, {Entity: "work_item", Remote: "closed", Local: "done"}}); err != nil {
		b.Fatal(err)
	}
	issue := sim.Create("Tiers", "Gold, silver, bronze.")
	for i := 0; i < 20; i++ {
		sim.Comment(issue, "Pat Owner", "Note")
	}
	it, err := st.CreateWorkItem(ctx, p.ID, alm.WorkItemInput{Title: "Tiers"})
	if err != nil {
		b.Fatal(err)
	}
	l, err := svc.LinkExisting(ctx, c, "work_item", it.ID, issue)
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Sync(ctx, l.ID); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		n++
		sim.Edit(issue, func(is *trackersim.Issue) { is.Title = "Tiers " + time.Now().String() })
		if err := svc.Sync(ctx, l.ID); err != nil {
			b.Fatal(err)
		}
	}
	got, err := st.TrackerLinkByID(ctx, l.ID)
	if err != nil || got.State != "ok" {
		b.Fatalf("link %s: %s %v", got.State, got.Error, err)
	}
}
