package metadata

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// ZipLimits bound what a zip may expand to. The defaults suit metadata
// retrieves (Salesforce caps a retrieve at 10,000 files and 600 MB).
type ZipLimits struct {
	MaxFiles     int
	MaxFileSize  int64 // uncompressed bytes of one entry
	MaxTotalSize int64 // uncompressed bytes of all entries
	MaxRatio     int64 // uncompressed/compressed for one entry
}

// DefaultZipLimits are the limits used when none are given.
var DefaultZipLimits = ZipLimits{MaxFiles: 50_000, MaxFileSize: 200 << 20, MaxTotalSize: 1 << 30, MaxRatio: 200}

// ZipError names the entry (or the archive) a zip was refused for.
type ZipError struct {
	Entry string
	Msg   string
}

func (e *ZipError) Error() string {
	if e.Entry == "" {
		return "zip: " + e.Msg
	}
	return fmt.Sprintf("zip entry %q: %s", e.Entry, e.Msg)
}

// ErrUnsafeZip marks zips refused for their shape (traversal, links, bombs).
var ErrUnsafeZip = errors.New("unsafe zip")

func (e *ZipError) Unwrap() error { return ErrUnsafeZip }

// ReadZip reads an archive into a path → content map, refusing entries
// that escape the archive root (.., absolute or drive paths, backslashes),
// links and special files, duplicates, and anything over the limits —
// checking the real decompressed size, not the header's claim.
func ReadZip(data []byte, lim ZipLimits) (map[string][]byte, error) {
	if lim.MaxFiles == 0 {
		lim = DefaultZipLimits
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &ZipError{Msg: "not a readable zip archive: " + err.Error()}
	}
	if len(zr.File) > lim.MaxFiles {
		return nil, &ZipError{Msg: fmt.Sprintf("%d entries, more than the %d allowed", len(zr.File), lim.MaxFiles)}
	}
	out := make(map[string][]byte, len(zr.File))
	var total int64
	for _, f := range zr.File {
		name, err := safeEntryName(f.Name)
		if err != nil {
			return nil, &ZipError{Entry: f.Name, Msg: err.Error()}
		}
		mode := f.Mode()
		if mode.IsDir() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		if !mode.IsRegular() {
			return nil, &ZipError{Entry: f.Name, Msg: "links and special files are refused"}
		}
		if _, dup := out[name]; dup {
			return nil, &ZipError{Entry: f.Name, Msg: "appears twice"}
		}
		if int64(f.UncompressedSize64) > lim.MaxFileSize {
			return nil, &ZipError{Entry: f.Name, Msg: "larger than the per-file limit"}
		}
		rc, err := f.Open()
		if err != nil {
			return nil, &ZipError{Entry: f.Name, Msg: err.Error()}
		}
		b, err := io.ReadAll(io.LimitReader(rc, lim.MaxFileSize+1))
		rc.Close()
		if err != nil {
			return nil, &ZipError{Entry: f.Name, Msg: "cannot be decompressed: " + err.Error()}
		}
		n := int64(len(b))
		if n > lim.MaxFileSize {
			return nil, &ZipError{Entry: f.Name, Msg: "larger than the per-file limit"}
		}
		if comp := int64(f.CompressedSize64); n > 1<<20 && comp > 0 && n/comp > lim.MaxRatio {
			return nil, &ZipError{Entry: f.Name, Msg: fmt.Sprintf("compression ratio %d:1 looks like a zip bomb", n/comp)}
		}
		total += n
		if total > lim.MaxTotalSize {
			return nil, &ZipError{Msg: "expands beyond the total size limit"}
		}
		out[name] = b
	}
	return out, nil
}

func safeEntryName(n string) (string, error) {
	switch {
	case n == "":
		return "", errors.New("empty name")
	case strings.Contains(n, `\`):
		return "", errors.New("backslashes in paths are refused")
	case strings.HasPrefix(n, "/"), len(n) > 1 && n[1] == ':':
		return "", errors.New("absolute paths are refused")
	case strings.ContainsRune(n, 0):
		return "", errors.New("NUL in path")
	}
	for _, seg := range strings.Split(strings.TrimSuffix(n, "/"), "/") {
		if seg == ".." {
			return "", errors.New("paths that climb out of the archive are refused")
		}
	}
	return path.Clean(n), nil
}

// zipEpoch is the modification time of every entry: fixed, so the same
// content always gives the same bytes (and checksum).
var zipEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteZip writes files into a deterministic archive: entries sorted by
// path, fixed timestamps and permissions, Deflate. The same map always
// produces the same bytes.
func WriteZip(files map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		h := &zip.FileHeader{Name: n, Method: zip.Deflate, Modified: zipEpoch}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", n, err)
		}
		if _, err := w.Write(files[n]); err != nil {
			return nil, fmt.Errorf("zip %s: %w", n, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func isZip(b []byte) bool {
	return bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06"))
}

// zipContentTypes are static resource content types whose content is an
// archive that the source format keeps expanded.
var zipContentTypes = map[string]bool{
	"application/zip": true, "application/x-zip-compressed": true, "application/x-zip": true,
	"application/octet-stream": true, "application/jar": true, "application/java-archive": true,
}

// expandZipResource replaces a zip static resource's single body with its
// entries, so a resource kept expanded in source format and one kept as a
// .resource archive in metadata format hash alike.
func expandZipResource(c *Component) error {
	if len(c.Parts) != 1 || c.Parts[0].Name != "" || !isZip(c.Parts[0].Data) {
		return nil
	}
	if c.XML != nil && !zipContentTypes[strings.ToLower(c.XML.ChildText("contentType"))] {
		return nil
	}
	entries, err := ReadZip(c.Parts[0].Data, DefaultZipLimits)
	if err != nil {
		// An archive we will not expand (damaged, or a bomb) is compared
		// and deployed as the bytes it is.
		return nil
	}
	parts := make([]Part, 0, len(entries))
	for n, b := range entries {
		parts = append(parts, Part{Name: n, Data: b})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Name < parts[j].Name })
	c.Parts = parts
	return nil
}
