package orgsim

import (
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// MaxRetrieveFiles is the most files a retrieve may return.
var MaxRetrieveFiles = 10000

type retrieveJob struct {
	id      string
	created time.Time
	step    time.Duration
	result  xRetrieveResult
	zip     []byte
}

func (j *retrieveJob) status(now time.Time) string {
	switch {
	case now.Before(j.created.Add(j.step)):
		return "Pending"
	case now.Before(j.created.Add(2 * j.step)):
		return "InProgress"
	}
	return j.result.Status
}

func (o *Org) soapRetrieve(op *metadata.Node) (any, error) {
	req := arg(op, 0, "retrieveRequest", "request")
	if req == nil {
		return nil, &faultErr{"INVALID_REQUEST", "retrieveRequest is required"}
	}
	version := text(req.Child("apiVersion"))
	single := text(req.Child("singlePackage")) == "true"
	manifest := metadata.NewManifest(nonEmpty(version, fmt.Sprintf("%d.0", maxVersion)))
	var packages []string
	for _, c := range req.Children {
		if c.Name == "packageNames" {
			packages = append(packages, strings.TrimSpace(c.Text))
		}
	}
	if u := req.Child("unpackaged"); u != nil {
		for _, t := range u.Children {
			if t.Name != "types" {
				continue
			}
			name := t.ChildText("name")
			for _, m := range t.Children {
				if m.Name == "members" {
					manifest.Add(name, strings.TrimSpace(m.Text))
				}
			}
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	j := &retrieveJob{id: o.nextID("09S"), created: time.Now(), step: o.sim.opts.Step}
	j.result, j.zip = o.retrieveNow(manifest, packages, single)
	j.result.ID = j.id
	o.retrieves[j.id] = j
	return xAsyncResult{ID: j.id, State: "Queued"}, nil
}

// retrieveNow builds what a retrieve returns, from the org as it is.
func (o *Org) retrieveNow(m *metadata.Manifest, packages []string, single bool) (xRetrieveResult, []byte) {
	res := xRetrieveResult{Status: "Succeeded", Success: true, Done: true}
	prefix := "unpackaged/"
	if single {
		prefix = ""
	}
	for _, p := range packages {
		res.Messages = append(res.Messages, xRetrieveMsg{FileName: p, Problem: fmt.Sprintf("No package named '%s' found", p)})
	}
	picked := metadata.NewSet()
	for _, k := range m.Keys() {
		t := metadata.DefaultRegistry.Type(k.Type)
		if t == nil {
			res.Messages = append(res.Messages, xRetrieveMsg{FileName: prefix + "package.xml", Problem: fmt.Sprintf("Entity type: '%s' is unknown", k.Type)})
			continue
		}
		if k.Name == "*" {
			if !t.Wildcard {
				continue // in-folder types and the like: "*" returns nothing
			}
			for _, c := range o.set.Components() {
				if c.ManifestKey().Type == k.Type && (k.Type != "CustomObject" || strings.Contains(c.Name, "__")) {
					picked.Add(c)
				}
			}
			continue
		}
		c := o.componentByManifestKey(k)
		if c == nil {
			res.Messages = append(res.Messages, xRetrieveMsg{FileName: prefix + "package.xml", Problem: fmt.Sprintf("Entity of type '%s' named '%s' cannot be found", k.Type, k.Name)})
			continue
		}
		picked.Add(c)
		if len(c.Type.Children()) > 0 {
			// Retrieving an object brings its fields and the rest.
			for _, x := range o.set.Components() {
				if x.Type.IsChild() && x.Type.Parent == c.Type.Name && x.Parent == c.Name {
					picked.Add(x)
				}
			}
		}
	}
	files, err := metadata.WriteMetadataFormat(picked)
	if err != nil {
		return xRetrieveResult{Done: true, Status: "Failed", ErrorStatusCode: "UNKNOWN_EXCEPTION", ErrorMessage: err.Error()}, nil
	}
	if len(files)+1 > MaxRetrieveFiles {
		return xRetrieveResult{Done: true, Status: "Failed", ErrorStatusCode: "LIMIT_EXCEEDED",
			ErrorMessage: fmt.Sprintf("Too many files in retrieve call, limit is: %d", MaxRetrieveFiles)}, nil
	}
	zipFiles := map[string][]byte{prefix + "package.xml": m.Marshal()}
	for p, b := range files {
		zipFiles[prefix+p] = b
	}
	zip, err := metadata.WriteZip(zipFiles)
	if err != nil {
		return xRetrieveResult{Done: true, Status: "Failed", ErrorStatusCode: "UNKNOWN_EXCEPTION", ErrorMessage: err.Error()}, nil
	}
	now := time.Now()
	res.FileProperties = append(res.FileProperties, xFileProperties{CreatedByID: o.st.UserID, CreatedByName: "Admin User", CreatedDate: stampOf(now),
		FileName: prefix + "package.xml", FullName: prefix + "package.xml", LastModifiedByID: o.st.UserID, LastModifiedByName: "Admin User",
		LastModifiedDate: stampOf(now), ManageableState: "unmanaged", Type: "Package"})
	for _, c := range picked.Components() {
		fp := o.fileProps(c)
		fp.FileName = prefix + fp.FileName
		res.FileProperties = append(res.FileProperties, fp)
	}
	return res, zip
}

// fileProps describes a component as listMetadata and retrieves do.
func (o *Org) fileProps(c *metadata.Component) xFileProperties {
	m := o.st.Meta[metaKey(c.Key())]
	if m == nil {
		m = &componentMeta{Created: time.Unix(0, 0), Modified: time.Unix(0, 0), ModifiedBy: "Admin User"}
	}
	return xFileProperties{
		CreatedByID: o.st.UserID, CreatedByName: "Admin User", CreatedDate: &stamp{m.Created},
		FileName: mdFileName(c), FullName: c.Name, ID: m.ID,
		LastModifiedByID: o.st.UserID, LastModifiedByName: m.ModifiedBy, LastModifiedDate: &stamp{m.Modified},
		ManageableState: "unmanaged", Type: c.ManifestKey().Type,
	}
}

// mdFileName is the metadata-format file a component is in (a child:
// its parent's file).
func mdFileName(c *metadata.Component) string {
	t := c.Type
	name := c.Name
	if t.IsChild() {
		p := metadata.DefaultRegistry.Type(t.Parent)
		if p != nil {
			return p.Dir + "/" + c.Parent + "." + p.Suffix
		}
	}
	switch {
	case t.Shape == metadata.ShapeBundle || t.Name == "ExperienceBundle":
		return t.Dir + "/" + name
	case t.IsFolder():
		return t.Dir + "/" + name
	case t.Name == "Document":
		return t.Dir + "/" + name
	}
	if t.Suffix == "" {
		return t.Dir + "/" + name
	}
	return t.Dir + "/" + name + "." + t.Suffix
}

func (o *Org) soapCheckRetrieve(op *metadata.Node) (any, error) {
	id := text(arg(op, 0, "asyncProcessId", "id"))
	includeZip := true
	if n := arg(op, 1, "includeZip"); n != nil {
		includeZip = text(n) != "false"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var j *retrieveJob
	for k, x := range o.retrieves {
		if sameID(k, id) {
			j = x
		}
	}
	if j == nil {
		return nil, &faultErr{"INVALID_ID_FIELD", "invalid id: " + id}
	}
	st := j.status(time.Now())
	if st == "Pending" || st == "InProgress" {
		return xRetrieveResult{ID: j.id, Status: st}, nil
	}
	r := j.result
	if includeZip && j.zip != nil {
		r.ZipFile = base64.StdEncoding.EncodeToString(j.zip)
	}
	return r, nil
}

func (o *Org) soapList(op *metadata.Node) (any, error) {
	type query struct{ typ, folder string }
	var qs []query
	for _, c := range op.Children {
		if c.Name == "queries" {
			qs = append(qs, query{c.ChildText("type"), c.ChildText("folder")})
		}
	}
	if len(qs) > 3 {
		return nil, &faultErr{"INVALID_REQUEST", "listMetadata takes at most 3 queries"}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []xFileProperties
	for _, q := range qs {
		for _, c := range o.set.Components() {
			if c.ManifestKey().Type != q.typ {
				continue
			}
			if c.Type.IsFolder() && q.typ != c.Type.Name {
				continue
			}
			if q.folder != "" && c.Type.InFolder() && path.Dir(c.Name) != q.folder {
				continue
			}
			out = append(out, o.fileProps(c))
		}
		// Folder types are asked for by their own names.
		if strings.HasSuffix(q.typ, "Folder") {
			content := strings.TrimSuffix(q.typ, "Folder")
			if content == "Email" {
				content = "EmailTemplate"
			}
			for _, c := range o.set.Components() {
				if c.Type.IsFolder() && c.Type.FolderOf == content {
					fp := o.fileProps(c)
					fp.Type = q.typ
					out = append(out, fp)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].FullName < out[j].FullName
	})
	return out, nil
}
