package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// TestBuildAndTestHubs: /build and /test list every project's builds and
// validations, newest first, each linked to its page, and narrow by
// project, release, stage and outcome.
func TestBuildAndTestHubs(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	br := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	empty := br.get("/build")
	require.Equal(t, http.StatusOK, empty.status)
	require.Contains(t, empty.body, "No builds yet")

	sd := seedRecords(t, b)
	other, err := b.store.CreateProject(b.ctx, alm.NewProject{Key: "OPS", Name: "Operations"})
	require.NoError(t, err)
	rel, err := b.store.CreateRelease(b.ctx, other.ID, alm.ReleaseInput{Name: "Autumn"})
	require.NoError(t, err)
	ob, err := b.store.CreateBuild(b.ctx, store.NewBuild{ReleaseID: rel.ID, APIVersion: "64.0", Checksum: strings.Repeat("beef", 16), Artifact: []byte("PK"),
		Components: []alm.BuildComponent{{Type: "ApexClass", Name: "A", Change: "new"}}})
	require.NoError(t, err)
	org := sd.promotion.OrgID
	v, err := b.store.CreateValidation(b.ctx, sd.build.ID, org, "RunLocalTests", nil)
	require.NoError(t, err)
	require.NoError(t, b.store.FinishValidation(b.ctx, v.ID, "succeeded", alm.ValidationResult{}, ""))

	rows := br.get("/build").doc(t).Find(`[data-testid="hub-builds"] tbody tr`)
	require.Equal(t, 2, rows.Length())
	require.Contains(t, rows.Eq(0).Text(), "OPS", "newest first")
	require.Contains(t, rows.Eq(0).Text(), "1 component")
	require.Contains(t, rows.Eq(1).Text(), "succeeded")
	href, _ := rows.Eq(0).Find("a").First().Attr("href")
	require.Equal(t, fmt.Sprintf("/builds/%d", ob.ID), href)

	for q, want := range map[string][]string{
		"?project=CRM":                   {"CRM"},
		"?project=OPS&outcome=validated": {},
		"?outcome=validated":             {"CRM"},
		"?outcome=unvalidated":           {"OPS"},
		fmt.Sprintf("?project=CRM&release=%d", sd.release.ID): {"CRM"},
	} {
		rows := br.get("/build" + q).doc(t).Find(`[data-testid="hub-builds"] tbody tr`)
		require.Equal(t, len(want), rows.Length(), q)
		for i, w := range want {
			require.Contains(t, rows.Eq(i).Text(), w, q)
		}
	}
	page := br.get("/build?project=CRM").doc(t)
	require.Equal(t, 1, page.Find(`select[name="release"] option[value="`+fmt.Sprint(sd.release.ID)+`"]`).Length(), "a project's releases to filter by")

	tests := br.get("/test").doc(t)
	vrows := tests.Find(`[data-testid="hub-validations"] tbody tr`)
	require.Equal(t, 1, vrows.Length())
	require.Contains(t, vrows.Text(), "Spring #1")
	require.Contains(t, vrows.Text(), "succeeded")
	require.Equal(t, 0, br.get("/test?outcome=failed").doc(t).Find(`[data-testid="hub-validations"] tbody tr`).Length())
	require.Contains(t, tests.Text(), "No test runs")
}
