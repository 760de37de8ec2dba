//go:build unix

package metadata

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
)

func readDiskFile(p string) ([]byte, error) {
	fd, err := open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		return nil, &fs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
	}
	if st.Size > MaxFileSize {
		return nil, ErrFileTooLarge
	}
	buf := make([]byte, 0, int(st.Size)+1) // +1: the read that sees the end
	for {
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // the file grew
		}
	}
}

var errLoop = syscall.ELOOP

// writeDir writes the named files of one directory of root: the directory
// is opened through root (so it cannot lie outside it), each file relative
// to it without following a link, with raw system calls (see DirFS).
func writeDir(root *os.Root, dir string, names []string, files map[string][]byte) error {
	d, err := root.Open(filepath.FromSlash(dir))
	if err != nil {
		return err
	}
	defer d.Close()
	dfd := int(d.Fd())
	for _, p := range names {
		if err := writeAt(dfd, p, path.Base(p), files[p]); err != nil {
			return err
		}
	}
	return nil
}

func writeAt(dfd int, p, name string, data []byte) error {
	var fd int
	var err error
	for {
		fd, err = syscall.Openat(dfd, name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0o644)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.ELOOP {
		return ErrLinkOut
	}
	if err != nil {
		return &fs.PathError{Op: "open", Path: p, Err: err}
	}
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &fs.PathError{Op: "write", Path: p, Err: err}
		}
		data = data[n:]
	}
	if err := syscall.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: p, Err: err}
	}
	return nil
}

func open(p string, flags int, mode uint32) (int, error) {
	for {
		fd, err := syscall.Open(p, flags, mode)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
