package pipeline

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/omnipack/omnipack/internal/atomicfile"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/signing"
)

// Keys are the loaded signing keys of a release.
type Keys struct {
	Dir        string
	Release    signature.SignerVerifier
	PGP        *openpgp.Entity
	APK        *rsa.PrivateKey
	APKKeyName string
}

// LoadKeys loads the three keys omnipack keygen wrote to dir. owner names
// the apk key (see signing.APKKeyName): the vendor, or the project name.
func LoadKeys(dir, owner string, password []byte) (*Keys, error) {
	k := &Keys{Dir: dir}
	var err error
	if k.Release, err = signing.LoadReleaseSigner(filepath.Join(dir, signing.ReleaseKeyFile), password); err != nil {
		return nil, err
	}
	if k.PGP, err = signing.LoadPGPEntity(filepath.Join(dir, signing.PGPKeyFile), password); err != nil {
		return nil, err
	}
	if k.APK, err = signing.LoadAPKKey(filepath.Join(dir, signing.APKKeyFile), password); err != nil {
		return nil, err
	}
	if k.APKKeyName, err = signing.APKKeyName(owner, &k.APK.PublicKey); err != nil {
		return nil, err
	}
	return k, nil
}

// packageSigner adapts the keys to what packaging needs.
func (k *Keys) packageSigner() *packaging.Signer {
	if k == nil {
		return nil
	}
	return &packaging.Signer{
		OpenPGP:    func(armored bool) func(io.Reader) ([]byte, error) { return signing.PGPSignFn(k.PGP, armored) },
		APK:        signing.APKSignFn(k.APK),
		APKKeyName: k.APKKeyName,
	}
}

// manifestKeys names the keys in the signed manifest.
func (k *Keys) manifestKeys() (*manifest.Keys, error) {
	pub, err := k.Release.PublicKey()
	if err != nil {
		return nil, err
	}
	fp, err := signing.Fingerprint(pub)
	if err != nil {
		return nil, err
	}
	apk, err := signing.Fingerprint(&k.APK.PublicKey)
	if err != nil {
		return nil, err
	}
	return &manifest.Keys{Release: fp, OpenPGP: signing.PGPFingerprint(k.PGP), APKKeyName: k.APKKeyName, APK: apk}, nil
}

// Signature file names beside release.json.
const (
	SigFile    = manifest.FileName + ".sig"
	BundleFile = manifest.FileName + ".sigstore.json"
	PGPSigFile = manifest.FileName + ".asc"
	KeysDir    = "keys"
)

// SignRelease stamps the manifest in dir with a new release version and
// expiry, writes it with SHA256SUMS, signs it three ways (cosign signature,
// sigstore bundle, OpenPGP), and publishes the public keys. previous is
// the release version of the release this one replaces (0 for none).
func SignRelease(dir string, rel *manifest.Release, k *Keys, previous int64, now time.Time, validity time.Duration) error {
	keys, err := k.manifestKeys()
	if err != nil {
		return err
	}
	signedAt := now.UTC().Truncate(time.Second)
	expires := signedAt.Add(validity)
	rel.ReleaseVersion = manifest.NextReleaseVersion(previous, signedAt)
	rel.SignedAt, rel.Expires, rel.Keys = &signedAt, &expires, keys
	data, err := rel.Marshal()
	if err != nil {
		return err
	}
	return WriteSignedManifest(dir, data, rel.SHA256SUMS(), k)
}

// WriteSignedManifest writes data as release.json exactly as given, with
// sums as SHA256SUMS, its three signatures and the public keys.
func WriteSignedManifest(dir string, data, sums []byte, k *Keys) error {
	sigDER, err := signing.SignBlob(k.Release, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("sign %s: %w", manifest.FileName, err)
	}
	pub, err := k.Release.PublicKey()
	if err != nil {
		return err
	}
	bundle, err := signing.Bundle(pub, bytes.NewReader(data), sigDER)
	if err != nil {
		return err
	}
	asc, err := signing.DetachSign(k.PGP, bytes.NewReader(data), true)
	if err != nil {
		return fmt.Errorf("OpenPGP-sign %s: %w", manifest.FileName, err)
	}
	files := map[string][]byte{
		manifest.FileName:     data,
		manifest.SumsFileName: sums,
		SigFile:               signing.EncodeCosignSig(sigDER),
		BundleFile:            bundle,
		PGPSigFile:            asc,
	}
	if err := publishKeys(dir, k); err != nil {
		return err
	}
	return writeFiles(dir, files)
}

// writeFiles writes the files into dir, mode 0644, as one set: a failure
// cannot leave a manifest beside signatures of another one.
func writeFiles(dir string, files map[string][]byte) error {
	var set []atomicfile.File
	for _, name := range slices.Sorted(maps.Keys(files)) {
		set = append(set, atomicfile.File{Path: filepath.Join(dir, name), Data: files[name], Mode: 0o644})
	}
	return atomicfile.Write(atomicfile.OS{}, atomicfile.Options{}, set...)
}

// publishKeys copies the public keys into dir/keys, the apk key under the
// name apk-tools looks for.
func publishKeys(dir string, k *Keys) error {
	out := filepath.Join(dir, KeysDir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for src, dst := range map[string]string{
		signing.ReleasePubFile: signing.ReleasePubFile,
		signing.PGPPubFile:     signing.PGPPubFile,
		signing.APKPubFile:     k.APKKeyName + ".rsa.pub",
	} {
		data, err := os.ReadFile(filepath.Join(k.Dir, src))
		if err != nil {
			return fmt.Errorf("publish public key: %w", err)
		}
		if err := writeFiles(out, map[string][]byte{dst: data}); err != nil {
			return err
		}
	}
	return nil
}

// previousReleaseVersion reads the release version of an existing signed
// manifest at dir, or 0 when there is none.
func previousReleaseVersion(dir string) int64 {
	rel, err := manifest.Read(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return 0
	}
	return rel.ReleaseVersion
}

// Resign renews the signature and expiry of the release in dir without
// rebuilding: the artifacts stay as they are, the release version goes up.
func Resign(dir string, k *Keys, now time.Time, validity time.Duration) (*manifest.Release, error) {
	path := filepath.Join(dir, manifest.FileName)
	rel, err := manifest.Read(path)
	if err != nil {
		return nil, err
	}
	if rel.Keys == nil {
		return nil, errors.New(path + " is not signed; sign it by building with keys")
	}
	want, err := k.manifestKeys()
	if err != nil {
		return nil, err
	}
	if *want != *rel.Keys {
		return nil, fmt.Errorf("the keys in %s are not the keys %s was signed with; resign with the release's own keys", k.Dir, path)
	}
	for _, a := range rel.Artifacts {
		size, sum, err := manifest.Digest(filepath.Join(dir, a.Name))
		if err != nil {
			return nil, err
		}
		if size != a.Size || sum != a.SHA256 {
			return nil, fmt.Errorf("%s no longer matches %s; rebuild instead of resigning", a.Name, path)
		}
	}
	if err := SignRelease(dir, rel, k, rel.ReleaseVersion, now, validity); err != nil {
		return nil, err
	}
	return rel, nil
}
