package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Project is an SFDX project: its package directories, source API version,
// behaviour options (which decide decomposition), and ignore rules.
type Project struct {
	FS               fs.FS
	PackageDirs      []string // slash-separated, relative to the project root
	DefaultDir       string
	Name             string
	SourceAPIVersion string
	Options          map[string]bool // sourceBehaviorOptions / registryPresets
	Ignore           *Ignore
}

type projectFile struct {
	PackageDirectories []struct {
		Path    string `json:"path"`
		Default bool   `json:"default"`
	} `json:"packageDirectories"`
	Name                  string   `json:"name"`
	SourceAPIVersion      string   `json:"sourceApiVersion"`
	SourceBehaviorOptions []string `json:"sourceBehaviorOptions"`
	RegistryPresets       []string `json:"registryPresets"`
}

// ErrNotProject is returned by LoadProject when there is no sfdx-project.json.
var ErrNotProject = errors.New("no sfdx-project.json")

// LoadProject reads sfdx-project.json and .forceignore at the root of
// fsys. It returns an error naming the file when either cannot be read.
func LoadProject(fsys fs.FS) (*Project, error) {
	raw, err := fs.ReadFile(fsys, "sfdx-project.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotProject
	}
	if err != nil {
		return nil, fmt.Errorf("sfdx-project.json: %w", err)
	}
	p, err := ParseProject(raw)
	if err != nil {
		return nil, err
	}
	p.FS = fsys
	ignore, err := fs.ReadFile(fsys, ".forceignore")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf(".forceignore: %w", err)
	}
	p.Ignore = ParseIgnore(ignore)
	return p, nil
}

// ParseProject reads the content of an sfdx-project.json.
func ParseProject(raw []byte) (*Project, error) {
	var pf projectFile
	if err := json.Unmarshal(stripJSONComments(raw), &pf); err != nil {
		return nil, fmt.Errorf("sfdx-project.json: %w", err)
	}
	if len(pf.PackageDirectories) == 0 {
		return nil, errors.New("sfdx-project.json: packageDirectories is empty")
	}
	p := &Project{Name: pf.Name, SourceAPIVersion: pf.SourceAPIVersion, Options: map[string]bool{}, Ignore: ParseIgnore(nil)}
	for _, d := range pf.PackageDirectories {
		dir := cleanRel(d.Path)
		if dir == "" || strings.HasPrefix(dir, "../") || dir == ".." {
			return nil, fmt.Errorf("sfdx-project.json: package directory %q is outside the project", d.Path)
		}
		p.PackageDirs = append(p.PackageDirs, dir)
		if d.Default || p.DefaultDir == "" {
			p.DefaultDir = dir
		}
	}
	for _, o := range append(pf.SourceBehaviorOptions, pf.RegistryPresets...) {
		p.Options[o] = true
	}
	return p, nil
}

// cleanRel normalises a project-relative path to slash form without "./".
func cleanRel(p string) string {
	p = path.Clean(strings.ReplaceAll(strings.TrimSpace(p), `\`, "/"))
	if p == "." {
		return "."
	}
	return strings.TrimPrefix(p, "./")
}

// stripJSONComments removes // and /* */ comments, which some projects
// keep in sfdx-project.json and the Salesforce CLI tolerates.
func stripJSONComments(b []byte) []byte {
	var out []byte
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		if c == '/' && i+1 < len(b) && b[i+1] == '/' {
			for i < len(b) && b[i] != '\n' {
				i++
			}
			out = append(out, '\n')
			continue
		}
		if c == '/' && i+1 < len(b) && b[i+1] == '*' {
			end := strings.Index(string(b[i+2:]), "*/")
			if end < 0 {
				break
			}
			i += end + 3
			continue
		}
		out = append(out, c)
	}
	return out
}

// Decomposes reports whether the project keeps typeName split into files
// (the opt-in source behaviours for Workflow, SharingRules, CustomLabels
// and PermissionSet).
func (p *Project) Decomposes(typeName string) bool {
	if p == nil {
		return false
	}
	o := p.Options
	switch typeName {
	case "Workflow":
		return o["decomposeWorkflowBeta"] || o["decomposeWorkflow"]
	case "SharingRules":
		return o["decomposeSharingRulesBeta"] || o["decomposeSharingRules"]
	case "CustomLabels":
		return o["decomposeCustomLabelsBeta2"] || o["decomposeCustomLabelsBeta"] || o["decomposeCustomLabels"]
	case "PermissionSet":
		return o["decomposePermissionSetBeta2"] || o["decomposePermissionSetBeta"] || o["decomposePermissionSet"]
	}
	return false
}
