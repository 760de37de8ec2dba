package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/trellis-alm/trellis/internal/store"
)

// migrateCmd applies, reverts or reports the schema version. It works
// whether or not serve is running: it attaches to the private database or
// starts it briefly.
func migrateCmd(ctx context.Context, cfg config, args []string, sio stdio) error {
	verb, rest, err := sub(args, "migrate", "up", "down", "status")
	if err != nil {
		return err
	}
	log := newLogger(cfg, sio.err)
	db, err := openDatabase(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer db.close(context.Background())
	mg, err := store.NewMigrator(db.url, log)
	if err != nil {
		return err
	}
	defer mg.Close()
	switch verb {
	case "up":
		if err := mg.Up(); err != nil {
			return err
		}
	case "down":
		n := 1
		if len(rest) > 0 {
			if n, err = strconv.Atoi(rest[0]); err != nil || n < 1 {
				return usageError{"migrate down takes a positive number of steps"}
			}
		}
		if err := mg.Down(n); err != nil {
			return err
		}
	}
	st, err := mg.Status()
	if err != nil {
		return err
	}
	state := "up to date"
	switch {
	case st.Dirty:
		state = "DIRTY: a migration failed half-way; repair the database by hand"
	case st.Version < st.Latest:
		state = fmt.Sprintf("%d migration(s) pending; run `trellis migrate up`", st.Latest-st.Version)
	case st.Version > st.Latest:
		state = "newer than this build of Trellis"
	}
	fmt.Fprintf(sio.out, "schema version %d of %d: %s\n", st.Version, st.Latest, state)
	return nil
}
