// Package verify checks a signed release directory (docs/release-layout.md)
// the way a careful user would before installing from it: the manifest's
// signature first, then its expiry, every artifact's size and digest, the
// packages' own signatures, the SBOMs and the provenance.
//
// Each check produces one line of a Report. A bad manifest signature ends
// the run, because every later check trusts the manifest; any other failure
// is reported and the remaining checks still run, except those that would
// read a file that already failed.
package verify

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/oci"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/release"
	"github.com/omnipack/omnipack/sbom"
	"github.com/omnipack/omnipack/signing"
)

// Check names, in the order the checks run.
const (
	CheckManifestSig = "manifest signature"
	CheckExpiry      = "expiry"
	CheckArtifact    = "artifact"
	CheckKey         = "key"
	CheckPackageSig  = "package signature"
	CheckSBOM        = "sbom"
	CheckProvenance  = "provenance"
	CheckImage       = "image"
)

// Files beside release.json that are not artifacts (docs/release-layout.md).
const (
	SigFile    = manifest.SigFile
	BundleFile = manifest.BundleFile
	PGPSigFile = manifest.PGPSigFile
	KeysDir    = manifest.KeysDir
	ReleasePub = manifest.ReleasePub
	PGPPub     = manifest.PGPPub
)

// Options controls one verification.
type Options struct {
	// PublicKey is the path of the release public key (PEM SPKI) the user
	// trusts. Empty means the release's own keys/release.pub, which proves
	// the release is intact but not who made it; the report says so.
	PublicKey string
	// Now is the time expiry is judged at; nil means time.Now.
	Now func() time.Time
}

