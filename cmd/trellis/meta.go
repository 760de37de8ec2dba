package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/trellis-alm/trellis/internal/gitmerge"
	"github.com/trellis-alm/trellis/internal/gitrepo"
	"github.com/trellis-alm/trellis/internal/metadata"
)

const metaUsage = `trellis meta — the metadata engine, for CI pipelines

  trellis meta delta --repo DIR --from REF [--to REF] --out DIR [--source] [--api-version V] [--json]
      components changed between two commits: OUT/package/package.xml and
      OUT/destructiveChanges/destructiveChanges.xml (as sfdx-git-delta writes them);
      --source also copies the changed source files into OUT
  trellis meta manifest DIR [--api-version V]
      package.xml for every component of a project (source or metadata format)
  trellis meta convert --to metadata|source SRC OUT [--api-version V]
      convert a project between SFDX source format and Metadata API format;
      with --to metadata, an OUT ending in .zip gets a deploy zip (same input, same bytes)
  trellis meta diff A B [--json] [--all]
      compare two projects (directories or .zip files) component by component
  trellis meta deps DIR [--target DIR] [--json]
      what the components reference; with --target, what is neither included nor present
  trellis meta merge BASE OURS THEIRS [-o OUT]
      three-way merge of one file: metadata XML by element (permissions by field, labels
      by name, …), other files as git merge-file does; the result goes to OUT (default
      standard output). Exit 0 clean, 1 conflicts left marked. As a git merge driver:
        git config merge.salesforce.driver "trellis meta merge %O %A %B -o %A"
        echo "*.xml merge=salesforce" >> .gitattributes

Exit codes: 0 success, 1 failure (unreadable input, invalid XML, missing revision), 2 usage.
`

// metaCmd runs the metadata engine's subcommands. They need no database.
func metaCmd(args []string, sio stdio) error {
	// A short-lived command that allocates a lot: trade memory for fewer
	// collections (a quarter less time on a wide delta).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	verb, rest, err := sub(args, "meta", "delta", "manifest", "convert", "diff", "deps", "merge")
	if err != nil {
		fmt.Fprint(sio.err, metaUsage)
		return err
	}
	switch verb {
	case "delta":
		return metaDelta(rest, sio)
	case "manifest":
		return metaManifest(rest, sio)
	case "convert":
		return metaConvert(rest, sio)
	case "diff":
		return metaDiff(rest, sio)
	case "merge":
		return metaMerge(rest, sio)
	default:
		return metaDeps(rest, sio)
	}
}

// parseFlags parses flags that may come before or after positional
// arguments (trellis meta diff A B --json).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func metaDelta(args []string, sio stdio) error {
	fs := flag.NewFlagSet("meta delta", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	repo := fs.String("repo", ".", "the git repository")
	from := fs.String("from", "", "the older revision (commit, branch, tag)")
	to := fs.String("to", "HEAD", "the newer revision")
	out := fs.String("out", "", "output directory")
	source := fs.Bool("source", false, "copy the changed components' source files into --out")
	version := fs.String("api-version", "", "API version for the manifests (default: sourceApiVersion)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *out == "" {
		return usageError{"meta delta needs --from and --out"}
	}
	g, err := gitrepo.Open(*repo)
	if err != nil {
		return err
	}
	defer g.Close()
	changes, fromFS, toFS, err := g.DiffFS(*from, *to)
	if err != nil {
		return err
	}
	fc := make([]metadata.FileChange, len(changes))
	for i, c := range changes {
		fc[i] = metadata.FileChange{Status: c.Status, Path: c.Path}
	}
	res, err := metadata.Delta(fromFS, toFS, fc, metadata.DeltaOptions{APIVersion: *version})
	if err != nil {
		return err
	}
	if err := writeDelta(*out, res, *source, toFS); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(sio.out, deltaJSON(res))
	}
	fmt.Fprintf(sio.out, "%d file(s) changed: %d component(s) to deploy, %d to delete, %d unchanged (moved or reformatted only), %d file(s) not metadata, %d ignored\n",
		len(changes), res.Package.Count(), res.Destructive.Count(), len(res.Unchanged), len(res.NotMetadata), len(res.Ignored))
	fmt.Fprintf(sio.out, "wrote %s and %s\n", filepath.Join(*out, "package", "package.xml"), filepath.Join(*out, "destructiveChanges", "destructiveChanges.xml"))
	return nil
}

