package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/crashpoint"
	"github.com/trellis-alm/trellis/internal/metadata"
	"github.com/trellis-alm/trellis/internal/salesforce"
	"github.com/trellis-alm/trellis/internal/snapshot"
	"github.com/trellis-alm/trellis/internal/store"
)

// QueueSnapshot runs snapshots, so a large org's retrieve never holds up
// deploys.
const QueueSnapshot = "snapshot"

// SnapshotArgs snapshots an org's metadata into the snapshot row made
// for it.
type SnapshotArgs struct {
	SnapshotID int64 `json:"snapshot_id"`
}

// Kind names the job.
func (SnapshotArgs) Kind() string { return "snapshot" }

// InsertOpts puts snapshots on their queue, tried twice (a retry resumes
// nothing: it starts the retrieve again).
func (SnapshotArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSnapshot, MaxAttempts: 3, UniqueOpts: uniqueLive}
}

// SnapshotWorker discovers an org's components (describeMetadata, then
// listMetadata per type, folders included), retrieves them in chunks under
// the platform's file limit, hashes each component with the metadata
// engine and stores new content as blobs, reporting progress as it goes.
type SnapshotWorker struct {
	river.WorkerDefaults[SnapshotArgs]
	deps Deps
}

// Timeout: a large org's full retrieve takes a while.
func (w *SnapshotWorker) Timeout(*river.Job[SnapshotArgs]) time.Duration { return 2 * time.Hour }

// chunkComponents is how many components one retrieve asks for.
const chunkComponents = 2000

// Work runs one snapshot.
func (w *SnapshotWorker) Work(ctx context.Context, job *river.Job[SnapshotArgs]) error {
	st := w.deps.Store
	id := job.Args.SnapshotID
	sn, err := st.SnapshotByID(ctx, id)
	if err != nil {
		return gone(err)
	}
	if sn.Status.Finished() {
		return nil
	}
	err = w.run(ctx, sn)
	if err == nil {
		return nil
	}
	status, reason := alm.SnapFailed, snapshotError(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, errCanceled) {
		status, reason = alm.SnapCanceled, "Canceled."
	}
	if endErr := st.EndSnapshot(context.WithoutCancel(ctx), id, status, reason); endErr != nil {
		return endErr
	}
	if sn.Backup && status == alm.SnapFailed && sn.OrgID != nil {
		if _, err := st.CreateAlert(context.WithoutCancel(ctx), store.NewAlert{Kind: alm.AlertBackupFailed, Severity: alm.SevWarning, OrgID: *sn.OrgID,
			Title: fmt.Sprintf("The scheduled backup of %s failed", sn.OrgName), Body: reason, SnapshotID: id, Notify: NotifyJob(running(ctx))}); err != nil {
			return err
		}
	}
	// The reason is on the snapshot; River need not retry a failure the
	// org answered.
	return river.JobCancel(err)
}

var errCanceled = errors.New("the snapshot was canceled")

func snapshotError(err error) string {
	msg := err.Error()
	if e := alm.ErrorMessage(err); alm.ErrorCode(err) != alm.CodeInternal {
		msg = e
	}
	return msg
}

// progress records progress, and notices a cancel from the page.
type progress struct {
	w        *SnapshotWorker
	id       int64
	warnings []string
	last     time.Time
}

func (p *progress) report(ctx context.Context, phase string, done, total int, force bool) error {
	if !force && time.Since(p.last) < 300*time.Millisecond {
		return nil
	}
	p.last = time.Now()
	if err := p.w.deps.Store.SnapshotProgress(ctx, p.id, phase, done, total, p.warnings); err != nil {
		return err
	}
	sn, err := p.w.deps.Store.SnapshotByID(ctx, p.id)
	if err != nil {
		return err
	}
	if sn.Status == alm.SnapCanceled {
		return errCanceled
	}
	return nil
}

