package metadata

import (
	"strings"
)

// role is what a file contributes to its component.
type role int

const (
	roleXML   role = iota // the component's XML document or -meta.xml
	roleBody              // the content file (Apex body, document, single-file resource)
	rolePart              // a file inside a bundle or folder resource
	roleMerge             // XML of a non-addressable piece, merged into the parent's XML
)

// ref is where a source file belongs.
type ref struct {
	typ  *Type
	name string // component fullName; for documents, without the extension
	role role
	part string // for rolePart: the path inside the component
	ext  string // for document bodies: the file extension
}

const metaSuffix = "-meta.xml"

// resolveSource finds the component a source-format file belongs to. rel
// is the file's path inside its package directory. It returns false for
// files that are not metadata (READMEs, jsconfig.json, tests…).
func (r *Registry) resolveSource(rel string, proj *Project) (ref, bool) {
	segs := strings.Split(rel, "/")
	if ref, ok := r.resolveStructural(segs, proj); ok {
		return ref, true
	}
	return r.resolveByName(segs)
}

// resolveStructural handles types whose directory layout names the
// component: bundles, folder resources, decomposed objects and presets.
func (r *Registry) resolveStructural(segs []string, proj *Project) (ref, bool) {
	for i := 0; i < len(segs)-1; i++ {
		for _, t := range r.ByDir(segs[i]) {
			if t.IsChild() {
				continue
			}
			rest := segs[i+1:]
			var got ref
			var ok bool
			switch {
			case t.Shape == ShapeBundle:
				got, ok = resolveBundle(t, rest)
			case t.Shape == ShapeMixed:
				got, ok = r.resolveMixed(t, rest)
			case t.Decomp == "folderPerType" || (t.Name != "PermissionSet" && proj.Decomposes(t.Name) && t.Name != "CustomLabels"):
				got, ok = resolveFolderPerType(t, rest)
			case t.Decomp == "topLevel" || (t.Name == "PermissionSet" && proj.Decomposes(t.Name)):
				got, ok = resolveTopLevel(t, rest)
			default:
				continue
			}
			if ok {
				return got, true
			}
		}
	}
	return ref{}, false
}

func resolveBundle(t *Type, rest []string) (ref, bool) {
	if t.Name == "DigitalExperienceBundle" {
		// digitalExperiences/site/site1/…: the component is "site/site1".
		if len(rest) < 3 {
			return ref{}, false
		}
		return ref{typ: t, name: rest[0] + "/" + rest[1], role: rolePart, part: strings.Join(rest[2:], "/")}, true
	}
	if len(rest) < 2 {
		return ref{}, false // a file directly in lwc/ (jsconfig.json…) is no component
	}
	return ref{typ: t, name: rest[0], role: rolePart, part: strings.Join(rest[1:], "/")}, true
}

func (r *Registry) resolveMixed(t *Type, rest []string) (ref, bool) {
	switch t.Name {
	case "Document":
		folder := r.Type("DocumentFolder")
		if len(rest) == 1 {
			if base, ok := strings.CutSuffix(rest[0], "."+folder.Suffix+metaSuffix); ok {
				return ref{typ: folder, name: base, role: roleXML}, true
			}
			return ref{}, false
		}
		dir := strings.Join(rest[:len(rest)-1], "/")
		file := rest[len(rest)-1]
		if base, ok := strings.CutSuffix(file, ".document"+metaSuffix); ok {
			return ref{typ: t, name: dir + "/" + base, role: roleXML}, true
		}
		if strings.HasSuffix(file, metaSuffix) {
			return ref{}, false
		}
		base, ext := splitExt(file)
		return ref{typ: t, name: dir + "/" + base, role: roleBody, ext: ext}, true
	case "ExperienceBundle":
		if len(rest) == 1 {
			if base, ok := strings.CutSuffix(rest[0], ".site"+metaSuffix); ok {
				return ref{typ: t, name: base, role: roleXML}, true
			}
			return ref{}, false
		}
		return ref{typ: t, name: rest[0], role: rolePart, part: strings.Join(rest[1:], "/")}, true
	default: // StaticResource
		if len(rest) == 1 {
			file := rest[0]
			if base, ok := strings.CutSuffix(file, "."+t.Suffix+metaSuffix); ok {
				return ref{typ: t, name: base, role: roleXML}, true
			}
			if strings.HasSuffix(file, metaSuffix) {
				return ref{}, false
			}
			name, _, _ := strings.Cut(file, ".")
			return ref{typ: t, name: name, role: roleBody}, true
		}
		return ref{typ: t, name: rest[0], role: rolePart, part: strings.Join(rest[1:], "/")}, true
	}
}

