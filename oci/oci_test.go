package oci

import (
	"archive/tar"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
)

func testSpec(t *testing.T) Spec {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agent")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries := []Entry{
		{Path: "/usr/bin/agent", Source: bin, Mode: 0o755},
		{Path: "/etc/agent/agent.toml", Body: []byte("source = \"/dev/kmsg\"\n"), Mode: 0o640, GID: 65532},
		{Path: "/var/lib/agent", Dir: true, Mode: 0o750, UID: 65532, GID: 65532},
	}
	return Spec{
		Tag: "1.0.0", Created: time.Unix(1700000000, 0), UID: 65532, GID: 65532,
		Entrypoint: []string{"/usr/bin/agent"}, Cmd: []string{"-config", "/etc/agent/agent.toml"},
		Labels:    map[string]string{"org.opencontainers.image.version": "1.0.0"},
		Platforms: []Platform{{Architecture: "amd64", Entries: entries}, {Architecture: "arm64", Entries: entries}},
	}
}

// TestBuildIsReproducible: two builds into different directories give the
// same index digest and the same bytes in every blob.
func TestBuildIsReproducible(t *testing.T) {
	s := testSpec(t)
	a, b := filepath.Join(t.TempDir(), "oci"), filepath.Join(t.TempDir(), "oci")
	ra, err := Build(s, a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Build(s, b)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Index != rb.Index || len(ra.Manifests) != 2 {
		t.Fatalf("index digests %s and %s, manifests %v", ra.Index, rb.Index, ra.Manifests)
	}
	for _, f := range []string{"index.json", "oci-layout"} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if string(x) != string(y) {
			t.Errorf("%s differs:\n%s\n%s", f, x, y)
		}
	}
	if _, err := Build(s, a); err == nil {
		t.Error("Build wrote into an existing layout")
	}
}

// TestBuildWritesOCI reads the layout back: OCI media types throughout,
// the index tagged, each platform's config as specified, and the layer's
// files owned by number and dated Created.
func TestBuildWritesOCI(t *testing.T) {
	s := testSpec(t)
	dir := filepath.Join(t.TempDir(), "oci")
	res, err := Build(s, dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations[RefNameAnnotation] != "1.0.0" ||
		im.Manifests[0].MediaType != types.OCIImageIndex || im.Manifests[0].Digest.String() != res.Index {
		t.Fatalf("index.json: %+v", im.Manifests)
	}
	idx, err := top.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	ii, _ := idx.IndexManifest()
	if ii.MediaType != types.OCIImageIndex || len(ii.Manifests) != 2 {
		t.Fatalf("image index: %+v", ii)
	}
	for _, d := range ii.Manifests {
		if d.MediaType != types.OCIManifestSchema1 || d.Platform == nil || d.Platform.OS != "linux" {
			t.Errorf("index entry %+v", d)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := img.Manifest()
		if m.Config.MediaType != types.OCIConfigJSON || len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
			t.Errorf("%s manifest: %+v", d.Platform.Architecture, m)
		}
		cf, _ := img.ConfigFile()
		if cf.Architecture != d.Platform.Architecture || cf.Config.User != "65532:65532" ||
			strings.Join(cf.Config.Entrypoint, " ") != "/usr/bin/agent" || !cf.Created.Time.Equal(s.Created) {
			t.Errorf("%s config: %+v", d.Platform.Architecture, cf)
		}
		layers, _ := img.Layers()
		rc, _ := layers[0].Uncompressed()
		got := map[string]*tar.Header{}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got[h.Name] = h
			if !h.ModTime.Equal(s.Created) || h.Uname != "" || h.Gname != "" {
				t.Errorf("%s: mtime %s, owner names %q %q", h.Name, h.ModTime, h.Uname, h.Gname)
			}
		}
		rc.Close()
		for name, want := range map[string][3]int64{ // mode, uid, gid
			"usr/": {0o755, 0, 0}, "usr/bin/agent": {0o755, 0, 0}, "etc/agent/agent.toml": {0o640, 0, 65532},
			"var/lib/agent/": {0o750, 65532, 65532}, "var/": {0o755, 0, 0},
		} {
			h := got[name]
			if h == nil || h.Mode != want[0] || int64(h.Uid) != want[1] || int64(h.Gid) != want[2] {
				t.Errorf("layer entry %s: %+v, want mode %o uid %d gid %d", name, h, want[0], want[1], want[2])
			}
		}
	}
}

