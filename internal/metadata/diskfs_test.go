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

func TestWriteTreeRefusesLinks(t *testing.T) {
	outside := t.TempDir()
	for _, c := range []struct {
		name  string
		plant func(root string) error
		write string
	}{
		{"DirectoryLinkOut", func(root string) error { return os.Symlink(outside, filepath.Join(root, "classes")) }, "classes/A.cls"},
		{"FileLinkOut", func(root string) error {
			os.MkdirAll(filepath.Join(root, "classes"), 0o755)
			return os.Symlink(filepath.Join(outside, "victim"), filepath.Join(root, "classes", "A.cls"))
		}, "classes/A.cls"},
		{"NestedDirectoryLinkOut", func(root string) error {
			os.MkdirAll(filepath.Join(root, "a"), 0o755)
			return os.Symlink("../../"+filepath.Base(outside), filepath.Join(root, "a", "b"))
		}, "a/b/c/X.cls"},
		{"FileLinkInside", func(root string) error {
			os.WriteFile(filepath.Join(root, "real.txt"), []byte("keep"), 0o644)
			return os.Symlink("real.txt", filepath.Join(root, "package.xml"))
		}, "package.xml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			if err := c.plant(root); err != nil {
				t.Fatal(err)
			}
			err := WriteTree(root, map[string][]byte{c.write: []byte("pwned"), "ok/B.cls": []byte("fine")})
			if !errors.Is(err, ErrLinkOut) {
				t.Fatalf("got %v, want ErrLinkOut", err)
			}
			if !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("message: %v", err)
			}
			filepath.WalkDir(outside, func(p string, d os.DirEntry, _ error) error {
				if !d.IsDir() {
					t.Errorf("written outside the root: %s", p)
				}
				return nil
			})
			if b, err := os.ReadFile(filepath.Join(root, "real.txt")); err == nil && string(b) != "keep" {
				t.Errorf("the link's target inside the root was overwritten: %q", b)
			}
		})
	}
}
