package release_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/install/installtest"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/release"
)

// FuzzParseManifest feeds arbitrary bytes to the one parser of
// release.json, manifest.Parse, directly and through manifest.Read. They
// must agree, refuse anything but one JSON document, and whatever they
// accept must survive Marshal. A release CheckRelease passes must be safe
// to use in paths and commands.
func FuzzParseManifest(f *testing.F) {
	d := installtest.Make(f, nil, installtest.Options{})
	raw, err := os.ReadFile(filepath.Join(d.Dir, manifest.FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	path := filepath.Join(f.TempDir(), manifest.FileName)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := manifest.Parse(data)
		if (r == nil) == (err == nil) {
			t.Fatalf("Parse returned %v and %v", r, err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		read, readErr := manifest.Read(path)
		if (err == nil) != (readErr == nil) {
			t.Fatalf("manifest.Read and Parse disagree: %v, %v", readErr, err)
		}
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("Parse accepts input that is not exactly one JSON value")
		}
		if r.Schema != manifest.SchemaVersion {
			t.Fatalf("Parse accepts schema %d", r.Schema)
		}
		again := marshalManifest(t, r)
		if got := marshalManifest(t, read); !bytes.Equal(got, again) {
			t.Fatalf("the two readers disagree:\n%s\n%s", got, again)
		}
		r2, err := manifest.Parse(again)
		if err != nil {
			t.Fatalf("Marshal wrote a manifest Parse refuses: %v\n%s", err, again)
		}
		if got := marshalManifest(t, r2); !bytes.Equal(got, again) {
			t.Fatalf("Marshal does not round-trip:\n%s\n%s", again, got)
		}
		if release.CheckRelease(r) == nil {
			checkSafeRelease(t, r)
		}
	})
}

func marshalManifest(t *testing.T, r *manifest.Release) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return b
}

// checkSafeRelease states, independently of the checkers' regexps, what
// install relies on after CheckRelease: names that are one path component
// and words a shell does not split or expand.
func checkSafeRelease(t *testing.T, r *manifest.Release) {
	t.Helper()
	const unsafe = " \t\r\n\x00/\\'\"`$;&|<>()*?[]{}"
	safeWord := func(what, s string) {
		if s == "" || s == "." || s == ".." || strings.HasPrefix(s, "-") || strings.ContainsAny(s, unsafe) {
			t.Errorf("CheckRelease passed %s %q", what, s)
		}
	}
	safeWord("name", r.Name)
	safeWord("version", r.Version)
	if r.Expires == nil || r.ReleaseVersion <= 0 {
		t.Errorf("CheckRelease passed an unsigned release: %+v", r)
	}
	seen := map[string]bool{}
	for _, a := range r.Artifacts {
		safeWord("artifact name", a.Name)
		if filepath.Base(a.Name) != a.Name || seen[a.Name] {
			t.Errorf("CheckRelease passed artifact %q (not one path component, or listed twice)", a.Name)
		}
		seen[a.Name] = true
		if a.Size <= 0 || a.Size > manifest.MaxArtifact || len(a.SHA256) != 64 {
			t.Errorf("CheckRelease passed artifact %q of size %d, sha256 %q", a.Name, a.Size, a.SHA256)
		}
		if p := a.EnvironmentFile; p != "" && (!strings.HasPrefix(p, "/etc/") || path.Clean(p) != p || strings.ContainsAny(p, strings.ReplaceAll(unsafe, "/", "")) || strings.Contains(p, "/../")) {
			t.Errorf("CheckRelease passed artifact %q with environment file %q", a.Name, p)
		}
	}
}
