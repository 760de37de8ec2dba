package metadata

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
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
// others under root are left alone.
func WriteTree(root string, files map[string][]byte) error {
	// Four writers: measured on ext4 with 2 cores, 18,800 new files take
	// 5.5 s with one, 4.7 s with two, 3.7 s with four, 4.2 s with eight.
	const writers = 4
	dirs := map[string]bool{}
	for p := range files {
		if !fs.ValidPath(p) || !localPath(p) {
			return &fs.PathError{Op: "write", Path: p, Err: fs.ErrInvalid}
		}
		dirs[filepath.Dir(filepath.Join(root, filepath.FromSlash(p)))] = true
	}
	for d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	// Each worker takes whole directories: creating files in one directory
	// serialises on its lock, so writers sharing one only queue.
	byDir := map[string][]string{}
	for p := range files {
		d := path.Dir(p)
		byDir[d] = append(byDir[d], p)
	}
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
				for _, p := range batch {
					if err := writeDiskFile(filepath.Join(root, filepath.FromSlash(p)), files[p]); err != nil {
						once.Do(func() { first = err })
					}
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
