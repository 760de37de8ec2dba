package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/demo"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/outbound"
	"github.com/trellis-alm/trellis/internal/repos"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
	"github.com/trellis-alm/trellis/internal/tracksync"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// TestDemoSeeds starts the demo on a fresh database: users per role, three
// connected orgs running the sample app, a project with requirements and
// work items, a release waiting for approval in UAT, backups and a drift
// alert; started again, it seeds nothing twice and keeps the passwords.
func TestDemoSeeds(t *testing.T) {
	ctx := context.Background()
	st := store.New(testdb.New(t), time.Now)
	key, err := secret.ParseKey(secret.GenerateKey())
	require.NoError(t, err)
	keys, err := secret.New(key)
	require.NoError(t, err)
	// Relative, as `make run` gives it (./.trellis).
	t.Chdir(t.TempDir())
	dir := "data"
	osvc := orgs.New(st, keys, orgs.Config{})
	rsvc := repos.New(st, keys, dir, outbound.Demo)
	client, err := jobs.NewClient(st.Pool(), jobs.Deps{Store: st, Orgs: osvc, Repos: rsvc, SessionIdle: time.Hour, Keyring: keys, Outbound: outbound.Demo},
		jobs.Config{Work: true, FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 20 * time.Millisecond, NoSchedules: true})
	require.NoError(t, err)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() { _ = client.Stop(context.Background()) })

	cfg := demo.Config{DataDir: dir, Addr: "127.0.0.1:0", Store: st, Orgs: osvc, Repos: rsvc, Jobs: client, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Tracker: &tracksync.Service{Store: st, Keyring: keys, HTTP: outbound.Demo.Client(10 * time.Second), BaseURL: "http://127.0.0.1:1"}, TrackerAddr: "127.0.0.1:0", BaseURL: "http://127.0.0.1:1"}
	d, err := demo.Start(ctx, cfg)
	require.NoError(t, err)
	select {
	case <-d.Ready():
	case <-time.After(3 * time.Minute):
		t.Fatal("the demo's background part did not finish")
	}
	require.Len(t, d.Users, 5)
	for _, u := range d.Users {
		got, err := st.UserByEmail(ctx, u.Email)
		require.NoError(t, err)
		require.Equal(t, u.Role, got.Role)
	}
	p, err := st.ProjectByKey(ctx, demo.ProjectKey)
	require.NoError(t, err)
	orgList, err := st.ListOrgs(ctx)
	require.NoError(t, err)
	require.Len(t, orgList, 3)
	repoList, err := st.ListRepositories(ctx)
	require.NoError(t, err)
	require.Len(t, repoList, 1, "the demo's git repository is connected")
	g, err := st.ProjectGit(ctx, p.ID)
	require.NoError(t, err)
	require.True(t, g.GitBacked(), "the demo project keeps its metadata in git")
	require.Equal(t, alm.BranchingEnvironment, g.Branching)
	stages, err := st.Pipeline(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, "uat", stages[0].Branch)
	require.Equal(t, "main", stages[1].Branch)
	// Records are made by the user whose job they are.
	var byPO, byDev int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'requirement.create' AND actor_label = 'owner@demo.trellis.test'),
		count(*) FILTER (WHERE kind = 'work_item.capture' AND actor_label = 'dev@demo.trellis.test') FROM timeline`).Scan(&byPO, &byDev))
	require.Positive(t, byPO, "the product owner logged the requirements")
	require.Positive(t, byDev, "the developer captured")
	var branch string
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT branch FROM work_items WHERE branch <> ''`).Scan(&branch), "the demo work item has its branch")
	changes, err := rsvc.BranchChanges(ctx, repoList[0].ID, branch, "uat")
	require.NoError(t, err)
	require.Len(t, changes, 2, "Dev's field and class are committed to it")
	promos, err := st.ListPromotions(ctx, store.PromotionFilter{})
	require.NoError(t, err)
	require.Len(t, promos, 1)
	require.Equal(t, "UAT", promos[0].StageName)
	require.Equal(t, alm.PromoOpen, promos[0].Status, "waiting for approval")
	items, err := st.ListWorkItems(ctx, p.ID, store.ItemFilter{})
	require.NoError(t, err)
	require.Len(t, items.Items, 7, "five seeded, two imported from the simulated Jira")
	conn, err := st.TrackerConnection(ctx, p.ID)
	require.NoError(t, err, "the demo project plans in a simulated Jira")
	links, err := st.TrackerLinks(ctx, conn.ID)
	require.NoError(t, err)
	require.Len(t, links, 2)
	res, err := http.Get(d.TrackerURL + "/board")
	require.NoError(t, err)
	board, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Contains(t, string(board), "Customers pause a subscription")
	require.Contains(t, string(board), "PLAN-3")
	require.Eventually(t, func() bool {
		a, err := st.ListAlerts(ctx, store.AlertFilter{Kind: alm.AlertDrift})
		return err == nil && len(a) == 1
	}, time.Minute, 100*time.Millisecond, "the layout edited in Production's Setup")
	d.Close()

	again, err := demo.Start(ctx, cfg)
	require.NoError(t, err)
	defer again.Close()
	<-again.Ready()
	require.Equal(t, d.Users, again.Users, "same passwords on a restart")
	promos, err = st.ListPromotions(ctx, store.PromotionFilter{})
	require.NoError(t, err)
	require.Len(t, promos, 1, "nothing seeded twice")
	require.Equal(t, 3, again.Tracker.Len(), "the simulated Jira keeps its stories across restarts")
	links, err = st.TrackerLinks(ctx, conn.ID)
	require.NoError(t, err)
	require.Len(t, links, 2, "and is not connected twice")
}
