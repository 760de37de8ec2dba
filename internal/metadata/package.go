package metadata

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// PackageSpec is what goes into a deploy zip.
type PackageSpec struct {
	Components *Set // read with KeepContent; may be empty for delete-only deploys
	// Deletions by destructive-changes file; members need not exist.
	Deletions map[DestructiveKind][]Key
	Version   string // API version for package.xml, e.g. "62.0"
}

// Package is a built deploy zip.
type Package struct {
	Zip      []byte
	Checksum string // hex SHA-256 of Zip
	Manifest *Manifest
	Files    map[string][]byte // the unzipped content, for inspection
}

// BuildPackage lays the components out in metadata format with package.xml
// and the destructive-changes manifests at the root, and zips them. The
// same spec always gives the same bytes, so a release build's checksum is
// stable. It refuses deletions the Metadata API cannot perform.
func BuildPackage(spec PackageSpec) (*Package, error) {
	version, err := ParseAPIVersion(spec.Version)
	if err != nil {
		return nil, err
	}
	set := spec.Components
	if set == nil {
		set = NewSet()
	}
	files, err := WriteMetadataFormat(set)
	if err != nil {
		return nil, err
	}
	m := ManifestFromSet(set, version)
	if problems := m.Validate(DefaultRegistry, false); len(problems) > 0 {
		return nil, fmt.Errorf("package.xml: %s", problems[0])
	}
	files["package.xml"] = m.Marshal()
	for kind, keys := range spec.Deletions {
		if len(keys) == 0 {
			continue
		}
		switch kind {
		case DestructiveDefault, DestructivePre, DestructivePost:
		default:
			return nil, fmt.Errorf("unknown destructive changes file %q", kind)
		}
		d := NewManifest(version)
		for _, k := range keys {
			d.Add(k.Type, k.Name)
		}
		if problems := d.Validate(DefaultRegistry, true); len(problems) > 0 {
			return nil, fmt.Errorf("%s: %s", kind, problems[0])
		}
		files[string(kind)] = d.Marshal()
	}
	zip, err := WriteZip(files)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(zip)
	return &Package{Zip: zip, Checksum: hex.EncodeToString(sum[:]), Manifest: m, Files: files}, nil
}
