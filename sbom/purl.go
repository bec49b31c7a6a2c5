package sbom

import (
	"fmt"
	"strings"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
)

// DefaultNamespace is the purl namespace of a package whose project names
// no vendor.
const DefaultNamespace = "omnipack"

// PackageURL returns the purl of a built package:
//
//	pkg:deb/<ns>/<name>@<version>?arch=amd64
//	pkg:rpm/<ns>/<name>@<version>?arch=x86_64
//	pkg:apk/<ns>/<name>@<version>?arch=x86_64
//	pkg:alpm/<ns>/<name>@<version>?arch=x86_64
//
// The version is the artifact's, release included, and arch is spelled the
// way the format spells it. The namespace stands where the purl spec puts a
// distribution vendor ("debian", "fedora"): here the project's vendor, as
// a lowercase slug (runs of anything but a-z 0-9 . _ - become "-"), or
// DefaultNamespace without a vendor. The purl type and whether the spec
// lowercases its names come from the format (packaging.PackageURLer).
func PackageURL(a manifest.Artifact, name, vendor string) (string, error) {
	f, ok := formats.Lookup(a.Format)
	if !ok {
		return "", fmt.Errorf("sbom: unknown package format %q", a.Format)
	}
	p, ok := f.(packaging.PackageURLer)
	if !ok {
		return "", fmt.Errorf("sbom: no purl type for package format %q", a.Format)
	}
	typ, lower := p.PackageURLType()
	arch, ok := config.LookupArch(a.Arch)
	if !ok || f.Arch(arch) == "" {
		return "", fmt.Errorf("sbom: unknown architecture %q for %s", a.Arch, a.Format)
	}
	if a.Version == "" {
		return "", fmt.Errorf("sbom: artifact %s has no version", a.Name)
	}
	if lower {
		name = strings.ToLower(name)
	}
	return "pkg:" + typ + "/" + purlEscape(namespace(vendor)) + "/" + purlEscape(name) +
		"@" + purlEscape(a.Version) + "?arch=" + purlEscape(f.Arch(arch)), nil
}

// namespace turns a vendor name into a purl namespace slug.
func namespace(vendor string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(vendor) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		return DefaultNamespace
	}
	return s
}

// goPURL returns pkg:golang/<module>@<version>. The purl spec's golang type
// wants namespace and name lowercased, so two module paths that differ only
// in case share a purl; the SBOMs keep the exact path as the name.
func goPURL(path, version string) string {
	segs := strings.Split(strings.ToLower(path), "/")
	for i, s := range segs {
		segs[i] = purlEscape(s)
	}
	p := "pkg:golang/" + strings.Join(segs, "/")
	if version != "" {
		p += "@" + purlEscape(version)
	}
	return p
}

// purlEscape percent-encodes a purl component, leaving the characters the
// purl spec leaves as they are: A-Z a-z 0-9 . - _ ~ and ":".
func purlEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == '~' || c == ':' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
