package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trellis-alm/trellis/internal/blobstore"
	"github.com/trellis-alm/trellis/internal/store"
)

// newStore opens the store over pool, with the object store when
// TRELLIS_BLOB_URL is set. An object store that does not answer stops the
// process: writing backups to PostgreSQL instead would hide the mistake.
func newStore(ctx context.Context, cfg config, pool *pgxpool.Pool) (*store.Store, error) {
	st := store.New(pool, time.Now)
	if cfg.Blob.URL == "" {
		return st, nil
	}
	o, err := blobstore.Open(cfg.Blob)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := o.Check(cctx); err != nil {
		return nil, fmt.Errorf("TRELLIS_BLOB_URL: %w", err)
	}
	st.UseObjects(o)
	return st, nil
}

// blobsCmd moves stored content between PostgreSQL and the object store,
// and collects what nothing refers to.
func blobsCmd(ctx context.Context, cfg config, args []string, sio stdio) error {
	what, rest, err := sub(args, "blobs", "migrate", "gc")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("blobs "+what, flag.ContinueOnError)
	fs.SetOutput(sio.err)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	to := fs.String("to", store.ToObjects, "where content goes: s3 (the object store of TRELLIS_BLOB_URL) or db (PostgreSQL)")
	grace := fs.Duration("grace", time.Hour, "delete content only once it was found unreferenced at least this long ago")
	dryRun := fs.Bool("dry-run", false, "report what a collection would do, change nothing")
	if err := fs.Parse(rest); err != nil {
		return usageError{err.Error()}
	}
	if what == "migrate" && *to != store.ToObjects && *to != store.ToPostgres {
		return usageError{fmt.Sprintf("--to %q: use s3 or db", *to)}
	}
	if what == "migrate" && cfg.Blob.URL == "" {
		return usageError{"set TRELLIS_BLOB_URL (and AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY as needed) to the object store to move content to or from"}
	}
	if *grace < 0 {
		return usageError{"--grace cannot be negative"}
	}
	return withStore(ctx, cfg, sio, func(ctx context.Context, st *store.Store) error {
		var res fmt.Stringer
		switch what {
		case "migrate":
			start := time.Now()
			r, err := st.MoveContent(ctx, *to, func(r store.MoveReport) {
				if !*asJSON {
					fmt.Fprintf(sio.err, "moved %s so far\n", r)
				}
			})
			if err != nil {
				return fmt.Errorf("moved %s, then: %w (run the same command again to go on)", r, err)
			}
			if !*asJSON {
				fmt.Fprintf(sio.out, "moved %s to %s in %s\n", r, place(*to, cfg), time.Since(start).Round(time.Millisecond))
				if *to == store.ToPostgres && r.Artifacts+r.Chunks > 0 {
					fmt.Fprintln(sio.out, "the artifact and chunk objects left in the bucket go with the next two `trellis blobs gc` runs (keep TRELLIS_BLOB_URL set for those)")
				}
			}
			res = r
		case "gc":
			r, err := st.CollectGarbage(ctx, store.GCOptions{Grace: *grace, DryRun: *dryRun})
			if err != nil {
				return err
			}
			if !*asJSON {
				prefix := ""
				if *dryRun {
					prefix = "dry run: "
				}
				fmt.Fprintf(sio.out, "%s%s\n", prefix, r)
			}
			res = r
		}
		if *asJSON {
			return json.NewEncoder(sio.out).Encode(res)
		}
		return nil
	})
}

func place(to string, cfg config) string {
	if to == store.ToPostgres {
		return "PostgreSQL"
	}
	return cfg.Blob.URL
}
