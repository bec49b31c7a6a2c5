package release

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
)

// IsPackage reports whether format is one a host installs: by its package
// manager, or unpacked by omnipack's installers.
func IsPackage(format string) bool {
	return formats.Is(format, packaging.StageInstall) || formats.Is(format, packaging.StageUnpack)
}

var (
	// fileNameRe is a plain file name: no directory, no leading dot.
	fileNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)
	// identRe is an arch or os identifier.
	identRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)
	sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// versionRe is a version as any of our formats spells it.
	versionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+~^_:-]*$`)
)

// CheckFileName refuses anything but a plain file name: no "/", no "..",
// no leading dot or dash, nothing a shell or a path join could misread.
func CheckFileName(name string) error {
	if len(name) > 255 || !fileNameRe.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("%q is not a plain file name", name)
	}
	return nil
}

// CheckName refuses a project name that is unsafe in a path or a command.
func CheckName(name string) error {
	if layout.CheckName(name) != nil {
		return fmt.Errorf("%q is not a valid project name", name)
	}
	return nil
}

// CheckSHA256 refuses anything but 64 lower-case hex digits.
func CheckSHA256(sum string) error {
	if !sha256Re.MatchString(sum) {
		return fmt.Errorf("%q is not a sha256 (64 lower-case hex digits)", sum)
	}
	return nil
}

// CheckArtifact validates one manifest entry: its name, format, arch, os,
// version, size, digest, package name and environment file.
func CheckArtifact(a manifest.Artifact) error {
	if err := CheckFileName(a.Name); err != nil {
		return fmt.Errorf("artifact %w", err)
	}
	switch {
	case !identRe.MatchString(a.Format):
		// Formats this omnipack does not know (a newer build's) are
		// allowed: only package formats are ever installed.
		return fmt.Errorf("artifact %s: invalid format %q", a.Name, a.Format)
	case IsPackage(a.Format) && !identRe.MatchString(a.Arch):
		return fmt.Errorf("artifact %s: invalid arch %q", a.Name, a.Arch)
	case IsPackage(a.Format) && a.OS != "linux":
		return fmt.Errorf("artifact %s: os %q, want linux", a.Name, a.OS)
	case a.Arch != "" && !identRe.MatchString(a.Arch), a.OS != "" && !identRe.MatchString(a.OS):
		// Release-wide files (the provenance) have no arch.
		return fmt.Errorf("artifact %s: invalid arch %q or os %q", a.Name, a.Arch, a.OS)
	case a.Version != "" && !versionRe.MatchString(a.Version):
		return fmt.Errorf("artifact %s: invalid version %q", a.Name, a.Version)
	case a.Size <= 0 || a.Size > manifest.MaxArtifact:
		return fmt.Errorf("artifact %s: size %d is out of range (1 to %d bytes)", a.Name, a.Size, int64(manifest.MaxArtifact))
	}
	if err := CheckSHA256(a.SHA256); err != nil {
		return fmt.Errorf("artifact %s: %w", a.Name, err)
	}
	if a.Package != "" {
		if err := CheckPackageName(a.Format, a.Package); err != nil {
			return fmt.Errorf("artifact %s: %w", a.Name, err)
		}
	}
	if err := manifest.CheckImage(a); err != nil {
		return fmt.Errorf("artifact %s: %w", a.Name, err)
	}
	if a.EnvironmentFile != "" {
		if !IsPackage(a.Format) {
			return fmt.Errorf("artifact %s: a %s artifact has no environment file", a.Name, a.Format)
		}
		if err := manifest.CheckEnvironmentFile(a.EnvironmentFile); err != nil {
			return fmt.Errorf("artifact %s: %w", a.Name, err)
		}
	}
	return nil
}

// CheckRelease validates every field of a verified manifest that a later
// step uses in a path, a command or a decision.
func CheckRelease(r *manifest.Release) error {
	if r.Schema != manifest.SchemaVersion {
		return fmt.Errorf("manifest schema %d is not supported (want %d); use a matching omnipack", r.Schema, manifest.SchemaVersion)
	}
	if err := CheckName(r.Name); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if !versionRe.MatchString(r.Version) || len(r.Version) > 128 {
		return fmt.Errorf("manifest: %q is not a valid version", r.Version)
	}
	if r.ReleaseVersion <= 0 {
		return fmt.Errorf("manifest has no release_version: it is not a signed release (sign it with [signing] key_dir)")
	}
	if r.Expires == nil {
		return fmt.Errorf("manifest has no expiry: it is not a signed release (sign it with [signing] key_dir)")
	}
	seen := map[string]bool{}
	for _, a := range r.Artifacts {
		if err := CheckArtifact(a); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if seen[a.Name] {
			return fmt.Errorf("manifest: artifact %s is listed twice", a.Name)
		}
		seen[a.Name] = true
	}
	return nil
}

// PackageFormats lists the formats a host installs (IsPackage), sorted.
func PackageFormats() []string {
	var out []string
	for _, n := range formats.Names() {
		if IsPackage(n) {
			out = append(out, n)
		}
	}
	return out
}

// IsIdent reports whether s is an arch, os or package-manager identifier
// as a manifest and a record carry them.
func IsIdent(s string) bool { return identRe.MatchString(s) }

// CheckVersion refuses a version no format of ours spells.
func CheckVersion(v string) error {
	if len(v) > 128 || !versionRe.MatchString(v) {
		return fmt.Errorf("%q is not a valid version", v)
	}
	return nil
}

// CheckPackageName refuses a package name format's rule refuses: it is
// put into package-manager commands.
func CheckPackageName(format, name string) error {
	f, ok := formats.Lookup(format)
	if !ok {
		return fmt.Errorf("unknown format %q", format)
	}
	if why := f.Rule().CheckName(name); why != "" {
		return fmt.Errorf("%q is not a %s package name: %s", name, format, why)
	}
	return nil
}
