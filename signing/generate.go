package signing

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/youmark/pkcs8"

	"github.com/omnipack/omnipack/internal/atomicfile"
)

// PGPUserID is the user ID of a generated OpenPGP key.
const PGPUserID = "omnipack release signing key"

// pgpKeyBits is the size of a generated OpenPGP key. RSA, not Ed25519, so
// that every verifier in the chain (gpgv, apt's sqv, rpm, pacman's gpgme)
// accepts it; 3072 bits is gpg's own default.
const pgpKeyBits = 3072

// PublicInfo describes the keys Generate wrote.
type PublicInfo struct {
	Dir     string  `json:"dir"`
	Release KeyInfo `json:"release"`
	PGP     KeyInfo `json:"pgp"`
	APK     KeyInfo `json:"apk"`
}

// KeyInfo is one key pair's files and fingerprint. Fingerprint is the hex
// SHA-256 of the DER SPKI for the release and apk keys, and the OpenPGP v4
// fingerprint (upper-case hex, as gpg prints it) for the OpenPGP key.
type KeyInfo struct {
	Private     string `json:"private"`
	Public      string `json:"public"`
	Fingerprint string `json:"fingerprint"`
}

// keyFile is one file to write.
type keyFile struct {
	name    string
	data    []byte
	private bool
}

// Generate makes the three key pairs and writes them into dir under the
// fixed names, private keys encrypted with password and mode 0600, public
// keys 0644. It refuses to replace an existing key file unless force is
// set.
//
// Every key is made in memory and written to a temporary file before any
// key file is touched. Without force the files are then linked into place,
// which fails rather than replace a file that appeared meanwhile, and a
// failure removes every file this call placed. With force they are renamed
// over the old ones; only a failure among those renames, after all the
// writing succeeded, could leave old and new keys mixed.
func Generate(dir string, password []byte, force bool) (*PublicInfo, error) {
	if len(password) == 0 {
		return nil, fmt.Errorf("%w: the key password is empty", ErrNoPassword)
	}
	if !force {
		if err := CheckNoKeys(dir); err != nil {
			return nil, err
		}
	}

	files, info, err := makeKeys(password)
	if err != nil {
		return nil, err
	}
	info.Dir = dir
	for _, k := range []*KeyInfo{&info.Release, &info.PGP, &info.APK} {
		k.Private = filepath.Join(dir, k.Private)
		k.Public = filepath.Join(dir, k.Public)
	}

	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	if err := install(dir, files, force); err != nil {
		if errors.Is(statErr, os.ErrNotExist) {
			_ = os.Remove(dir) // only if empty: the directory this call made
		}
		return nil, err
	}
	return info, nil
}

// CheckNoKeys fails with ErrKeyExists if any key file exists in dir,
// naming every one. Generate checks this itself; keygen also checks first
// so that nobody types a password twice only to be refused.
func CheckNoKeys(dir string) error {
	var found []string
	for _, name := range append(append([]string{}, privateFiles...), publicFiles...) {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err == nil {
			found = append(found, p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("key file: %w", err)
		}
	}
	if len(found) == 0 {
		return nil
	}
	verb := "exists"
	if len(found) > 1 {
		verb = "exist"
	}
	return &fileError{ErrKeyExists, fmt.Sprintf(
		"%s already %s (fix: pass --force to replace every key in %s, after backing them up; packages signed with the old keys will no longer verify against the new ones)",
		strings.Join(found, ", "), verb, dir)}
}

// makeKeys generates the three key pairs at once; RSA generation dominates
// and the three are independent.
func makeKeys(password []byte) ([]keyFile, *PublicInfo, error) {
	var (
		wg                       sync.WaitGroup
		relFiles, pgpF, apkF     []keyFile
		relInfo, pgpInfo, apkInf KeyInfo
		errs                     [3]error
	)
	wg.Add(3)
	go func() { defer wg.Done(); relFiles, relInfo, errs[0] = makeReleaseKey(password) }()
	go func() { defer wg.Done(); pgpF, pgpInfo, errs[1] = makePGPKey(password) }()
	go func() { defer wg.Done(); apkF, apkInf, errs[2] = makeAPKKey(password) }()
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, nil, fmt.Errorf("generate keys: %w", err)
	}
	files := append(append(relFiles, pgpF...), apkF...)
	return files, &PublicInfo{Release: relInfo, PGP: pgpInfo, APK: apkInf}, nil
}

