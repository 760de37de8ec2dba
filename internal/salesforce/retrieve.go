package salesforce

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/trellis-alm/trellis/internal/metadata"
)

// MaxRetrieveFiles is the Metadata API's limit on files per retrieve.
const MaxRetrieveFiles = 10000

var errNoID = errors.New("no id in the answer")

// Retrieve retrieves what req names and waits for the zip. A manifest
// that could exceed the 10,000-file limit is split into several
// retrieves (wildcards expanded with listMetadata when needed) whose zips
// are merged into one, with one package.xml. Members the org does not
// have come back as Messages, not as an error.
func (c *Client) Retrieve(ctx context.Context, req RetrieveRequest, progress func(*RetrieveResult)) (*RetrieveResult, error) {
	return c.retrieveSplit(ctx, req, progress, c.maxRetrieveFiles(), 0)
}

func (c *Client) maxRetrieveFiles() int {
	if c.cfg.RetrieveFileLimit > 0 {
		return c.cfg.RetrieveFileLimit
	}
	return MaxRetrieveFiles
}

func (c *Client) retrieveSplit(ctx context.Context, req RetrieveRequest, progress func(*RetrieveResult), limit, depth int) (*RetrieveResult, error) {
	if req.Unpackaged != nil && estimateFiles(req.Unpackaged) > limit {
		expanded, err := c.expandWildcards(ctx, req.Unpackaged)
		if err != nil {
			return nil, err
		}
		req.Unpackaged = expanded
		if parts := splitManifest(expanded, limit); len(parts) > 1 {
			return c.retrieveParts(ctx, req, parts, progress, limit, depth)
		}
	}
	r, err := c.retrieveOnce(ctx, req, progress)
	if err != nil {
		return nil, err
	}
	if r.Status == StatusFailed && tooManyFiles(r) && req.Unpackaged != nil && depth < 8 {
		expanded, err := c.expandWildcards(ctx, req.Unpackaged)
		if err != nil {
			return nil, err
		}
		parts := splitManifest(expanded, max(1, estimateFiles(expanded)/2))
		if len(parts) < 2 {
			return r, nil // one member over the limit: nothing to split
		}
		req.Unpackaged = expanded
		return c.retrieveParts(ctx, req, parts, progress, limit, depth+1)
	}
	return r, nil
}

func tooManyFiles(r *RetrieveResult) bool {
	return r.ErrorStatusCode == "LIMIT_EXCEEDED" || strings.Contains(strings.ToLower(r.ErrorMessage), "too many files")
}

func (c *Client) retrieveParts(ctx context.Context, req RetrieveRequest, parts []map[string][]string, progress func(*RetrieveResult), limit, depth int) (*RetrieveResult, error) {
	var results []*RetrieveResult
	for _, p := range parts {
		sub := req
		sub.Unpackaged = p
		r, err := c.retrieveSplit(ctx, sub, progress, limit, depth+1)
		if err != nil {
			return nil, err
		}
		if r.Status != StatusSucceeded {
			return r, nil
		}
		results = append(results, r)
	}
	return mergeRetrieves(results, req)
}

func (c *Client) retrieveOnce(ctx context.Context, req RetrieveRequest, progress func(*RetrieveResult)) (*RetrieveResult, error) {
	id, err := c.StartRetrieve(ctx, req)
	if err != nil {
		return nil, err
	}
	p := c.poller()
	for {
		r, err := c.CheckRetrieveStatus(ctx, id, false)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(r)
		}
		if r.Done || r.Status == StatusSucceeded || r.Status == StatusFailed {
			if r.Status != StatusSucceeded {
				return r, nil
			}
			full, err := c.CheckRetrieveStatus(ctx, id, true)
			if err != nil {
				return nil, err
			}
			if len(full.ZipFile) == 0 {
				return nil, &Error{Op: "retrieve " + id, Org: c.cfg.Name, Message: "the retrieve succeeded without a zip", Err: ErrMalformed}
			}
			if _, err := metadata.ReadZip(full.ZipFile, metadata.DefaultZipLimits); err != nil {
				return nil, &Error{Op: "retrieve " + id, Org: c.cfg.Name, Message: "the retrieved zip is unusable", Err: errors.Join(ErrMalformed, err)}
			}
			return full, nil
		}
		if err := p.wait(ctx); err != nil {
			return nil, &Error{Op: "retrieve " + id, Org: c.cfg.Name, Err: err}
		}
	}
}

