package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Manifest is a package.xml or destructiveChanges*.xml: members by type.
// Change it through Add and Remove, which keep an index so manifests of
// tens of thousands of members stay fast.
type Manifest struct {
	Version string              // API version, e.g. "62.0"; optional for destructive changes
	Types   map[string][]string // type name → members
	index   map[Key]bool
}

// NewManifest returns an empty manifest for version.
func NewManifest(version string) *Manifest {
	return &Manifest{Version: version, Types: map[string][]string{}}
}

func (m *Manifest) indexed() map[Key]bool {
	if m.index == nil {
		m.index = map[Key]bool{}
		for t, ms := range m.Types {
			for _, x := range ms {
				m.index[Key{t, x}] = true
			}
		}
	}
	return m.index
}

// Add lists member under typ, once.
func (m *Manifest) Add(typ, member string) {
	idx := m.indexed()
	k := Key{typ, member}
	if idx[k] {
		return
	}
	idx[k] = true
	m.Types[typ] = append(m.Types[typ], member)
}

// Has reports whether member is listed under typ (explicitly).
func (m *Manifest) Has(typ, member string) bool { return m.indexed()[Key{typ, member}] }

// Remove takes member out of typ.
func (m *Manifest) Remove(typ, member string) {
	delete(m.indexed(), Key{typ, member})
	list := m.Types[typ]
	for i, x := range list {
		if x == member {
			m.Types[typ] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(m.Types[typ]) == 0 {
		delete(m.Types, typ)
	}
}

// Empty reports whether the manifest lists nothing.
func (m *Manifest) Empty() bool { return len(m.Types) == 0 }

// Count returns the number of members listed.
func (m *Manifest) Count() int {
	n := 0
	for _, ms := range m.Types {
		n += len(ms)
	}
	return n
}

// Keys returns every listed member as keys, sorted.
func (m *Manifest) Keys() []Key {
	var out []Key
	for t, ms := range m.Types {
		for _, x := range ms {
			out = append(out, Key{Type: t, Name: x})
		}
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i], out[j]) })
	return out
}

// inFileContainers are parents whose children live inside the parent's
// file. A manifest lists the container beside its children, as the
// Salesforce CLI does, since the deployed file is the container's.
var inFileContainers = map[string]bool{"CustomLabels": true, "Workflow": true, "SharingRules": true, "AssignmentRules": true,
	"AutoResponseRules": true, "EscalationRules": true, "MatchingRules": true}

// slashedFolders are the folder types the Salesforce CLI lists with a
// trailing "/" (reports and dashboards share a name space with their
// folders; email template folders follow suit).
var slashedFolders = map[string]bool{"ReportFolder": true, "DashboardFolder": true, "EmailTemplateFolder": true}

// ManifestFromSet lists every component of s (folder types under their
// content type, in-file children with their container).
func ManifestFromSet(s *Set, version string) *Manifest {
	m := NewManifest(version)
	for _, c := range s.Components() {
		k := c.ManifestKey()
		if slashedFolders[c.Type.Name] {
			// These folders, listed under their content type, end in "/"
			// as the Salesforce CLI writes them, so the Metadata API takes
			// them for folders (ParseManifest accepts either form).
			k.Name += "/"
		}
		m.Add(k.Type, k.Name)
		if c.Type.IsChild() && inFileContainers[c.Type.Parent] {
			m.Add(c.Type.Parent, containerMember(c.Type.Parent, c.Parent))
		}
	}
	return m
}

