package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/store"
)

// tokenCmd creates an API token for a user and prints it once, for CI
// setup scripts.
func tokenCmd(ctx context.Context, cfg config, args []string, sio stdio) error {
	_, rest, err := sub(args, "token", "create")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	email := fs.String("email", "", "the token owner's email (required)")
	name := fs.String("name", "", "what will use the token, e.g. \"GitHub Actions\" (required)")
	days := fs.Int("expires-days", 90, "days until the token expires; 0 for never")
	if err := fs.Parse(rest); err != nil {
		return usageError{err.Error()}
	}
	if *email == "" || *name == "" {
		return usageError{"token create needs --email and --name"}
	}
	if *days < 0 {
		return usageError{"--expires-days cannot be negative"}
	}
	return withStore(ctx, cfg, sio, func(ctx context.Context, st *store.Store) error {
		ctx = alm.WithActor(ctx, alm.Actor{Label: "cli:" + currentUser()})
		u, err := st.UserByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("no user with email %s", *email)
		}
		svc := auth.NewService(st, cfg.Session, newLogger(cfg, sio.err))
		value, _, err := svc.CreateToken(ctx, u, *name, time.Duration(*days)*24*time.Hour)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintln(sio.out, value)
		return nil
	})
}
