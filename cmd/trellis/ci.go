package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/ciclient"
)

// ciExit carries a `trellis ci` outcome's exit code past the usual
// error-to-code mapping: 1 failed, 3 still running, 4 Trellis unreachable
// or answering with an error.
type ciExit struct {
	code int
	msg  string
}

func (e ciExit) Error() string { return e.msg }

// ciCmd drives validations, promotions and deployments from a pipeline:
//
//	trellis ci validate --build N --org ORG [--test-level L]
//	trellis ci promote  --build N [--stage S]
//	trellis ci deploy   --build N [--stage S] | --promotion P
//	trellis ci status   --promotion P | --deployment D
//
// with --server and --token (or TRELLIS_SERVER and TRELLIS_TOKEN), --json
// for a machine-readable result, and --wait/--timeout.
func ciCmd(ctx context.Context, args []string, getenv func(string) string, sio stdio) error {
	cmd, rest, err := sub(args, "ci", "validate", "promote", "deploy", "status")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("ci "+cmd, flag.ContinueOnError)
	fs.SetOutput(sio.err)
	server := fs.String("server", getenv("TRELLIS_SERVER"), "Trellis's address, e.g. https://trellis.example.com (TRELLIS_SERVER)")
	token := fs.String("token", getenv("TRELLIS_TOKEN"), "an API token (TRELLIS_TOKEN; prefer the variable: flags show in process lists)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	wait := fs.Bool("wait", true, "wait for the validation or deployment to finish")
	timeout := fs.Duration("timeout", 2*time.Hour, "how long to wait before reporting it still running (exit 3)")
	build := fs.Int64("build", 0, "the build's id")
	org := fs.String("org", "", "validate: the org, by id or name")
	level := fs.String("test-level", "RunLocalTests", "validate: NoTestRun, RunLocalTests, RunAllTestsInOrg")
	stage := fs.String("stage", "", "promote/deploy: the pipeline stage (default: the next one the build is not deployed in)")
	promotion := fs.Int64("promotion", 0, "deploy/status: an open promotion")
	deployment := fs.Int64("deployment", 0, "status: a deployment")
	pos, err := parseFlags(fs, rest)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{"ci " + cmd + " takes only flags"}
	}
	if *server == "" || *token == "" {
		return usageError{"set --server and --token (or TRELLIS_SERVER and TRELLIS_TOKEN)"}
	}
	c := &ciclient.Client{Server: *server, Token: *token}
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var r ciclient.Result
	switch cmd {
	case "validate":
		if *build == 0 || *org == "" {
			return usageError{"ci validate needs --build and --org"}
		}
		r, err = c.Validate(wctx, *build, *org, *level, *wait)
	case "promote":
		if *build == 0 {
			return usageError{"ci promote needs --build"}
		}
		r, err = c.Promote(wctx, *build, *stage)
	case "deploy":
		if *build == 0 && *promotion == 0 {
			return usageError{"ci deploy needs --build (with an optional --stage) or --promotion"}
		}
		r, err = c.Deploy(wctx, *build, *stage, *promotion, *wait)
	case "status":
		switch {
		case *deployment != 0:
			r, err = c.Status(wctx, "deployment", *deployment, *wait)
		case *promotion != 0:
			r, err = c.Status(wctx, "promotion", *promotion, *wait)
		default:
			return usageError{"ci status needs --promotion or --deployment"}
		}
	}
	if err != nil {
		return ciExit{code: 4, msg: "trellis ci: " + err.Error()}
	}
	if *asJSON {
		enc := json.NewEncoder(sio.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(sio.out, r.Message)
		for _, p := range r.Problems {
			fmt.Fprintln(sio.out, "  "+p)
		}
		if r.URL != "" {
			fmt.Fprintln(sio.out, r.URL)
		}
	}
	if code := r.Outcome.ExitCode(); code != 0 {
		return ciExit{code: code, msg: strings.TrimSpace(r.Message)}
	}
	return nil
}

func ciExitCode(err error) (int, bool) {
	var e ciExit
	if errors.As(err, &e) {
		return e.code, true
	}
	return 0, false
}
