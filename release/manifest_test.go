package release_test

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
	"github.com/omnipack/omnipack/release"
	"github.com/omnipack/omnipack/signing"
)

func load(t *testing.T, dir string, key release.KeySpec, now time.Time) (*release.Verified, error) {
	t.Helper()
	src, err := release.Open(dir, release.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	return release.Load(context.Background(), src, key, now)
}

func TestLoadReleaseAccepts(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	v, err := load(t, d.Dir, release.KeySpec{Path: d.Key.PubPath}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if v.Release.Name != "agent" || v.KeyFromRelease || v.KeySHA256 != d.Key.Fingerprint(t) {
		t.Errorf("%+v", v)
	}
	v, err = load(t, d.Dir, release.KeySpec{FromRelease: true}, time.Now())
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
		mutate func(t *testing.T, d *installtest.Dist) release.KeySpec
		is     error
		want   string
	}{
		{"no key", func(t *testing.T, d *installtest.Dist) release.KeySpec { return release.KeySpec{} }, release.ErrNoKey, "--key"},
		{"tampered manifest", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			p := filepath.Join(d.Dir, "release.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"version": "1.0.0"`), []byte(`"version": "6.6.6"`), 1), 0o644)
			return release.KeySpec{Path: d.Key.PubPath}
		}, release.ErrBadSignature, "signed by another key"},
		{"another key", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			other := installtest.NewKey(t)
			raw, _ := d.Release.Marshal()
			d.WriteSigned(t, raw, other)
			return release.KeySpec{Path: d.Key.PubPath}
		}, release.ErrBadSignature, "does not verify"},
		{"another key, and the release's own key replaced", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			other := installtest.NewKey(t)
			raw, _ := d.Release.Marshal()
			d.WriteSigned(t, raw, other)
			os.WriteFile(filepath.Join(d.Dir, "keys/release.pub"), other.PubPEM, 0o644)
			// Verifies with the swapped key, but the signed manifest names
			// the real one.
			return release.KeySpec{FromRelease: true}
		}, release.ErrBadSignature, "names release key"},
		{"expired", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			past := now.Add(-time.Hour)
			d.Release.Expires = &past
			d.Sign(t)
			return release.KeySpec{Path: d.Key.PubPath}
		}, release.ErrExpired, "expired at"},
		{"unsigned", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			os.Remove(filepath.Join(d.Dir, "release.json.sig"))
			return release.KeySpec{Path: d.Key.PubPath}
		}, nil, "unsigned release"},
		{"no release version", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			d.Release.ReleaseVersion = 0
			d.Sign(t)
			return release.KeySpec{Path: d.Key.PubPath}
		}, nil, "release_version"},
		{"../ in a name", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			d.Release.Artifacts[0].Name = "../../etc/cron.d/evil"
			d.Sign(t)
			return release.KeySpec{Path: d.Key.PubPath}
		}, nil, "not a plain file name"},
		{"environment file outside /etc", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			d.Release.Artifacts[0].EnvironmentFile = "/etc/../root/.profile"
			d.Sign(t)
			return release.KeySpec{Path: d.Key.PubPath}
		}, nil, "not a clean absolute path below /etc/"},
		{"bad project name", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			d.Release.Name = "../agent"
			d.Sign(t)
			return release.KeySpec{Path: d.Key.PubPath}
		}, nil, "not a valid project name"},
		{"unknown field", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			raw, _ := d.Release.Marshal()
			raw = bytes.Replace(raw, []byte(`"schema": 1,`), []byte(`"schema": 1, "install_hook": "rm -rf /",`), 1)
			d.WriteSigned(t, raw, d.Key)
			return release.KeySpec{Path: d.Key.PubPath}
		}, nil, "unknown field"},
		{"garbage signature", func(t *testing.T, d *installtest.Dist) release.KeySpec {
			os.WriteFile(filepath.Join(d.Dir, "release.json.sig"), []byte("not base64!"), 0o644)
			return release.KeySpec{Path: d.Key.PubPath}
		}, release.ErrBadSignature, ""},
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
	if err := release.VerifyManifest(pub, raw, sig); err != nil {
		t.Fatal(err)
	}
	if err := release.VerifyManifest(pub, append(raw, ' '), sig); !errors.Is(err, signing.ErrBadSignature) {
		t.Errorf("one byte more verified: %v", err)
	}
}
