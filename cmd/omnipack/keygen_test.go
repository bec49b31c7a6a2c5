package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/signing"
)

const keygenPassword = "keygen test password"

func keygen(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"keygen"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// keyLines is every line of private key material in dir's private key
// files.
func keyLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	for _, name := range []string{signing.ReleaseKeyFile, signing.PGPKeyFile, signing.APKKeyFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); len(l) >= 16 && !strings.HasPrefix(l, "-----") {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// assertNoSecrets fails if any output holds the password or key material
// from any of dirs.
func assertNoSecrets(t *testing.T, outputs []string, dirs ...string) {
	t.Helper()
	for _, out := range outputs {
		if strings.Contains(out, keygenPassword) {
			t.Fatalf("output holds the password:\n%s", out)
		}
		for _, dir := range dirs {
			for _, l := range keyLines(t, dir) {
				if strings.Contains(out, l) {
					t.Fatalf("output holds private key material:\n%s", out)
				}
			}
		}
	}
}

func fingerprints(t *testing.T, dir string) map[string]string {
	t.Helper()
	fps := map[string]string{}
	for _, name := range []string{signing.ReleasePubFile, signing.APKPubFile} {
		pub, err := signing.LoadPublicKey(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fps[name], err = signing.Fingerprint(pub); err != nil {
			t.Fatal(err)
		}
	}
	e, err := signing.LoadPGPEntity(filepath.Join(dir, signing.PGPKeyFile), []byte(keygenPassword))
	if err != nil {
		t.Fatal(err)
	}
	fps[signing.PGPPubFile] = signing.PGPFingerprint(e)
	return fps
}

func TestKeygen(t *testing.T) {
	t.Setenv(signing.PasswordEnv, keygenPassword)
	// In a git checkout that does not ignore the keys, keygen warns.
	root := t.TempDir()
	gitRepo(t, root)("init", "-q")
	dir := filepath.Join(root, "keys")

	code, stdout, stderr := keygen(t, "--dir", dir)
	if code != exitOK {
		t.Fatalf("keygen: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "omnipack: warning: the key directory "+dir+" is inside a git checkout that does not ignore it: add /keys/ to .gitignore") {
		t.Errorf("no warning that git would commit the keys:\n%s", stderr)
	}
	for _, name := range []string{signing.ReleaseKeyFile, signing.PGPKeyFile, signing.APKKeyFile} {
		if m := fileMode(t, filepath.Join(dir, name)); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", name, m)
		}
	}
	first := fingerprints(t, dir)
	for name, fp := range first {
		if m := fileMode(t, filepath.Join(dir, name)); m != 0o644 {
			t.Errorf("%s: mode %04o, want 0644", name, m)
		}
		line := lineWith(stdout, filepath.Join(dir, name))
		if line == "" || !strings.Contains(line, fp) {
			t.Errorf("output does not show %s with fingerprint %s:\n%s", name, fp, stdout)
		}
	}
	assertNoSecrets(t, []string{stdout, stderr}, dir)

	// A second run refuses, before asking for a password, and changes
	// nothing.
	before := snapshot(t, dir)
	code, stdout2, stderr2 := keygen(t, "--dir", dir)
	if code != exitInput {
		t.Fatalf("second keygen: exit %d, want %d\n%s%s", code, exitInput, stdout2, stderr2)
	}
	if !strings.Contains(stderr2, "--force") || !strings.Contains(stderr2, filepath.Join(dir, signing.ReleaseKeyFile)) {
		t.Errorf("refusal does not name the file and --force:\n%s", stderr2)
	}
	if after := snapshot(t, dir); !equalSnapshots(before, after) {
		t.Fatal("a refused keygen changed the key directory")
	}

	code, stdout3, stderr3 := keygen(t, "--dir", dir, "--force", "--json")
	if code != exitOK {
		t.Fatalf("keygen --force: exit %d\n%s%s", code, stdout3, stderr3)
	}
	var report struct {
		OK   bool               `json:"ok"`
		Keys signing.PublicInfo `json:"keys"`
	}
	if err := json.Unmarshal([]byte(stdout3), &report); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout3)
	}
	second := fingerprints(t, dir)
	if !report.OK || report.Keys.Release.Fingerprint != second[signing.ReleasePubFile] ||
		report.Keys.PGP.Fingerprint != second[signing.PGPPubFile] || report.Keys.APK.Fingerprint != second[signing.APKPubFile] ||
		report.Keys.Release.Public != filepath.Join(dir, signing.ReleasePubFile) {
		t.Errorf("--json report %+v does not match the keys written (%v)", report, second)
	}
	for name := range first {
		if first[name] == second[name] {
			t.Errorf("--force kept the old %s", name)
		}
	}
	assertNoSecrets(t, []string{stdout2, stderr2, stdout3, stderr3}, dir)
}

func TestKeygenWithoutPassword(t *testing.T) {
	t.Setenv(signing.PasswordEnv, "")
	os.Unsetenv(signing.PasswordEnv)
	if f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		f.Close()
		t.Skip("running on a terminal: keygen would prompt")
	}
	dir := filepath.Join(t.TempDir(), "keys")
	code, stdout, stderr := keygen(t, "--dir", dir)
	if code != exitInput || !strings.Contains(stderr, "set OMNIPACK_KEY_PASSWORD or run on a terminal") {
		t.Fatalf("keygen without a password: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("keygen without a password created the key directory")
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func equalSnapshots(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestTrackedKeysWarning checks when keygen warns that git would commit
// the private keys: only in a checkout that does not ignore them.
func TestTrackedKeysWarning(t *testing.T) {
	root := t.TempDir()
	nested := filepath.Join(root, "deploy", "keys")
	os.MkdirAll(nested, 0o755)
	if w := trackedKeysWarning(nested); w != "" {
		t.Errorf("outside git: %q", w)
	}
	gitRepo(t, root)("init", "-q")
	if w := trackedKeysWarning(nested); !strings.Contains(w, "add /deploy/keys/ to .gitignore") {
		t.Errorf("not ignored: %q", w)
	}
	os.WriteFile(filepath.Join(root, ".gitignore"), []byte("/deploy/keys/\n"), 0o644)
	if w := trackedKeysWarning(nested); w != "" {
		t.Errorf("ignored: %q", w)
	}
}
