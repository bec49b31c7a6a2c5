package install

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/install/installtest"
	"github.com/omnipack/omnipack/signing"
)

func load(t *testing.T, dir string, key KeySpec, now time.Time) (*Verified, error) {
	t.Helper()
	src, err := OpenSource(dir, false, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return LoadRelease(context.Background(), src, key, now)
}

func TestLoadReleaseAccepts(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	v, err := load(t, d.Dir, KeySpec{Path: d.Key.PubPath}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if v.Release.Name != "agent" || v.KeyFromRelease || v.KeySHA256 != d.Key.Fingerprint(t) {
		t.Errorf("%+v", v)
	}
	v, err = load(t, d.Dir, KeySpec{FromRelease: true}, time.Now())
	if err != nil || !v.KeyFromRelease {
		t.Errorf("from release: %+v %v", v, err)
	}
}

// TestLoadReleaseRefuses: every way a manifest can be wrong is refused,
// with an error callers can tell apart.
func TestLoadReleaseRefuses(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name   string
		mutate func(t *testing.T, d *installtest.Dist) KeySpec
		is     error
		want   string
	}{
		{"no key", func(t *testing.T, d *installtest.Dist) KeySpec { return KeySpec{} }, ErrNoKey, "--key"},
		{"tampered manifest", func(t *testing.T, d *installtest.Dist) KeySpec {
			p := filepath.Join(d.Dir, "release.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"version": "1.0.0"`), []byte(`"version": "6.6.6"`), 1), 0o644)
			return KeySpec{Path: d.Key.PubPath}
		}, ErrBadSignature, "signed by another key"},
		{"another key", func(t *testing.T, d *installtest.Dist) KeySpec {
			other := installtest.NewKey(t)
			raw, _ := d.Release.Marshal()
			d.WriteSigned(t, raw, other)
			return KeySpec{Path: d.Key.PubPath}
		}, ErrBadSignature, "does not verify"},
		{"another key, and the release's own key replaced", func(t *testing.T, d *installtest.Dist) KeySpec {
			other := installtest.NewKey(t)
			raw, _ := d.Release.Marshal()
			d.WriteSigned(t, raw, other)
			os.WriteFile(filepath.Join(d.Dir, "keys/release.pub"), other.PubPEM, 0o644)
			// Verifies with the swapped key, but the signed manifest names
			// the real one.
			return KeySpec{FromRelease: true}
		}, ErrBadSignature, "names release key"},
		{"expired", func(t *testing.T, d *installtest.Dist) KeySpec {
			past := now.Add(-time.Hour)
			d.Release.Expires = &past
			d.Sign(t)
			return KeySpec{Path: d.Key.PubPath}
		}, ErrExpired, "expired at"},
		{"unsigned", func(t *testing.T, d *installtest.Dist) KeySpec {
			os.Remove(filepath.Join(d.Dir, "release.json.sig"))
			return KeySpec{Path: d.Key.PubPath}
		}, nil, "unsigned release"},
		{"no release version", func(t *testing.T, d *installtest.Dist) KeySpec {
			d.Release.ReleaseVersion = 0
			d.Sign(t)
			return KeySpec{Path: d.Key.PubPath}
		}, nil, "release_version"},
		{"../ in a name", func(t *testing.T, d *installtest.Dist) KeySpec {
			d.Release.Artifacts[0].Name = "../../etc/cron.d/evil"
			d.Sign(t)
			return KeySpec{Path: d.Key.PubPath}
		}, nil, "not a plain file name"},
		{"bad project name", func(t *testing.T, d *installtest.Dist) KeySpec {
			d.Release.Name = "../agent"
			d.Sign(t)
			return KeySpec{Path: d.Key.PubPath}
		}, nil, "not a valid project name"},
		{"unknown field", func(t *testing.T, d *installtest.Dist) KeySpec {
			raw, _ := d.Release.Marshal()
			raw = bytes.Replace(raw, []byte(`"schema": 1,`), []byte(`"schema": 1, "install_hook": "rm -rf /",`), 1)
			d.WriteSigned(t, raw, d.Key)
			return KeySpec{Path: d.Key.PubPath}
		}, nil, "unknown field"},
		{"garbage signature", func(t *testing.T, d *installtest.Dist) KeySpec {
			os.WriteFile(filepath.Join(d.Dir, "release.json.sig"), []byte("not base64!"), 0o644)
			return KeySpec{Path: d.Key.PubPath}
		}, ErrBadSignature, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := installtest.Make(t, nil, installtest.Options{})
			key := c.mutate(t, d)
			_, err := load(t, d.Dir, key, now)
			if err == nil {
				t.Fatal("accepted")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q lacks %q", err, c.want)
			}
		})
	}
}

func TestVerifyManifestMatchesSigning(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	raw, _ := os.ReadFile(filepath.Join(d.Dir, "release.json"))
	sig, _ := os.ReadFile(filepath.Join(d.Dir, "release.json.sig"))
	pub, err := signing.LoadPublicKey(d.Key.PubPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyManifest(pub, raw, sig); err != nil {
		t.Fatal(err)
	}
	if err := VerifyManifest(pub, append(raw, ' '), sig); !errors.Is(err, signing.ErrBadSignature) {
		t.Errorf("one byte more verified: %v", err)
	}
}

func TestRecord(t *testing.T) {
	r := Record{ReleaseVersion: 1700000000, Version: "1.2.3~rc1", Release: 2, Format: "deb", PackageManager: "apt",
		Artifact: "agent_1.2.3~rc1-2_amd64.deb", SHA256: strings.Repeat("0f", 32)}
	want := "release_version=1700000000\nversion=1.2.3~rc1\nrelease=2\nformat=deb\npackage_manager=apt\n" +
		"artifact=agent_1.2.3~rc1-2_amd64.deb\nsha256=" + strings.Repeat("0f", 32) + "\n"
	if string(r.Marshal()) != want {
		t.Errorf("%q", r.Marshal())
	}
	got, err := ParseRecord(r.Marshal())
	if err != nil || *got != r {
		t.Errorf("%+v %v", got, err)
	}
	// The minimum, and a record with a key this reader does not know.
	got, err = ParseRecord([]byte("release_version=42\nversion=1.0\n"))
	if err != nil || got.ReleaseVersion != 42 || got.Version != "1.0" || got.Format != "" {
		t.Errorf("%+v %v", got, err)
	}
	got, err = ParseRecord([]byte("release_version=42\nversion=1.0\nrelease=1\nformat=tarball\npackage_manager=none\nartifact=a.tar.gz\nsha256=" + strings.Repeat("a", 64) + "\nfuture_key=x\n"))
	if err != nil || got.ReleaseVersion != 42 || got.Version != "1.0" || got.Format != "tarball" || got.Release != 1 {
		t.Errorf("install.sh form: %+v %v", got, err)
	}
	for _, bad := range []string{"", "42\n1.0\n", "release_version=-1\nversion=1.0\n", "release_version=42\nversion=\n",
		"release_version=42\nversion=1.0 ; rm\n", "version=1.0\n", "release_version=x\nversion=1.0\n",
		"release_version=42\nrelease_version=41\nversion=1.0\n"} {
		if _, err := ParseRecord([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