func makeReleaseKey(password []byte) ([]keyFile, KeyInfo, error) {
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc(password))
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("release key: %w", err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("release key: %w", err)
	}
	fp, err := Fingerprint(pub)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	return []keyFile{{ReleaseKeyFile, privPEM, true}, {ReleasePubFile, pubPEM, false}},
		KeyInfo{Private: ReleaseKeyFile, Public: ReleasePubFile, Fingerprint: fp}, nil
}

func makePGPKey(password []byte) ([]keyFile, KeyInfo, error) {
	cfg := &packet.Config{
		Algorithm:     packet.PubKeyAlgoRSA,
		RSABits:       pgpKeyBits,
		DefaultHash:   crypto.SHA256,
		DefaultCipher: packet.CipherAES256,
		// The most S2K iterations OpenPGP can express, which gpg reads:
		// the password is shared with the other keys, so make guessing it
		// from pgp.key as slow as the format allows.
		S2KConfig: &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: crypto.SHA256, S2KCount: 65011712},
	}
	e, err := openpgp.NewEntity(PGPUserID, "", "", cfg)
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("OpenPGP key: %w", err)
	}
	// A signing-only key: the encryption subkey NewEntity adds would never
	// be used.
	e.Subkeys = nil

	var pub bytes.Buffer
	if err := armorTo(&pub, openpgp.PublicKeyType, e.Serialize); err != nil {
		return nil, KeyInfo{}, fmt.Errorf("OpenPGP public key: %w", err)
	}
	if err := e.EncryptPrivateKeys(password, cfg); err != nil {
		return nil, KeyInfo{}, fmt.Errorf("OpenPGP key: %w", err)
	}
	var priv bytes.Buffer
	// Without re-signing: the self-signatures are already made, and the key
	// is now encrypted.
	err = armorTo(&priv, openpgp.PrivateKeyType, func(w io.Writer) error { return e.SerializePrivateWithoutSigning(w, nil) })
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("OpenPGP key: %w", err)
	}
	return []keyFile{{PGPKeyFile, priv.Bytes(), true}, {PGPPubFile, pub.Bytes(), false}},
		KeyInfo{Private: PGPKeyFile, Public: PGPPubFile, Fingerprint: PGPFingerprint(e)}, nil
}

func armorTo(buf *bytes.Buffer, blockType string, serialize func(io.Writer) error) error {
	w, err := armor.Encode(buf, blockType, nil)
	if err != nil {
		return err
	}
	if err := serialize(w); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return nil
}

func makeAPKKey(password []byte) ([]keyFile, KeyInfo, error) {
	k, err := rsa.GenerateKey(rand.Reader, apkKeyBits)
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("apk key: %w", err)
	}
	der, err := pkcs8.MarshalPrivateKey(k, password, apkPKCS8Opts)
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("apk key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("apk key: %w", err)
	}
	fp, err := Fingerprint(&k.PublicKey)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	return []keyFile{{APKKeyFile, privPEM, true}, {APKPubFile, pubPEM, false}},
		KeyInfo{Private: APKKeyFile, Public: APKPubFile, Fingerprint: fp}, nil
}

// keyFS is where key files are written; tests make it fail.
var keyFS atomicfile.FS = atomicfile.OS{}

// install writes every file to a temporary name in dir, then moves them all
// into place. A private key file is created 0600 by O_EXCL creation itself,
// so it is never readable by anyone else, not even for a moment. Without
// force, each is linked into place: link(2) fails if the file exists, so a
// file that appeared since CheckNoKeys is never replaced, and on failure the
// key files already placed are removed.
func install(dir string, files []keyFile, force bool) error {
	var set []atomicfile.File
	for _, f := range files {
		mode := os.FileMode(0o644)
		if f.private {
			mode = 0o600
		}
		set = append(set, atomicfile.File{Path: filepath.Join(dir, f.name), Data: f.data, Mode: mode})
	}
	err := atomicfile.Write(keyFS, atomicfile.Options{NoReplace: !force}, set...)
	if errors.Is(err, os.ErrExist) {
		var pe *os.LinkError
		name := dir
		if errors.As(err, &pe) {
			name = pe.New
		}
		return &fileError{ErrKeyExists, fmt.Sprintf("%s already exists (fix: pass --force to replace every key in %s)", name, dir)}
	}
	if err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}