// TestSkopeoReadsTheLayout: skopeo inspects each architecture's image by
// its tag and copies all of them to another layout, recomputing every
// digest on the way.
func TestSkopeoReadsTheLayout(t *testing.T) {
	if _, err := exec.LookPath("skopeo"); err != nil {
		t.Fatal("skopeo not found in PATH; install it (.ci/prereqs) to run this test")
	}
	dir := filepath.Join(t.TempDir(), "oci")
	res, err := Build(testSpec(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		out, err := exec.Command("skopeo", "--override-os", "linux", "--override-arch", arch, "inspect", "oci:"+dir+":1.0.0").CombinedOutput()
		if err != nil {
			t.Fatalf("skopeo inspect %s: %v\n%s", arch, err, out)
		}
		var got struct {
			Digest       string
			Architecture string
			Labels       map[string]string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("skopeo inspect: %v\n%s", err, out)
		}
		// Digest is the tag's: the index.
		if got.Architecture != arch || got.Digest != res.Index || got.Labels["org.opencontainers.image.version"] != "1.0.0" {
			t.Errorf("skopeo inspect %s: %+v, want the index %s", arch, got, res.Index)
		}
		raw, err := exec.Command("skopeo", "--override-os", "linux", "--override-arch", arch, "inspect", "--raw", "oci:"+dir+":1.0.0").Output()
		if err != nil || !strings.Contains(string(raw), res.Manifests[arch]) {
			t.Errorf("skopeo inspect --raw %s: %v, does not list %s:\n%s", arch, err, res.Manifests[arch], raw)
		}
	}
	copyDir := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("skopeo", "copy", "--all", "--preserve-digests", "oci:"+dir+":1.0.0", "oci:"+copyDir+":1.0.0").CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy --all: %v\n%s", err, out)
	}
	copied, err := layout.ImageIndexFromPath(copyDir)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := copied.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Digest.String() != res.Index {
		t.Errorf("the copy's index.json names %+v, want the index %s", im.Manifests, res.Index)
	}
}

// TestCheck: Check accepts a layout tar whose index is signed by the key it
// is given, and refuses one unsigned, one signed by another key, and one
// whose layer blob was changed.
func TestCheck(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sign := func(k *ecdsa.PrivateKey) func([]byte) ([]byte, error) {
		return func(p []byte) ([]byte, error) {
			h := sha256.Sum256(p)
			return ecdsa.SignASN1(rand.Reader, k, h[:])
		}
	}
	verify := func(p, sig []byte) error {
		h := sha256.Sum256(p)
		if !ecdsa.VerifyASN1(&key.PublicKey, h[:], sig) {
			return errors.New("bad signature")
		}
		return nil
	}
	const predicateType = "https://spdx.dev/Document"
	verifier := Verifier{Signature: verify, PredicateType: predicateType, DSSE: func(env []byte) ([]byte, error) {
		v, err := signature.LoadECDSAVerifier(&key.PublicKey, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		var payload []byte
		err = dsse.WrapVerifier(v, dsse.WithDecodedPayload(&payload)).VerifySignature(bytes.NewReader(env), nil)
		return payload, err
	}}
	attest := func(t *testing.T, dir string, k *ecdsa.PrivateKey, index string) {
		t.Helper()
		st, err := Statement("ghcr.io/vendor/agent", index, predicateType, []byte(`{"spdxVersion":"SPDX-2.3"}`))
		if err != nil {
			t.Fatal(err)
		}
		sv, err := signature.LoadECDSASignerVerifier(k, crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		env, err := dsse.WrapSigner(sv, "application/vnd.in-toto+json").SignMessage(bytes.NewReader(st))
		if err != nil {
			t.Fatal(err)
		}
		if err := Attest(dir, []Attestation{{PredicateType: predicateType, Envelope: env}}); err != nil {
			t.Fatal(err)
		}
	}
	// layoutTar builds, signs with signer and attests with attester (the
	// statement about index, or the image's when "").
	layoutTar := func(t *testing.T, signer, attester *ecdsa.PrivateKey, index string, edit func(dir string)) string {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "oci")
		res, err := Build(testSpec(t), dir)
		if err != nil {
			t.Fatal(err)
		}
		if signer != nil {
			if err := Sign(dir, "ghcr.io/vendor/agent", res, sign(signer)); err != nil {
				t.Fatal(err)
			}
		}
		if attester != nil {
			if index == "" {
				index = res.Index
			}
			attest(t, dir, attester, index)
		}
		if edit != nil {
			edit(dir)
		}
		archive := filepath.Join(t.TempDir(), "image.oci.tar")
		if out, err := exec.Command("tar", "-cf", archive, "-C", dir, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		return archive
	}
	if _, err := Check(layoutTar(t, key, key, "", nil), verifier); err != nil {
		t.Errorf("a signed and attested layout: %v", err)
	}
	if _, err := Check(layoutTar(t, key, nil, "", nil), Verifier{Signature: verify}); err != nil {
		t.Errorf("a signed layout, no attestation asked for: %v", err)
	}
	otherIndex := "sha256:" + strings.Repeat("ab", 32)
	for name, tc := range map[string]struct {
		signer, attester *ecdsa.PrivateKey
		index            string
		edit             func(dir string)
		want             string
	}{
		"unsigned":                     {nil, key, "", nil, "carries no signature"},
		"another key":                  {other, key, "", nil, "no signature of the image index"},
		"no attestation":               {key, nil, "", nil, "carries no attestation"},
		"attested by another key":      {key, other, "", nil, "no https://spdx.dev/Document attestation"},
		"attestation of another image": {key, key, otherIndex, nil, "no https://spdx.dev/Document attestation"},
		"changed layer": {key, key, "", func(dir string) {
			blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
			for _, b := range blobs {
				data, _ := os.ReadFile(b)
				if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b { // a gzip'd layer
					data[len(data)/2] ^= 1
					os.WriteFile(b, data, 0o644)
				}
			}
		}, "does not match its blobs"},
	} {
		if _, err := Check(layoutTar(t, tc.signer, tc.attester, tc.index, tc.edit), verifier); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check: %v, want %q", name, err, tc.want)
		}
	}
}
