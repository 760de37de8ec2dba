package metadata

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestWriteTreeAndDirFS(t *testing.T) {
	root := t.TempDir()
	files := map[string][]byte{
		"package.xml":                    []byte("<Package/>"),
		"classes/A.cls":                  []byte("public class A {}"),
		"classes/A.cls-meta.xml":         []byte("<ApexClass/>"),
		"objects/Account.object":         []byte(strings.Repeat("x", 70_000)),
		"documents/Shared/empty.txt":     {},
		"reports/Sales/Deep/Pipe.report": []byte("<Report/>"),
	}
	if err := WriteTree(root, files); err != nil {
		t.Fatal(err)
	}
	// Replacing files truncates them.
	files["classes/A.cls"] = []byte("x")
	if err := WriteTree(root, map[string][]byte{"classes/A.cls": files["classes/A.cls"]}); err != nil {
		t.Fatal(err)
	}
	fsys := DirFS(root)
	var want []string
	for p := range files {
		want = append(want, p)
	}
	if err := fstest.TestFS(fsys, want...); err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		got, err := fs.ReadFile(fsys, p)
		if err != nil || string(got) != string(b) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", p, len(got), err, len(b))
		}
	}
}

func TestDirFSErrors(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "classes"), 0o755)
	fsys := DirFS(root)
	for _, tc := range []struct {
		name string
		want error
	}{
		{"missing.cls", fs.ErrNotExist},
		{"../escape", fs.ErrInvalid},
		{"/etc/passwd", fs.ErrInvalid},
	} {
		_, err := fs.ReadFile(fsys, tc.name)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path != tc.name {
			t.Errorf("%s: the error names %q, not the file asked for", tc.name, pe.Path)
		}
	}
	if _, err := fs.ReadFile(fsys, "classes"); err == nil {
		t.Error("reading a directory should fail")
	}
	if err := WriteTree(root, map[string][]byte{"../out.txt": nil}); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("WriteTree outside root: %v", err)
	}
}
