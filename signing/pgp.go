package signing

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"golang.org/x/crypto/openpgp/armor"
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
// public key (pgp.pub.asc, armored or binary), as VerifyPGP does at the
// current time.
func VerifyDetached(pubKey []byte, data io.Reader, sig []byte) error {
	keyring, err := readKeyRing(pubKey)
	if err != nil {
		return fmt.Errorf("OpenPGP public key: %w", err)
	}
	return VerifyPGP(keyring, data, sig, time.Now())
}

// MaxPGPSignature bounds a detached OpenPGP signature; real ones are a few
// hundred bytes.
const MaxPGPSignature = 64 << 10

// strongHashes are the digests accepted in OpenPGP signatures. apt (sqv),
// rpm and pacman refuse SHA-1, so omnipack does too.
var strongHashes = map[crypto.Hash]bool{
	crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true, crypto.SHA3_256: true, crypto.SHA3_512: true,
}

// VerifyPGP checks a detached signature, armored or binary, made by a key
// of key with a strong digest; key expiry and revocation are judged at now.
func VerifyPGP(key openpgp.EntityList, data io.Reader, sig []byte, now time.Time) error {
	raw := sig
	if isArmored(sig) {
		block, err := armor.Decode(bytes.NewReader(sig))
		if err != nil || block.Type != openpgp.SignatureType {
			return errors.New("not an armored OpenPGP signature")
		}
		if raw, err = io.ReadAll(io.LimitReader(block.Body, MaxPGPSignature)); err != nil {
			return errors.New("damaged armored OpenPGP signature")
		}
	}
	pr := packet.NewReader(bytes.NewReader(raw))
	for n := 0; ; n++ {
		p, err := pr.Next()
		if err == io.EOF {
			if n == 0 {
				return errors.New("empty OpenPGP signature")
			}
			break
		}
		if err != nil {
			return errors.New("not an OpenPGP signature")
		}
		s, ok := p.(*packet.Signature)
		if !ok {
			return errors.New("not an OpenPGP signature")
		}
		if !strongHashes[s.Hash] {
			return fmt.Errorf("OpenPGP signature uses digest %v, which package managers refuse", s.Hash)
		}
	}
	cfg := &packet.Config{Time: func() time.Time { return now }}
	if _, err := openpgp.CheckDetachedSignature(key, data, bytes.NewReader(raw), cfg); err != nil {
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

// ClearSign returns body as an OpenPGP cleartext-signed message made with
// SHA-256 (apt's InRelease). As in gpg --clearsign's output, the line
// break that ends body is the one before the signature, not a blank line.
func ClearSign(entity *openpgp.Entity, body []byte) ([]byte, error) {
	return ClearSignAll([]*openpgp.Entity{entity}, body)
}

// Dearmor returns the binary form of an armored OpenPGP public key, as
// gpg --dearmor writes it: the keyring file apt's Signed-By reads.
func Dearmor(armored []byte) ([]byte, error) {
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil || block.Type != openpgp.PublicKeyType {
		return nil, errors.New("not an armored OpenPGP public key")
	}
	raw, err := io.ReadAll(io.LimitReader(block.Body, 1<<20))
	if err != nil {
		return nil, errors.New("damaged armored OpenPGP public key")
	}
	if _, err := openpgp.ReadKeyRing(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("OpenPGP public key: %w", err)
	}
	return raw, nil
}

// ClearSignAll is ClearSign with one signature per entity, in their order:
// apt's InRelease during a key rotation, which apt accepts when it trusts
// any one of the signers.
func ClearSignAll(entities []*openpgp.Entity, body []byte) ([]byte, error) {
	keys := make([]*packet.PrivateKey, len(entities))
	for i, e := range entities {
		key, ok := e.SigningKey(pgpSignConfig.Now())
		if !ok || key.PrivateKey == nil {
			return nil, errors.New("OpenPGP clearsign: a key has no usable signing key")
		}
		keys[i] = key.PrivateKey
	}
	var buf bytes.Buffer
	w, err := clearsign.EncodeMulti(&buf, keys, pgpSignConfig)
	if err != nil {
		return nil, fmt.Errorf("OpenPGP clearsign: %w", err)
	}
	if _, err := w.Write(bytes.TrimSuffix(body, []byte("\n"))); err != nil {
		return nil, fmt.Errorf("OpenPGP clearsign: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("OpenPGP clearsign: %w", err)
	}
	return buf.Bytes(), nil
}

// DetachSignAll is DetachSign with one signature per entity, in their
// order, in one file (as Debian's Release.gpg carries several).
func DetachSignAll(entities []*openpgp.Entity, data []byte, armored bool) ([]byte, error) {
	var raw bytes.Buffer
	for _, e := range entities {
		sig, err := DetachSign(e, bytes.NewReader(data), false)
		if err != nil {
			return nil, err
		}
		raw.Write(sig)
	}
	if !armored {
		return raw.Bytes(), nil
	}
	var buf bytes.Buffer
	if err := armorTo(&buf, openpgp.SignatureType, func(w io.Writer) error { _, err := w.Write(raw.Bytes()); return err }); err != nil {
		return nil, fmt.Errorf("OpenPGP sign: %w", err)
	}
	return buf.Bytes(), nil
}

// ArmorPublicKeys armors a binary keyring (public keys, as Dearmor returns
// them, concatenated) into one public key block.
func ArmorPublicKeys(raw []byte) ([]byte, error) {
	if _, err := openpgp.ReadKeyRing(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("OpenPGP public keys: %w", err)
	}
	var buf bytes.Buffer
	if err := armorTo(&buf, openpgp.PublicKeyType, func(w io.Writer) error { _, err := w.Write(raw); return err }); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PGPPublicFingerprint is the fingerprint of the one key in a binary
// OpenPGP public key.
func PGPPublicFingerprint(raw []byte) (string, error) {
	el, err := openpgp.ReadKeyRing(bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("OpenPGP public key: %w", err)
	}
	if len(el) != 1 {
		return "", fmt.Errorf("holds %d OpenPGP keys, want one", len(el))
	}
	return PGPFingerprint(el[0]), nil
}
