package metabench

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trellis-alm/trellis/bench/synth"
	"github.com/trellis-alm/trellis/internal/metadata"
)

func TestConvSplit(t *testing.T) {
	r, _ := synth.Generate(filepath.Join(os.TempDir(), "trellis-bench"), synth.Large)
	t0 := time.Now()
	proj, _ := metadata.LoadProject(os.DirFS(r.Dir))
	res, err := metadata.ReadSource(proj, metadata.ReadOptions{KeepContent: true})
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	files, _ := metadata.WriteMetadataFormat(res.Set)
	t2 := time.Now()
	t.Logf("read %v write(mem) %v files %d", t1.Sub(t0), t2.Sub(t1), len(files))
}
