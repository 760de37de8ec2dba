package server_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/gittest"
)

// TestRepositoriesThroughTheAPI connects a local git repository, snapshots
// its branch in the background and reads the result, and sees a wrong URL
// refused with nothing saved.
func TestRepositoriesThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true})
	src := t.TempDir()
	put := func(p, c string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, p), []byte(c), 0o644))
	}
	gittest.Init(t, src, "main")
	put("sfdx-project.json", `{"packageDirectories":[{"path":"force-app","default":true}]}`)
	put("force-app/main/default/classes/A.cls", "public class A {}\n")
	put("force-app/main/default/classes/A.cls-meta.xml", `<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>`)
	gittest.CommitAll(t, src, "one")

	tok := b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	res := b.api("POST", "/api/v1/repositories", tok, strings.NewReader(`{"name":"crm","url":"file:///nowhere/at/all"}`))
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.body, "Could not clone")
	res = b.api("POST", "/api/v1/repositories", tok, strings.NewReader(fmt.Sprintf(`{"name":"crm","url":"file://%s"}`, src)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	repo := decode[alm.Repository](t, res)
	require.Equal(t, "main", repo.DefaultBranch)

	res = b.api("POST", fmt.Sprintf("/api/v1/repositories/%d/snapshots", repo.ID), tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	sn := decode[alm.Snapshot](t, res)
	require.Eventually(t, func() bool {
		res = b.api("GET", fmt.Sprintf("/api/v1/snapshots/%d", sn.ID), tok, nil)
		require.NoError(t, json.Unmarshal([]byte(res.body), &sn))
		return sn.Status.Finished()
	}, 20*time.Second, 50*time.Millisecond)
	require.Equal(t, alm.SnapDone, sn.Status, sn.Error)
	require.Equal(t, 1, sn.Components)
	require.Equal(t, "crm", sn.OrgName)

	page := b.signedIn(must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))).get(fmt.Sprintf("/repositories/%d", repo.ID))
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.doc(t).Find(`[data-testid="branches"]`).Text(), "main")
}

// TestCompareWithAFreshRetrieve snapshots an org, then asks for a fresh
// retrieve to compare with, through the pages and the API.
func TestCompareWithAFreshRetrieve(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true})
	dev := b.sim.Org("dev")
	admin := must(b.store.UserByEmail(b.ctx, "first-admin@example.com"))
	tok := b.token(admin)
	key := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(dev.JWTKey())}))
	body, _ := json.Marshal(map[string]string{"name": "Dev", "kind": "developer_sandbox", "login_url": dev.Info().LoginURL,
		"client_id": dev.ClientID(), "username": dev.Username(), "private_key": key})
	res := b.api("POST", "/api/v1/orgs", tok, strings.NewReader(string(body)))
	require.Equal(t, http.StatusCreated, res.status, res.body)
	org := decode[alm.Org](t, res)
	require.NotContains(t, res.body, "PRIVATE KEY")

	wait := func(id int64) alm.Snapshot {
		var sn alm.Snapshot
		require.Eventually(t, func() bool {
			res := b.api("GET", fmt.Sprintf("/api/v1/snapshots/%d", id), tok, nil)
			require.NoError(t, json.Unmarshal([]byte(res.body), &sn))
			return sn.Status.Finished()
		}, 20*time.Second, 50*time.Millisecond)
		require.Equal(t, alm.SnapDone, sn.Status, sn.Error)
		return sn
	}
	res = b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/snapshots", org.ID), tok, nil)
	require.Equal(t, http.StatusAccepted, res.status, res.body)
	first := wait(decode[alm.Snapshot](t, res).ID)

	br := b.signedIn(admin)
	page := br.get(fmt.Sprintf("/snapshots/%d", first.ID))
	require.Equal(t, 1, page.doc(t).Find(`[data-testid="fresh-form"]`).Length())
	res = br.post("/compare/fresh", url.Values{"a": {fmt.Sprint(first.ID)}, "org": {fmt.Sprint(org.ID)}})
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	require.Contains(t, res.location(), fmt.Sprintf("?compare_with=%d", first.ID))
	var freshID int64
	_, err := fmt.Sscanf(res.location(), "/snapshots/%d", &freshID)
	require.NoError(t, err)
	wait(freshID)
	page = br.get(res.location())
	href, _ := page.doc(t).Find(`[data-testid="compare-fresh-result"]`).Attr("href")
	require.Equal(t, fmt.Sprintf("/compare?a=%d&b=%d", first.ID, freshID), href)

	res = b.api("POST", "/api/v1/comparisons", tok, strings.NewReader(fmt.Sprintf(`{"a":%d,"b":%d}`, first.ID, freshID)))
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, `"unchanged": `+fmt.Sprint(first.Components))
}
