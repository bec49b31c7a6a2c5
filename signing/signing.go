// Package signing holds omnipack's keys and the signatures made with them:
// a sigstore-style ECDSA P-256 key for release files (cosign- and
// openssl-verifiable), an OpenPGP key for deb, rpm, Arch and repository
// signatures, and an RSA key for apk. All three live in one key directory
// under fixed names and are protected by one password.
//
// Error messages name files, modes and what to do, but never carry key
// material or the password.
package signing

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// File names inside a key directory.
const (
	ReleaseKeyFile = "release.key" // ECDSA P-256, PEM "ENCRYPTED SIGSTORE PRIVATE KEY"
	ReleasePubFile = "release.pub" // PEM "PUBLIC KEY" (SPKI)
	PGPKeyFile     = "pgp.key"     // armored OpenPGP private key, passphrase-protected
	PGPPubFile     = "pgp.pub.asc" // armored OpenPGP public key
	APKKeyFile     = "apk.rsa"     // RSA, PEM "ENCRYPTED PRIVATE KEY" (PKCS#8, PBES2)
	APKPubFile     = "apk.rsa.pub" // PEM "PUBLIC KEY" (SPKI), as apk-tools wants it
)

// DefaultKeyDir is where keygen writes keys unless told otherwise.
const DefaultKeyDir = "keys"

// privateFiles and publicFiles list every file Generate writes.
var (
	privateFiles = []string{ReleaseKeyFile, PGPKeyFile, APKKeyFile}
	publicFiles  = []string{ReleasePubFile, PGPPubFile, APKPubFile}
)

// Errors callers can tell apart with errors.Is. Each is wrapped in a
// message that names the file and the fix.
var (
	// ErrKeyExists: Generate found a key file and force was not set.
	ErrKeyExists = errors.New("key file exists")
	// ErrInsecureMode: a private key file is readable by group or others.
	ErrInsecureMode = errors.New("private key file is readable by others")
	// ErrWrongPassword: a private key did not decrypt with the password.
	ErrWrongPassword = errors.New("wrong password")
	// ErrNoPassword: no usable password, from the environment or the
	// terminal.
	ErrNoPassword = errors.New("no key password")
	// ErrBadSignature: a signature does not match the data and key.
	ErrBadSignature = errors.New("bad signature")
)

// fileError is an error about one file whose message is written out in full
// here, so nothing from a lower layer (which might quote file contents)
// leaks into it.
type fileError struct {
	kind error
	msg  string
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.kind }

// readPrivate reads a private key file after checking, on the open file
// itself, that only its owner may read or write it. Checking the open
// descriptor rather than the path leaves no window in which the file can be
// swapped.
func readPrivate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("private key %s not found (fix: run omnipack keygen, or point at the key directory)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("private key %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, &fileError{ErrInsecureMode, fmt.Sprintf(
			"private key %s has mode %04o, which lets group or others use it (fix: chmod 600 %s)",
			path, perm, path)}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return data, nil
}

func wrongPassword(path string) error {
	return &fileError{ErrWrongPassword, fmt.Sprintf(
		"wrong password for %s (fix: use the password the keys were generated with)", path)}
}

// Fingerprint is the hex SHA-256 of a public key's DER SubjectPublicKeyInfo,
// the fingerprint omnipack prints for the release and apk keys.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	sum, err := spkiSHA256(pub)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum), nil
}

func spkiSHA256(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}
