package verify

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/signing"
)

// keys checks that the key files in keys/ are the ones release.json names,
// before anything is verified with them: a swapped key file would
// otherwise vouch for swapped packages. A key that fails stays nil.
func (v *verifier) keys() packaging.VerifyKeys {
	k := packaging.VerifyKeys{Now: v.now}
	want := v.rel.Keys
	if want == nil {
		v.add(CheckKey, KeysDir, errors.New("release.json names no keys (an unsigned release?); the packages' signatures cannot be checked"), "")
		return k
	}
	v.add(CheckKey, ReleasePub, v.checkReleaseKey(want.Release), "the release key release.json names, sha256:"+v.rep.Key.SHA256)

	var err error
	k.PGP, err = v.pgpKey(want.OpenPGP)
	v.add(CheckKey, PGPPub, err, "the OpenPGP key release.json names, "+want.OpenPGP)
	if err != nil {
		k.PGP = nil
	}

	apkFile := keyFile(want.APKKeyName + ".rsa.pub")
	k.APK, err = v.apkKey(want.APKKeyName, want.APK)
	if !apkKeyNameRe.MatchString(want.APKKeyName) {
		apkFile = KeysDir
	}
	v.add(CheckKey, apkFile, err, "the apk key release.json names, "+want.APKKeyName)
	if err != nil {
		k.APK = nil
	}
	k.APKName = want.APKKeyName
	return k
}

// checkReleaseKey compares the key the manifest verified with to the one
// it names, and to the keys/release.pub it publishes for users.
func (v *verifier) checkReleaseKey(want string) error {
	if !strings.EqualFold(want, v.rep.Key.SHA256) {
		return fmt.Errorf("release.json names release key sha256:%s, but was verified with sha256:%s", want, v.rep.Key.SHA256)
	}
	if v.rep.Key.FromRelease {
		return nil
	}
	p, err := v.src.Path(v.ctx, ReleasePub, manifest.MaxKey)
	if err != nil {
		return err
	}
	pub, err := signing.LoadPublicKey(p)
	if err != nil {
		return fmt.Errorf("%s is not a PEM public key", ReleasePub)
	}
	fp, err := signing.Fingerprint(pub)
	if err != nil {
		return err
	}
	if !strings.EqualFold(fp, want) {
		return fmt.Errorf("%s is not the key the release names: it holds sha256:%s, release.json names sha256:%s", ReleasePub, fp, want)
	}
	return nil
}

// pgpKey loads keys/pgp.pub.asc and checks that it holds the one OpenPGP
// key the manifest names, and nothing else.
func (v *verifier) pgpKey(want string) (openpgp.EntityList, error) {
	p, err := v.src.Path(v.ctx, PGPPub, manifest.MaxKey)
	if err != nil {
		return nil, err
	}
	data, err := readCapped(p, PGPPub, manifest.MaxKey)
	if err != nil {
		return nil, err
	}
	var el openpgp.EntityList
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN PGP ")) {
		// The library reads the first armored block only, but gpg and
		// rpmkeys --import take every block, and would trust a key
		// appended after the release's.
		if n := bytes.Count(data, []byte("-----BEGIN PGP ")); n != 1 {
			return nil, fmt.Errorf("%s is not the key the release names: it holds %d armored blocks, want the one key release.json names (%s)", PGPPub, n, want)
		}
		end := []byte("-----END PGP PUBLIC KEY BLOCK-----")
		if i := bytes.Index(data, end); i < 0 || len(bytes.TrimSpace(data[i+len(end):])) != 0 {
			return nil, fmt.Errorf("%s has data after its key block", PGPPub)
		}
		el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not an OpenPGP public key", PGPPub)
	}
	// One key only: a second one in the file would be trusted too.
	if len(el) != 1 {
		return nil, fmt.Errorf("%s is not the key the release names: it holds %d keys, want the one release.json names (%s)", PGPPub, len(el), want)
	}
	if el[0].PrivateKey != nil {
		return nil, fmt.Errorf("%s holds a private key; the publisher must replace it with the public key and rotate the key", PGPPub)
	}
	if fp := signing.PGPFingerprint(el[0]); !strings.EqualFold(fp, want) {
		return nil, fmt.Errorf("%s is not the key the release names: it holds %s, release.json names %s", PGPPub, fp, want)
	}
	return el, nil
}

// apkKeyNameRe is what a key name may be before it is used in a path.
var apkKeyNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// apkKey loads keys/<name>.rsa.pub and checks it against the signed
// manifest: its full SHA-256 fingerprint (keys.apk) where the manifest
// records one, and in any case the fingerprint prefix that omnipack puts in
// the name ("<owner>-<first 8 hex digits>", signing.APKKeyName).
func (v *verifier) apkKey(name, fingerprint string) (*rsa.PublicKey, error) {
	if !apkKeyNameRe.MatchString(name) {
		return nil, fmt.Errorf("release.json names apk key %q, which is not a plain key name", name)
	}
	file := keyFile(name + ".rsa.pub")
	p, err := v.src.Path(v.ctx, file, manifest.MaxKey)
	if err != nil {
		return nil, err
	}
	pub, err := signing.LoadPublicKey(p)
	if err != nil {
		return nil, fmt.Errorf("%s is not a PEM public key", file)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an RSA key", file)
	}
	fp, err := signing.Fingerprint(rk)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(name, "-"+fp[:8]) {
		return nil, fmt.Errorf("%s is not the key the release names: its fingerprint starts %s, but the name %s release.json gives does not end in it", file, fp[:8], name)
	}
	if fingerprint != "" && fp != fingerprint {
		return nil, fmt.Errorf("%s is not the key the release names: its sha256 is %s, release.json names %s", file, fp, fingerprint)
	}
	return rk, nil
}
