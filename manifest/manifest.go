// Package manifest reads and writes dist/release.json, the one document
// that lists every artifact of a release. Build writes it; signing signs it;
// the installer, verify and audit read it.
package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/omnipack/omnipack/signing"
)

// FileName is the manifest's name inside dist/.
const FileName = "release.json"

// The release's own files beside release.json (docs/release-layout.md).
const (
	SigFile       = FileName + ".sig"           // cosign signature
	BundleFile    = FileName + ".sigstore.json" // sigstore bundle
	PGPSigFile    = FileName + ".asc"           // OpenPGP signature
	SumsFileName  = "SHA256SUMS"
	KeysDir       = "keys"
	ReleasePub    = KeysDir + "/" + signing.ReleasePubFile
	PGPPub        = KeysDir + "/" + signing.PGPPubFile
	InstallerFile = "install.sh"
)

// Artifact formats besides the package formats (packaging/formats).
const (
	FormatSignature  = "signature" // a detached PKG.sig of a package
	FormatSPDX       = "spdx"
	FormatCycloneDX  = "cyclonedx"
	FormatProvenance = "provenance"
	// FormatSource is the release's source archive: the recorded commit's
	// tree, as git archive makes it, gzip'd.
	FormatSource = "source"
	// FormatOCI is the OCI image layout of every architecture, as one tar;
	// the other three run that image: a Kubernetes manifest, a quadlet
	// .container file, a plain systemd unit that runs podman.
	FormatOCI        = "oci"
	FormatKubernetes = "kubernetes"
	FormatQuadlet    = "quadlet"
	FormatPodmanUnit = "podman"
)

// Caps on files whose size the manifest does not state. They only bound a
// hostile server; real files are far smaller.
const (
	MaxManifest = 16 << 20
	MaxSig      = 64 << 10
	MaxKey      = 1 << 20
	// MaxArtifact bounds any one artifact: a manifest stating more is
	// refused, whoever signed it.
	MaxArtifact = 4 << 30
)

// SchemaVersion changes when a field changes meaning; readers refuse
// schemas they do not know.
const SchemaVersion = 1

// Release is the whole manifest.
type Release struct {
	Schema          int      `json:"schema"`
	Name            string   `json:"name"`
	Version         string   `json:"version"` // canonical project version
	Release         int      `json:"release"` // packaging revision
	SourceDateEpoch int64    `json:"source_date_epoch"`
	Inits           []string `json:"inits"`
	// HealthCommand is [service] health_command as it runs on the host:
	// the installers' health step runs it, and the service is healthy
	// when it exits 0. Absent when the release has none.
	HealthCommand []string   `json:"health_command,omitempty"`
	Artifacts     []Artifact `json:"artifacts"`

	// Set when the release is signed. ReleaseVersion only ever increases
	// from one signing to the next, so an installer can refuse a rollback
	// to an older signed manifest; Expires stops a frozen mirror from
	// serving a stale release forever.
	ReleaseVersion int64      `json:"release_version,omitempty"`
	SignedAt       *time.Time `json:"signed_at,omitempty"`
	Expires        *time.Time `json:"expires,omitempty"`
	Keys           *Keys      `json:"keys,omitempty"`
}

// Keys names the public keys a signed release was made with, so a verifier
// can tell which key it needs. The files are published in dist/keys/.
type Keys struct {
	Release    string `json:"release"`     // sha256 of the DER SPKI, hex
	OpenPGP    string `json:"openpgp"`     // OpenPGP fingerprint, hex
	APKKeyName string `json:"apk_keyname"` // the name apk-tools looks up in /etc/apk/keys
	APK        string `json:"apk"`         // sha256 of the apk key's DER SPKI, hex: the name alone is too short to bind it
}

// NextReleaseVersion returns the release version for a signing at now: one
// more than the previous one, and never less than now in Unix seconds, so
// that versions also increase across machines that keep no state.
func NextReleaseVersion(previous int64, now time.Time) int64 {
	return max(previous+1, now.Unix())
}

// SHA256SUMS renders the artifacts in the format of sha256sum, so that
// `sha256sum -c SHA256SUMS` checks a downloaded release.
func (r *Release) SHA256SUMS() []byte {
	r.Sort()
	var b strings.Builder
	for _, a := range r.Artifacts {
		fmt.Fprintf(&b, "%s  %s\n", a.SHA256, a.Name)
	}
	return []byte(b.String())
}

// Subjects are what the release's provenance is about, as name -> hex
// sha256: every artifact but the one named except, and each container
// image by its repository and index digest.
func (r *Release) Subjects(except string) map[string]string {
	out := map[string]string{}
	for _, a := range r.Artifacts {
		if a.Name != except {
			out[a.Name] = a.SHA256
		}
		if a.ImageIndex != "" {
			// The image itself, by the name and digest a registry knows.
			out[a.ImageRepository] = strings.TrimPrefix(a.ImageIndex, "sha256:")
		}
	}
	return out
}