// Marshal writes the manifest as Salesforce tools do: types sorted by
// name, members sorted within a type ("*" first), four-space indentation.
// The output is byte-stable for the same content.
func (m *Manifest) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<Package xmlns="` + MetadataNS + `">` + "\n")
	names := make([]string, 0, len(m.Types))
	for t := range m.Types {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		members := append([]string(nil), m.Types[t]...)
		sort.Slice(members, func(i, j int) bool {
			if members[i] == "*" || members[j] == "*" {
				return members[i] == "*" && members[j] != "*"
			}
			return members[i] < members[j]
		})
		b.WriteString("    <types>\n")
		for _, x := range members {
			b.WriteString("        <members>")
			escapeText(&b, x)
			b.WriteString("</members>\n")
		}
		b.WriteString("        <name>")
		escapeText(&b, t)
		b.WriteString("</name>\n    </types>\n")
	}
	if m.Version != "" {
		b.WriteString("    <version>" + m.Version + "</version>\n")
	}
	b.WriteString("</Package>\n")
	return b.Bytes()
}

// ParseManifest reads a package.xml or destructive-changes document. It
// refuses anything that is not a <Package> and members without a type.
func ParseManifest(data []byte) (*Manifest, error) {
	root, err := ParseXML(data)
	if err != nil {
		return nil, err
	}
	if root.Name != "Package" {
		return nil, fmt.Errorf("root element is <%s>, want <Package>", root.Name)
	}
	m := NewManifest("")
	for _, el := range root.Children {
		switch el.Name {
		case "version":
			m.Version = strings.TrimSpace(el.Text)
		case "types":
			name := strings.TrimSpace(el.ChildText("name"))
			if name == "" {
				return nil, errors.New("a <types> element has no <name>")
			}
			for _, x := range el.Children {
				if x.Name == "members" {
					// "Reports/Sales/" names the folder Reports/Sales.
					m.Add(name, strings.TrimSuffix(strings.TrimSpace(x.Text), "/"))
				}
			}
		}
	}
	return m, nil
}

// ManifestProblem is one thing wrong with a manifest.
type ManifestProblem struct {
	Type, Member, Problem string
}

func (p ManifestProblem) String() string {
	if p.Member == "" {
		return p.Type + ": " + p.Problem
	}
	return p.Type + " " + p.Member + ": " + p.Problem
}

// Validate checks a manifest against the registry: known types, wildcards
// only where allowed (never in destructive changes), deletable types only
// in destructive changes, and a well-formed API version.
func (m *Manifest) Validate(reg *Registry, destructive bool) []ManifestProblem {
	var out []ManifestProblem
	if m.Version != "" {
		if v, err := strconv.ParseFloat(m.Version, 64); err != nil || v < 10 || !strings.Contains(m.Version, ".") {
			out = append(out, ManifestProblem{Type: "version", Problem: fmt.Sprintf("%q is not an API version like 62.0", m.Version)})
		}
	} else if !destructive {
		out = append(out, ManifestProblem{Type: "version", Problem: "package.xml needs a <version>"})
	}
	for _, k := range m.Keys() {
		t := reg.Type(k.Type)
		switch {
		case t == nil:
			out = append(out, ManifestProblem{k.Type, k.Name, "unknown metadata type"})
		case k.Name == "*" && destructive:
			out = append(out, ManifestProblem{k.Type, k.Name, "wildcards are not allowed in destructive changes"})
		case k.Name == "*" && !t.Wildcard:
			out = append(out, ManifestProblem{k.Type, k.Name, "this type does not support *; name each member"})
		case destructive && !t.Deletable:
			out = append(out, ManifestProblem{k.Type, k.Name, "the Metadata API cannot delete this type"})
		case k.Name == "":
			out = append(out, ManifestProblem{k.Type, k.Name, "empty member"})
		}
		if k.Name == "*" && t != nil && !t.WildAndName && len(m.Types[k.Type]) > 1 {
			out = append(out, ManifestProblem{k.Type, "*", "this type cannot combine * with named members"})
		}
	}
	return out
}

// ParseAPIVersion checks v looks like "62.0" and returns it.
func ParseAPIVersion(v string) (string, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 10 || f > 999 {
		return "", fmt.Errorf("%q is not an API version like 62.0", v)
	}
	return strconv.FormatFloat(f, 'f', 1, 64), nil
}

// DestructiveKind names the destructive-changes manifest to use.
type DestructiveKind string

// The destructive-changes files.
const (
	DestructiveDefault DestructiveKind = "destructiveChanges.xml"
	DestructivePre     DestructiveKind = "destructiveChangesPre.xml"
	DestructivePost    DestructiveKind = "destructiveChangesPost.xml"
)
