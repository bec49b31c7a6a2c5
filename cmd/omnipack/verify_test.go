package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify"
	"github.com/omnipack/omnipack/verify/verifytest"
)

func verifyCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"verify"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// TestVerifyCommand runs omnipack verify on a real signed release, good
// and broken, in text and JSON.
func TestVerifyCommand(t *testing.T) {
	root := t.TempDir()
	keys, err := verifytest.NewKeySet(filepath.Join(root, "keys"), "omnipack")
	if err != nil {
		t.Fatal(err)
	}
	// The example project, built and signed by omnipack's own build.
	good := filepath.Join(root, "dist")
	rel, err := verifytest.BuildExample(context.Background(), filepath.Join("..", "..", verifytest.Example), good, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pub := keys.ReleasePub()
	checks := len(rel.Artifacts) + 1 // artifacts and SHA256SUMS
	for _, a := range rel.Artifacts {
		switch a.Format {
		case "deb", "rpm", "apk", "archlinux":
			checks += 3 // package signature, two SBOMs
		case "tarball":
			checks += 2
		case "oci":
			checks++ // the image's blobs and signature
		}
	}
	checks += 3 + 1 + 3 + 1 // manifest signatures, expiry, keys, provenance
	var deb string
	for _, a := range rel.Artifacts {
		if a.Format == "deb" {
			deb = a.Name
		}
	}
	broken := filepath.Join(root, "broken")
	if err := verifytest.Copy(good, broken); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(broken, deb))
	data[len(data)/2] ^= 1
	os.WriteFile(filepath.Join(broken, deb), data, 0o644)

	var outputs []string
	collect := func(code int, stdout, stderr string) (int, string, string) {
		outputs = append(outputs, stdout, stderr)
		return code, stdout, stderr
	}

	t.Run("text", func(t *testing.T) {
		code, stdout, stderr := collect(verifyCmd(t, "--key", pub, good))
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if !strings.HasPrefix(lines[0], "ok    manifest signature  release.json ") {
			t.Errorf("first line %q", lines[0])
		}
		for _, l := range lines[:len(lines)-1] {
			if !strings.HasPrefix(l, "ok    ") {
				t.Errorf("line %q", l)
			}
		}
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "ok: "+rel.Name+" "+rel.Version+" ") || strings.Contains(stdout, "WARNING") {
			t.Errorf("last line %q; output:\n%s", last, stdout)
		}
	})

	t.Run("text without --key", func(t *testing.T) {
		code, stdout, stderr := collect(verifyCmd(t, good))
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if lines[0] != "WARNING: "+verify.FromReleaseWarning || !strings.Contains(lines[len(lines)-1], "integrity only") {
			t.Errorf("the warning is not first and last:\n%s", stdout)
		}
	})

	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := collect(verifyCmd(t, "--json", "--key", pub, good))
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		doc := oneJSON(t, stdout)
		if doc["ok"] != true {
			t.Errorf("ok = %v", doc["ok"])
		}
		got := jsonChecks(t, doc)
		if len(got) != checks {
			t.Errorf("%d checks, want %d", len(got), checks)
		}
		for _, c := range got {
			if c["ok"] != true {
				t.Errorf("check %v", c)
			}
		}
	})

	t.Run("failure", func(t *testing.T) {
		code, stdout, stderr := collect(verifyCmd(t, "--key", pub, broken))
		if code != exitFailure {
			t.Fatalf("exit %d, want %d\n%s%s", code, exitFailure, stdout, stderr)
		}
		if line := lineWith(stdout, "FAIL  artifact "); !strings.Contains(line, deb) || !strings.Contains(line, "sha256") {
			t.Errorf("no FAIL line for %s:\n%s", deb, stdout)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "FAIL: 1 of ") || !strings.HasSuffix(last, "first: artifact "+deb) {
			t.Errorf("last line %q", last)
		}
		if !strings.HasPrefix(stderr, "omnipack: verification failed: artifact "+deb+": ") {
			t.Errorf("stderr does not name the check and file: %q", stderr)
		}
	})

	t.Run("json failure", func(t *testing.T) {
		code, stdout, stderr := collect(verifyCmd(t, "--json", "--key", pub, broken))
		if code != exitFailure {
			t.Fatalf("exit %d, want %d\n%s%s", code, exitFailure, stdout, stderr)
		}
		// One document on stdout, the report; the message on stderr.
		doc := oneJSON(t, stdout)
		if doc["ok"] != false {
			t.Errorf("ok = %v", doc["ok"])
		}
		var failed []map[string]any
		for _, c := range jsonChecks(t, doc) {
			if c["ok"] == false {
				failed = append(failed, c)
			}
		}
		if len(failed) != 1 || failed[0]["check"] != verify.CheckArtifact || failed[0]["file"] != deb ||
			!strings.Contains(failed[0]["detail"].(string), "sha256") {
			t.Errorf("failed checks %v", failed)
		}
		if !strings.Contains(stderr, "verification failed: artifact "+deb) {
			t.Errorf("stderr %q", stderr)
		}
	})

	t.Run("url", func(t *testing.T) {
		srv := httptest.NewServer(http.FileServer(http.Dir(root)))
		defer srv.Close()
		code, stdout, stderr := collect(verifyCmd(t, "--key", pub, srv.URL+"/dist/"))
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		code, stdout, stderr = collect(verifyCmd(t, "--key", pub, srv.URL+"/broken/"))
		if code != exitFailure || !strings.Contains(stderr, "artifact "+deb) {
			t.Fatalf("broken release by URL: exit %d\n%s%s", code, stdout, stderr)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for name, args := range map[string][]string{
			"no argument":     {},
			"two arguments":   {good, good},
			"missing key":     {"--key", filepath.Join(root, "nope.pub"), good},
			"private key":     {"--key", filepath.Join(keys.Dir, signing.ReleaseKeyFile), good},
			"missing release": {"--key", pub, filepath.Join(root, "nope")},
			"not a release":   {"--key", pub, "ftp://127.0.0.1/dist/"},
		} {
			for _, jsonFlag := range []bool{false, true} {
				if jsonFlag {
					args = append([]string{"--json"}, args...)
				}
				code, stdout, stderr := collect(verifyCmd(t, args...))
				if code != exitInput {
					t.Errorf("%s: exit %d, want %d\n%s%s", name, code, exitInput, stdout, stderr)
				}
				if jsonFlag && oneJSON(t, stdout)["ok"] != false {
					t.Errorf("%s --json: %s", name, stdout)
				}
			}
		}
	})

	// Neither the password nor any private key line appears anywhere.
	for _, out := range outputs {
		if strings.Contains(out, verifytest.Password) {
			t.Fatalf("output holds the key password:\n%s", out)
		}
		for _, l := range keyLines(t, keys.Dir) {
			if strings.Contains(out, l) {
				t.Fatalf("output holds private key material:\n%s", out)
			}
		}
	}
}

// oneJSON decodes stdout, which must hold exactly one JSON document.
func oneJSON(t *testing.T, stdout string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON document:\n%s", stdout)
	}
	return doc
}

// jsonChecks returns the report's checks, each exactly
// {"check","file","ok"[,"detail"]}.
func jsonChecks(t *testing.T, doc map[string]any) []map[string]any {
	t.Helper()
	raw, ok := doc["checks"].([]any)
	if !ok {
		t.Fatalf("no checks array in %v", doc)
	}
	var out []map[string]any
	for _, r := range raw {
		c, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("check %v is not an object", r)
		}
		var keys []string
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if k := strings.Join(keys, ","); k != "check,detail,file,ok" && k != "check,file,ok" {
			t.Errorf("check has fields %s", k)
		}
		if _, ok := c["ok"].(bool); !ok {
			t.Errorf("check ok is %T", c["ok"])
		}
		out = append(out, c)
	}
	return out
}
