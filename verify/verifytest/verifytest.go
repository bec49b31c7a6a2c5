// Package verifytest supports the tests of verify and of omnipack verify:
// it generates key sets, builds the example project into a real signed
// release with omnipack's own build (docs/release-layout.md), and re-signs
// a release after a test has changed it, as someone holding the release key
// could, so that the checks behind the manifest's digests get tested.
package verifytest

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/provenance"
	"github.com/omnipack/omnipack/signing"
)

// Password protects the keys NewKeySet generates.
const Password = "verifytest password: correct horse"

// Validity is how long a re-signed manifest lasts.
const Validity = 30 * 24 * time.Hour

// KeySet is one generated set of release, OpenPGP and apk keys.
type KeySet struct {
	Dir        string
	Release    signature.SignerVerifier
	PGP        *openpgp.Entity
	APK        *rsa.PrivateKey
	APKKeyName string
}

// NewKeySet generates keys into dir (which must not hold keys) and loads
// them; owner names the apk key (signing.APKKeyName).
func NewKeySet(dir, owner string) (*KeySet, error) {
	if _, err := signing.Generate(dir, []byte(Password), false); err != nil {
		return nil, err
	}
	k := &KeySet{Dir: dir}
	var err error
	if k.Release, err = signing.LoadReleaseSigner(filepath.Join(dir, signing.ReleaseKeyFile), []byte(Password)); err != nil {
		return nil, err
	}
	if k.PGP, err = signing.LoadPGPEntity(filepath.Join(dir, signing.PGPKeyFile), []byte(Password)); err != nil {
		return nil, err
	}
	if k.APK, err = signing.LoadAPKKey(filepath.Join(dir, signing.APKKeyFile), []byte(Password)); err != nil {
		return nil, err
	}
	if k.APKKeyName, err = signing.APKKeyName(owner, &k.APK.PublicKey); err != nil {
		return nil, err
	}
	return k, nil
}

// ReleasePub is the path of the release public key.
func (k *KeySet) ReleasePub() string { return filepath.Join(k.Dir, signing.ReleasePubFile) }

// Example is examples/crashwatch relative to the repository root.
const Example = "examples/crashwatch"

// BuildExample builds the example project in exampleDir (its
// omnipack.toml) into dist with omnipack's own build, signed with k at
// now: the release exactly as omnipack build --keys writes it.
func BuildExample(ctx context.Context, exampleDir, dist string, k *KeySet, now time.Time) (*manifest.Release, error) {
	cfg, err := config.Load(filepath.Join(exampleDir, config.DefaultFile))
	if err != nil {
		return nil, err
	}
	return pipeline.Run(ctx, pipeline.Options{Config: cfg, DistDir: dist, Keys: k.BuildKeys(),
		Now: func() time.Time { return now }, OmnipackVersion: "verifytest"})
}

// BuildKeys is k as build takes it.
func (k *KeySet) BuildKeys() *pipeline.Keys {
	return &pipeline.Keys{Dir: k.Dir, Release: k.Release, PGP: k.PGP, APK: k.APK, APKKeyName: k.APKKeyName}
}

// Provenance writes a new provenance.intoto.jsonl for the artifacts of
// rel, signed with k's release key. edit, if set, may change the statement
// before it is signed.
func Provenance(dir string, rel *manifest.Release, k *KeySet, edit func(*provenance.Statement)) error {
	cfg, err := os.CreateTemp("", "verifytest-omnipack-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(cfg.Name())
	fmt.Fprintf(cfg, "[project]\nname = %q\n", rel.Name)
	cfg.Close()
	epoch := time.Unix(rel.SourceDateEpoch, 0).UTC()
	in := provenance.Input{Subjects: map[string]string{}, ConfigPath: cfg.Name(), OmnipackVersion: "verifytest",
		SourceDateEpoch: rel.SourceDateEpoch, Started: epoch, Finished: epoch.Add(time.Minute)}
	for _, a := range rel.Artifacts {
		if a.Name != provenance.FileName {
			in.Subjects[a.Name] = a.SHA256
		}
	}
	st, err := provenance.New(in)
	if err != nil {
		return err
	}
	if edit != nil {
		edit(st)
	}
	payload, err := st.Marshal()
	if err != nil {
		return err
	}
	env, err := signing.SignDSSE(k.Release, provenance.PayloadType, payload)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, provenance.FileName), append(env, '\n'), 0o644)
}

