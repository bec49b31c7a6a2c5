package install

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/omnipack/omnipack/manifest"
)

// Artifact formats. The package formats are what detector.Facts'
// PackageFormat names; the others are the manifest's companions.
const (
	FormatDeb        = "deb"
	FormatRPM        = "rpm"
	FormatAPK        = "apk"
	FormatArch       = "archlinux"
	FormatTarball    = "tarball"
	FormatSignature  = "signature"
	FormatSPDX       = "spdx"
	FormatCycloneDX  = "cyclonedx"
	FormatProvenance = "provenance"
)

// PackageFormats are the formats an artifact can be installed as.
var PackageFormats = []string{FormatDeb, FormatRPM, FormatAPK, FormatArch, FormatTarball}

func isPackageFormat(f string) bool {
	for _, p := range PackageFormats {
		if p == f {
			return true
		}
	}
	return false
}

// MaxArtifactSize bounds any one artifact: a manifest stating more is
// refused, whoever signed it.
const MaxArtifactSize = 4 << 30

var (
	// fileNameRe is a plain file name: no directory, no leading dot.
	fileNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)
	// nameRe is a project (service, package) name, as initsys accepts it.
	nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]*$`)
	// identRe is an arch or os identifier.
	identRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)
	sha256Re = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// versionRe is a version as any of our formats spells it.
	versionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+~^_:-]*$`)
	// configKeyRe is a config key --set may set, as [installer] keys are.
	configKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
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
	if len(name) > 64 || !nameRe.MatchString(name) || strings.Contains(name, "..") {
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
// version, size and digest.
func CheckArtifact(a manifest.Artifact) error {
	if err := CheckFileName(a.Name); err != nil {
		return fmt.Errorf("artifact %w", err)
	}
	switch {
	case !identRe.MatchString(a.Format):
		// Formats this omnipack does not know (a newer build's) are
		// allowed: only package formats are ever installed.
		return fmt.Errorf("artifact %s: invalid format %q", a.Name, a.Format)
	case isPackageFormat(a.Format) && !identRe.MatchString(a.Arch):
		return fmt.Errorf("artifact %s: invalid arch %q", a.Name, a.Arch)
	case isPackageFormat(a.Format) && a.OS != "linux":
		return fmt.Errorf("artifact %s: os %q, want linux", a.Name, a.OS)
	case a.Arch != "" && !identRe.MatchString(a.Arch), a.OS != "" && !identRe.MatchString(a.OS):
		// Release-wide files (the provenance) have no arch.
		return fmt.Errorf("artifact %s: invalid arch %q or os %q", a.Name, a.Arch, a.OS)
	case a.Version != "" && !versionRe.MatchString(a.Version):
		return fmt.Errorf("artifact %s: invalid version %q", a.Name, a.Version)
	case a.Size <= 0 || a.Size > MaxArtifactSize:
		return fmt.Errorf("artifact %s: size %d is out of range (1 to %d bytes)", a.Name, a.Size, int64(MaxArtifactSize))
	}
	if err := CheckSHA256(a.SHA256); err != nil {
		return fmt.Errorf("artifact %s: %w", a.Name, err)
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

// Setting is one --set key=value. Value is a secret: it is never printed.
type Setting struct {
	Key   string
	Value string
}

// String shows the key only.
func (s Setting) String() string { return s.Key + "=<set>" }

// MaxValueLen bounds a --set value.
const MaxValueLen = 4096

// CheckSetting refuses a key that is not a bare TOML key and a value with
// a newline or another control character (almost always a paste mistake,
// and never printable in a one-line config entry). Quotes and backslashes
// are allowed: SetTOML escapes them. The error never quotes the value.
func CheckSetting(s Setting) error {
	if !configKeyRe.MatchString(s.Key) {
		return fmt.Errorf("--set: %q is not a config key (use letters, digits, _ and -)", s.Key)
	}
	if len(s.Value) > MaxValueLen {
		return fmt.Errorf("--set %s: the value is longer than %d bytes", s.Key, MaxValueLen)
	}
	if !utf8.ValidString(s.Value) {
		return fmt.Errorf("--set %s: the value is not valid UTF-8", s.Key)
	}
	for _, r := range s.Value {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("--set %s: the value contains a newline or another control character, which is not allowed", s.Key)
		}
	}
	return nil
}

// ParseSetting splits "key=value".
func ParseSetting(arg string) (Setting, error) {
	k, v, ok := strings.Cut(arg, "=")
	if !ok {
		// Never echo arg: it may be a secret typed without its key.
		return Setting{}, fmt.Errorf("--set takes key=value")
	}
	s := Setting{Key: k, Value: v}
	return s, CheckSetting(s)
}
