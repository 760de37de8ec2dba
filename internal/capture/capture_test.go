package capture_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/capture"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
	"github.com/trellis-alm/trellis/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

const layoutXML = `<?xml version="1.0" encoding="UTF-8"?>
<Layout xmlns="http://soap.sforce.com/2006/04/metadata">
    <layoutSections>
        <label>%s</label>
        <layoutColumns><layoutItems><behavior>Edit</behavior><field>Tier__c</field></layoutItems></layoutColumns>
        <style>OneColumn</style>
    </layoutSections>
</Layout>
`

func objectXML(fields ...string) string {
	s := `<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
`
	for _, f := range fields {
		s += f
	}
	return s + "</CustomObject>\n"
}

func field(name, label string) string {
	return "    <fields><fullName>" + name + "</fullName><label>" + label + "</label><length>40</length><type>Text</type></fields>\n"
}

// snap stores an org's files as a finished snapshot, as the snapshot job
// would, and returns its id.
func snap(t *testing.T, ctx context.Context, st *store.Store, files map[string]string) int64 {
	t.Helper()
	fs := map[string][]byte{}
	for p, c := range files {
		fs[p] = []byte(c)
	}
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(fs), metadata.ReadOptions{KeepContent: true})
	require.NoError(t, err)
	var m snapshot.Manifest
	var blobs []store.Blob
	for _, c := range res.Set.Components() {
		one := metadata.NewSet()
		one.Add(c)
		out, err := metadata.WriteMetadataFormat(one)
		require.NoError(t, err)
		m = append(m, snapshot.Entry{Type: c.Type.Name, Name: c.Name, Hash: c.Hash})
		blobs = append(blobs, store.Blob{Hash: c.Hash, Data: snapshot.EncodeFiles(out)})
	}
	m.Sort()
	_, err = st.PutBlobs(ctx, blobs)
	require.NoError(t, err)
	sn, err := st.CreateSnapshot(ctx, store.NewSnapshot{Source: "git", Ref: "test"})
	require.NoError(t, err)
	require.NoError(t, st.FinishSnapshot(ctx, sn.ID, m, 0, nil))
	return sn.ID
}

func TestCaptureWithDependencies(t *testing.T) {
	t.Parallel()
	ctx := alm.WithActor(context.Background(), alm.Actor{Label: "dev@example.com"})
	st := store.New(testdb.New(t), nil)
	p, err := st.CreateProject(ctx, alm.NewProject{Key: "CRM", Name: "Sales"})
	require.NoError(t, err)
	item, err := st.CreateWorkItem(ctx, p.ID, alm.WorkItemInput{Title: "Tier on the layout"})
	require.NoError(t, err)

	a := snap(t, ctx, st, map[string]string{
		"objects/Account.object":                objectXML(field("Tier__c", "Tier"), field("Other__c", "Other")),
		"layouts/Account-Account Layout.layout": fmt.Sprintf(layoutXML, "Information"),
	})
	b := snap(t, ctx, st, map[string]string{
		"objects/Account.object":                objectXML(field("Tier__c", "Customer tier"), field("Other__c", "Other, renamed")),
		"layouts/Account-Account Layout.layout": fmt.Sprintf(layoutXML, "Details"),
	})
	svc := capture.New(st)
	caps, err := svc.Capture(ctx, capture.Request{WorkItem: item.Key, A: a, B: b, WithDependencies: true,
		Components: []capture.Component{{Type: "Layout", Name: "Account-Account Layout"}}})
	require.NoError(t, err)
	names := map[string]string{}
	for _, c := range caps {
		names[c.Name] = c.DependencyOf
	}
	require.Equal(t, map[string]string{"Account-Account Layout": "", "Account.Tier__c": "Layout Account-Account Layout"}, names,
		"the changed field the layout shows comes along; the unrelated changed field does not")

	// Bad input: unchanged or unknown components, unknown work items.
	_, err = svc.Capture(ctx, capture.Request{WorkItem: item.Key, A: a, B: a, Components: []capture.Component{{Type: "Layout", Name: "Account-Account Layout"}}})
	require.Contains(t, alm.FieldErrors(err)["components"], "Unchanged")
	_, err = svc.Capture(ctx, capture.Request{WorkItem: item.Key, A: a, B: b, Components: []capture.Component{{Type: "ApexClass", Name: "Nope"}}})
	require.Contains(t, alm.FieldErrors(err)["components"], "Not in either snapshot")
	_, err = svc.Capture(ctx, capture.Request{WorkItem: "CRM-99", A: a, B: b, Components: []capture.Component{{Type: "Layout", Name: "Account-Account Layout"}}})
	require.Contains(t, alm.FieldErrors(err), "work_item")
	_, err = svc.Capture(ctx, capture.Request{WorkItem: item.Key, A: a, B: b})
	require.Contains(t, alm.FieldErrors(err), "components")

	// Capturing again replaces the current capture and keeps the old one.
	_, err = svc.Capture(ctx, capture.Request{WorkItem: item.Key, A: a, B: b, Components: []capture.Component{{Type: "CustomField", Name: "account.tier__c"}}})
	require.NoError(t, err)
	current, err := st.CapturedComponents(ctx, item.Key, false)
	require.NoError(t, err)
	require.Len(t, current, 2)
	all, err := st.CapturedComponents(ctx, item.Key, true)
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.NotNil(t, all[2].Superseded)
}
