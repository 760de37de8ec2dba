package metadata

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// SourceLayout says where and how WriteSource lays components out.
type SourceLayout struct {
	// Base is the directory types go under, e.g. "force-app/main/default".
	Base string
	// Project, when set, decides the opt-in decompositions (Workflow,
	// SharingRules, CustomLabels presets).
	Project *Project
}

// WriteSource lays s out in SFDX source format: objects and translations
// decomposed into folders, zip static resources expanded, every XML file
// with its -meta.xml suffix. The components must have been read with
// KeepContent. It returns path → content.
func WriteSource(s *Set, layout SourceLayout) (map[string][]byte, error) {
	base := strings.Trim(layout.Base, "/")
	out := map[string][]byte{}
	put := func(p string, b []byte) { out[path.Join(base, p)] = b }
	monolithic := map[Key]*Node{} // parents written as one file with their children
	var order []Key
	for _, c := range s.Components() {
		if c.XML == nil && c.Parts == nil {
			return nil, fmt.Errorf("%s was read without its content", c.Key())
		}
		t := c.Type
		parentType := t
		if t.IsChild() {
			parentType = DefaultRegistry.Type(t.Parent)
		}
		if parentType.HasAddressableChildren() && !decomposedInSource(parentType, layout.Project) {
			pk, el := recomposeTarget(c)
			if monolithic[pk] == nil {
				monolithic[pk] = &Node{Name: pk.Type}
				order = append(order, pk)
			}
			root := monolithic[pk]
			if el == nil {
				root.Name, root.Attrs = c.XML.Name, c.XML.Attrs
				root.Children = append(append([]*Node(nil), c.XML.Children...), root.Children...)
			} else {
				root.Children = append(root.Children, el)
			}
			continue
		}
		if err := writeSourceComponent(put, c, layout.Project); err != nil {
			return nil, err
		}
	}
	for _, pk := range order {
		t := DefaultRegistry.Type(pk.Type)
		root := monolithic[pk]
		sortElements(root)
		put(t.Dir+"/"+encodeName(pk.Name)+"."+t.Suffix+metaSuffix, root.Marshal())
	}
	return out, nil
}

func decomposedInSource(t *Type, proj *Project) bool {
	return t.Decomp != "" || proj.Decomposes(t.Name)
}

func writeSourceComponent(put func(string, []byte), c *Component, proj *Project) error {
	t := c.Type
	switch {
	case t.IsChild():
		return writeSourceChild(put, c, proj)
	case t.Shape == ShapeBundle:
		for _, p := range c.Parts {
			put(t.Dir+"/"+c.Name+"/"+p.Name, p.Data)
		}
	case t.Name == "StaticResource":
		if c.XML != nil {
			put(t.Dir+"/"+c.Name+"."+t.Suffix+metaSuffix, c.XML.Marshal())
		}
		if len(c.Parts) == 1 && c.Parts[0].Name == "" {
			put(t.Dir+"/"+c.Name+"."+resourceExt(c), c.Parts[0].Data)
		} else {
			for _, p := range c.Parts {
				put(t.Dir+"/"+c.Name+"/"+p.Name, p.Data)
			}
		}
	case t.Name == "Document":
		if len(c.Parts) > 0 {
			put(t.Dir+"/"+c.Name, c.Parts[0].Data)
		}
		if c.XML != nil {
			noExt, _ := splitExt(c.Name)
			put(t.Dir+"/"+noExt+".document"+metaSuffix, c.XML.Marshal())
		}
	case t.Name == "ExperienceBundle":
		if c.XML != nil {
			put(t.Dir+"/"+c.Name+".site"+metaSuffix, c.XML.Marshal())
		}
		for _, p := range c.Parts {
			put(t.Dir+"/"+c.Name+"/"+p.Name, p.Data)
		}
	case t.IsFolder():
		put(t.Dir+"/"+folderFile(c.Name)+"."+t.Suffix+metaSuffix, c.XML.Marshal())
	case t.Shape == ShapeContent:
		p := t.Dir + "/" + pathName(t, c.Name) + "." + t.Suffix
		if len(c.Parts) > 0 {
			put(p, c.Parts[0].Data)
		}
		if c.XML != nil {
			put(p+metaSuffix, c.XML.Marshal())
		}
	case t.Decomp == "folderPerType" || (proj.Decomposes(t.Name) && t.Name != "CustomLabels" && t.Name != "PermissionSet"):
		put(t.Dir+"/"+c.Name+"/"+c.Name+"."+t.Suffix+metaSuffix, c.XML.Marshal())
	case t.Decomp == "topLevel":
		writeTopLevel(put, c)
	default:
		put(t.Dir+"/"+pathName(t, c.Name)+"."+t.Suffix+metaSuffix, c.XML.Marshal())
	}
	return nil
}