// resolveFolderPerType: objects/Account/Account.object-meta.xml and
// objects/Account/fields/Tier__c.field-meta.xml (and the Workflow and
// SharingRules presets, laid out the same way).
func resolveFolderPerType(t *Type, rest []string) (ref, bool) {
	if len(rest) == 2 {
		if base, ok := strings.CutSuffix(rest[1], "."+t.Suffix+metaSuffix); ok {
			return ref{typ: t, name: base, role: roleXML}, true
		}
		return ref{}, false
	}
	if len(rest) != 3 {
		return ref{}, false
	}
	for _, c := range t.Children() {
		if c.Dir != rest[1] {
			continue
		}
		base, ok := strings.CutSuffix(rest[2], "."+c.Suffix+metaSuffix)
		if !ok {
			return ref{}, false
		}
		return ref{typ: c, name: rest[0] + "." + base, role: roleXML}, true
	}
	return ref{}, false
}

// resolveTopLevel: bots/MyBot/MyBot.bot-meta.xml with v1.botVersion-meta.xml
// beside it; objectTranslations/Account-es/ with fieldTranslation files;
// the PermissionSet preset's folder of pieces.
func resolveTopLevel(t *Type, rest []string) (ref, bool) {
	if len(rest) < 2 {
		return ref{}, false
	}
	comp := rest[0]
	file := rest[len(rest)-1]
	if !strings.HasSuffix(file, metaSuffix) {
		return ref{}, false
	}
	if file == comp+"."+t.Suffix+metaSuffix && len(rest) == 2 {
		return ref{typ: t, name: comp, role: roleXML}, true
	}
	for _, c := range t.Children() {
		if base, ok := strings.CutSuffix(file, "."+c.Suffix+metaSuffix); ok {
			if c.Hidden {
				return ref{typ: t, name: comp, role: roleMerge, part: c.Tag + "/" + base}, true
			}
			return ref{typ: c, name: comp + "." + base, role: roleXML}, true
		}
	}
	if t.Name == "PermissionSet" {
		// Every other piece of a decomposed permission set merges into it.
		return ref{typ: t, name: comp, role: roleMerge, part: strings.Join(rest[1:], "/")}, true
	}
	return ref{}, false
}

// resolveByName resolves a file by its suffix, then picks among types that
// share a suffix by the directories above the file.
func (r *Registry) resolveByName(segs []string) (ref, bool) {
	file := segs[len(segs)-1]
	isMeta := strings.HasSuffix(file, metaSuffix)
	base := strings.TrimSuffix(file, metaSuffix)
	name, suffix := splitExt(base)
	if suffix == "" || name == "" {
		return ref{}, false
	}
	t := r.pickType(r.BySuffix(suffix), segs, isMeta)
	if t == nil {
		return ref{}, false
	}
	rl := roleXML
	if !isMeta {
		if t.Shape != ShapeContent {
			// An XML type's file without -meta.xml is the metadata-format
			// spelling, not source: leave it to the metadata reader.
			return ref{}, false
		}
		rl = roleBody
	}
	if t.InFolder() || t.IsFolder() {
		if dir := folderPath(segs, t.Dir); dir != "" {
			name = dir + "/" + name
		}
	}
	return ref{typ: t, name: decodeName(name), role: rl}, true
}

func (r *Registry) pickType(cands []*Type, segs []string, isMeta bool) *Type {
	var best *Type
	for _, t := range cands {
		if t.Hidden || (t.IsChild() && t.Parent != "CustomLabels") {
			continue
		}
		if !isMeta && t.Shape != ShapeContent {
			continue
		}
		if hasAncestor(segs, t.Dir) {
			return t
		}
		if best == nil && !t.Strict {
			best = t
		}
	}
	return best
}

func hasAncestor(segs []string, dir string) bool {
	for _, s := range segs[:len(segs)-1] {
		if s == dir {
			return true
		}
	}
	return false
}

// folderPath returns the folders between the type directory and the file:
// reports/Sales/Q1/Pipeline.report-meta.xml → "Sales/Q1".
func folderPath(segs []string, dir string) string {
	for i := len(segs) - 2; i >= 0; i-- {
		if segs[i] == dir {
			return strings.Join(segs[i+1:len(segs)-1], "/")
		}
	}
	return ""
}

// splitExt splits "name.ext" at the last dot.
func splitExt(file string) (string, string) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return file, ""
	}
	return file[:i], file[i+1:]
}

// decodeName is a file's member name. Salesforce's fullNames keep the
// percent-encoding file names use (listMetadata answers "Custom%3A
// Marketing Profile" and "Account-Account %28Marketing%29 Layout", and the
// CLI writes those to package.xml), so nothing is undone.
func decodeName(n string) string { return n }

// encodeName percent-encodes what cannot appear in a file name. A '%' is
// kept: it begins the encoding a fullName already carries.
func encodeName(n string) string {
	if !strings.ContainsAny(n, `/\:*?"<>|`) {
		return n
	}
	var b strings.Builder
	for _, c := range n {
		switch c {
		case '/', '\\', ':', '*', '?', '"', '<', '>', '|':
			b.WriteString("%" + strings.ToUpper(hexByte(byte(c))))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func hexByte(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// isUnder reports whether p is dir or inside it.
func isUnder(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}
