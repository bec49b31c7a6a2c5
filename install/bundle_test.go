package install

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/install/installtest"
	"github.com/omnipack/omnipack/release"
)

func TestBundle(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	os.WriteFile(filepath.Join(d.Dir, "install.sh"), []byte("#!/bin/sh\nmain() { :; }\nmain \"$@\"\n"), 0o755)
	out := filepath.Join(t.TempDir(), "bundle")
	res, err := Bundle(context.Background(), BundleOptions{Dist: d.Dir, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"install.sh", "release.json", "release.json.sig", "release.json.sigstore.json", "keys/release.pub", "SHA256SUMS", "provenance.intoto.jsonl"} {
		if !slices.Contains(res.Files, f) {
			t.Errorf("bundle lacks %s: %v", f, res.Files)
		}
	}
	for _, a := range d.Release.Artifacts {
		if !slices.Contains(res.Files, a.Name) {
			t.Errorf("bundle lacks %s", a.Name)
		}
	}
	if len(res.Packages) != 5 {
		t.Errorf("packages %v", res.Packages)
	}
	// The manifest is byte for byte the signed one, and sha256sum agrees
	// with SHA256SUMS.
	a, _ := os.ReadFile(filepath.Join(d.Dir, "release.json"))
	b, _ := os.ReadFile(filepath.Join(out, "release.json"))
	if string(a) != string(b) {
		t.Error("release.json differs")
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		c := exec.Command("sha256sum", "-c", "--strict", "SHA256SUMS")
		c.Dir = out
		if o, err := c.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, o)
		}
	}
	if fi, _ := os.Stat(filepath.Join(out, "install.sh")); fi.Mode().Perm() != 0o755 {
		t.Errorf("install.sh mode %v", fi.Mode())
	}
	// No temporary directory is left beside it.
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Errorf("beside the bundle: %v", ents)
	}
	// The bundle is a source the installer verifies and installs from.
	if _, err := load(t, out, release.KeySpec{Path: d.Key.PubPath}, time.Now()); err != nil {
		t.Errorf("bundle does not verify as a source: %v", err)
	}
	// A second bundle into the same directory is refused.
	if _, err := Bundle(context.Background(), BundleOptions{Dist: d.Dir, Out: out}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("existing out: %v", err)
	}
}

func TestBundleFilters(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	out := filepath.Join(t.TempDir(), "b")
	res, err := Bundle(context.Background(), BundleOptions{Dist: d.Dir, Out: out, Formats: []string{"deb"}, Archs: []string{"amd64"}})
	if err != nil {
		t.Fatal(err)
	}
	deb := d.Artifact(t, "deb").Name
	if len(res.Packages) != 1 || res.Packages[0] != deb || !slices.Contains(res.Files, deb+".spdx.json") {
		t.Errorf("%v %v", res.Packages, res.Files)
	}
	if slices.Contains(res.Files, d.Artifact(t, "rpm").Name) {
		t.Error("rpm bundled")
	}
	sums, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if strings.Contains(string(sums), ".rpm") || !strings.Contains(string(sums), deb) {
		t.Errorf("SHA256SUMS:\n%s", sums)
	}
	if _, err := Bundle(context.Background(), BundleOptions{Dist: d.Dir, Out: out + "2", Archs: []string{"s390x"}}); err == nil {
		t.Error("an empty selection was bundled")
	}
	if _, err := Bundle(context.Background(), BundleOptions{Dist: d.Dir, Out: out + "3", Formats: []string{"msi"}}); err == nil {
		t.Error("unknown format accepted")
	}
}

// TestBundleRefuses: a dist that does not verify leaves nothing behind.
func TestBundleRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(t *testing.T, d *installtest.Dist) BundleOptions
		want   string
	}{
		{"tampered artifact", func(t *testing.T, d *installtest.Dist) BundleOptions {
			p := filepath.Join(d.Dir, d.Artifact(t, "rpm").Name)
			b, _ := os.ReadFile(p)
			b[len(b)-2] ^= 0x20
			os.WriteFile(p, b, 0o644)
			return BundleOptions{}
		}, "the dist was altered"},
		{"grown artifact", func(t *testing.T, d *installtest.Dist) BundleOptions {
			p := filepath.Join(d.Dir, d.Artifact(t, "tarball").Name)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, 0), 0o644)
			return BundleOptions{}
		}, "larger than its signed size"},
		{"missing artifact", func(t *testing.T, d *installtest.Dist) BundleOptions {
			os.Remove(filepath.Join(d.Dir, d.Artifact(t, "apk").Name))
			return BundleOptions{}
		}, "missing from the release"},
		{"tampered manifest", func(t *testing.T, d *installtest.Dist) BundleOptions {
			p := filepath.Join(d.Dir, "release.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, '\n'), 0o644)
			return BundleOptions{}
		}, "does not verify"},
		{"signed by another key", func(t *testing.T, d *installtest.Dist) BundleOptions {
			raw, _ := d.Release.Marshal()
			d.WriteSigned(t, raw, installtest.NewKey(t))
			return BundleOptions{}
		}, "does not verify"},
		{"--key of someone else", func(t *testing.T, d *installtest.Dist) BundleOptions {
			return BundleOptions{Key: installtest.NewKey(t).PubPath}
		}, "does not verify"},
		{"release.pub swapped", func(t *testing.T, d *installtest.Dist) BundleOptions {
			os.WriteFile(filepath.Join(d.Dir, "keys/release.pub"), installtest.NewKey(t).PubPEM, 0o644)
			return BundleOptions{Key: d.Key.PubPath}
		}, "not the key the manifest verified with"},
		{"bad sigstore bundle", func(t *testing.T, d *installtest.Dist) BundleOptions {
			other := installtest.Make(t, d.Key, installtest.Options{Version: "3.0.0"})
			b, _ := os.ReadFile(filepath.Join(other.Dir, "release.json.sigstore.json"))
			os.WriteFile(filepath.Join(d.Dir, "release.json.sigstore.json"), b, 0o644)
			return BundleOptions{}
		}, "release.json.sigstore.json does not verify"},
		{"expired", func(t *testing.T, d *installtest.Dist) BundleOptions {
			past := time.Now().Add(-time.Hour)
			d.Release.Expires = &past
			d.Sign(t)
			return BundleOptions{}
		}, "expired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := installtest.Make(t, nil, installtest.Options{})
			o := c.mutate(t, d)
			parent := t.TempDir()
			o.Dist, o.Out = d.Dir, filepath.Join(parent, "bundle")
			_, err := Bundle(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
}

// load verifies the release at dir as the installer reads it.
func load(t *testing.T, dir string, key release.KeySpec, now time.Time) (*release.Verified, error) {
	t.Helper()
	src, err := release.Open(dir, policy(false, release.DefaultLimits))
	if err != nil {
		t.Fatal(err)
	}
	return release.Load(context.Background(), src, key, now)
}