// writeDelta writes the layout sfdx-git-delta pipelines expect.
func writeDelta(out string, res *metadata.DeltaResult, source bool, toFS fs.FS) error {
	empty := metadata.NewManifest(res.Package.Version)
	files := map[string][]byte{
		"package/package.xml":                       res.Package.Marshal(),
		"destructiveChanges/destructiveChanges.xml": res.Destructive.Marshal(),
		"destructiveChanges/package.xml":            empty.Marshal(),
	}
	if !source {
		return metadata.WriteTree(out, files)
	}
	for _, p := range res.CopyFiles {
		b, err := fs.ReadFile(toFS, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		files[p] = b
	}
	return metadata.WriteTree(out, files)
}

// writeTree writes many files under root: each directory is made once,
// and files are written by a few workers at a time.
func writeTree(root string, files map[string][]byte) error {
	return metadata.WriteTree(root, files)
}

func deltaJSON(res *metadata.DeltaResult) map[string]any {
	list := func(m *metadata.Manifest) map[string][]string {
		out := map[string][]string{}
		for _, k := range m.Keys() {
			out[k.Type] = append(out[k.Type], k.Name)
		}
		return out
	}
	return map[string]any{
		"package": list(res.Package), "destructiveChanges": list(res.Destructive),
		"notMetadata": nonNil(res.NotMetadata), "ignored": nonNil(res.Ignored), "apiVersion": res.Package.Version,
		"unchanged": unchangedJSON(res.Unchanged),
	}
}

// unchangedJSON lists components whose files changed but content did not.
func unchangedJSON(keys []metadata.Key) []string {
	out := []string{}
	for _, k := range keys {
		out = append(out, k.String())
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readProject reads a directory or .zip as source format (when it has an
// sfdx-project.json) or Metadata API format.
func readProject(p string, opts metadata.ReadOptions) (*metadata.ReadResult, *metadata.Project, error) {
	var fsys fs.FS
	if strings.HasSuffix(strings.ToLower(p), ".zip") {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		files, err := metadata.ReadZip(data, metadata.DefaultZipLimits)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		fsys = metadata.PackageRoot(metadata.MemFS(files))
	} else {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, err
		}
		if !fi.IsDir() {
			return nil, nil, fmt.Errorf("%s is neither a directory nor a .zip", p)
		}
		fsys = metadata.DirFS(p)
	}
	proj, err := metadata.LoadProject(fsys)
	if errors.Is(err, metadata.ErrNotProject) {
		res, err := metadata.ReadMetadataFormat(fsys, opts)
		if err != nil || res.Set.Len() > 0 {
			return res, nil, err
		}
		// No project file and nothing in metadata format: a package
		// directory on its own (force-app), as `sf project generate
		// manifest --source-dir` takes it.
		if proj, err = metadata.ParseProject([]byte(`{"packageDirectories":[{"path":".","default":true}]}`)); err != nil {
			return nil, nil, err
		}
		proj.FS = fsys
		res, err = metadata.ReadSource(proj, opts)
		return res, proj, err
	}
	if err != nil {
		return nil, nil, err
	}
	res, err := metadata.ReadSource(proj, opts)
	return res, proj, err
}

func metaManifest(args []string, sio stdio) error {
	fs := flag.NewFlagSet("meta manifest", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	version := fs.String("api-version", "", "API version (default: sourceApiVersion, else 62.0)")
	check := fs.Bool("check", false, "read and parse every file, not only what names the components")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"meta manifest takes one directory"}
	}
	res, proj, err := readProject(pos[0], metadata.ReadOptions{NamesOnly: !*check})
	if err != nil {
		return err
	}
	v := pickVersion(*version, proj)
	_, err = sio.out.Write(metadata.ManifestFromSet(res.Set, v).Marshal())
	return err
}

func pickVersion(flagValue string, proj *metadata.Project) string {
	v := flagValue
	if v == "" && proj != nil {
		v = proj.SourceAPIVersion
	}
	if v == "" {
		v = "62.0"
	}
	if p, err := metadata.ParseAPIVersion(v); err == nil {
		return p
	}
	return v
}

func metaConvert(args []string, sio stdio) error {
	fs := flag.NewFlagSet("meta convert", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	to := fs.String("to", "", "metadata or source")
	version := fs.String("api-version", "", "API version for package.xml")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (*to != "metadata" && *to != "source") {
		return usageError{"meta convert needs --to metadata|source, a source and an output directory (or, for metadata, a .zip)"}
	}
	res, proj, err := readProject(pos[0], metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return err
	}
	out := pos[1]
	if strings.HasSuffix(strings.ToLower(out), ".zip") {
		if *to != "metadata" {
			return usageError{"meta convert writes a .zip only with --to metadata"}
		}
		pkg, err := metadata.BuildPackage(metadata.PackageSpec{Components: res.Set, Version: pickVersion(*version, proj)})
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, pkg.Zip, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(sio.out, "converted %d component(s) into %s (%d file(s), sha256 %s)\n", res.Set.Len(), out, len(pkg.Files), pkg.Checksum)
		return nil
	}
	var files map[string][]byte
	if *to == "metadata" {
		files, err = metadata.WriteMetadataFormat(res.Set)
		if err == nil {
			files["package.xml"] = metadata.ManifestFromSet(res.Set, pickVersion(*version, proj)).Marshal()
		}
	} else {
		files, err = convertToSource(res.Set, out)
	}
	if err != nil {
		return err
	}
	if err := writeTree(out, files); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "converted %d component(s) into %d file(s) in %s\n", res.Set.Len(), len(files), out)
	return nil
}

// convertToSource writes into an existing SFDX project's default package
// directory (honouring its decomposition options), or makes a new one.
func convertToSource(set *metadata.Set, out string) (map[string][]byte, error) {
	proj, err := metadata.LoadProject(metadata.DirFS(out))
	var layout metadata.SourceLayout
	var extra map[string][]byte
	switch {
	case err == nil:
		layout = metadata.SourceLayout{Base: proj.DefaultDir + "/main/default", Project: proj}
	case errors.Is(err, metadata.ErrNotProject) || errors.Is(err, os.ErrNotExist):
		layout = metadata.SourceLayout{Base: "force-app/main/default"}
		extra = map[string][]byte{"sfdx-project.json": []byte(`{
  "packageDirectories": [{"path": "force-app", "default": true}],
  "sourceApiVersion": "62.0"
}
`)}
	default:
		return nil, err
	}
	files, err := metadata.WriteSource(set, layout)
	if err != nil {
		return nil, err
	}
	for p, b := range extra {
		files[p] = b
	}
	return files, nil
}

func metaDiff(args []string, sio stdio) error {
	fs := flag.NewFlagSet("meta diff", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	all := fs.Bool("all", false, "list unchanged components too")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{"meta diff takes two projects"}
	}
	a, _, err := readProject(pos[0], metadata.ReadOptions{})
	if err != nil {
		return err
	}
	b, _, err := readProject(pos[1], metadata.ReadOptions{})
	if err != nil {
		return err
	}
	entries := metadata.Diff(a.Set, b.Set)
	counts := map[metadata.Change]int{}
	var shown []metadata.DiffEntry
	for _, e := range entries {
		counts[e.Change]++
		if *all || e.Change != metadata.Unchanged {
			shown = append(shown, e)
		}
	}
	if *asJSON {
		type row struct {
			Type   string          `json:"type"`
			Name   string          `json:"name"`
			Change metadata.Change `json:"change"`
		}
		rows := make([]row, 0, len(shown))
		for _, e := range shown {
			rows = append(rows, row{e.Key.Type, e.Key.Name, e.Change})
		}
		return printJSON(sio.out, map[string]any{"components": rows, "counts": counts})
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANGE\tTYPE\tNAME")
	for _, e := range shown {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Change, e.Key.Type, e.Key.Name)
	}
	tw.Flush()
	fmt.Fprintf(sio.out, "\n%d added, %d changed, %d deleted, %d unchanged\n", counts[metadata.Added], counts[metadata.Changed], counts[metadata.Deleted], counts[metadata.Unchanged])
	return nil
}

func metaDeps(args []string, sio stdio) error {
	fs := flag.NewFlagSet("meta deps", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	target := fs.String("target", "", "a project (or retrieve) standing for the target org")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"meta deps takes one project directory"}
	}
	res, _, err := readProject(pos[0], metadata.ReadOptions{KeepContent: true})
	if err != nil {
		return err
	}
	refs := metadata.References(res.Set)
	var targetSet *metadata.Set
	if *target != "" {
		t, _, err := readProject(*target, metadata.ReadOptions{})
		if err != nil {
			return err
		}
		targetSet = t.Set
	}
	missing := metadata.Missing(refs, res.Set, targetSet)
	if *asJSON {
		out := map[string]any{"missing": nonNilRefs(missing)}
		if *target == "" {
			out["references"] = nonNilRefs(refs)
		}
		return printJSON(sio.out, out)
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	if *target == "" {
		fmt.Fprintln(tw, "FROM\tREFERENCES\tWHERE")
		for _, r := range refs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.From, r.To, r.Where)
		}
		tw.Flush()
		fmt.Fprintln(sio.out)
	}
	if len(missing) == 0 {
		fmt.Fprintln(sio.out, "every reference is satisfied")
		return nil
	}
	fmt.Fprintf(sio.out, "%d reference(s) to components neither included nor present:\n", len(missing))
	tw = tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MISSING\tNEEDED BY\tWHERE")
	for _, r := range missing {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.To, r.From, r.Where)
	}
	return tw.Flush()
}

