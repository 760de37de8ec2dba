package metadata

import (
	"archive/zip"
	"bytes"
	"testing"
)

// FuzzParseManifest checks that any package.xml the reader accepts is
// written back byte-stably and reads back to the same members.
func FuzzParseManifest(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>*</members><members>A</members><name>ApexClass</name></types><version>62.0</version></Package>`,
		`<Package><types><members>Account-Account Layout &amp; More</members><name>Layout</name></types></Package>`,
		`<Package><version>30.0</version></Package>`,
		`<Package><types><name>X</name></types></Package>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		out := m.Marshal()
		back, err := ParseManifest(out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
		}
		if string(back.Marshal()) != string(out) {
			t.Fatalf("not byte-stable:\n%s\n%s", out, back.Marshal())
		}
	})
}

// FuzzReadZip checks the zip reader never panics and never returns a path
// that escapes the archive.
func FuzzReadZip(f *testing.F) {
	for _, names := range [][]string{{"unpackaged/package.xml", "unpackaged/classes/A.cls"}, {"../x"}, {"a/./b", "a/b"}} {
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		for _, n := range names {
			fw, _ := w.Create(n)
			fw.Write([]byte("content of " + n))
		}
		w.Close()
		f.Add(buf.Bytes())
	}
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := ReadZip(data, ZipLimits{MaxFiles: 100, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20, MaxRatio: 100})
		if err != nil {
			return
		}
		for p := range files {
			if _, err := safeEntryName(p); err != nil || p == ".." || len(p) > 0 && p[0] == '/' {
				t.Fatalf("unsafe path %q accepted", p)
			}
		}
	})
}
