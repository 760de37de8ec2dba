package metadata

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// DirFS is os.DirFS for projects on disk, with file reads and writes that
// skip the Go runtime's poller registration: a project of 50,000 files
// otherwise pays five extra system calls per file (measured: a third of
// convert's time on a 2-core VM). Paths are checked as os.DirFS checks them.
func DirFS(root string) fs.FS { return diskFS{root: root, dir: os.DirFS(root)} }

type diskFS struct {
	root string
	dir  fs.FS
}

func (d diskFS) Open(name string) (fs.File, error) { return d.dir.Open(name) }

func (d diskFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(d.dir, name) }

func (d diskFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(d.dir, name) }

func (d diskFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) || !localPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	b, err := readDiskFile(filepath.Join(d.root, filepath.FromSlash(name)))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Path = name
		}
		return nil, err
	}
	return b, nil
}

// localPath refuses names os.DirFS would refuse on this system (on
// Windows, names with backslashes or colons).
func localPath(name string) bool {
	return filepath.IsLocal(filepath.FromSlash(name)) || name == "."
}

// WriteTree writes files (slash-separated paths under root), creating
// directories as needed, several at a time. Existing files are replaced;
// others under root are left alone. Nothing is written outside root: a
// path that passes through a symbolic link leading out of root, or whose
// file is itself a symbolic link, is refused (ErrLinkOut), since an output
// folder may hold links a hostile repository or archive planted.
func WriteTree(root string, files map[string][]byte) error {
	// Four writers: measured on ext4 with 2 cores, 18,800 new files take
	// 5.5 s with one, 4.7 s with two, 3.7 s with four, 4.2 s with eight.
	const writers = 4
	byDir := map[string][]string{}
	for p := range files {
		if !fs.ValidPath(p) || !localPath(p) {
			return &fs.PathError{Op: "write", Path: p, Err: fs.ErrInvalid}
		}
		d := path.Dir(p)
		byDir[d] = append(byDir[d], p)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	for d := range byDir {
		if err := r.MkdirAll(filepath.FromSlash(d), 0o755); err != nil {
			return linkOut(root, d, err)
		}
	}
	// Each worker takes whole directories: creating files in one directory
	// serialises on its lock, so writers sharing one only queue.
	batches := make(chan []string)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				if err := writeDir(r, path.Dir(batch[0]), batch, files); err != nil {
					once.Do(func() { first = linkOut(root, batch[0], err) })
				}
			}
		}()
	}
	for _, batch := range byDir {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	return first
}

// ErrLinkOut is returned by WriteTree for a path it will not write through.
var ErrLinkOut = errors.New("the path is, or passes through, a symbolic link: refusing to write through it")

// linkOut explains an error os.Root gives for a path leaving the root, or
// the refusal to open a link.
func linkOut(root, p string, err error) error {
	// os.Root does not export its "escapes" error; its text is stable.
	if errors.Is(err, ErrLinkOut) || errors.Is(err, errLoop) || strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("write %s under %s: %w", p, root, ErrLinkOut)
	}
	return err
}
