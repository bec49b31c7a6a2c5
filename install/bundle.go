package install

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"golang.org/x/sys/unix"

	"github.com/omnipack/omnipack/internal/atomicfile"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/release"
	"github.com/omnipack/omnipack/signing"
)

// BundleOptions is one `omnipack bundle` run.
type BundleOptions struct {
	// Dist is the signed release directory; Out the bundle directory to
	// create (it must not exist).
	Dist, Out string
	// Key is the release public key; "" means Dist/keys/release.pub.
	Key string
	// Formats and Archs, when set, keep only the packages of those
	// formats and architectures (and their .sig and SBOMs).
	Formats, Archs []string
	// Now is the time expiry is judged at; nil means time.Now.
	Now func() time.Time
}

// BundleResult describes a bundle made.
type BundleResult struct {
	Dir     string   `json:"dir"`
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Files   []string `json:"files"` // relative to Dir, sorted
	// Packages are the package artifacts it holds.
	Packages []string `json:"packages"`
	// KeySHA256 is the release key the manifest verified with.
	KeySHA256 string `json:"key_sha256"`
}

// Bundle makes an air-gapped bundle: a directory that `omnipack install`
// and `install.sh --offline` install from with no network. It verifies the
// dist's manifest signature (and the sigstore bundle and OpenPGP
// signature beside it, when present), copies every selected artifact while
// checking its size and sha256 against the manifest, and writes a
// SHA256SUMS of exactly what it holds. It writes into a temporary
// directory beside Out and renames it to Out only when everything checked
// out, so Out is either complete or absent.
func Bundle(ctx context.Context, o BundleOptions) (*BundleResult, error) {
	if o.Dist == "" || o.Out == "" {
		return nil, errors.New("bundle needs --dist and --out")
	}
	if _, err := os.Lstat(o.Out); err == nil {
		return nil, fmt.Errorf("%s exists; pass a new --out directory", o.Out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, f := range o.Formats {
		if !release.IsPackage(f) {
			return nil, fmt.Errorf("--format %q: use one of %v", f, release.PackageFormats())
		}
	}
	for _, a := range o.Archs {
		if !release.IsIdent(a) {
			return nil, fmt.Errorf("--arch %q is not an architecture name", a)
		}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	src, err := release.Open(o.Dist, policy(false, release.DefaultLimits))
	if err != nil {
		return nil, err
	}
	if _, ok := src.(release.Dir); !ok {
		return nil, fmt.Errorf("--dist %s must be a directory", o.Dist)
	}
	key := o.Key
	if key == "" {
		key = filepath.Join(o.Dist, filepath.FromSlash(manifest.ReleasePub))
	}
	v, err := release.Load(ctx, src, release.KeySpec{Path: key}, now())
	if err != nil {
		return nil, err
	}
	r := v.Release
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(v.PublicKeyPEM)
	if err != nil {
		return nil, err
	}

	// What goes in.
	keep := selectArtifacts(r, o.Formats, o.Archs)
	var pkgs []string
	for _, a := range keep {
		if release.IsPackage(a.Format) {
			pkgs = append(pkgs, a.Name)
		}
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("no package of the release matches --format %v --arch %v; it has: %s", o.Formats, o.Archs, available(r))
	}

	parent := filepath.Dir(filepath.Clean(o.Out))
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(o.Out)+".tmp-")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	var files []string
	write := func(rel string, data []byte, mode os.FileMode) error {
		files = append(files, rel)
		return atomicfile.WriteFile(atomicfile.OS{}, filepath.Join(tmp, filepath.FromSlash(rel)), data, mode)
	}

	// The manifest exactly as signed, and its signatures.
	if err := write(manifest.FileName, v.Raw, 0o644); err != nil {
		return nil, err
	}
	if err := write(manifest.SigFile, v.Sig, 0o644); err != nil {
		return nil, err
	}
	if b, ok, err := fetchOptional(ctx, src, manifest.BundleFile, manifest.MaxManifest); err != nil {
		return nil, err
	} else if ok {
		if err := signing.VerifyBundle(pub, bytes.NewReader(v.Raw), b); err != nil {
			return nil, fmt.Errorf("%s does not verify: %w", manifest.BundleFile, err)
		}
		if err := write(manifest.BundleFile, b, 0o644); err != nil {
			return nil, err
		}
	}

	// keys/: every public key file of the dist. The release key must be
	// the one the manifest verified with.
	keyFiles, err := os.ReadDir(filepath.Join(o.Dist, manifest.KeysDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	keyData := map[string][]byte{}
	for _, k := range keyFiles {
		if !k.Type().IsRegular() {
			continue
		}
		if err := release.CheckFileName(k.Name()); err != nil {
			return nil, fmt.Errorf("%s: %w", manifest.KeysDir, err)
		}
		var b bytes.Buffer
		if _, err := src.Fetch(ctx, manifest.KeysDir+"/"+k.Name(), manifest.MaxKey, &b); err != nil {
			return nil, err
		}
		keyData[k.Name()] = b.Bytes()
	}
	if rp, ok := keyData[signing.ReleasePubFile]; ok {
		dp, err := cryptoutils.UnmarshalPEMToPublicKey(rp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", manifest.ReleasePub, err)
		}
		if fp, _ := signing.Fingerprint(dp); fp != v.KeySHA256 {
			return nil, fmt.Errorf("%s in the dist is not the key the manifest verified with (%s); refusing to bundle a key that does not match", manifest.ReleasePub, release.Short(v.KeySHA256))
		}
	} else {
		// The installer's --key-from-release needs it.
		keyData[signing.ReleasePubFile] = v.PublicKeyPEM
	}
	if asc, ok, err := fetchOptional(ctx, src, manifest.PGPSigFile, manifest.MaxSig); err != nil {
		return nil, err
	} else if ok {
		if pgp, have := keyData[signing.PGPPubFile]; have {
			if err := signing.VerifyDetached(pgp, bytes.NewReader(v.Raw), asc); err != nil {
				return nil, fmt.Errorf("%s does not verify with %s/%s: %w", manifest.PGPSigFile, manifest.KeysDir, signing.PGPPubFile, err)
			}
		}
		if err := write(manifest.PGPSigFile, asc, 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.Mkdir(filepath.Join(tmp, manifest.KeysDir), 0o755); err != nil {
		return nil, err
	}
	for name, data := range keyData {
		if err := write(manifest.KeysDir+"/"+name, data, 0o644); err != nil {
			return nil, err
		}
	}

	// The artifacts, each checked against the manifest while copied.
	for _, a := range keep {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := copyChecked(ctx, src, a, filepath.Join(tmp, a.Name)); err != nil {
			return nil, err
		}
		files = append(files, a.Name)
	}
	sub := *r
	sub.Artifacts = keep
	if err := write(manifest.SumsFileName, sub.SHA256SUMS(), 0o644); err != nil {
		return nil, err
	}
	// install.sh, when the dist has one: it carries the key and checks the
	// manifest itself.
	if sh, ok, err := fetchOptional(ctx, src, manifest.InstallerFile, 4<<20); err != nil {
		return nil, err
	} else if ok && !slices.ContainsFunc(keep, func(a manifest.Artifact) bool { return a.Name == manifest.InstallerFile }) {
		if err := write(manifest.InstallerFile, sh, 0o755); err != nil {
			return nil, err
		}
	}

	if err := atomicfile.SyncDir(filepath.Join(tmp, manifest.KeysDir)); err != nil {
		return nil, err
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return nil, err
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, o.Out, unix.RENAME_NOREPLACE); err != nil {
		return nil, fmt.Errorf("rename %s to %s: %w", tmp, o.Out, err)
	}
	done = true
	_ = atomicfile.SyncDir(parent)
	sort.Strings(files)
	return &BundleResult{Dir: o.Out, Name: r.Name, Version: r.Version, Files: files, Packages: pkgs, KeySHA256: v.KeySHA256}, nil
}

// selectArtifacts keeps everything without filters; with filters, the
// matching packages, their companions (PKG.sig, PKG.spdx.json,
// PKG.cdx.json) and the provenance.
func selectArtifacts(r *manifest.Release, formats, archs []string) []manifest.Artifact {
	if len(formats) == 0 && len(archs) == 0 {
		return append([]manifest.Artifact(nil), r.Artifacts...)
	}
	chosen := map[string]bool{}
	for _, a := range r.Artifacts {
		if release.IsPackage(a.Format) && (len(formats) == 0 || slices.Contains(formats, a.Format)) && (len(archs) == 0 || slices.Contains(archs, a.Arch)) {
			chosen[a.Name] = true
			for _, suffix := range []string{".sig", ".spdx.json", ".cdx.json"} {
				chosen[a.Name+suffix] = true
			}
		}
	}
	var out []manifest.Artifact
	for _, a := range r.Artifacts {
		if chosen[a.Name] || a.Format == manifest.FormatProvenance {
			out = append(out, a)
		}
	}
	return out
}

func fetchOptional(ctx context.Context, src release.Source, rel string, limit int64) ([]byte, bool, error) {
	var b bytes.Buffer
	_, err := src.Fetch(ctx, rel, limit, &b)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b.Bytes(), true, nil
}

// copyChecked copies one artifact, capped at its signed size, and checks
// it against the manifest.
func copyChecked(ctx context.Context, src release.Source, a manifest.Artifact, dest string) error {
	_, err := fetchChecked(ctx, src, a, dest, 0o644, true)
	var m *mismatch
	switch {
	case errors.As(err, &m) && m.sha256 == "":
		return fmt.Errorf("%s is %d bytes, the manifest signed %d; refusing to bundle it", a.Name, m.size, a.Size)
	case errors.As(err, &m):
		return fmt.Errorf("%s has sha256 %s, the manifest signed %s: the dist was altered; refusing to bundle it", a.Name, m.sha256, a.SHA256)
	case err != nil:
		return fmt.Errorf("%s: %w", a.Name, err)
	}
	return nil
}

// mismatch is a fetched artifact that is not what the manifest signed:
// sha256 is empty when already the size differs.
type mismatch struct {
	size   int64
	sha256 string
}

func (m *mismatch) Error() string { return "not the file the manifest signed" }

// fetchChecked fetches one artifact into a new file at dest, capped at its
// signed size, and checks the size and sha256 the manifest signed; a
// difference is a *mismatch. sync makes the file durable first.
func fetchChecked(ctx context.Context, src release.Source, a manifest.Artifact, dest string, mode os.FileMode, sync bool) (int64, error) {
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return 0, err
	}
	h := sha256.New()
	n, err := src.Fetch(ctx, a.Name, a.Size, io.MultiWriter(f, h))
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if n != a.Size {
		return n, &mismatch{size: n}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
		return n, &mismatch{size: n, sha256: got}
	}
	return n, nil
}
