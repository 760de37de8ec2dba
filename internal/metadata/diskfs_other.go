//go:build !unix

package metadata

import (
	"errors"
	"os"
	"path/filepath"
)

func readDiskFile(p string) ([]byte, error) {
	if fi, err := os.Stat(p); err == nil && fi.Size() > MaxFileSize {
		return nil, ErrFileTooLarge
	}
	return os.ReadFile(p)
}

var errLoop = errors.New("too many levels of symbolic links")

// writeDir writes the named files of one directory of root; os.Root keeps
// every path inside it.
func writeDir(root *os.Root, _ string, names []string, files map[string][]byte) error {
	for _, p := range names {
		if fi, err := root.Lstat(filepath.FromSlash(p)); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return ErrLinkOut
		}
		if err := root.WriteFile(filepath.FromSlash(p), files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}