// filesPer estimates the files one member of a type takes.
func filesPer(typ string) int {
	t := metadata.DefaultRegistry.Type(typ)
	if t == nil {
		return 2
	}
	switch t.Shape {
	case metadata.ShapeContent, metadata.ShapeMixed:
		return 2
	case metadata.ShapeBundle:
		return 5
	}
	return 1
}

// estimateFiles guesses how many files a manifest retrieves; a wildcard
// counts as over any limit, since only listMetadata can say.
func estimateFiles(m map[string][]string) int {
	n := 1 // package.xml
	for t, members := range m {
		for _, mem := range members {
			if mem == "*" {
				return 1 << 30
			}
			n += filesPer(t)
		}
	}
	return n
}

// expandWildcards replaces "*" with the members listMetadata reports.
func (c *Client) expandWildcards(ctx context.Context, m map[string][]string) (map[string][]string, error) {
	out := make(map[string][]string, len(m))
	var queries []ListMetadataQuery
	for t, members := range m {
		for _, mem := range members {
			if mem == "*" {
				queries = append(queries, ListMetadataQuery{Type: t})
			} else {
				out[t] = append(out[t], mem)
			}
		}
	}
	if len(queries) == 0 {
		return m, nil
	}
	props, err := c.ListMetadata(ctx, queries)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for t, ms := range out {
		for _, mem := range ms {
			seen[t+"\x00"+mem] = true
		}
	}
	for _, p := range props {
		if p.Type == "" || p.FullName == "" || seen[p.Type+"\x00"+p.FullName] {
			continue
		}
		seen[p.Type+"\x00"+p.FullName] = true
		out[p.Type] = append(out[p.Type], p.FullName)
	}
	return out, nil
}

// splitManifest cuts a manifest without wildcards into parts of at most
// limit estimated files, keeping each type's members together where they
// fit (profiles and permission sets only return what the same retrieve
// holds, so callers keep them whole for faithful content).
func splitManifest(m map[string][]string, limit int) []map[string][]string {
	var parts []map[string][]string
	cur, size := map[string][]string{}, 1
	for _, t := range sortedKeys(m) {
		per := filesPer(t)
		for _, mem := range sortedCopy(m[t]) {
			if size+per > limit && size > 1 {
				parts = append(parts, cur)
				cur, size = map[string][]string{}, 1
			}
			cur[t] = append(cur[t], mem)
			size += per
		}
	}
	if len(cur) > 0 {
		parts = append(parts, cur)
	}
	return parts
}

// mergeRetrieves joins split retrieves into one result and one zip.
func mergeRetrieves(rs []*RetrieveResult, req RetrieveRequest) (*RetrieveResult, error) {
	out := &RetrieveResult{Done: true, Status: StatusSucceeded, Success: true}
	files := map[string][]byte{}
	version := req.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	manifest := metadata.NewManifest(version)
	prefix := ""
	if !req.SinglePackage {
		prefix = "unpackaged/"
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
		z, err := metadata.ReadZip(r.ZipFile, metadata.DefaultZipLimits)
		if err != nil {
			return nil, &Error{Op: "retrieve " + r.ID, Message: "the retrieved zip is unusable", Err: errors.Join(ErrMalformed, err)}
		}
		for name, data := range z {
			if path.Base(name) == "package.xml" && strings.TrimPrefix(name, prefix) == "package.xml" {
				if m, err := metadata.ParseManifest(data); err == nil {
					for t, members := range m.Types {
						for _, mem := range members {
							manifest.Add(t, mem)
						}
					}
				}
				continue
			}
			files[name] = data
		}
		for _, fp := range r.FileProperties {
			if fp.Type != "Package" {
				out.FileProperties = append(out.FileProperties, fp)
			}
		}
		out.Messages = append(out.Messages, r.Messages...)
	}
	files[prefix+"package.xml"] = manifest.Marshal()
	zip, err := metadata.WriteZip(files)
	if err != nil {
		return nil, err
	}
	out.ZipFile = zip
	out.ID = strings.Join(ids, ",")
	sort.Slice(out.FileProperties, func(i, j int) bool {
		a, b := out.FileProperties[i], out.FileProperties[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.FullName < b.FullName
	})
	return out, nil
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

var _ = fmt.Sprint
