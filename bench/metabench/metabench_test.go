// Package metabench benchmarks the metadata engine on a generated project
// of about 55,000 files over 40+ types with objects of 3,000 fields and
// 1,000 commits of history (see bench/synth). The project is generated
// once into the temp directory and reused. Run with `make bench`.
package metabench

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/trellis-alm/trellis/bench/synth"
	"github.com/trellis-alm/trellis/internal/gitrepo"
	"github.com/trellis-alm/trellis/internal/metadata"
)

var (
	once  sync.Map
	repos sync.Map
)

func repo(b *testing.B, o synth.Options) *synth.Repo {
	b.Helper()
	key := fmt.Sprintf("%+v", o)
	mu, _ := once.LoadOrStore(key, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if r, ok := repos.Load(key); ok {
		return r.(*synth.Repo)
	}
	r, err := synth.Generate(filepath.Join(os.TempDir(), "trellis-bench"), o)
	if err != nil {
		b.Fatal(err)
	}
	repos.Store(key, r)
	return r
}

func readProject(b *testing.B, dir string, keep bool) *metadata.ReadResult {
	b.Helper()
	proj, err := metadata.LoadProject(os.DirFS(dir))
	if err != nil {
		b.Fatal(err)
	}
	res, err := metadata.ReadSource(proj, metadata.ReadOptions{KeepContent: keep})
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkReadAndHash reads and hashes the whole project.
func BenchmarkReadAndHash(b *testing.B) {
	r := repo(b, synth.Large)
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		n = readProject(b, r.Dir, false).Set.Len()
	}
	b.ReportMetric(float64(r.Files), "files")
	b.ReportMetric(float64(n), "components")
}

// BenchmarkDiffSets compares two sets of the whole project that differ in
// 1% of their components.
func BenchmarkDiffSets(b *testing.B) {
	r := repo(b, synth.Large)
	a := readProject(b, r.Dir, false).Set
	other := metadata.NewSet()
	for i, c := range a.Components() {
		cp := *c
		if i%100 == 0 {
			cp.Hash = "changed"
		}
		other.Add(&cp)
	}
	b.ResetTimer()
	var changed int
	for i := 0; i < b.N; i++ {
		changed = 0
		for _, e := range metadata.Diff(a, other) {
			if e.Change == metadata.Changed {
				changed++
			}
		}
	}
	b.ReportMetric(float64(a.Len()), "components")
	b.ReportMetric(float64(changed), "changed")
}

func delta(b *testing.B, r *synth.Repo, from string) *metadata.DeltaResult {
	g, err := gitrepo.Open(r.Dir)
	if err != nil {
		b.Fatal(err)
	}
	changes, err := g.Diff(from, r.Head)
	if err != nil {
		b.Fatal(err)
	}
	fromFS, _ := g.FS(from)
	toFS, _ := g.FS(r.Head)
	fc := make([]metadata.FileChange, len(changes))
	for i, c := range changes {
		fc[i] = metadata.FileChange{Status: c.Status, Path: c.Path}
	}
	res, err := metadata.Delta(fromFS, toFS, fc, metadata.DeltaOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkDelta1000Commits computes the delta across the whole history.
func BenchmarkDelta1000Commits(b *testing.B) {
	r := repo(b, synth.Large)
	b.ResetTimer()
	var res *metadata.DeltaResult
	for i := 0; i < b.N; i++ {
		res = delta(b, r, r.First)
	}
	b.ReportMetric(float64(r.Changed), "changed-files")
	b.ReportMetric(float64(res.Package.Count()+res.Destructive.Count()), "components")
}

// BenchmarkDeltaTenCommits{Small,Large} show delta's cost follows the
// change, not the repository: ten commits on a project a tenth the size
// and on the full one should cost about the same.
func BenchmarkDeltaTenCommitsSmall(b *testing.B) { benchTen(b, synth.Small) }
func BenchmarkDeltaTenCommitsLarge(b *testing.B) { benchTen(b, synth.Large) }

func benchTen(b *testing.B, o synth.Options) {
	r := repo(b, o)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		delta(b, r, r.Head+"~10")
	}
	b.ReportMetric(float64(r.Files), "repo-files")
}

// BenchmarkConvertToMetadata reads the project and lays it out in
// Metadata API format (in memory).
func BenchmarkConvertToMetadata(b *testing.B) {
	r := repo(b, synth.Large)
	b.ResetTimer()
	var files int
	for i := 0; i < b.N; i++ {
		set := readProject(b, r.Dir, true).Set
		out, err := metadata.WriteMetadataFormat(set)
		if err != nil {
			b.Fatal(err)
		}
		files = len(out)
	}
	b.ReportMetric(float64(files), "files-out")
}