// Check is one line of the report.
type Check struct {
	Name   string `json:"check"`
	File   string `json:"file"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Report is the outcome of a verification. OK is true only when every
// check passed and there was at least one.
type Report struct {
	OK     bool   `json:"ok"`
	Source string `json:"source"`
	// Key is the release key the manifest was checked with.
	Key KeyInfo `json:"key"`
	// Warning is set when the result proves less than it seems to: the
	// key came from the release itself.
	Warning string `json:"warning,omitempty"`
	// Name, Version and ReleaseVersion come from the manifest once its
	// signature has been checked.
	Name           string  `json:"name,omitempty"`
	Version        string  `json:"version,omitempty"`
	ReleaseVersion int64   `json:"release_version,omitempty"`
	Checks         []Check `json:"checks"`
}

// KeyInfo says which release key was used and where it came from.
type KeyInfo struct {
	Path        string `json:"path"`
	SHA256      string `json:"sha256,omitempty"`
	FromRelease bool   `json:"from_release"`
}

// FirstFailure returns the first failed check, or nil.
func (r *Report) FirstFailure() *Check {
	for i := range r.Checks {
		if !r.Checks[i].OK {
			return &r.Checks[i]
		}
	}
	return nil
}

// Err is the verdict as an error: nil only when the release passed, else
// the first failed check.
func (r *Report) Err() error {
	if f := r.FirstFailure(); f != nil {
		return fmt.Errorf("verification failed: %s %s: %s", f.Name, f.File, f.Detail)
	}
	if !r.OK {
		return errors.New("verification failed: nothing was checked")
	}
	return nil
}

// InputError is a problem with what the caller asked for (a source that
// is neither a directory nor an http(s) URL, an unreadable --key), as
// opposed to a problem found in the release.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// FromReleaseWarning is the report's warning when no key was pinned.
const FromReleaseWarning = release.FromReleaseWarning

// Release verifies the release at src, a directory or an http(s) URL of
// one. Problems in the release are failed checks in the report; the error
// is for problems that stop verification from starting (see InputError)
// or a cancelled ctx.
func Release(ctx context.Context, src string, opts Options) (Report, error) {
	rep := Report{Source: src, Checks: []Check{}}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var pinned crypto.PublicKey
	if opts.PublicKey != "" {
		var err error
		if pinned, err = loadPinnedKey(opts.PublicKey); err != nil {
			return rep, &InputError{err}
		}
	}
	s, err := openSource(src)
	if err != nil {
		return rep, &InputError{err}
	}
	defer s.Close()
	v := &verifier{ctx: ctx, src: s, rep: &rep, now: now().UTC(), pinned: pinned, pinnedPath: opts.PublicKey}
	v.run()
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	rep.OK = len(rep.Checks) > 0 && rep.FirstFailure() == nil
	return rep, nil
}

// loadPinnedKey reads --key. The library's error is not passed on: the
// file might be a private key, and nothing from it belongs in output.
func loadPinnedKey(p string) (crypto.PublicKey, error) {
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("release public key: %w", err)
	}
	pub, err := signing.LoadPublicKey(p)
	if err != nil {
		return nil, fmt.Errorf("release public key %s is not a PEM public key (pass release.pub, not the private key)", p)
	}
	return pub, nil
}

// verifier carries one run's state.
type verifier struct {
	ctx        context.Context
	src        *release.Files
	rep        *Report
	now        time.Time
	pinned     crypto.PublicKey
	pinnedPath string

	key  crypto.PublicKey // the release key the manifest verified with
	rel  *manifest.Release
	arts map[string]manifest.Artifact // by name, names already checked
	good map[string]string            // local path of each artifact that passed its digest check
}

func (v *verifier) add(name, file string, err error, okDetail string) bool {
	c := Check{Name: name, File: file, OK: err == nil, Detail: okDetail}
	if err != nil {
		c.Detail = err.Error()
	}
	v.rep.Checks = append(v.rep.Checks, c)
	return err == nil
}

func (v *verifier) run() {
	if !v.manifestSignature() {
		return
	}
	v.expiry()
	v.artifacts()
	keys := v.keys()
	v.packageSignatures(keys)
	v.sboms()
	v.provenance()
	v.images()
}

// images checks each container image: its layout's blobs against their
// digests, and its cosign signature with the release key.
func (v *verifier) images() {
	for _, a := range v.sortedArtifacts() {
		if a.Format != manifest.FormatOCI || !v.usable(a.Name) {
			continue
		}
		index, err := oci.Check(v.good[a.Name], oci.Verifier{
			Signature: func(payload, sig []byte) error {
				return signing.VerifyBlob(v.key, bytes.NewReader(payload), sig)
			},
			DSSE:          func(env []byte) ([]byte, error) { return signing.VerifyDSSE(v.key, env) },
			PredicateType: sbom.SPDXPredicateType,
		})
		if err == nil && index != a.ImageIndex {
			err = fmt.Errorf("the layout's image index is %s, release.json names %q", index, a.ImageIndex)
		}
		v.add(CheckImage, a.Name, err, "every blob matches its digest; the cosign signature of the index "+index+
			" (release.json's image_index) and its SPDX SBOM attestation verify with the release key")
	}
}

// usable reports whether every named artifact passed its digest check, so
// that a later check on it means something. A file that failed already has
// its failure in the report.
func (v *verifier) usable(names ...string) bool {
	for _, n := range names {
		if _, ok := v.good[n]; !ok {
			return false
		}
	}
	return true
}

// sortedArtifacts returns the manifest's artifacts whose names passed the
// name check, by name.
func (v *verifier) sortedArtifacts() []manifest.Artifact {
	out := make([]manifest.Artifact, 0, len(v.arts))
	for _, a := range v.arts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// manifestSignature checks release.json against release.json.sig and the
// sigstore bundle with the release key, then reads it. Both signatures must
// verify: a user may check either one with cosign.
func (v *verifier) manifestSignature() bool {
	key, keyErr := v.releaseKey()
	if keyErr != nil {
		return v.add(CheckManifestSig, ReleasePub, keyErr, "")
	}
	v.key = key
	relPath, err := v.src.Path(v.ctx, manifest.FileName, manifest.MaxManifest)
	if err != nil {
		return v.add(CheckManifestSig, manifest.FileName, err, "")
	}
	ok := v.add(CheckManifestSig, manifest.FileName, v.cosignSig(relPath),
		"cosign signature "+SigFile+" verifies with release key sha256:"+v.rep.Key.SHA256)
	ok = v.add(CheckManifestSig, manifest.FileName, v.bundleSig(relPath),
		"sigstore bundle "+BundleFile+" verifies with the same key") && ok
	if !ok {
		return false
	}
	rel, err := readManifest(relPath)
	if err != nil {
		return v.add(CheckManifestSig, manifest.FileName,
			fmt.Errorf("signed, but not a manifest this omnipack reads: %v", stripPath(err, relPath)), "")
	}
	v.rel = rel
	v.rep.Name, v.rep.Version, v.rep.ReleaseVersion = rel.Name, rel.Version, rel.ReleaseVersion
	return true
}

// releaseKey is the pinned key, or else the release's own keys/release.pub.
func (v *verifier) releaseKey() (crypto.PublicKey, error) {
	key := v.pinned
	v.rep.Key = KeyInfo{Path: v.pinnedPath}
	if key == nil {
		v.rep.Key = KeyInfo{Path: ReleasePub, FromRelease: true}
		v.rep.Warning = FromReleaseWarning
		p, err := v.src.Path(v.ctx, ReleasePub, manifest.MaxKey)
		if err != nil {
			return nil, fmt.Errorf("no release key: %v (or pass --key)", err)
		}
		if key, err = signing.LoadPublicKey(p); err != nil {
			return nil, fmt.Errorf("%s is not a PEM public key", ReleasePub)
		}
	}
	fp, err := signing.Fingerprint(key)
	if err != nil {
		return nil, fmt.Errorf("release key: %v", err)
	}
	v.rep.Key.SHA256 = fp
	return key, nil
}

func (v *verifier) cosignSig(relPath string) error {
	p, err := v.src.Path(v.ctx, SigFile, manifest.MaxSig)
	if err != nil {
		return err
	}
	text, err := readCapped(p, SigFile, manifest.MaxSig)
	if err != nil {
		return err
	}
	raw, err := readCapped(relPath, manifest.FileName, manifest.MaxManifest)
	if err != nil {
		return err
	}
	if err := release.VerifyManifest(v.key, raw, text); err != nil {
		return fmt.Errorf("%s: %v (key sha256:%s)", SigFile, err, v.rep.Key.SHA256)
	}
	return nil
}

func (v *verifier) bundleSig(relPath string) error {
	p, err := v.src.Path(v.ctx, BundleFile, manifest.MaxSig)
	if err != nil {
		return err
	}
	b, err := readCapped(p, BundleFile, manifest.MaxSig)
	if err != nil {
		return err
	}
	f, err := os.Open(relPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := signing.VerifyBundle(v.key, f, b); err != nil {
		return fmt.Errorf("%s: %v", BundleFile, err)
	}
	return nil
}

// expiry checks the signed expiry time. A manifest without one is
// unsigned or from before signing, and may be frozen forever.
func (v *verifier) expiry() {
	e := v.rel.Expires
	switch {
	case e == nil:
		v.add(CheckExpiry, manifest.FileName, errors.New("release.json has no expiry time (an unsigned release?)"), "")
	case !v.now.Before(*e):
		v.add(CheckExpiry, manifest.FileName, fmt.Errorf("release.json expired at %s (now %s); ask the publisher to re-sign it",
			e.UTC().Format(time.RFC3339), v.now.Format(time.RFC3339)), "")
	default:
		v.add(CheckExpiry, manifest.FileName, nil, fmt.Sprintf("expires %s (release version %d)",
			e.UTC().Format(time.RFC3339), v.rel.ReleaseVersion))
	}
}

// reserved names are files of the release that are not artifacts; an
// artifact by one of these names would shadow them.
var reserved = map[string]bool{
	manifest.FileName: true, SigFile: true, BundleFile: true, PGPSigFile: true,
	manifest.SumsFileName: true, KeysDir: true,
}

// checkName refuses anything but a plain file name inside the release.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("refused: release.json lists an artifact with no name")
	case strings.ContainsAny(name, `/\`) || strings.Contains(name, ".."):
		return fmt.Errorf("refused: artifact name %q has a path separator or \"..\"; artifacts are plain file names", name)
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return fmt.Errorf("refused: artifact name %q holds control characters", name)
	case reserved[name]:
		return fmt.Errorf("refused: artifact name %q is reserved for the release's own files", name)
	}
	return nil
}

// knownFormat reports whether this omnipack knows an artifact's format:
// a registered format, or one of the manifest's companions.
func knownFormat(format string) bool {
	if _, ok := formats.Lookup(format); ok {
		return true
	}
	switch format {
	case manifest.FormatSignature, manifest.FormatSPDX, manifest.FormatCycloneDX, manifest.FormatProvenance,
		manifest.FormatOCI, manifest.FormatKubernetes, manifest.FormatQuadlet, manifest.FormatPodmanUnit, manifest.FormatSource:
		return true
	}
	return false
}

// isPackage is true for the formats that install files, each of which
// has two SBOMs.
func isPackage(format string) bool { return release.IsPackage(format) }

// artifacts checks every artifact's name, then its size and sha256,
// streaming, then SHA256SUMS.
func (v *verifier) artifacts() {
	v.arts = map[string]manifest.Artifact{}
	v.good = map[string]string{}
	for _, a := range v.rel.Artifacts {
		file := a.Name
		if file == "" {
			file = "(no name)"
		}
		if err := checkName(a.Name); err != nil {
			v.add(CheckArtifact, file, err, "")
			continue
		}
		if _, dup := v.arts[a.Name]; dup {
			v.add(CheckArtifact, a.Name, errors.New("refused: release.json lists this name twice"), "")
			delete(v.arts, a.Name)
			continue
		}
		v.arts[a.Name] = a
	}
	for _, a := range v.sortedArtifacts() {
		if v.ctx.Err() != nil {
			return
		}
		if !knownFormat(a.Format) {
			v.add(CheckArtifact, a.Name, fmt.Errorf("format %q is not one this omnipack knows", a.Format), "")
			continue
		}
		if a.Size < 0 || len(a.SHA256) != 64 {
			v.add(CheckArtifact, a.Name, fmt.Errorf("release.json gives no usable size and sha256 (size %d, sha256 %q)", a.Size, a.SHA256), "")
			continue
		}
		p, err := v.src.Path(v.ctx, a.Name, a.Size)
		if err == nil {
			err = checkDigest(p, a)
		}
		if v.add(CheckArtifact, a.Name, err, fmt.Sprintf("%d bytes, sha256 %s", a.Size, a.SHA256)) {
			v.good[a.Name] = p
		}
	}
	v.sums()
}

// sums checks that SHA256SUMS lists exactly the artifacts of release.json,
// since users run sha256sum -c with it and it is not itself signed.
func (v *verifier) sums() {
	limit := int64(len(v.rel.SHA256SUMS()))*2 + 4096
	p, err := v.src.Path(v.ctx, manifest.SumsFileName, limit)
	if err != nil {
		v.add(CheckArtifact, manifest.SumsFileName, err, "")
		return
	}
	data, err := readCapped(p, manifest.SumsFileName, limit)
	if err != nil {
		v.add(CheckArtifact, manifest.SumsFileName, err, "")
		return
	}
	want := map[string]string{}
	for _, a := range v.rel.Artifacts {
		want[a.Name] = a.SHA256
	}
	got := map[string]string{}
	var problems []string
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
		if !ok || len(sum) != 64 || name == "" {
			problems = append(problems, fmt.Sprintf("line %d is not \"SHA256  NAME\"", i+1))
			continue
		}
		got[name] = strings.ToLower(sum)
	}
	problems = append(problems, diffDigests(want, got, "release.json", manifest.SumsFileName)...)
	v.add(CheckArtifact, manifest.SumsFileName, problemsError(problems), "lists every artifact with its release.json sha256")
}

// diffDigests compares two name -> sha256 maps and describes every
// difference.
func diffDigests(want, got map[string]string, wantName, gotName string) []string {
	var problems []string
	for n, w := range want {
		g, ok := got[n]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s lists %s, %s does not", wantName, n, gotName))
		case g != w:
			problems = append(problems, fmt.Sprintf("%s: %s has sha256 %s, %s has %s", n, wantName, w, gotName, g))
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			problems = append(problems, fmt.Sprintf("%s lists %s, %s does not", gotName, n, wantName))
		}
	}
	return problems
}

// maxProblems bounds how many differences one check's detail lists.
const maxProblems = 10

func problemsError(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
	}
	return errors.New(strings.Join(problems, "; "))
}

// stripPath removes a local (possibly temporary) path from an error
// message: the report names release files, not where they were kept.
func stripPath(err error, local string) string {
	return strings.ReplaceAll(err.Error(), local+": ", "")
}

// baseOf returns the package an SBOM or signature artifact belongs to.
func baseOf(a manifest.Artifact) (string, bool) {
	suffix := map[string]string{manifest.FormatSignature: ".sig", manifest.FormatSPDX: sbom.SPDXSuffix, manifest.FormatCycloneDX: sbom.CycloneDXSuffix}[a.Format]
	if suffix == "" {
		return "", false
	}
	return strings.CutSuffix(a.Name, suffix)
}

// keyFile names a key file of the release for the report.
func keyFile(name string) string { return path.Join(KeysDir, name) }

// openSource opens a release directory or URL for verification. verify
// reads plain http from any mirror: the signature is what it checks.
func openSource(src string) (*release.Files, error) {
	if strings.Contains(src, "://") && !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return nil, fmt.Errorf("%s: only directories and http(s) URLs can be verified", src)
	}
	s, err := release.Open(src, release.Policy{PlainHTTP: true, UserAgent: "omnipack-verify"})
	if err != nil {
		return nil, err
	}
	return release.NewFiles(s), nil
}

// readManifest parses the signed release.json.
func readManifest(p string) (*manifest.Release, error) {
	data, err := readCapped(p, manifest.FileName, manifest.MaxManifest)
	if err != nil {
		return nil, err
	}
	return manifest.Parse(data)
}