func (w *SnapshotWorker) run(ctx context.Context, sn alm.Snapshot) error {
	if sn.RepoID != nil {
		if w.deps.Repos == nil {
			return alm.Errorf(alm.CodeUnavailable, "Repositories are not configured on this worker.")
		}
		if err := w.deps.Store.SnapshotProgress(ctx, sn.ID, "reading", 0, 0, nil); err != nil {
			return err
		}
		return w.deps.Repos.Snapshot(ctx, sn.ID, *sn.RepoID, sn.Ref)
	}
	if w.deps.Orgs == nil || sn.OrgID == nil {
		return alm.Errorf(alm.CodeInvalid, "This snapshot has no org to read.")
	}
	org, err := w.deps.Store.OrgByID(ctx, *sn.OrgID)
	if err != nil {
		return err
	}
	client, err := w.deps.Orgs.Client(ctx, org)
	if err != nil {
		return err
	}
	p := &progress{w: w, id: sn.ID}
	if err := p.report(ctx, "discovering", 0, 0, true); err != nil {
		return err
	}
	members, err := w.discover(ctx, client, p)
	if err != nil {
		return err
	}
	total := 0
	for _, m := range members {
		total += len(m)
	}
	if err := p.report(ctx, "retrieving", 0, total, true); err != nil {
		return err
	}
	var manifest snapshot.Manifest
	var added int64
	done := 0
	size := w.deps.SnapshotChunk
	if size <= 0 {
		size = chunkComponents
	}
	for _, chunk := range chunks(members, size) {
		n := 0
		for _, m := range chunk {
			n += len(m)
		}
		r, err := client.Retrieve(ctx, salesforce.RetrieveRequest{APIVersion: org.APIVersion, Unpackaged: chunk}, func(*salesforce.RetrieveResult) {
			_ = p.report(ctx, "retrieving", done, total, false)
		})
		if err != nil {
			return err
		}
		if r.Status != salesforce.StatusSucceeded {
			return alm.Errorf(alm.CodeInvalid, "The org could not retrieve its metadata: %s %s", r.ErrorStatusCode, r.ErrorMessage)
		}
		for _, m := range r.Messages {
			if len(p.warnings) < 200 {
				p.warnings = append(p.warnings, m.FileName+": "+m.Problem)
			}
		}
		entries, blobs, err := componentsOf(r.ZipFile)
		if err != nil {
			return err
		}
		manifest = append(manifest, entries...)
		a, err := w.deps.Store.PutNewBlobs(ctx, blobs)
		if err != nil {
			return err
		}
		added += a
		done += n
		if err := p.report(ctx, "retrieving", done, total, true); err != nil {
			return err
		}
		crashpoint.At("snapshot.retrieving")
		if sn.Backup {
			crashpoint.At("backup.retrieving")
		}
	}
	if err := p.report(ctx, "storing", total, total, true); err != nil {
		return err
	}
	manifest = dedupe(manifest)
	crashpoint.At("snapshot.storing")
	var monitor store.Job
	if sn.OrgID != nil {
		// Every org snapshot is checked for drift against the one before.
		monitor = job(running(ctx), func(id int64) river.JobArgs { return MonitorArgs{SnapshotID: id} })
	}
	return w.deps.Store.FinishSnapshot(ctx, sn.ID, manifest, added, monitor)
}

// discover lists every component of the types the metadata engine knows,
// folders and their contents included.
func (w *SnapshotWorker) discover(ctx context.Context, c *salesforce.Client, p *progress) (map[string][]string, error) {
	d, err := c.DescribeMetadata(ctx)
	if err != nil {
		return nil, err
	}
	var plain []string
	var foldered []string
	for _, o := range d.MetadataObjects {
		if metadata.DefaultRegistry.Type(o.TypeName) == nil {
			continue
		}
		if o.InFolder {
			foldered = append(foldered, o.TypeName)
		} else {
			plain = append(plain, o.TypeName)
		}
	}
	sort.Strings(plain)
	members := map[string][]string{}
	var modified []store.Modified
	add := func(props []salesforce.FileProperties) {
		for _, fp := range props {
			if fp.Type != "" && fp.FullName != "" && fp.ManageableState != "installed" {
				members[fp.Type] = append(members[fp.Type], fp.FullName)
				if fp.LastModifiedByName != "" {
					m := store.Modified{Type: fp.Type, Name: fp.FullName, By: fp.LastModifiedByName}
					if at := fp.LastModifiedDate.Time; !at.IsZero() {
						m.At = &at
					}
					modified = append(modified, m)
				}
			}
		}
	}
	// listMetadata takes three queries a call.
	for batch := range slices.Chunk(plain, 3) {
		var qs []salesforce.ListMetadataQuery
		for _, t := range batch {
			qs = append(qs, salesforce.ListMetadataQuery{Type: t})
		}
		props, err := c.ListMetadata(ctx, qs)
		if err != nil {
			return nil, err
		}
		add(props)
		if err := p.report(ctx, "discovering", 0, 0, false); err != nil {
			return nil, err
		}
	}
	// Children people edit one by one are retrieved with their parent, but
	// listed on their own for who changed them and when (an object's own
	// date says nothing of its fields).
	if slices.Contains(plain, "CustomObject") || slices.Contains(plain, "CustomLabels") {
		var kids []salesforce.ListMetadataQuery
		for _, t := range childrenListed {
			kids = append(kids, salesforce.ListMetadataQuery{Type: t})
		}
		for batch := range slices.Chunk(kids, 3) {
			props, err := c.ListMetadata(ctx, batch)
			if err != nil {
				return nil, err
			}
			for _, fp := range props {
				if fp.Type != "" && fp.FullName != "" && fp.LastModifiedByName != "" && fp.ManageableState != "installed" {
					m := store.Modified{Type: fp.Type, Name: fp.FullName, By: fp.LastModifiedByName}
					if at := fp.LastModifiedDate.Time; !at.IsZero() {
						m.At = &at
					}
					modified = append(modified, m)
				}
			}
		}
	}
	for _, t := range foldered {
		folderType := map[string]string{"EmailTemplate": "EmailFolder"}[t]
		if folderType == "" {
			folderType = t + "Folder"
		}
		folders, err := c.ListMetadata(ctx, []salesforce.ListMetadataQuery{{Type: folderType}})
		if err != nil {
			return nil, err
		}
		for _, f := range folders {
			members[t] = append(members[t], f.FullName)
			props, err := c.ListMetadata(ctx, []salesforce.ListMetadataQuery{{Type: t, Folder: f.FullName}})
			if err != nil {
				return nil, err
			}
			add(props)
		}
	}
	for t := range members {
		slices.Sort(members[t])
		members[t] = slices.Compact(members[t])
	}
	// Who changed what, for picking a work item's changes: a retry of the
	// job finds them recorded already.
	if err := w.deps.Store.RecordModified(ctx, p.id, modified); err != nil {
		return nil, err
	}
	return members, nil
}

