package metadata

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"testing"
)

type zipEntry struct {
	name string
	data []byte
	mode fs.FileMode
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(e.data)
	}
	w.Close()
	return buf.Bytes()
}

func TestReadZipRefusesHostileArchives(t *testing.T) {
	tests := map[string][]zipEntry{
		"Traversal":   {{name: "../../etc/cron.d/x", data: []byte("x")}},
		"NestedClimb": {{name: "unpackaged/../../x", data: []byte("x")}},
		"Absolute":    {{name: "/etc/passwd", data: []byte("x")}},
		"DrivePath":   {{name: "C:/Windows/x", data: []byte("x")}},
		"Backslashes": {{name: `..\..\x`, data: []byte("x")}},
		"Symlink":     {{name: "link", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}},
		"Duplicate":   {{name: "a.txt", data: []byte("1")}, {name: "./a.txt", data: []byte("2")}},
		"Bomb":        {{name: "bomb.txt", data: bytes.Repeat([]byte{0}, 50<<20)}},
	}
	lim := ZipLimits{MaxFiles: 100, MaxFileSize: 100 << 20, MaxTotalSize: 1 << 30, MaxRatio: 100}
	for name, entries := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ReadZip(makeZip(t, entries...), lim)
			if !errors.Is(err, ErrUnsafeZip) {
				t.Fatalf("err = %v, want an unsafe zip error", err)
			}
			var ze *ZipError
			if errors.As(err, &ze) && ze.Entry == "" && name != "Bomb" {
				t.Errorf("the error should name the entry: %v", err)
			}
		})
	}
	t.Run("TooManyFiles", func(t *testing.T) {
		var many []zipEntry
		for i := 0; i < 5; i++ {
			many = append(many, zipEntry{name: strings.Repeat("f", i+1), data: []byte("x")})
		}
		if _, err := ReadZip(makeZip(t, many...), ZipLimits{MaxFiles: 3, MaxFileSize: 1 << 20, MaxTotalSize: 1 << 20, MaxRatio: 100}); err == nil {
			t.Error("more entries than allowed should be refused")
		}
	})
	t.Run("TotalSize", func(t *testing.T) {
		e := []zipEntry{{name: "a", data: bytes.Repeat([]byte("a"), 600)}, {name: "b", data: bytes.Repeat([]byte("b"), 600)}}
		if _, err := ReadZip(makeZip(t, e...), ZipLimits{MaxFiles: 10, MaxFileSize: 1000, MaxTotalSize: 1000, MaxRatio: 1000}); err == nil {
			t.Error("content beyond the total limit should be refused")
		}
	})
	t.Run("NotAZip", func(t *testing.T) {
		if _, err := ReadZip([]byte("<html>error page</html>"), DefaultZipLimits); err == nil {
			t.Error("an HTML page is no zip")
		}
	})
}

func TestReadZipAcceptsARetrieve(t *testing.T) {
	data := makeZip(t,
		zipEntry{name: "unpackaged/", mode: fs.ModeDir | 0o755},
		zipEntry{name: "unpackaged/package.xml", data: []byte(`<Package><types><members>A</members><name>ApexClass</name></types><version>62.0</version></Package>`)},
		zipEntry{name: "unpackaged/classes/A.cls", data: []byte("public class A {}")},
		zipEntry{name: "unpackaged/classes/A.cls-meta.xml", data: []byte(`<ApexClass><apiVersion>62.0</apiVersion><status>Active</status></ApexClass>`)},
	)
	files, err := ReadZip(data, DefaultZipLimits)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ReadMetadataFormat(PackageRoot(MemFS(files)), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Set.Get(Key{"ApexClass", "A"}) == nil || res.Set.Len() != 1 {
		t.Errorf("retrieve read as %v", keysOf(res.Set))
	}
}

// TestReadZipManySmallEntriesAreABomb is the archive the review used: a
// thousand entries of 1 MiB each, every one under the per-entry ratio
// floor, which together inflate a ~1 MB zip a thousandfold. It must be
// refused as it streams, long before a gigabyte is allocated.
func TestReadZipManySmallEntriesAreABomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	chunk := make([]byte, 1<<20)
	for i := range 1000 {
		w, err := zw.Create(fmt.Sprintf("staticresources/r%04d.resource", i))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(chunk)
	}
	zw.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ReadZip(buf.Bytes(), DefaultZipLimits)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrUnsafeZip) || !strings.Contains(err.Error(), "zip bomb") {
		t.Fatalf("a %d-byte zip of 1,000 × 1 MiB: %v, want a zip bomb refusal", buf.Len(), err)
	}
	// It stops at 100 times the archive's size (~117 MB), not 1 GB.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 160<<20 {
		t.Errorf("refusing it allocated %d MiB; it must stop at the total ratio", grew>>20)
	}

	// Headers that claim more than the total limit are refused before any
	// inflating at all.
	lim := DefaultZipLimits
	lim.MaxTotalSize = 10 << 20
	if _, err := ReadZip(buf.Bytes(), lim); err == nil || !strings.Contains(err.Error(), "claim more than") {
		t.Errorf("declared sizes over the limit: %v", err)
	}
}