// Sign stamps rel with k's keys, signing time now and expiry expires (nil
// for none), and writes release.json, SHA256SUMS, release.json.sig, the
// sigstore bundle, release.json.asc and keys/ into dir.
func Sign(dir string, rel *manifest.Release, k *KeySet, now time.Time, expires time.Time) error {
	signedAt := now.UTC().Truncate(time.Second)
	rel.SignedAt = &signedAt
	rel.Expires = nil
	if !expires.IsZero() {
		e := expires.UTC().Truncate(time.Second)
		rel.Expires = &e
	}
	rel.ReleaseVersion = manifest.NextReleaseVersion(rel.ReleaseVersion, signedAt)
	pub, err := k.Release.PublicKey()
	if err != nil {
		return err
	}
	fp, err := signing.Fingerprint(pub)
	if err != nil {
		return err
	}
	// Re-signing with the release's own key keeps the keys it names (as
	// omnipack resign does, and as a test may have edited them); another
	// key set names its own.
	if rel.Keys == nil || rel.Keys.Release != fp {
		apk, err := signing.Fingerprint(&k.APK.PublicKey)
		if err != nil {
			return err
		}
		rel.Keys = &manifest.Keys{Release: fp, OpenPGP: signing.PGPFingerprint(k.PGP), APKKeyName: k.APKKeyName, APK: apk}
	}
	data, err := rel.Marshal()
	if err != nil {
		return err
	}
	return signManifestBytes(dir, data, rel.SHA256SUMS(), k)
}

// signManifestBytes writes data as release.json exactly as given, with
// its signatures, the given SHA256SUMS and k's public keys.
func signManifestBytes(dir string, data, sums []byte, k *KeySet) error {
	return pipeline.WriteSignedManifest(dir, data, sums, (*pipeline.Keys)(k))
}

// Resign reads the release in dir, lets edit change the manifest, and
// signs it again with k, valid from now for Validity unless edit set
// Expires itself (edit may also clear it).
func Resign(dir string, k *KeySet, now time.Time, edit func(*manifest.Release)) error {
	rel, err := manifest.Read(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return err
	}
	e := now.Add(Validity)
	rel.Expires = &e
	if edit != nil {
		edit(rel)
	}
	var expires time.Time
	if rel.Expires != nil {
		expires = *rel.Expires
	}
	return Sign(dir, rel, k, now, expires)
}

// Refresh records the current size and sha256 of the named artifacts in
// the manifest and re-signs it: a changed file then passes the digest
// check, and only the checks behind it can catch the change.
func Refresh(dir string, k *KeySet, now time.Time, names ...string) error {
	return Resign(dir, k, now, func(rel *manifest.Release) {
		for i, a := range rel.Artifacts {
			for _, n := range names {
				if a.Name == n {
					if size, sum, err := manifest.Digest(filepath.Join(dir, n)); err == nil {
						rel.Artifacts[i].Size, rel.Artifacts[i].SHA256 = size, sum
					}
				}
			}
		}
	})
}

// Copy copies the release in src into dst, which must not exist.
func Copy(src, dst string) error {
	var names []string
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		names = append(names, rel)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, n), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CopyTree copies a source tree such as the example project into dst,
// leaving out build output (dist/) and .git, keeping file modes.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && (d.Name() == "dist" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

// EditConfig rewrites the omnipack.toml in dir: each edit replaces old
// with new, and an old the file does not hold is an error, so an edit
// cannot silently stop applying when the example changes.
func EditConfig(dir string, edits ...[2]string) error {
	p := filepath.Join(dir, config.DefaultFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	text := string(data)
	for _, e := range edits {
		if !strings.Contains(text, e[0]) {
			return fmt.Errorf("%s no longer says %s", p, e[0])
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	return os.WriteFile(p, []byte(text), 0o644)
}
