package sbom

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pkgfile"
)

// SPDXPredicateType is the in-toto predicate type of an SPDX document, as
// cosign attest --type spdxjson names it.
const SPDXPredicateType = "https://spdx.dev/Document"

// ImageInput describes one platform's image of a container image.
type ImageInput struct {
	// LayerPath is the image's layer, an uncompressed tar of paths
	// relative to /.
	LayerPath string
	// Repository is the image's repository (ghcr.io/vendor/agent) and
	// Digest its image manifest digest (sha256:HEX).
	Repository, Digest string
	Arch               string // omnipack architecture name
	// The rest as in Input.
	Name, Version, License, Supplier, Homepage string
	BinaryPath                                 string
	Created                                    time.Time
}

// ImageSPDX returns the SPDX document of one platform's image: the image
// as the package (its purl pkg:oci/NAME@DIGEST, its checksum the
// manifest digest), every regular file of its layer, and the Go modules
// of the binary, as SPDX describes a package.
func ImageSPDX(in ImageInput) ([]byte, error) {
	hexDigest, ok := strings.CutPrefix(in.Digest, "sha256:")
	switch {
	case in.LayerPath == "":
		return nil, errors.New("sbom: no image layer")
	case !ok || len(hexDigest) != 64:
		return nil, fmt.Errorf("sbom: image digest %q is not sha256:HEX", in.Digest)
	case in.Repository == "" || in.Name == "" || in.Arch == "":
		return nil, errors.New("sbom: an image needs its repository, name and architecture")
	case in.Created.IsZero():
		return nil, errors.New("sbom: no creation time; pass the build's SOURCE_DATE_EPOCH")
	}
	d := &described{
		in: Input{PackagePath: in.LayerPath, Name: in.Name, Version: in.Version, License: in.License,
			Supplier: in.Supplier, Homepage: in.Homepage, BinaryPath: in.BinaryPath, Created: in.Created,
			Artifact: manifest.Artifact{Name: in.Name + "_" + in.Version + "_linux_" + in.Arch + ".oci",
				Format: manifest.FormatOCI, Arch: in.Arch, Version: in.Version}},
		sha256: hexDigest,
		purl:   ociPURL(in.Repository, in.Digest, in.Arch),
	}
	err := d.readContents(func() ([]pkgfile.File, error) { return pkgfile.List(in.LayerPath, walkLayer) },
		func(member string) ([]byte, error) { return pkgfile.ReadFile(in.LayerPath, walkLayer, member) })
	if err != nil {
		return nil, fmt.Errorf("sbom: image layer: %w", err)
	}
	return d.spdx()
}

func walkLayer(r io.Reader, fn pkgfile.WalkFunc) error { return pkgfile.WalkTar(r, nil, nil, fn) }

// ociPURL is the purl spec's pkg:oci/NAME@DIGEST?arch=ARCH&repository_url=REPO:
// NAME is the repository's last segment, lowercase, and the version the
// digest.
func ociPURL(repository, digest, arch string) string {
	name := strings.ToLower(repository[strings.LastIndex(repository, "/")+1:])
	return "pkg:oci/" + purlEscape(name) + "@" + strings.ReplaceAll(purlEscape(digest), ":", "%3A") +
		"?arch=" + purlEscape(arch) + "&repository_url=" + strings.ReplaceAll(purlEscape(repository), "%2F", "/")
}
