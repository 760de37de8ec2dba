package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var envName = regexp.MustCompile(`\b(?:TRELLIS_[A-Z_]+|DATABASE_URL)\b`)

// knownVars returns the variable names Trellis reads at run time, from the
// sources that read them: parseConfig, main and the git backend switch.
func knownVars(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	for _, f := range []string{"config.go", "main.go", "ci.go", "../../internal/gitrepo/gitrepo.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"((?:TRELLIS_[A-Z_]+|DATABASE_URL))"`).FindAllSubmatch(src, -1) {
			known[string(m[1])] = true
		}
	}
	return known
}

// TestDeployFilesUseRealSettings keeps the Dockerfile, compose file,
// Kubernetes manifests, systemd unit and README in step with the settings
// Trellis reads: a misspelt or retired variable there fails here.
func TestDeployFilesUseRealSettings(t *testing.T) {
	known := knownVars(t)
	files := []string{"../../Dockerfile", "../../docker-compose.yml", "../../README.md"}
	for _, pattern := range []string{"../../deploy/*/*"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range envName.FindAllString(string(b), -1) {
			// TRELLIS_TEST_* are the test suite's own knobs, not settings.
			if !known[name] && !strings.HasPrefix(name, "TRELLIS_TEST_") {
				t.Errorf("%s mentions %s, which Trellis does not read", f, name)
			}
		}
	}
}

// TestREADMEDocumentsEverySetting fails when a setting is added without a
// line in the README's configuration table.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for name := range knownVars(t) {
		if !bytes.Contains(readme, []byte("`"+name+"`")) {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("README.md does not document: %s", strings.Join(missing, ", "))
	}
}

// TestKubernetesManifests parses every manifest and checks the references
// between them: config and secret names, the image, probe paths and ports.
func TestKubernetesManifests(t *testing.T) {
	files, _ := filepath.Glob("../../deploy/kubernetes/*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests")
	}
	kinds := map[string]string{} // kind/name → file
	var workloads []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			kind, _ := doc["kind"].(string)
			if kind == "Kustomization" {
				continue
			}
			meta, _ := doc["metadata"].(map[string]any)
			kinds[kind+"/"+str(meta["name"])] = f
			if kind == "Deployment" || kind == "Job" {
				workloads = append(workloads, doc)
			}
		}
	}
	for _, want := range []string{"ConfigMap/trellis-config", "Secret/trellis-secrets", "Service/trellis", "Deployment/trellis-web", "Deployment/trellis-worker", "Job/trellis-migrate"} {
		if kinds[want] == "" {
			t.Errorf("missing %s", want)
		}
	}
	for _, w := range workloads {
		spec := dig(w, "spec", "template", "spec")
		for _, c := range spec["containers"].([]any) {
			c := c.(map[string]any)
			if c["image"] != "trellis" {
				t.Errorf("%s: image %v, want the kustomize name trellis", str(dig(w, "metadata")["name"]), c["image"])
			}
			args := c["args"].([]any)
			if cmd := str(args[0]); cmd != "serve" && cmd != "worker" && cmd != "migrate" {
				t.Errorf("unknown subcommand %s", cmd)
			}
			for _, ref := range c["envFrom"].([]any) {
				for k, v := range ref.(map[string]any) {
					name := str(v.(map[string]any)["name"])
					kind := map[string]string{"configMapRef": "ConfigMap", "secretRef": "Secret"}[k]
					if kinds[kind+"/"+name] == "" {
						t.Errorf("envFrom %s %s does not exist", kind, name)
					}
				}
			}
			for _, probe := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
				if p, ok := c[probe].(map[string]any); ok {
					path := str(dig(p, "httpGet")["path"])
					if path != "/healthz" && path != "/readyz" {
						t.Errorf("%s path %s is not a Trellis probe", probe, path)
					}
				}
			}
		}
	}
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

func str(v any) string { s, _ := v.(string); return s }
