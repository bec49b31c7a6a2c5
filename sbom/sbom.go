// Package sbom describes one built package as a software bill of materials,
// in SPDX 2.3 JSON and in CycloneDX 1.6 JSON.
//
// Each SBOM holds the package itself (with its purl and sha256), every
// regular file in it (with sha256 and sha1), and, when the daemon binary is
// a Go program, every Go module compiled into it together with the Go
// toolchain and build settings, all read from the package's own copy of the
// binary with debug/buildinfo. Nothing is taken from the build host, so the
// SBOM describes what ships.
//
// Output is deterministic: the creation time comes from SOURCE_DATE_EPOCH,
// and the SPDX document namespace and the CycloneDX serial number are UUIDv5
// values derived from the document's own content, so unsigned SBOMs stay
// reproducible while any change of content gives a new identifier.
package sbom

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/pkgfile"
)

// The two SBOM kinds, as Check names them.
const (
	KindSPDX      = "spdx"
	KindCycloneDX = "cyclonedx"
)

// File name suffixes: an SBOM sits in dist/ beside its package as
// <artifact name>.spdx.json and <artifact name>.cdx.json.
const (
	SPDXSuffix      = ".spdx.json"
	CycloneDXSuffix = ".cdx.json"
)

// FileNames returns the SBOM file names for a package file name.
func FileNames(artifactName string) (spdx, cyclonedx string) {
	return artifactName + SPDXSuffix, artifactName + CycloneDXSuffix
}

// Input describes one built package.
type Input struct {
	PackagePath string            // the package file
	Artifact    manifest.Artifact // its release.json entry; a set SHA256 must match the file
	Name        string            // project name, the package name
	Version     string            // canonical project version (Artifact.Version is the format's spelling)
	License     string            // SPDX expression; "" or NOASSERTION when unknown
	Supplier    string            // vendor; also names the purl namespace
	Homepage    string
	// BinaryPath is the daemon binary's absolute path inside the package
	// (layout.Bin(name)). Its Go build info is read from the package's
	// copy. Empty, or a binary that is not a Go program, means no Go
	// modules are listed.
	BinaryPath string
	// Created is the SBOM's creation time: the build's SOURCE_DATE_EPOCH.
	Created time.Time
}

// tool names omnipack as the SBOMs' creator.
const tool = "omnipack"

// described is everything both SBOM kinds say about a package.
type described struct {
	in     Input
	sha256 string // of the package file
	purl   string
	files  []pkgfile.File // regular files only, sorted by path
	bin    *goBinary      // nil without Go build info
}

// describe reads the package once for its files and once for the binary.
func describe(in Input) (*described, error) {
	switch {
	case in.PackagePath == "":
		return nil, errors.New("sbom: no package path")
	case in.Name == "":
		return nil, errors.New("sbom: no package name")
	case in.Created.IsZero():
		return nil, errors.New("sbom: no creation time; pass the build's SOURCE_DATE_EPOCH")
	}
	if in.Artifact.Name == "" {
		in.Artifact.Name = filepath.Base(in.PackagePath)
	}
	_, sum, err := manifest.Digest(in.PackagePath)
	if err != nil {
		return nil, err
	}
	if in.Artifact.SHA256 != "" && in.Artifact.SHA256 != sum {
		return nil, fmt.Errorf("sbom: %s has sha256 %s, but release.json records %s", in.PackagePath, sum, in.Artifact.SHA256)
	}
	purl, err := PackageURL(in.Artifact, in.Name, in.Supplier)
	if err != nil {
		return nil, err
	}
	d := &described{in: in, sha256: sum, purl: purl}
	err = d.readContents(func() ([]pkgfile.File, error) { return formats.Files(in.PackagePath, in.Artifact.Format) },
		func(member string) ([]byte, error) {
			return formats.ReadFile(in.PackagePath, in.Artifact.Format, member)
		})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// readContents fills d's files, the regular ones list returns, and, when
// d.in names the binary, its Go build info from the copy read returns.
func (d *described) readContents(list func() ([]pkgfile.File, error), read func(member string) ([]byte, error)) error {
	all, err := list()
	if err != nil {
		return err
	}
	d.files = regular(all)
	if d.in.BinaryPath == "" {
		return nil
	}
	data, err := read(d.in.BinaryPath)
	if err != nil {
		return err
	}
	d.bin, err = readGoBinary(d.in.BinaryPath, data)
	return err
}

// regular keeps the files that have content. Symlinks have no digest to
// record (SPDX requires one per file), and pkgfile already leaves out
// directories.
func regular(files []pkgfile.File) []pkgfile.File {
	var out []pkgfile.File
	for _, f := range files {
		if f.Mode.IsRegular() {
			out = append(out, f)
		}
	}
	return out
}

// created is the time as both formats spell it.
func (d *described) created() string {
	return d.in.Created.UTC().Format(time.RFC3339)
}

// idNamespace roots the UUIDv5 identifiers of omnipack's SBOMs.
var idNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:omnipack:sbom"))

// contentID derives a document's UUID from its encoding with the
// identifier left empty.
func contentID(kind string, body []byte) string {
	sum := sha256.Sum256(body)
	return uuid.NewSHA1(idNamespace, append([]byte(kind+":"), sum[:]...)).String()
}

// withID encodes a document twice: once without its identifier, to derive
// the identifier from the content, and once with it.
func withID(kind string, encode func(id string) ([]byte, error)) ([]byte, error) {
	draft, err := encode("")
	if err != nil {
		return nil, err
	}
	return encode(contentID(kind, draft))
}
