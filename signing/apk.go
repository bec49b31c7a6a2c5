package signing

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // apk v2 signatures are RSA over SHA-1; the format fixes it
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/youmark/pkcs8"
)

// apkKeyBits is the size of a generated apk key, as Alpine's abuild-keygen
// makes them.
const apkKeyBits = 4096

// apkPKCS8Opts protects apk.rsa. The key file is a standard PKCS#8
// "ENCRYPTED PRIVATE KEY" (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) that
// openssl reads with -passin. nfpm's file-based apk signer only reads the
// legacy "Proc-Type: 4,ENCRYPTED" PEM, whose key derivation is one round of
// MD5: it would make this shared password cheap to brute-force from
// apk.rsa, and with it release.key and pgp.key. So omnipack signs apk
// through nfpm's SignFn (see APKSignFn) instead.
var apkPKCS8Opts = &pkcs8.Opts{
	Cipher: pkcs8.AES256CBC,
	KDFOpts: pkcs8.PBKDF2Opts{
		SaltSize:       16,
		IterationCount: 600_000, // OWASP's 2023 figure for PBKDF2-HMAC-SHA256
		HMACHash:       crypto.SHA256,
	},
}

// LoadAPKKey reads apk.rsa and decrypts it with password. An unencrypted
// PKCS#1 or PKCS#8 PEM key (from abuild-keygen, say) is accepted as it is.
func LoadAPKKey(path string, password []byte) (*rsa.PrivateKey, error) {
	data, err := readPrivate(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("private key %s is not PEM-encoded", path)
	}
	var key any
	switch block.Type {
	case "ENCRYPTED PRIVATE KEY":
		if len(password) == 0 {
			return nil, wrongPassword(path)
		}
		// The library's error is not passed on: nothing from the key file
		// belongs in a message. CBC has no integrity check; the library
		// reports a wrong password as a key that does not parse.
		key, err = pkcs8.ParsePKCS8PrivateKey(block.Bytes, password)
		if err != nil {
			return nil, wrongPassword(path)
		}
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		if _, encrypted := block.Headers["DEK-Info"]; encrypted {
			return nil, fmt.Errorf("private key %s uses legacy PEM encryption, which omnipack does not read (fix: openssl pkcs8 -topk8 -v2 aes-256-cbc -in %s -out NEW, then replace the file)", path, path)
		}
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("private key %s has PEM type %q, want \"ENCRYPTED PRIVATE KEY\"", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key %s is damaged", path)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key %s is not an RSA key", path)
	}
	if rk.N.BitLen() < 2048 {
		return nil, fmt.Errorf("private key %s is RSA-%d; apk keys must have 2048 bits or more", path, rk.N.BitLen())
	}
	return rk, nil
}

// APKSignFn adapts an apk key to nfpm's APKSignature.SignFn, which passes
// the SHA-1 digest of the control stream. The result is the RSA PKCS#1 v1.5
// signature that goes into the .SIGN.RSA.<keyname>.rsa.pub member. The same
// function signs an APKINDEX.tar.gz given the digest of its index stream.
func APKSignFn(key *rsa.PrivateKey) func(io.Reader) ([]byte, error) {
	return func(r io.Reader) ([]byte, error) {
		digest, err := io.ReadAll(io.LimitReader(r, sha1.Size+1))
		if err != nil {
			return nil, err
		}
		if len(digest) != sha1.Size {
			return nil, fmt.Errorf("apk sign: got %d bytes, want a %d-byte SHA-1 digest", len(digest), sha1.Size)
		}
		return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, digest)
	}
}

var keyNameJunk = regexp.MustCompile(`[^a-z0-9._-]+`)

// APKKeyName is the name apk knows the key by. The package carries
// .SIGN.RSA.<name>.rsa.pub and hosts install the public key as
// /etc/apk/keys/<name>.rsa.pub (nfpm's APKSignature.KeyName takes <name>
// and adds ".rsa.pub" itself).
//
// The name is "<owner>-<first 8 hex digits of the key's SHA-256
// fingerprint>": owner says whose key it is (use the project's vendor, or
// its name when there is no vendor), lower-cased with anything outside
// [a-z0-9._-] turned into "-"; the fingerprint part keeps a rotated key from
// colliding with the old one in /etc/apk/keys. It depends on nothing but
// owner and the key, so every build with the same key gives the same name.
func APKKeyName(owner string, pub *rsa.PublicKey) (string, error) {
	fp, err := Fingerprint(pub)
	if err != nil {
		return "", err
	}
	o := strings.Trim(keyNameJunk.ReplaceAllString(strings.ToLower(owner), "-"), "-.")
	if o == "" {
		o = "omnipack"
	}
	return o + "-" + fp[:8], nil
}
