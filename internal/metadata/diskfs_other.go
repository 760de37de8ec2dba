//go:build !unix

package metadata

import "os"

func readDiskFile(p string) ([]byte, error) { return os.ReadFile(p) }

func writeDiskFile(p string, data []byte) error { return os.WriteFile(p, data, 0o644) }
