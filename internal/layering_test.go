// Package internal_test keeps the architecture's dependency rule: domain
// and library packages import nothing of Trellis's outer layers.
package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/trellis-alm/trellis/"

// allowed lists, for each package, the Trellis packages it may import.
// Every package must be listed (a new one fails the test until it says
// what it may import); "stdlib" packages import nothing outside the
// standard library at all; "any" marks the wiring (cmd) and the
// benchmarks, which may import everything.
var allowed = map[string][]string{
	"internal/alm":                {"stdlib"},
	"internal/metadata":           {},
	"internal/salesforce":         {"internal/metadata"},
	"internal/orgsim":             {"internal/metadata"},
	"internal/pgembed":            {},
	"internal/secret":             {},
	"migrations":                  {},
	"internal/store":              {"internal/alm", "internal/blobstore", "internal/snapshot", "migrations"},
	"internal/auth":               {"internal/alm", "internal/store", "internal/secret"},
	"internal/jobs":               {"internal/crashpoint", "internal/drift", "internal/outbound", "internal/alm", "internal/store", "internal/orgs", "internal/repos", "internal/snapshot", "internal/metadata", "internal/salesforce", "internal/promote", "internal/secret", "internal/databackup", "internal/gitflow", "internal/tracker", "internal/tracksync"},
	"internal/checks":             {"stdlib"},
	"internal/artifact":           {"internal/deletion", "internal/metadata", "internal/snapshot"},
	"internal/deletion":           {"internal/metadata", "internal/snapshot"},
	"internal/drift":              {"internal/alm", "internal/snapshot"},
	"internal/build":              {"internal/alm", "internal/artifact", "internal/checks", "internal/metadata", "internal/snapshot", "internal/store"},
	"internal/promote":            {"internal/alm", "internal/artifact", "internal/deletion", "internal/build", "internal/checks", "internal/snapshot", "internal/store"},
	"internal/databackup":         {"internal/crashpoint", "internal/alm", "internal/store", "internal/salesforce"},
	"internal/ciclient":           {"stdlib"},
	"internal/demo":               {"internal/alm", "internal/auth", "internal/build", "internal/capture", "internal/gitflow", "internal/jobs", "internal/metadata", "internal/orgs", "internal/orgsim", "internal/promote", "internal/repos", "internal/salesforce", "internal/store", "internal/tracker", "internal/trackersim", "internal/tracksync"},
	"internal/capture":            {"internal/alm", "internal/store", "internal/snapshot", "internal/metadata"},
	"internal/repos":              {"internal/outbound", "internal/alm", "internal/store", "internal/secret", "internal/gitrepo", "internal/gitmerge", "internal/githost", "internal/metadata", "internal/snapshot"},
	"internal/orgs":               {"internal/alm", "internal/store", "internal/secret", "internal/salesforce"},
	"internal/markdown":           {},
	"internal/snapshot":           {"stdlib"},
	"web":                         {"internal/alm", "internal/markdown", "internal/snapshot", "internal/artifact", "internal/deletion", "internal/checks", "internal/metadata", "internal/gitmerge"},
	"internal/server":             {"internal/crashpoint", "internal/outbound", "internal/alm", "internal/store", "internal/auth", "internal/secret", "internal/jobs", "internal/markdown", "internal/orgs", "internal/repos", "internal/snapshot", "internal/capture", "internal/metadata", "internal/build", "internal/artifact", "internal/promote", "internal/databackup", "internal/gitflow", "internal/gitmerge", "internal/tracker", "internal/tracksync", "web"},
	"internal/testdb":             {"internal/pgembed", "internal/store", "migrations"},
	"internal/testdb/withdb":      {"internal/testdb"},
	"internal/browsertest":        {},
	"internal/gitrepo":            {},
	"internal/gitmerge":           {"internal/metadata"},
	"internal/gitflow":            {"internal/alm", "internal/artifact", "internal/gitmerge", "internal/githost", "internal/metadata", "internal/repos", "internal/snapshot", "internal/store"},
	"internal/githost":            {"stdlib"},
	"internal/tracker":            {"internal/markdown"},
	"internal/trackersim":         {"internal/tracker"},
	"internal/tracksync":          {"internal/alm", "internal/crashpoint", "internal/secret", "internal/store", "internal/tracker"},
	"internal/outbound":           {"stdlib"},
	"internal/crashpoint":         {"stdlib"},
	"internal/blobstore":          {},
	"internal/blobstore/blobtest": {"internal/blobstore"},
	"internal/gittest":            {},
	"cmd/trellis":                 {"any"},
	"bench":                       {"any"},
}

func TestDependenciesPointInward(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "test-artifacts" || name == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports[pkg][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pkgs := make([]string, 0, len(imports))
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		rule, ok := ruleFor(pkg)
		if !ok {
			t.Errorf("%s is not listed in allowed (internal/layering_test.go): add it with the packages it may import", pkg)
			continue
		}
		if rule.any {
			continue
		}
		for imp := range imports[pkg] {
			if rule.stdlibOnly && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				t.Errorf("%s must use only the standard library, imports %s", pkg, imp)
			}
			if !strings.HasPrefix(imp, module) {
				continue
			}
			target := strings.TrimPrefix(imp, module)
			if target == pkg || strings.HasPrefix(target, pkg+"/") {
				continue
			}
			if !rule.allows(target) {
				t.Errorf("%s imports %s, which the architecture does not allow (see allowed in this file)", pkg, target)
			}
		}
	}
}

type rule struct {
	any        bool
	stdlibOnly bool
	may        []string
}

func (r rule) allows(target string) bool {
	for _, m := range r.may {
		if target == m || strings.HasPrefix(target, m+"/") {
			return true
		}
	}
	return false
}

// ruleFor finds the rule of pkg, or of its nearest listed parent for the
// "any" rules (bench/… and cmd/… hold many small mains).
func ruleFor(pkg string) (rule, bool) {
	for p := pkg; p != "." && p != ""; p = filepath.ToSlash(filepath.Dir(p)) {
		may, ok := allowed[p]
		if ok && p != pkg && !(len(may) == 1 && may[0] == "any") {
			return rule{}, false
		}
		if ok {
			r := rule{may: may}
			if len(may) == 1 && may[0] == "stdlib" {
				r = rule{stdlibOnly: true}
			}
			if len(may) == 1 && may[0] == "any" {
				r = rule{any: true}
			}
			return r, true
		}
	}
	return rule{}, false
}
