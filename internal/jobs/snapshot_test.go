package jobs_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/jobs"
	"github.com/trellis-alm/trellis/internal/orgs"
	"github.com/trellis-alm/trellis/internal/orgsim"
	"github.com/trellis-alm/trellis/internal/secret"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

func fieldXML(name, label string) string {
	return fmt.Sprintf(`<fields><fullName>%s</fullName><label>%s</label><length>40</length><type>Text</type></fields>`, name, label)
}

// TestSnapshotAnOrg snapshots a simulated org over HTTP in small chunks,
// changes it in Setup, snapshots again, and compares.
func TestSnapshotAnOrg(t *testing.T) {
	t.Parallel()
	ctx := alm.WithActor(context.Background(), alm.Actor{Label: "tester"})
	sim, err := orgsim.Start(orgsim.Options{Orgs: []string{"dev"}, Step: 5 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	dev := sim.Org("dev")
	for i := range 12 {
		require.NoError(t, dev.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: fmt.Sprintf("Account.F%02d__c", i), XML: fieldXML(fmt.Sprintf("F%02d__c", i), "F")}))
	}
	st := store.New(testdb.New(t), nil)
	key, _ := secret.ParseKey(secret.GenerateKey())
	keys, _ := secret.New(key)
	// Retrieves are capped at 6 files, as the platform caps them at 10,000:
	// the org holds more, so the client splits each retrieve to fit.
	svc := orgs.New(st, keys, orgs.Config{RetrieveFileLimit: 6})
	org, err := svc.ConnectJWT(ctx, alm.NewOrg{Name: "Dev", Kind: alm.OrgDeveloperSandbox, LoginURL: dev.Info().LoginURL, ClientID: dev.ClientID(), Username: dev.Username()},
		string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(dev.JWTKey())})))
	require.NoError(t, err)

	client, err := jobs.NewClient(st.Pool(), jobs.Deps{Store: st, Orgs: svc, SnapshotChunk: 500, SessionIdle: time.Hour}, jobs.Config{
		Work: true, FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 20 * time.Millisecond, NoSchedules: true})
	require.NoError(t, err)
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() { _ = client.Stop(context.Background()) })

	take := func() alm.Snapshot {
		sn, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "org", OrgID: &org.ID, Label: "test"})
		require.NoError(t, err)
		_, err = client.Insert(ctx, jobs.SnapshotArgs{SnapshotID: sn.ID}, nil)
		require.NoError(t, err)
		var seenRunning bool
		require.Eventually(t, func() bool {
			sn, err = st.SnapshotByID(ctx, sn.ID)
			require.NoError(t, err)
			if sn.Status == alm.SnapRunning && sn.Total > 0 {
				seenRunning = true
			}
			return sn.Status.Finished()
		}, 30*time.Second, 20*time.Millisecond)
		require.Equal(t, alm.SnapDone, sn.Status, sn.Error)
		_ = seenRunning
		return sn
	}
	first := take()
	require.GreaterOrEqual(t, first.Components, 21, "4 objects, 4 layouts, a profile and 12 fields")
	require.Equal(t, first.Total, first.Done)
	m1, err := st.SnapshotManifest(ctx, first.ID)
	require.NoError(t, err)

	require.NoError(t, dev.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.F03__c", XML: fieldXML("F03__c", "Renamed in Setup")}))
	require.NoError(t, dev.ChangeInSetup(orgsim.SetupChange{Type: "CustomField", FullName: "Account.F07__c", Delete: true}))
	second := take()
	m2, err := st.SnapshotManifest(ctx, second.ID)
	require.NoError(t, err)
	res := snapshot.Compare(m1, m2)
	changed := map[string]snapshot.Change{}
	for _, it := range res.Items {
		if it.Change != snapshot.Unchanged {
			changed[it.Type+" "+it.Name] = it.Change
		}
	}
	require.Equal(t, snapshot.Changed, changed["CustomField Account.F03__c"])
	require.Equal(t, snapshot.Deleted, changed["CustomField Account.F07__c"])
	require.Len(t, changed, 2, "%v", changed)
	require.Less(t, second.NewBlobBytes, first.NewBlobBytes, "unchanged content is not stored again")

	var fieldHash string
	for _, e := range m2 {
		if e.Name == "Account.F03__c" {
			fieldHash = e.Hash
		}
	}
	content, err := st.BlobData(ctx, fieldHash)
	require.NoError(t, err)
	require.Contains(t, string(content), "Renamed in Setup")
	require.Contains(t, string(content), "=== objects/Account.object")

	// An org whose API allowance is used up ends the snapshot with the
	// org's reason, and transient 503s are retried through.
	dev.SetFaults(orgsim.Faults{FailNext: 2})
	third := take()
	require.Equal(t, second.Components, third.Components, "two 503s are retried, not fatal")
	dev.SetFaults(orgsim.Faults{LimitExhausted: true})
	limited, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "org", OrgID: &org.ID})
	require.NoError(t, err)
	_, err = client.Insert(ctx, jobs.SnapshotArgs{SnapshotID: limited.ID}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		limited, _ = st.SnapshotByID(ctx, limited.ID)
		return limited.Status.Finished()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, alm.SnapFailed, limited.Status)
	require.Contains(t, limited.Error, "REQUEST_LIMIT_EXCEEDED")
	dev.SetFaults(orgsim.Faults{})

	// A revoked session ends the snapshot with the org's reason.
	require.NoError(t, svc.Disconnect(ctx, org))
	sn, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "org", OrgID: &org.ID})
	require.NoError(t, err)
	_, err = client.Insert(ctx, jobs.SnapshotArgs{SnapshotID: sn.ID}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		sn, _ = st.SnapshotByID(ctx, sn.ID)
		return sn.Status.Finished()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, alm.SnapFailed, sn.Status)
	require.Contains(t, sn.Error, "disconnected")
}
