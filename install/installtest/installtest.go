// Package installtest makes small signed release directories for the tests
// of package install and of the install and bundle commands: real ECDSA
// P-256 signatures in cosign's format, a real release tarball, and
// placeholder bytes for the native packages (which tests never hand to a
// real package manager).
package installtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/release"
	"github.com/omnipack/omnipack/signing"
)

// Key is a release key pair; PubPath is its PEM SPKI file.
type Key struct {
	Priv    *ecdsa.PrivateKey
	PubPath string
	PubPEM  []byte
}

// NewKey makes a P-256 key and writes its public half to a temp file.
func NewKey(t testing.TB) *Key {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "release.pub")
	if err := os.WriteFile(p, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return &Key{Priv: priv, PubPath: p, PubPEM: pem}
}

// Fingerprint is the key's hex sha256 of its DER SPKI.
func (k *Key) Fingerprint(t testing.TB) string {
	fp, err := signing.Fingerprint(&k.Priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// Sign returns the cosign .sig text over data.
func (k *Key) Sign(t testing.TB, data []byte) []byte {
	t.Helper()
	sum := sha256.Sum256(data)
	der, err := ecdsa.SignASN1(rand.Reader, k.Priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing.EncodeCosignSig(der)
}

// Options shape a dist.
type Options struct {
	Name           string    // default "agent"
	Version        string    // default "1.0.0"
	ReleaseVersion int64     // default 1700000000
	Expires        time.Time // default a year from now
	Arch           string    // default amd64
	// Formats are the package formats built; default all five.
	Formats []string
	// Config is the tarball's /etc/NAME/NAME.toml; default DefaultConfig.
	Config string
	// EnvironmentFile makes the packages name their environment file at
	// each format's path, as a build with [service] environment_file =
	// true does, and the tarball carry it (DefaultEnvironment).
	EnvironmentFile bool
}

// DefaultEnvironment is the environment file the tarball carries with
// Options.EnvironmentFile.
const DefaultEnvironment = "# Settings for agent on this host.\n#LOG_LEVEL=\"info\"\n"

// DefaultConfig is the config file the tarball carries.
const DefaultConfig = `# agent configuration.

# Secret key for the collector.
auth_key = ""

# Name of this host.
# node_id = "web-01"

# Read from the start.
# from_start = false

[limits]
auth_key_len = 64
`

// Dist is a signed release directory.
type Dist struct {
	Dir     string
	Key     *Key
	Release *manifest.Release
	Options Options
}

// Make writes a signed dist into a new temp directory, signed with key
// (a new one when nil).
func Make(t testing.TB, key *Key, o Options) *Dist {
	t.Helper()
	if key == nil {
		key = NewKey(t)
	}
	if o.Name == "" {
		o.Name = "agent"
	}
	if o.Version == "" {
		o.Version = "1.0.0"
	}
	if o.ReleaseVersion == 0 {
		o.ReleaseVersion = 1700000000
	}
	if o.Expires.IsZero() {
		o.Expires = time.Now().Add(365 * 24 * time.Hour).UTC().Truncate(time.Second)
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if o.Formats == nil {
		o.Formats = release.PackageFormats()
	}
	if o.Config == "" {
		o.Config = DefaultConfig
	}
	d := &Dist{Dir: t.TempDir(), Key: key, Options: o}
	signed := time.Now().UTC().Truncate(time.Second)
	r := &manifest.Release{Schema: manifest.SchemaVersion, Name: o.Name, Version: o.Version, Release: 1,
		ReleaseVersion: o.ReleaseVersion, SignedAt: &signed, Expires: &o.Expires,
		Keys: &manifest.Keys{Release: key.Fingerprint(t), OpenPGP: "", APKKeyName: ""}}
	d.Release = r
	for _, f := range o.Formats {
		format, ok := formats.Lookup(f)
		arch, archOK := config.LookupArch(o.Arch)
		if !ok || !archOK {
			t.Fatalf("format %s, arch %s", f, o.Arch)
		}
		name := format.FileName(o.Name, config.Version{Base: o.Version}, 1, arch)
		envFile := ""
		if o.EnvironmentFile {
			envFile = format.Rule().EnvironmentFile(o.Name)
		}
		var body []byte
		if formats.Has(format, packaging.StageUnpack) {
			extra := map[string]string{}
			if envFile != "" {
				extra[envFile] = DefaultEnvironment
			}
			body = tarball(t, o.Name, o.Version, o.Config, extra)
		}
		if body == nil {
			body = []byte(fmt.Sprintf("placeholder %s package of %s %s\n", f, o.Name, o.Version))
		}
		d.Add(t, name, f, body)
		d.Release.Artifacts[len(d.Release.Artifacts)-1].EnvironmentFile = envFile
		d.Add(t, name+".spdx.json", "spdx", []byte(`{"spdxVersion":"SPDX-2.3"}`))
	}
	d.Add(t, "provenance.intoto.jsonl", "provenance", []byte(`{"payloadType":"application/vnd.in-toto+json"}`))
	// As build writes it: release-wide, no arch.
	d.Release.Artifacts[len(d.Release.Artifacts)-1].Arch = ""
	if err := os.MkdirAll(filepath.Join(d.Dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Dir, "keys", "release.pub"), key.PubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	d.Sign(t)
	return d
}

// Add writes an artifact file and lists it in the manifest (call Sign
// afterwards).
func (d *Dist) Add(t testing.TB, name, format string, body []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(d.Dir, name), body, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	a := manifest.Artifact{Name: name, Format: format, Arch: d.Options.Arch, OS: "linux", Version: d.Options.Version + "-1",
		Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
	d.Release.Artifacts = append(d.Release.Artifacts, a)
}

// Sign writes release.json, its .sig and its sigstore bundle from
// d.Release.
func (d *Dist) Sign(t testing.TB) {
	t.Helper()
	raw, err := d.Release.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	d.WriteSigned(t, raw, d.Key)
}

// WriteSigned writes raw as release.json signed by key (any bytes: tests
// sign broken manifests on purpose).
func (d *Dist) WriteSigned(t testing.TB, raw []byte, key *Key) {
	t.Helper()
	sig := key.Sign(t, raw)
	der, err := signing.DecodeCosignSig(sig)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := signing.Bundle(&key.Priv.PublicKey, bytes.NewReader(raw), der)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"release.json": raw, "release.json.sig": sig, "release.json.sigstore.json": bundle} {
		if err := os.WriteFile(filepath.Join(d.Dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Artifact returns the manifest entry of the given format.
func (d *Dist) Artifact(t testing.TB, format string) manifest.Artifact {
	t.Helper()
	for _, a := range d.Release.Artifacts {
		if a.Format == format {
			return a
		}
	}
	t.Fatalf("no %s artifact", format)
	return manifest.Artifact{}
}

// Tarball builds a release tarball as packaging writes it: the binary,
// the config, the maintainer scripts and the file list.
func Tarball(t testing.TB, name, version, config string) []byte {
	t.Helper()
	return tarball(t, name, version, config, nil)
}

// tarball is Tarball with extra files (absolute path: body), mode 0640.
func tarball(t testing.TB, name, version, config string, extra map[string]string) []byte {
	t.Helper()
	files := map[string]struct {
		mode int64
		body string
	}{
		"usr/bin/" + name:                          {0o755, "#!/bin/sh\necho " + name + " " + version + "\n"},
		"etc/" + name + "/" + name + ".toml":       {0o640, config},
		"usr/lib/" + name + "/scripts/preinstall":  {0o755, "#!/bin/sh\necho preinstall\n"},
		"usr/lib/" + name + "/scripts/postinstall": {0o755, "#!/bin/sh\necho postinstall\n"},
		"usr/lib/" + name + "/scripts/preremove":   {0o755, "#!/bin/sh\necho preremove\n"},
		"usr/share/doc/" + name + "/VERSION":       {0o644, version + "\n"},
	}
	for p, body := range extra {
		files[strings.TrimPrefix(p, "/")] = struct {
			mode int64
			body string
		}{0o640, body}
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	list := "/usr/lib/" + name + "/files"
	names = append(names, strings.TrimPrefix(list, "/"))
	sort.Strings(names)
	var listBody strings.Builder
	for _, n := range names {
		listBody.WriteString("/" + n + "\n")
	}
	files[strings.TrimPrefix(list, "/")] = struct {
		mode int64
		body string
	}{0o644, listBody.String()}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	dirs := map[string]bool{}
	for _, n := range names {
		var parents []string
		for d := filepath.Dir(n); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
			parents = append(parents, d)
		}
		for i := len(parents) - 1; i >= 0; i-- {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: parents[i] + "/", Mode: 0o755}); err != nil {
				t.Fatal(err)
			}
		}
		f := files[n]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: f.mode, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Tree makes a root file system holding an os-release and an amd64 ELF
// header as /bin/sh, so that detector.Detect(tree) finds the distro and
// the architecture.
func Tree(t testing.TB, osRelease string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range map[string][]byte{
		"etc/os-release": []byte(osRelease),
		"bin/sh":         elfHeaderAMD64(),
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func elfHeaderAMD64() []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = 2, 1, 1 // 64-bit, little-endian, version 1
	h[16] = 2                  // ET_EXEC
	h[18], h[19] = 0x3e, 0     // x86-64
	return h
}

// Snapshot lists every path under dir with its mode and content hash, to
// tell whether a refused run changed anything.
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			v += " " + hex.EncodeToString(sum[:])
		}
		out[strings.TrimPrefix(p, dir)] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
