package signing

import (
	"bytes"
	"crypto"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// pgpSignConfig makes SHA-256 signatures: SHA-1 is refused by current apt
// (sqv), rpm and pacman.
var pgpSignConfig = &packet.Config{DefaultHash: crypto.SHA256}

// LoadPGPEntity reads pgp.key, an armored OpenPGP private key (a binary one
// is accepted too), and unlocks every secret key in it with password.
func LoadPGPEntity(path string, password []byte) (*openpgp.Entity, error) {
	data, err := readPrivate(path)
	if err != nil {
		return nil, err
	}
	el, err := readKeyRing(data)
	if err != nil {
		return nil, fmt.Errorf("private key %s is not an OpenPGP key", path)
	}
	var e *openpgp.Entity
	for _, c := range el {
		if c.PrivateKey == nil {
			continue
		}
		if e != nil {
			return nil, fmt.Errorf("private key %s holds more than one OpenPGP secret key; keep only the signing key", path)
		}
		e = c
	}
	if e == nil {
		return nil, fmt.Errorf("%s holds no OpenPGP secret key (a public key file?)", path)
	}
	// The library's error is not passed on: nothing from the key file
	// belongs in a message.
	if err := e.DecryptPrivateKeys(password); err != nil {
		return nil, wrongPassword(path)
	}
	if _, ok := e.SigningKey(pgpSignConfig.Now()); !ok {
		return nil, fmt.Errorf("private key %s has no usable signing key (expired or revoked?)", path)
	}
	return e, nil
}

// DetachSign makes a detached OpenPGP signature over data with SHA-256:
// binary for an Arch PKG.sig or an rpm header, armored for release.json.asc,
// repomd.xml.asc or a deb _gpgorigin.
func DetachSign(entity *openpgp.Entity, data io.Reader, armored bool) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if armored {
		err = openpgp.ArmoredDetachSign(&buf, entity, data, pgpSignConfig)
	} else {
		err = openpgp.DetachSign(&buf, entity, data, pgpSignConfig)
	}
	if err != nil {
		return nil, fmt.Errorf("OpenPGP sign: %w", err)
	}
	return buf.Bytes(), nil
}

// PGPSignFn adapts DetachSign to nfpm's PackageSignature.SignFn. nfpm's own
// file-based signer writes an armored signature into a deb's _gpgorigin and
// a binary one into an rpm header, so pass armored=true for deb and false
// for rpm.
func PGPSignFn(entity *openpgp.Entity, armored bool) func(io.Reader) ([]byte, error) {
	return func(data io.Reader) ([]byte, error) { return DetachSign(entity, data, armored) }
}

// VerifyDetached checks a detached signature, armored or binary, against a
// public key (pgp.pub.asc, armored or binary).
func VerifyDetached(pubKey []byte, data io.Reader, sig []byte) error {
	keyring, err := readKeyRing(pubKey)
	if err != nil {
		return fmt.Errorf("OpenPGP public key: %w", err)
	}
	if isArmored(sig) {
		_, err = openpgp.CheckArmoredDetachedSignature(keyring, data, bytes.NewReader(sig), nil)
	} else {
		_, err = openpgp.CheckDetachedSignature(keyring, data, bytes.NewReader(sig), nil)
	}
	if err != nil {
		return fmt.Errorf("%w: OpenPGP: %v", ErrBadSignature, err)
	}
	return nil
}

// PGPFingerprint is the key's OpenPGP v4 fingerprint in upper-case hex, as
// gpg prints it.
func PGPFingerprint(e *openpgp.Entity) string {
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}

func readKeyRing(data []byte) (openpgp.EntityList, error) {
	if isArmored(data) {
		return openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	}
	return openpgp.ReadKeyRing(bytes.NewReader(data))
}

func isArmored(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN PGP "))
}
