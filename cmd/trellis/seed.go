package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/store"
)

// seedLargeCmd fills a project with generated requirements and work items,
// for load tests and for seeing how the pages behave at scale.
func seedLargeCmd(ctx context.Context, cfg config, args []string, sio stdio) error {
	fs := flag.NewFlagSet("seed-large", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	key := fs.String("project", "PERF", "the new project's key")
	reqs := fs.Int("requirements", 10000, "how many requirements")
	items := fs.Int("work-items", 50000, "how many work items")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *reqs < 1 || *items < 0 || *reqs > 1_000_000 || *items > 5_000_000 {
		return usageError{"--requirements must be 1–1,000,000 and --work-items 0–5,000,000"}
	}
	return withStore(ctx, cfg, sio, func(ctx context.Context, st *store.Store) error {
		ctx = alm.WithActor(ctx, alm.Actor{Label: "cli:" + currentUser()})
		start := time.Now()
		p, err := st.SeedLarge(ctx, store.LargeSeed{Key: *key, Requirements: *reqs, WorkItems: *items})
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(sio.out, "project %s: %d requirements, %d work items in %s; open /projects/%s\n", p.Key, *reqs, *items, time.Since(start).Round(time.Millisecond), p.Key)
		return nil
	})
}
