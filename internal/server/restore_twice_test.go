package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
)

// TestRestoreNeverDuplicates deletes an account and its contact, restores
// them by id without naming a backup run (each comes back as the last run
// that still had it, and says which), then restores them again — a dry
// run, then for real — and expects no creates the second time: the first
// restore recorded which id became which.
func TestRestoreNeverDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{Develop: true, SimOrgs: []string{"prod"}})
	tok := b.token(must(b.store.UserByEmail(b.ctx, "first-admin@example.com")))
	org := connectSimOrg(t, b, tok, b.sim.Org("prod"), "PROD", alm.OrgProduction)
	client, err := b.orgs.Client(b.ctx, org)
	require.NoError(t, err)
	res := b.api("PUT", fmt.Sprintf("/api/v1/orgs/%d/backups/data/policy", org.ID), tok, strings.NewReader(`{"enabled":true,"objects":["Account","Contact"],"api_share":0.5,"churn_alert":1}`))
	require.Equal(t, http.StatusOK, res.status, res.body)
	run := func() alm.DataBackupRun {
		t.Helper()
		res := b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/backups/data", org.ID), tok, nil)
		require.Equal(t, http.StatusAccepted, res.status, res.body)
		id := decode[alm.DataBackupRun](t, res).ID
		var got alm.DataBackupRun
		require.Eventually(t, func() bool {
			for _, r := range decode[struct{ Runs []alm.DataBackupRun }](t, b.api("GET", fmt.Sprintf("/api/v1/orgs/%d/backups/data", org.ID), tok, nil)).Runs {
				if r.ID == id {
					got = r
				}
			}
			return got.Finished != nil
		}, 60*time.Second, 50*time.Millisecond)
		require.Equal(t, "done", got.Status, "%+v", got)
		return got
	}
	full := run()
	cons, err := client.Query(b.ctx, "SELECT Id, AccountId, LastName FROM Contact WHERE AccountId != null LIMIT 1")
	require.NoError(t, err)
	contactID, accountID := cons[0]["Id"].(string), cons[0]["AccountId"].(string)
	_, err = client.DeleteRecords(b.ctx, []string{contactID, accountID}, false)
	require.NoError(t, err)
	time.Sleep(1100 * time.Millisecond)
	inc := run()
	require.Positive(t, inc.Deleted)
	before, n := recordsHash(t, client)

	restore := func(dry bool) []alm.RecordResult {
		t.Helper()
		body := fmt.Sprintf(`{"objects":["Account","Contact"],"ids":[%q,%q,"001000000000000AAA"],"dry_run":%v}`, accountID, contactID, dry)
		res := b.api("POST", fmt.Sprintf("/api/v1/orgs/%d/backups/data/restore", org.ID), tok, strings.NewReader(body))
		if dry {
			require.Equal(t, http.StatusOK, res.status, res.body)
			return decode[struct{ Results []alm.RecordResult }](t, res).Results
		}
		require.Equal(t, http.StatusAccepted, res.status, res.body)
		rid := decode[alm.DataRestore](t, res).ID
		var x alm.DataRestore
		require.Eventually(t, func() bool {
			x = decode[alm.DataRestore](t, b.api("GET", fmt.Sprintf("/api/v1/data-restores/%d", rid), tok, nil))
			return x.Finished != nil
		}, 60*time.Second, 50*time.Millisecond)
		require.Equal(t, "done", x.Status, x.Error)
		return x.Results
	}
	actions := func(rs []alm.RecordResult) map[string]alm.RecordResult {
		out := map[string]alm.RecordResult{}
		for _, r := range rs {
			out[r.OldID] = r
		}
		return out
	}

	first := actions(restore(false))
	require.Equal(t, "create", first[accountID].Action, "%+v", first)
	require.Equal(t, "create", first[contactID].Action)
	require.Equal(t, full.ID, first[accountID].FromRun, "the latest run that still had the account is the full run")
	require.Equal(t, "not_found", first["001000000000000AAA"].Action, "an id in no backup is listed, not dropped")
	require.NotEmpty(t, first[accountID].NewID)
	recs, err := client.Query(b.ctx, fmt.Sprintf("SELECT AccountId FROM Contact WHERE Id = '%s'", first[contactID].NewID))
	require.NoError(t, err)
	require.Equal(t, first[accountID].NewID, recs[0]["AccountId"], "the contact is under its recreated account")
	after, m := recordsHash(t, client)
	require.Equal(t, n+2, m)
	require.NotEqual(t, before, after)

	for _, dry := range []bool{true, false} {
		again := actions(restore(dry))
		for _, id := range []string{accountID, contactID} {
			require.NotEqual(t, "create", again[id].Action, "dry=%v: %s would be created twice: %+v", dry, id, again[id])
			require.Equal(t, first[id].NewID, again[id].NewID, "found under the id the first restore gave it")
		}
	}
	again, m2 := recordsHash(t, client)
	require.Equal(t, m, m2, "no duplicates")
	require.Equal(t, after, again)
}
