package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trellis-alm/trellis/internal/orgsim"
)

// orgsimCmd runs the Salesforce org simulator on its own and prints what
// a client needs to connect to each org, as `sf org display` would.
func orgsimCmd(ctx context.Context, args []string, getenv func(string) string, sio stdio) error {
	fs := flag.NewFlagSet("orgsim", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	addr := fs.String("addr", "127.0.0.1:7000", "where the first org listens; the others take the next ports (port 0: any free ports)")
	orgs := fs.String("orgs", "dev,uat,prod", "the orgs' names, comma separated (prod… is a production org, dev… a developer org, others sandboxes)")
	dataDefault := filepath.Join(nonEmptyEnv(getenv("TRELLIS_DATA_DIR"), "./.trellis"), "orgsim")
	data := fs.String("data", dataDefault, "directory keeping each org's metadata and records across restarts")
	step := fs.Duration("step", 400*time.Millisecond, "how long each stage of a deploy, retrieve, test run or bulk job takes")
	asJSON := fs.Bool("json", false, "print the orgs as one JSON document")
	records := fs.Int("records", 0, "load this many generated records into each org, for volume tests (with --data \"\" they stay in memory)")
	useTLS := fs.Bool("tls", false, "serve https with a certificate from the simulator's own CA (its path is each org's ca_file; trust it with NODE_EXTRA_CA_CERTS)")
	traceReq := fs.Bool("trace", false, "log every request the orgs answer (method, path, status, time) to standard error")
	objects := fs.Int("objects", 20, "spread --records over this many objects (the standard ones, then generated custom objects)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{"orgsim takes no arguments besides its flags"}
	}
	var names []string
	for _, n := range strings.Split(*orgs, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return usageError{"--orgs needs at least one name"}
	}
	if *step <= 0 {
		return usageError{"--step must be positive"}
	}
	sim, err := orgsim.Start(orgsim.Options{Orgs: names, DataDir: *data, Addr: *addr, Step: *step, Trace: *traceReq, TLS: *useTLS,
		Logger: slog.New(slog.NewTextHandler(sio.err, nil))})
	if err != nil {
		return err
	}
	if *records > 0 {
		if *objects < 1 || *objects > 200 {
			sim.Close()
			return usageError{"--objects must be between 1 and 200"}
		}
		for _, o := range sim.Orgs() {
			if err := o.LoadVolume(*records, *objects); err != nil {
				sim.Close()
				return err
			}
		}
	}
	var infos []orgsim.Info
	for _, o := range sim.Orgs() {
		infos = append(infos, o.Info())
	}
	if *asJSON {
		enc := json.NewEncoder(sio.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"orgs": infos}); err != nil {
			sim.Close()
			return err
		}
	} else {
		tw := tabwriter.NewWriter(sio.out, 0, 2, 2, ' ', 0)
		for _, i := range infos {
			fmt.Fprintf(tw, "Org %s (%s, %s)\n", i.Name, i.Kind, i.OrgID)
			for _, row := range [][2]string{{"Instance URL", i.InstanceURL}, {"Login URL", i.LoginURL}, {"Username", i.Username},
				{"Password", i.Password}, {"Security Token", i.SecurityToken}, {"Client Id", i.ClientID}, {"Client Secret", i.ClientSecret},
				{"Access Token", i.AccessToken}, {"SFDX auth URL", i.SFDXAuthURL}, {"JWT key file", i.JWTKeyFile}, {"CA file", i.CAFile}} {
				if row[1] != "" {
					fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
				}
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
		fmt.Fprintf(sio.err, "serving %d simulated org(s) with state in %s; Ctrl-C stops\n", len(infos), *data)
	}
	<-ctx.Done()
	return sim.Close()
}

func nonEmptyEnv(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
