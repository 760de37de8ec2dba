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
	// MaxTotalRatio bounds all entries together against the archive's
	// size, so that many entries each under MaxRatio's floor cannot add up
	// to a bomb. Metadata archives inflate well under 20:1 in all.
	MaxTotalRatio int64
}

// DefaultZipLimits are the limits used when none are given.
var DefaultZipLimits = ZipLimits{MaxFiles: 50_000, MaxFileSize: 200 << 20, MaxTotalSize: 1 << 30, MaxRatio: 200, MaxTotalRatio: 100}

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
// links and special files, duplicates, and anything over the limits.
// Sizes are checked while decompressing, against the real output rather
// than the headers' claims: each entry's size and ratio, and the total
// across all entries, both in bytes and as a ratio to the archive's own
// size — so many small entries cannot add up to a bomb, and a refused
// archive costs little more memory than the point where it was refused.
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
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > uint64(lim.MaxTotalSize) {
			return nil, &ZipError{Msg: fmt.Sprintf("its entries claim more than the %d MiB allowed in all", lim.MaxTotalSize>>20)}
		}
	}
	out := make(map[string][]byte, len(zr.File))
	st := zipBudget{lim: lim, archive: int64(len(data))}
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
		b, err := st.read(f)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

// zipBudget keeps the running totals ReadZip checks while it inflates.
type zipBudget struct {
	lim     ZipLimits
	archive int64 // compressed size of the whole archive
	total   int64 // bytes inflated so far, all entries
}

// ratioFloor is the output below which ratios are not judged: small,
// highly repetitive files (an empty layout, a blank profile) compress far
// beyond any bomb's ratio and are harmless.
const ratioFloor = 1 << 20

// read inflates one entry a chunk at a time, stopping at the first limit
// it crosses.
func (z *zipBudget) read(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, &ZipError{Entry: f.Name, Msg: err.Error()}
	}
	defer rc.Close()
	// The header's size is only a hint for the first allocation, capped so
	// a lying header cannot make us allocate.
	buf := make([]byte, 0, min(int64(f.UncompressedSize64), ratioFloor)+512)
	comp := max(int64(f.CompressedSize64), 1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		z.total += int64(n)
		size := int64(len(buf))
		switch {
		case size > z.lim.MaxFileSize:
			return nil, &ZipError{Entry: f.Name, Msg: "larger than the per-file limit"}
		case size > ratioFloor && size/comp > z.lim.MaxRatio:
			return nil, &ZipError{Entry: f.Name, Msg: fmt.Sprintf("compression ratio over %d:1 looks like a zip bomb", z.lim.MaxRatio)}
		case z.total > z.lim.MaxTotalSize:
			return nil, &ZipError{Msg: fmt.Sprintf("expands beyond the %d MiB allowed in all", z.lim.MaxTotalSize>>20)}
		case z.total > ratioFloor && z.lim.MaxTotalRatio > 0 && z.total/max(z.archive, 1) > z.lim.MaxTotalRatio:
			return nil, &ZipError{Msg: fmt.Sprintf("its entries together expand over %d times the archive's size: it looks like a zip bomb", z.lim.MaxTotalRatio)}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, &ZipError{Entry: f.Name, Msg: "cannot be decompressed: " + err.Error()}
		}
	}
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
