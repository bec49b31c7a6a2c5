package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// BundleMediaType is the media type of a sigstore bundle v0.3.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// LoadReleaseSigner reads the release key (release.key) and decrypts it with
// password. The key must be ECDSA P-256; it signs with SHA-256, which is
// what cosign and openssl expect.
func LoadReleaseSigner(path string, password []byte) (signature.SignerVerifier, error) {
	data, err := readPrivate(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("private key %s is not PEM-encoded", path)
	}
	if len(password) == 0 && strings.HasPrefix(block.Type, "ENCRYPTED") {
		// cryptoutils would skip decryption on an empty password and then
		// fail to parse the ciphertext; say what is wrong instead.
		return nil, wrongPassword(path)
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(data, cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		// secretbox is authenticated, so a failed open means the password
		// is wrong (or the ciphertext was altered). The library's error is
		// not passed on: nothing from the key file belongs in a message.
		if strings.Contains(err.Error(), "decryption failed") {
			return nil, wrongPassword(path)
		}
		return nil, fmt.Errorf("private key %s is damaged or not a sigstore private key (PEM type %q)", path, block.Type)
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("private key %s is not an ECDSA P-256 key", path)
	}
	return signature.LoadECDSASignerVerifier(ec, crypto.SHA256)
}

// LoadPublicKey reads a PEM "PUBLIC KEY" (SPKI) file such as release.pub.
func LoadPublicKey(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return pub, nil
}

// SignBlob signs data the way cosign sign-blob does: an ASN.1 DER ECDSA
// signature over the SHA-256 of the bytes.
func SignBlob(signer signature.Signer, data io.Reader) ([]byte, error) {
	sig, err := signer.SignMessage(data)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig, nil
}

// VerifyBlob checks a DER signature made by SignBlob.
func VerifyBlob(pub crypto.PublicKey, data io.Reader, sigDER []byte) error {
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := v.VerifySignature(bytes.NewReader(sigDER), data); err != nil {
		return fmt.Errorf("%w: the signature does not match the data and public key", ErrBadSignature)
	}
	return nil
}

// EncodeCosignSig is the text of a cosign .sig file: standard padded base64
// of the DER signature, without a trailing newline, as cosign writes it.
func EncodeCosignSig(sigDER []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(sigDER))
}

// DecodeCosignSig reverses EncodeCosignSig; surrounding white space is
// ignored, since files often gain a trailing newline.
func DecodeCosignSig(text []byte) ([]byte, error) {
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, fmt.Errorf("signature is not base64: %w", err)
	}
	return sig, nil
}

// WriteCosignSig writes a cosign-compatible FILE.sig.
func WriteCosignSig(path string, sigDER []byte) error {
	return os.WriteFile(path, EncodeCosignSig(sigDER), 0o644)
}

// SigstoreBundle is a sigstore bundle v0.3 holding one message signature
// made with a key, without transparency log entries. The field order is the
// order the JSON is written in.
type SigstoreBundle struct {
	MediaType            string               `json:"mediaType"`
	VerificationMaterial VerificationMaterial `json:"verificationMaterial"`
	MessageSignature     MessageSignature     `json:"messageSignature"`
}

// VerificationMaterial names the key by its hint only; the verifier brings
// the key itself.
type VerificationMaterial struct {
	PublicKey PublicKeyHint `json:"publicKey"`
}

// PublicKeyHint is the base64 SHA-256 of the key's DER SPKI.
type PublicKeyHint struct {
	Hint string `json:"hint"`
}

// MessageSignature is the signature and the digest it covers.
type MessageSignature struct {
	MessageDigest MessageDigest `json:"messageDigest"`
	Signature     string        `json:"signature"` // base64 DER
}

// MessageDigest is the SHA-256 of the signed file.
type MessageDigest struct {
	Algorithm string `json:"algorithm"` // always SHA2_256
	Digest    string `json:"digest"`    // base64
}

// Bundle builds the FILE.sigstore.json for data signed with sigDER. It
// checks the signature first, so a bundle that would not verify is never
// written.
func Bundle(pub crypto.PublicKey, data io.Reader, sigDER []byte) ([]byte, error) {
	digest, err := sha256Of(data)
	if err != nil {
		return nil, err
	}
	if err := verifyDigest(pub, digest, sigDER); err != nil {
		return nil, err
	}
	hint, err := spkiSHA256(pub)
	if err != nil {
		return nil, err
	}
	b := SigstoreBundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: VerificationMaterial{PublicKey: PublicKeyHint{Hint: base64.StdEncoding.EncodeToString(hint)}},
		MessageSignature: MessageSignature{
			MessageDigest: MessageDigest{Algorithm: "SHA2_256", Digest: base64.StdEncoding.EncodeToString(digest)},
			Signature:     base64.StdEncoding.EncodeToString(sigDER),
		},
	}
	return json.Marshal(b)
}

// ParseBundle reads a bundle and checks that it is a v0.3 bundle with a
// SHA-256 message signature. Fields it does not use (such as empty
// tlogEntries from cosign) are allowed.
func ParseBundle(data []byte) (*SigstoreBundle, error) {
	var b SigstoreBundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("sigstore bundle: %w", err)
	}
	switch {
	case b.MediaType != BundleMediaType:
		return nil, fmt.Errorf("sigstore bundle: media type %q, want %q", b.MediaType, BundleMediaType)
	case b.MessageSignature.MessageDigest.Algorithm != "SHA2_256":
		return nil, fmt.Errorf("sigstore bundle: digest algorithm %q, want SHA2_256", b.MessageSignature.MessageDigest.Algorithm)
	case b.MessageSignature.Signature == "":
		return nil, errors.New("sigstore bundle: no message signature")
	}
	return &b, nil
}

// VerifyBundle checks a bundle against the data and a pinned public key:
// the key hint, the recorded digest and the signature must all match.
func VerifyBundle(pub crypto.PublicKey, data io.Reader, bundleJSON []byte) error {
	b, err := ParseBundle(bundleJSON)
	if err != nil {
		return err
	}
	hint, err := spkiSHA256(pub)
	if err != nil {
		return err
	}
	if got := b.VerificationMaterial.PublicKey.Hint; got != "" && got != base64.StdEncoding.EncodeToString(hint) {
		return fmt.Errorf("%w: the bundle names a different public key", ErrBadSignature)
	}
	want, err := base64.StdEncoding.DecodeString(b.MessageSignature.MessageDigest.Digest)
	if err != nil {
		return fmt.Errorf("sigstore bundle: digest is not base64: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(b.MessageSignature.Signature)
	if err != nil {
		return fmt.Errorf("sigstore bundle: signature is not base64: %w", err)
	}
	digest, err := sha256Of(data)
	if err != nil {
		return err
	}
	if !bytes.Equal(digest, want) {
		return fmt.Errorf("%w: the file's SHA-256 differs from the bundle's", ErrBadSignature)
	}
	return verifyDigest(pub, digest, sig)
}

func sha256Of(r io.Reader) ([]byte, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return h.Sum(nil), nil
}

func verifyDigest(pub crypto.PublicKey, digest, sigDER []byte) error {
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := v.VerifySignature(bytes.NewReader(sigDER), nil, options.WithDigest(digest)); err != nil {
		return fmt.Errorf("%w: the signature does not match the data and public key", ErrBadSignature)
	}
	return nil
}
