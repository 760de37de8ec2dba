package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/trellis-alm/trellis/internal/store"
)

// BlobGCArgs collects stored content (snapshot blobs, artifacts, data
// chunks) nothing refers to any more, once a day: a run marks what it
// finds unreferenced, and the next deletes what is still unreferenced.
type BlobGCArgs struct{}

// Kind names the job kind; it is stored in the database, so never change it.
func (BlobGCArgs) Kind() string { return "blob_gc" }

// InsertOpts keeps at most one pending collection at a time.
func (BlobGCArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBackup, UniqueOpts: river.UniqueOpts{
		ByArgs:  true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// BlobGCWorker runs BlobGCArgs.
type BlobGCWorker struct {
	river.WorkerDefaults[BlobGCArgs]
	deps Deps
}

// Timeout allows for a large bucket's listing.
func (w *BlobGCWorker) Timeout(*river.Job[BlobGCArgs]) time.Duration { return time.Hour }

// blobGrace is how long content stays after a collection found nothing
// referring to it: far longer than any writer takes between storing
// content and recording what refers to it.
const blobGrace = time.Hour

// Work runs one collection.
func (w *BlobGCWorker) Work(ctx context.Context, job *river.Job[BlobGCArgs]) error {
	r, err := w.deps.Store.CollectGarbage(ctx, store.GCOptions{Grace: blobGrace})
	if err != nil {
		return err
	}
	if w.deps.Logger != nil {
		w.deps.Logger.InfoContext(ctx, "collected stored content", slog.Int("doomed", r.Doomed), slog.Int("deleted_blobs", r.Deleted),
			slog.Int64("deleted_bytes", r.DeletedBytes+r.ObjectBytes), slog.Int("deleted_objects", r.Objects))
	}
	return nil
}
