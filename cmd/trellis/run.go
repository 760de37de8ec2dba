package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// stdio is where a subcommand reads and writes; tests replace it.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// usageError is a mistake in the command line: exit code 2, with usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	if code, ok := ciExitCode(err); ok {
		return code
	}
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

const usage = `Trellis — plan, build and release Salesforce changes.

Usage: trellis <command> [arguments]

Commands:
  serve                     run the web server and background workers
  worker                    run background workers only
  migrate up|down [N]|status
                            apply, revert (N steps, default 1) or show the schema version
  admin create --email E --name N --role R
                            create a user; the password is read from standard input
  token create --email E --name N [--expires-days D]
                            create an API token for a user and print it once
  meta delta|manifest|convert|diff|deps …
                            the metadata engine for CI pipelines (run "trellis meta" for details)
  ci validate|promote|deploy|status --server URL --token T [--json] …
                            drive validations, promotions and deploys from a CI pipeline
                            (exit 0 succeeded, 1 failed or refused, 2 usage, 3 still running, 4 no answer)
  orgsim [--addr A] [--orgs dev,uat,prod] [--data DIR] [--json]
                            run simulated Salesforce orgs and print how to connect to them
  seed-large [--project KEY] [--requirements N] [--work-items N]
                            fill a new project with generated records (default PERF, 10,000 and 50,000)
  secrets rotate            re-seal org credentials with a new key (see README)
  blobs migrate --to s3|db  move snapshot blobs, artifacts and data backup chunks to the
                            object store of TRELLIS_BLOB_URL or back; resumable
  blobs gc [--grace 1h] [--dry-run]
                            delete stored content no snapshot, build or backup refers to
  healthcheck [--live] [--worker]
                            exit 0 if the server on TRELLIS_ADDR (or the worker's probes on
                            TRELLIS_WORKER_ADDR) is ready (or, with --live, up)
  version                   print the version

Configuration comes from environment variables; see README.md.
`

// run parses the command line and runs a subcommand. main only calls this.
func run(ctx context.Context, args []string, getenv func(string) string) error {
	return runWith(ctx, args, getenv, stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
}

func runWith(ctx context.Context, args []string, getenv func(string) string, sio stdio) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(sio.out, usage)
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	cmd, rest := args[0], args[1:]
	if cmd == "version" {
		fmt.Fprintln(sio.out, versionString())
		return nil
	}
	if cmd == "meta" {
		return metaCmd(rest, sio)
	}
	if cmd == "orgsim" {
		return orgsimCmd(ctx, rest, getenv, sio)
	}
	if cmd == "ci" {
		return ciCmd(ctx, rest, getenv, sio)
	}
	cfg, err := parseConfig(getenv)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, rest, sio)
	case "worker":
		return worker(ctx, cfg, rest, sio)
	case "migrate":
		return migrateCmd(ctx, cfg, rest, sio)
	case "admin":
		return adminCmd(ctx, cfg, rest, sio)
	case "token":
		return tokenCmd(ctx, cfg, rest, sio)
	case "healthcheck":
		return healthcheck(ctx, cfg, rest, sio)
	case "seed-large":
		return seedLargeCmd(ctx, cfg, rest, sio)
	case "secrets":
		return secretsCmd(ctx, cfg, rest, sio)
	case "blobs":
		return blobsCmd(ctx, cfg, rest, sio)
	}
	return usageError{fmt.Sprintf("unknown command %q; commands: serve, worker, migrate, admin, token, meta, ci, orgsim, seed-large, secrets, blobs, healthcheck, version", cmd)}
}

// sub returns the subcommand word of args, or a usage error listing choices.
func sub(args []string, name string, choices ...string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, usageError{fmt.Sprintf("%s needs one of: %s", name, strings.Join(choices, ", "))}
	}
	for _, c := range choices {
		if args[0] == c {
			return c, args[1:], nil
		}
	}
	return "", nil, usageError{fmt.Sprintf("unknown %s command %q; use one of: %s", name, args[0], strings.Join(choices, ", "))}
}
