package install

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/signing"
)

// Files of a release directory besides the artifacts
// (docs/release-layout.md).
const (
	SigFile     = manifest.FileName + ".sig"
	BundleFile  = manifest.FileName + ".sigstore.json"
	PGPSigFile  = manifest.FileName + ".asc"
	KeysDir     = "keys"
	ReleasePub  = KeysDir + "/" + signing.ReleasePubFile
	InstallerSh = "install.sh"
)

// Caps on files whose size the manifest does not state.
const (
	maxManifest = 16 << 20
	maxSig      = 64 << 10
	maxKey      = 1 << 20
)

// Refusals callers and tests can tell apart with errors.Is.
var (
	ErrNoKey        = errors.New("no release key")
	ErrBadSignature = errors.New("the manifest signature does not verify")
	ErrExpired      = errors.New("the manifest has expired")
	ErrRollback     = errors.New("rollback refused")
	ErrUnsupported  = errors.New("this host is not supported")
	ErrNotRoot      = errors.New("not running as root")
)

// FromReleaseWarning is printed when the key came from the source itself.
const FromReleaseWarning = "WARNING: key taken from the release itself (" + ReleasePub + "): " +
	"this proves the files are intact and consistent, NOT who made them; " +
	"pass --key with a release.pub obtained separately to check authenticity"

// KeySpec says which release key to trust.
type KeySpec struct {
	// Path is a PEM SPKI public key file (release.pub) the user trusts.
	Path string
	// FromRelease allows the source's own keys/release.pub when Path is
	// empty.
	FromRelease bool
}

// Verified is a manifest whose signature, schema, expiry and entries
// have been checked.
type Verified struct {
	Release *manifest.Release
	// Raw is release.json exactly as signed.
	Raw []byte
	// Sig is release.json.sig as fetched.
	Sig []byte
	// KeySHA256 is the fingerprint of the key it verified with (hex
	// sha256 of the DER SPKI).
	KeySHA256 string
	// KeyFromRelease is true when the key came from the source.
	KeyFromRelease bool
	// PublicKeyPEM is the key, as read.
	PublicKeyPEM []byte
}

// LoadRelease fetches release.json and its signature from src and checks,
// in this order: the signature against the key (before the JSON is
// parsed), the schema and every field later steps rely on, the expiry at
// now (a zero now skips it: uninstalling needs only the name), and that
// the manifest's signed keys.release names the key used.
func LoadRelease(ctx context.Context, src Source, key KeySpec, now time.Time) (*Verified, error) {
	pemKey, fromRelease, err := readKey(ctx, src, key)
	if err != nil {
		return nil, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemKey)
	if err != nil {
		return nil, fmt.Errorf("release key is not a PEM public key: %w", err)
	}
	fp, err := signing.Fingerprint(pub)
	if err != nil {
		return nil, err
	}
	var raw, sigText bytes.Buffer
	if _, err := src.Fetch(ctx, manifest.FileName, maxManifest, &raw); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", manifest.FileName, err)
	}
	if _, err := src.Fetch(ctx, SigFile, maxSig, &sigText); err != nil {
		return nil, fmt.Errorf("fetch %s: %w (an unsigned release cannot be installed)", SigFile, err)
	}
	if err := VerifyManifest(pub, raw.Bytes(), sigText.Bytes()); err != nil {
		return nil, fmt.Errorf("%w with the release key %s: %v; the manifest was altered or signed by another key: refusing to install anything", ErrBadSignature, short(fp), err)
	}
	r, err := ParseManifest(raw.Bytes())
	if err != nil {
		return nil, err
	}
	if err := CheckRelease(r); err != nil {
		return nil, err
	}
	if !now.IsZero() && now.After(*r.Expires) {
		return nil, fmt.Errorf("%w: %s %s expired at %s (it is now %s); ask for a fresh release, or check this host's clock",
			ErrExpired, r.Name, r.Version, r.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if r.Keys != nil && r.Keys.Release != "" && r.Keys.Release != fp {
		return nil, fmt.Errorf("%w: the manifest names release key %s but verified with %s", ErrBadSignature, short(r.Keys.Release), short(fp))
	}
	return &Verified{Release: r, Raw: raw.Bytes(), Sig: sigText.Bytes(), KeySHA256: fp, KeyFromRelease: fromRelease, PublicKeyPEM: pemKey}, nil
}

func readKey(ctx context.Context, src Source, key KeySpec) ([]byte, bool, error) {
	if key.Path != "" {
		pub, err := signing.LoadPublicKey(key.Path)
		if err != nil {
			return nil, false, err
		}
		pemBytes, err := cryptoutils.MarshalPublicKeyToPEM(pub)
		return pemBytes, false, err
	}
	if !key.FromRelease {
		return nil, false, fmt.Errorf("%w: pass --key PUB, the release's public key (release.pub) obtained from a channel you trust; "+
			"--key-from-release uses the source's own %s, which proves less", ErrNoKey, ReleasePub)
	}
	var b bytes.Buffer
	if _, err := src.Fetch(ctx, ReleasePub, maxKey, &b); err != nil {
		return nil, false, fmt.Errorf("fetch %s: %w", ReleasePub, err)
	}
	return b.Bytes(), true, nil
}

// VerifyManifest checks a cosign blob signature (release.json.sig) over
// release.json with pub.
func VerifyManifest(pub crypto.PublicKey, raw, sigText []byte) error {
	der, err := signing.DecodeCosignSig(sigText)
	if err != nil {
		return err
	}
	return signing.VerifyBlob(pub, bytes.NewReader(raw), der)
}

// ParseManifest decodes release.json strictly: unknown fields and trailing
// data are errors.
func ParseManifest(raw []byte) (*manifest.Release, error) {
	r, err := manifest.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", manifest.FileName, err)
	}
	return r, nil
}

func short(fp string) string {
	if len(fp) > 16 {
		return "sha256:" + fp[:16]
	}
	return "sha256:" + fp
}
