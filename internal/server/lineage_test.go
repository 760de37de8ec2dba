package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
)

// TestLineagePages: the chain drawn around a requirement, a work item, a
// release and a component in an org — requirement → work item →
// component → build → promotion → deployment → org, and back from the
// component to the requirement — every node a link; the JSON graph too.
func TestLineagePages(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sd := seedRecords(t, b)
	_, err := b.store.Pool().Exec(b.ctx, `INSERT INTO build_components (build_id, type, name, change, work_item) VALUES ($1, 'ApexClass', 'Greeter', 'new', $2)`, sd.build.ID, sd.item.Key)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(b.ctx, `INSERT INTO deployment_components (deployment_id, type, name, change, work_item) VALUES ($1, 'ApexClass', 'Greeter', 'new', $2)`, sd.deployment.ID, sd.item.Key)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(b.ctx, `UPDATE deployments SET status = 'succeeded', finished_at = now() WHERE id = $1`, sd.deployment.ID)
	require.NoError(t, err)
	_, err = b.store.SetWorkItemRelease(b.ctx, sd.item.Key, &sd.release.ID)
	require.NoError(t, err)
	br := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))

	wantLinks := []string{"/requirements/" + sd.req.Key, "/work-items/" + sd.item.Key, fmt.Sprintf("/builds/%d", sd.build.ID),
		fmt.Sprintf("/promotions/%d", sd.promotion.ID), fmt.Sprintf("/deployments/%d", sd.deployment.ID), fmt.Sprintf("/orgs/%d", sd.promotion.OrgID)}
	for _, page := range []string{"/requirements/" + sd.req.Key + "/lineage", "/work-items/" + sd.item.Key + "/lineage",
		fmt.Sprintf("/projects/CRM/releases/%d/lineage", sd.release.ID), fmt.Sprintf("/orgs/%d/components/ApexClass/Greeter/lineage", sd.promotion.OrgID)} {
		res := br.get(page)
		require.Equal(t, http.StatusOK, res.status, page)
		graph := res.doc(t).Find(`[data-testid="lineage-graph"]`)
		require.Equal(t, 1, graph.Length(), page)
		var hrefs []string
		graph.Find("a").Each(func(_ int, a *goquery.Selection) {
			h, _ := a.Attr("href")
			hrefs = append(hrefs, h)
		})
		for _, w := range wantLinks {
			require.Contains(t, hrefs, w, "%s links %s", page, w)
		}
		require.Contains(t, graph.Text(), "Greeter")
	}
	reqPage := br.get("/requirements/" + sd.req.Key)
	require.Contains(t, reqPage.body, "/requirements/"+sd.req.Key+"/lineage", "the requirement page links its lineage")
	comps := reqPage.doc(t).Find(`[data-testid="req-components"] tbody tr`)
	require.Equal(t, 1, comps.Length())
	require.Contains(t, comps.Text(), "Greeter")
	require.Contains(t, comps.Text(), "Route test UAT", "and where it is deployed")

	res := b.api("GET", "/api/v1/work-items/"+sd.item.Key+"/graph", b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))), nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	g := decode[alm.Graph](t, res)
	require.Equal(t, "item:"+sd.item.Key, g.Root)
	require.NotEmpty(t, g.Edges)
	cols := map[int]bool{}
	for _, n := range g.Nodes {
		cols[n.Column] = true
	}
	for c := alm.ColRequirement; c <= alm.ColOrg; c++ {
		require.True(t, cols[c], "column %s has a node", alm.LineageColumns[c])
	}
}