func nonNilRefs(r []metadata.Reference) []metadata.Reference {
	if r == nil {
		return []metadata.Reference{}
	}
	return r
}

// metaMerge merges one file three ways: by element for metadata XML, as
// git merge-file does for anything else (Apex, LWC, JSON).
func metaMerge(args []string, sio stdio) error {
	fs := flag.NewFlagSet("meta merge", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	out := fs.String("o", "", "write the result here (a git merge driver passes %A) instead of standard output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 3 {
		return usageError{"meta merge takes BASE OURS THEIRS (a missing side may be an empty file)"}
	}
	var sides [3][]byte
	for i, p := range pos {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sides[i] = b
	}
	data, conflicts, err := mergeFile(sides[0], sides[1], sides[2], pos)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, data, 0o644); err != nil {
			return err
		}
	} else if _, err := sio.out.Write(data); err != nil {
		return err
	}
	if len(conflicts) > 0 {
		for _, c := range conflicts {
			fmt.Fprintln(sio.err, "conflict:", c)
		}
		return fmt.Errorf("%d conflict(s) left marked", len(conflicts))
	}
	return nil
}

func mergeFile(base, ours, theirs []byte, paths []string) ([]byte, []string, error) {
	r, err := metadata.MergeXML(base, ours, theirs)
	if err == nil {
		var cs []string
		for _, c := range r.Conflicts {
			cs = append(cs, c.Path)
		}
		return r.Data, cs, nil
	}
	if !errors.Is(err, metadata.ErrNotMergeable) {
		return nil, nil, err
	}
	// Not metadata XML: git's own three-way text merge.
	merged, clean, err := gitmerge.TextMerge(context.Background(), base, ours, theirs)
	if err != nil || clean {
		return merged, nil, err
	}
	return merged, []string{"text conflicts in " + paths[1]}, nil
}
