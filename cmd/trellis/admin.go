package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/trellis-alm/trellis/internal/alm"
	"github.com/trellis-alm/trellis/internal/auth"
	"github.com/trellis-alm/trellis/internal/store"
)

// adminCmd creates users from the command line (the first admin, typically,
// before anyone opens the setup page).
func adminCmd(ctx context.Context, cfg config, args []string, sio stdio) error {
	_, rest, err := sub(args, "admin", "create")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	email := fs.String("email", "", "the user's email address (required)")
	name := fs.String("name", "", "the user's name (required)")
	role := fs.String("role", "admin", "admin, release_manager, developer, product_owner or viewer")
	if err := fs.Parse(rest); err != nil {
		return usageError{err.Error()}
	}
	if *email == "" || *name == "" {
		return usageError{"admin create needs --email and --name (and reads the password from standard input)"}
	}
	r, err := alm.ParseRole(*role)
	if err != nil {
		return usageError{"--role: " + alm.ErrorMessage(err)}
	}
	password, err := readPassword(sio)
	if err != nil {
		return err
	}
	return withStore(ctx, cfg, sio, func(ctx context.Context, st *store.Store) error {
		ctx = alm.WithActor(ctx, alm.Actor{Label: "cli:" + currentUser()})
		svc := auth.NewService(st, cfg.Session, newLogger(cfg, sio.err))
		u, err := svc.CreateUser(ctx, alm.NewUser{Email: *email, Name: *name, Role: r, Password: password}, false)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(sio.out, "created %s (%s) as %s; they can sign in now\n", u.Email, u.Name, u.Role.Label())
		return nil
	})
}

// readPassword reads the password: typed twice without echo at a terminal,
// or the first line of piped input.
func readPassword(sio stdio) (string, error) {
	if f, ok := sio.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(sio.err, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(sio.err)
		if err != nil {
			return "", err
		}
		fmt.Fprint(sio.err, "Repeat it: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(sio.err)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the two passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(sio.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	p := strings.TrimRight(line, "\r\n")
	if p == "" {
		return "", errors.New("no password on standard input (pipe it in: echo \"$PASSWORD\" | trellis admin create …)")
	}
	return p, nil
}

// withStore opens the database (attaching to a running serve's private
// PostgreSQL, or starting it briefly), checks the schema, and runs fn.
func withStore(ctx context.Context, cfg config, sio stdio, fn func(context.Context, *store.Store) error) error {
	log := newLogger(cfg, sio.err)
	db, err := openDatabase(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer db.close(context.Background())
	if cfg.MigrateOnStart {
		if err := migrateUp(db.url, log); err != nil {
			return err
		}
	}
	st, err := newStore(ctx, cfg, db.pool)
	if err != nil {
		return err
	}
	if status, err := st.SchemaStatus(ctx); err != nil {
		return err
	} else if !status.Current() {
		return fmt.Errorf("the database schema is at version %d but this build needs %d: run `trellis migrate up`", status.Version, status.Latest)
	}
	return fn(ctx, st)
}

// cliError turns a validation error into one line per bad field.
func cliError(err error) error {
	fields := alm.FieldErrors(err)
	if len(fields) == 0 {
		return errors.New(alm.ErrorMessage(err))
	}
	var b strings.Builder
	b.WriteString(alm.ErrorMessage(err))
	for k, v := range fields {
		flag := "--" + k
		if k == "password" {
			flag = "password"
		}
		fmt.Fprintf(&b, "\n  %s: %s", flag, v)
	}
	return errors.New(b.String())
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