// Artifact is one file of the release.
type Artifact struct {
	Name    string `json:"name"`    // file name inside dist/, no directories
	Format  string `json:"format"`  // deb, rpm, apk, archlinux
	Arch    string `json:"arch"`    // omnipack architecture name (amd64, ...)
	OS      string `json:"os"`      // always linux today
	Version string `json:"version"` // the version as the format spells it
	// Package is a package artifact's name as its package manager knows
	// it; the program keeps the release's Name.
	Package string `json:"package,omitempty"`
	// EnvironmentFile is where a package artifact keeps the service's
	// per-host settings file ([service] environment_file), which the
	// installers' --set env.NAME=VALUE writes; "" when it ships none.
	EnvironmentFile string `json:"environment_file,omitempty"`
	// ImageRepository and ImageIndex name, for an image layout (format
	// oci), the image inside: its repository ([oci] repository) and the
	// digest of its image index (sha256:HEX), what a registry and cosign
	// know it by and what the units and manifests run.
	ImageRepository string `json:"image_repository,omitempty"`
	ImageIndex      string `json:"image_index,omitempty"`
	Size            int64  `json:"size"`
	SHA256          string `json:"sha256"`
}

// imageDigestRe is an OCI sha256 digest.
var imageDigestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// imageRepositoryRe is an image repository: a registry host (with a
// port) and lower-case path components, as OCI distribution allows.
var imageRepositoryRe = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$`)

// CheckImage refuses an image repository or index digest that is not
// one; both are set together, on an image layout only.
func CheckImage(a Artifact) error {
	switch {
	case a.ImageRepository == "" && a.ImageIndex == "":
		return nil
	case a.Format != FormatOCI:
		return fmt.Errorf("a %s artifact names no image", a.Format)
	case len(a.ImageRepository) > 255 || !imageRepositoryRe.MatchString(a.ImageRepository):
		return fmt.Errorf("image repository %q is not a repository name", a.ImageRepository)
	case !imageDigestRe.MatchString(a.ImageIndex):
		return fmt.Errorf("image index %q is not a sha256 digest", a.ImageIndex)
	}
	return nil
}

// envFilePathRe is an environment file's path: below /etc/, of plain
// characters (a program's name may hold _ . : and capitals).
var envFilePathRe = regexp.MustCompile(`^/etc(/[A-Za-z0-9_.:+@~-]+)+$`)

// CheckEnvironmentFile refuses an environment file path that is not an
// absolute, clean path of plain characters below /etc/: the installers
// write the file as root.
func CheckEnvironmentFile(p string) error {
	// Clean refuses the "." and ".." components the pattern lets through.
	if len(p) > 255 || !envFilePathRe.MatchString(p) || path.Clean(p) != p {
		return fmt.Errorf("environment file %q is not a clean absolute path below /etc/", p)
	}
	return nil
}

// healthWordRe is a word of a health command: printable ASCII without a
// quote or a backslash, which install.sh's manifest parser takes as it is.
var healthWordRe = regexp.MustCompile(`^[ -!#-\[\]-~]+$`)

// CheckHealthCommand refuses a health command the installers cannot run
// as it is: 1 to 64 words of healthWordRe, the first a clean absolute
// path.
func CheckHealthCommand(argv []string) error {
	if len(argv) == 0 || len(argv) > 64 {
		return fmt.Errorf("health_command has %d words; want 1 to 64", len(argv))
	}
	for _, w := range argv {
		if !healthWordRe.MatchString(w) || len(w) > 1024 {
			return fmt.Errorf("health_command word %q is empty, too long or not plain printable text", w)
		}
	}
	if !path.IsAbs(argv[0]) || path.Clean(argv[0]) != argv[0] {
		return fmt.Errorf("health_command %q does not start with a clean absolute path", argv[0])
	}
	return nil
}

// Sort orders artifacts by name so the manifest is reproducible.
func (r *Release) Sort() {
	sort.Slice(r.Artifacts, func(i, j int) bool { return r.Artifacts[i].Name < r.Artifacts[j].Name })
}

// Marshal encodes the manifest deterministically.
func (r *Release) Marshal() ([]byte, error) {
	r.Sort()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// A health command's && and > stay as they are: install.sh's parser
	// reads no escapes.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Read loads and checks the manifest at path (Parse).
func Read(path string) (*Release, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Parse decodes a manifest strictly: unknown fields, trailing data and a
// schema this omnipack does not know are errors.
func Parse(data []byte) (*Release, error) {
	var r Release
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the manifest")
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("schema %d is not supported (want %d); use a matching omnipack", r.Schema, SchemaVersion)
	}
	if r.HealthCommand != nil {
		if err := CheckHealthCommand(r.HealthCommand); err != nil {
			return nil, err
		}
	}
	for _, a := range r.Artifacts {
		if err := CheckImage(a); err != nil {
			return nil, fmt.Errorf("artifact %q: %w", a.Name, err)
		}
		if a.EnvironmentFile == "" {
			continue
		}
		if err := CheckEnvironmentFile(a.EnvironmentFile); err != nil {
			return nil, fmt.Errorf("artifact %q: %w", a.Name, err)
		}
	}
	return &r, nil
}

// Digest returns the size and hex sha256 of a file, streaming it.
func Digest(path string) (size int64, sum string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