// writeSourceChild writes an addressable child in its decomposed place:
// objects/Account/fields/Tier__c.field-meta.xml, labels/Greeting.label-meta.xml.
func writeSourceChild(put func(string, []byte), c *Component, proj *Project) error {
	t := c.Type
	parent := DefaultRegistry.Type(t.Parent)
	_, name := splitChildName(t, c.Name)
	switch {
	case parent.Name == "CustomLabels":
		put(parent.Dir+"/"+encodeName(name)+"."+t.Suffix+metaSuffix, c.XML.Marshal())
	case parent.Decomp == "topLevel":
		put(parent.Dir+"/"+c.Parent+"/"+encodeName(name)+"."+t.Suffix+metaSuffix, c.XML.Marshal())
	default:
		put(parent.Dir+"/"+c.Parent+"/"+t.Dir+"/"+encodeName(name)+"."+t.Suffix+metaSuffix, c.XML.Marshal())
	}
	return nil
}

// writeTopLevel writes a topLevel-decomposed component: its own elements in
// {name}/{name}.{suffix}-meta.xml and each hidden child in a file beside it.
func writeTopLevel(put func(string, []byte), c *Component) {
	t := c.Type
	own := &Node{Name: c.XML.Name, Attrs: c.XML.Attrs}
	var pieces []*Node
	for _, el := range c.XML.Children {
		ct := t.ChildByTag(el.Name)
		if ct == nil || !ct.Hidden || el.ChildText(ct.Key) == "" {
			own.Children = append(own.Children, el)
			continue
		}
		piece := *el
		piece.Name = ct.Name
		pieces = append(pieces, &piece)
	}
	put(t.Dir+"/"+c.Name+"/"+c.Name+"."+t.Suffix+metaSuffix, own.Marshal())
	sort.Slice(pieces, func(i, j int) bool { return pieces[i].Name+pieces[i].Text < pieces[j].Name+pieces[j].Text })
	for _, p := range pieces {
		ct := t.ChildByTag(t.childTagOf(p.Name))
		put(t.Dir+"/"+c.Name+"/"+encodeName(p.ChildText(ct.Key))+"."+ct.Suffix+metaSuffix, p.Marshal())
	}
}

func (t *Type) childTagOf(childType string) string {
	for _, c := range t.children {
		if c.Name == childType {
			return c.Tag
		}
	}
	return ""
}

// resourceExts maps static resource content types to the file extension
// the source format gives their content: the first extension the MIME
// registry lists for the type, as the Salesforce CLI picks it, so a
// resource retrieved by either tool lands under the same name.
var resourceExts = map[string]string{
	"application/javascript": "js", "text/javascript": "js", "application/x-javascript": "js",
	"text/css": "css", "image/png": "png", "image/x-png": "png", "image/jpeg": "jpeg", "image/jpg": "jpg", "image/gif": "gif",
	"image/svg+xml": "svg", "image/webp": "webp", "image/bmp": "bmp", "image/tiff": "tif", "image/x-icon": "ico",
	"image/vnd.microsoft.icon": "ico", "application/pdf": "pdf", "text/plain": "txt", "application/json": "json",
	"text/html": "html", "text/xml": "xml", "application/xml": "xml", "text/csv": "csv", "text/markdown": "md",
	"text/calendar": "ics", "application/rtf": "rtf", "text/rtf": "rtf", "text/x-haml": "haml",
	"application/zip": "zip", "application/x-zip-compressed": "zip", "application/octet-stream": "bin",
	"audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/x-aac": "aac", "audio/aac": "aac", "audio/mpeg": "mpga", "audio/ogg": "oga", "audio/wav": "wav", "audio/x-wav": "wav", "audio/webm": "weba",
	"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "qt", "video/mpeg": "mpeg",
	"font/woff": "woff", "font/woff2": "woff2", "font/ttf": "ttf", "font/otf": "otf", "application/vnd.ms-fontobject": "eot",
	"application/msword": "doc", "application/vnd.ms-excel": "xls", "application/vnd.ms-powerpoint": "ppt",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   "docx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "xlsx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
	"application/x-shockwave-flash":                                             "swf", "application/java-archive": "jar", "application/wasm": "wasm",
}

func resourceExt(c *Component) string {
	if c.XML != nil {
		if ext, ok := resourceExts[strings.ToLower(c.XML.ChildText("contentType"))]; ok {
			return ext
		}
	}
	return "bin" // application/octet-stream, the default content type
}