// childrenListed are the child types listed for who changed them.
var childrenListed = []string{"CustomField", "ValidationRule", "RecordType", "ListView", "WebLink", "FieldSet", "CompactLayout", "CustomLabel"}

// chunks cuts a manifest into retrieves of about n components, a type's
// members kept in order.
func chunks(m map[string][]string, n int) []map[string][]string {
	types := make([]string, 0, len(m))
	for t := range m {
		types = append(types, t)
	}
	sort.Strings(types)
	var out []map[string][]string
	cur, size := map[string][]string{}, 0
	for _, t := range types {
		for _, mem := range m[t] {
			if size == n {
				out = append(out, cur)
				cur, size = map[string][]string{}, 0
			}
			cur[t] = append(cur[t], mem)
			size++
		}
	}
	if size > 0 {
		out = append(out, cur)
	}
	return out
}

// componentsOf reads a retrieved zip (hostile until checked: ReadZip
// enforces the limits) into manifest entries and blobs.
func componentsOf(zip []byte) (snapshot.Manifest, []store.Blob, error) {
	files, err := metadata.ReadZip(zip, metadata.DefaultZipLimits)
	if err != nil {
		return nil, nil, alm.Errorf(alm.CodeInvalid, "The retrieved archive is unusable: %v", err)
	}
	// An unpackaged retrieve puts everything under unpackaged/.
	for p := range files {
		if dir, ok := strings.CutSuffix(p, "/package.xml"); ok && !strings.Contains(dir, "/") {
			rooted := make(map[string][]byte, len(files))
			for q, b := range files {
				if rest, ok := strings.CutPrefix(q, dir+"/"); ok {
					rooted[rest] = b
				}
			}
			files = rooted
			break
		}
	}
	res, err := metadata.ReadMetadataFormat(metadata.MemFS(files), metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return nil, nil, alm.Errorf(alm.CodeInvalid, "The retrieved metadata could not be read: %v", err)
	}
	var m snapshot.Manifest
	var blobs []store.Blob
	for _, c := range res.Set.Components() {
		m = append(m, snapshot.Entry{Type: c.Type.Name, Name: c.Name, Hash: c.Hash})
		one := metadata.NewSet()
		one.Add(c)
		out, err := metadata.WriteMetadataFormat(one)
		if err != nil {
			return nil, nil, fmt.Errorf("lay out %s: %w", c.Key(), err)
		}
		blobs = append(blobs, store.Blob{Hash: c.Hash, Data: snapshot.EncodeFiles(out)})
	}
	return m, blobs, nil
}

// dedupe sorts a manifest and keeps one entry per component (a child
// retrieved in two chunks with its parent).
func dedupe(m snapshot.Manifest) snapshot.Manifest {
	m.Sort()
	return slices.CompactFunc(m, func(a, b snapshot.Entry) bool {
		return a.Type == b.Type && strings.EqualFold(a.Name, b.Name)
	})
}
