// Package oracle installs the tools teams use today (pinned in
// package.json: sfdx-git-delta, source-deploy-retrieve, jsforce and Node
// 22 itself, all from npm) into a cache directory, with the scripts that
// drive them, for the comparison and benchmark commands in bench/.
package oracle

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed package.json *.mjs
var files embed.FS

// DefaultCache is where the tools are installed unless told otherwise.
func DefaultCache() string { return filepath.Join(os.TempDir(), "trellis-oracles") }

// Install puts the tools and scripts in cache (npm install only when the
// pinned versions changed) and returns the cache directory.
func Install(cache string) (string, error) {
	if _, err := exec.LookPath("npm"); err != nil {
		return "", errors.New("npm is not installed")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	pkg, _ := files.ReadFile("package.json")
	old, _ := os.ReadFile(filepath.Join(cache, "package.json"))
	_, nodeErr := os.Stat(filepath.Join(cache, "node_modules", ".bin", "node"))
	stale := nodeErr != nil || !bytes.Equal(old, pkg)
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := files.ReadFile(p)
		return os.WriteFile(filepath.Join(cache, p), b, 0o644)
	})
	if err != nil {
		return "", err
	}
	if stale {
		fmt.Fprintln(os.Stderr, "installing the npm tools (sfdx-git-delta, source-deploy-retrieve, jsforce, Node 22)…")
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent")
		cmd.Dir, cmd.Stdout, cmd.Stderr = cache, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("npm install: %w", err)
		}
	}
	return cache, nil
}

// Node is the path of the installed node binary.
func Node(cache string) string { return filepath.Join(cache, "node_modules", ".bin", "node") }
