// Command interop checks the org simulator with a real Salesforce client:
// it starts `trellis orgsim`, then drives it with jsforce (the library the
// Salesforce CLI is built on, installed from npm by bench/oracle) through
// login, queries, record writes, Metadata API deploys and retrieves over
// SOAP and REST, Tooling test runs and a Bulk 2.0 query.
//
//	go run ./bench/interop
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/bench/oracle"
	"github.com/trellis-alm/trellis/internal/metadata"
)

func main() {
	trellis := flag.String("trellis", "bin/trellis", "the trellis binary")
	cache := flag.String("cache", oracle.DefaultCache(), "where the npm tools are installed")
	flag.Parse()
	dir, err := oracle.Install(*cache)
	check(err)
	work, err := os.MkdirTemp("", "trellis-interop")
	check(err)
	defer os.RemoveAll(work)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim := exec.CommandContext(ctx, *trellis, "orgsim", "--addr", "127.0.0.1:0", "--orgs", "dev", "--data", filepath.Join(work, "orgs"), "--step", "50ms", "--json")
	out, err := sim.StdoutPipe()
	check(err)
	sim.Stderr = os.Stderr
	check(sim.Start())
	// The JSON document ends with a closing brace alone on its line.
	var doc strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		doc.WriteString(sc.Text() + "\n")
		if sc.Text() == "}" {
			break
		}
	}
	orgs := filepath.Join(work, "orgs.json")
	check(os.WriteFile(orgs, []byte(doc.String()), 0o600))
	var parsed struct{ Orgs []map[string]string }
	check(json.Unmarshal([]byte(doc.String()), &parsed))

	zip, err := metadata.WriteZip(map[string][]byte{
		"package.xml":                      []byte(`<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>Greeter</members><members>GreeterTest</members><name>ApexClass</name></types><version>64.0</version></Package>`),
		"classes/Greeter.cls":              []byte("public class Greeter {\n    public static String hi() {\n        return 'hi';\n    }\n}\n"),
		"classes/Greeter.cls-meta.xml":     []byte(`<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion><status>Active</status></ApexClass>`),
		"classes/GreeterTest.cls":          []byte("@isTest\nclass GreeterTest {\n    @isTest static void hi() {\n        System.assertEquals('hi', Greeter.hi());\n    }\n}\n"),
		"classes/GreeterTest.cls-meta.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?><ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion><status>Active</status></ApexClass>`),
	})
	check(err)
	zipPath := filepath.Join(work, "deploy.zip")
	check(os.WriteFile(zipPath, zip, 0o600))

	start := time.Now()
	js := exec.Command(oracle.Node(dir), filepath.Join(dir, "jsforce.mjs"), orgs, zipPath)
	js.Dir = dir
	js.Stderr = os.Stderr
	res, runErr := js.Output()
	passed, total := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(res)), "\n") {
		var r struct {
			Op     string `json:"op"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		total++
		mark := "FAIL"
		if r.OK {
			passed++
			mark = "ok  "
		}
		fmt.Printf("%s %-45s %s\n", mark, r.Op, r.Detail)
	}
	fmt.Printf("\njsforce against the simulator: %d of %d operations passed in %s\n", passed, total, time.Since(start).Round(time.Millisecond))
	cancel()
	sim.Wait()
	if runErr != nil || passed != total || total == 0 {
		os.Exit(1)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
}
