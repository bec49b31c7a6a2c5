package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/install/installtest"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify/verifytest"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// badKeys lists the object keys at every depth of a decoded JSON value
// that are not snake_case, with their paths.
func badKeys(v any, path string) []string {
	var bad []string
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if !snakeCase.MatchString(k) {
				bad = append(bad, path+"."+k)
			}
			bad = append(bad, badKeys(child, path+"."+k)...)
		}
	case []any:
		for _, child := range v {
			bad = append(bad, badKeys(child, path+"[]")...)
		}
	}
	sort.Strings(bad)
	return bad
}

// TestJSONShape runs every command with --json, succeeding and failing,
// and checks the one shape they share: one JSON object on stdout, a
// boolean "ok" at the top, on failure an "error" string (and "problems"
// for a bad config), and snake_case keys at every depth.
func TestJSONShape(t *testing.T) {
	root := t.TempDir()
	t.Setenv(signing.PasswordEnv, verifytest.Password)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir, cfg := writeProject(t, validConfig)
	keys := filepath.Join(root, "keys")
	dist := filepath.Join(dir, "dist")
	tampered := filepath.Join(root, "tampered")
	fedora := installtest.Tree(t, "ID=fedora\nVERSION_ID=41\n")
	badCfg := filepath.Join(root, "bad.toml")
	os.WriteFile(badCfg, []byte("[project]\nname = \"Bad Name\"\n"), 0o644)
	initDir := filepath.Join(root, "init")
	os.MkdirAll(initDir, 0o755)
	os.WriteFile(filepath.Join(initDir, "go.mod"), []byte("module example.com/agent\n"), 0o644)

	steps := []struct {
		name     string
		args     []string
		ok       bool
		problems bool             // a failure reports the config's problems
		then     func(*testing.T) // prepares the next steps
	}{
		{"init", []string{"--config", filepath.Join(initDir, "omnipack.toml"), "init", initDir}, true, false, nil},
		{"init over a config", []string{"--config", filepath.Join(initDir, "omnipack.toml"), "init", initDir}, false, false, nil},
		{"validate", []string{"--config", cfg, "validate"}, true, false, nil},
		{"validate a bad config", []string{"--config", badCfg, "validate"}, false, true, nil},
		{"keygen", []string{"keygen", "--dir", keys}, true, false, nil},
		{"keygen over keys", []string{"keygen", "--dir", keys}, false, false, nil},
		{"build", []string{"--config", cfg, "build", "--keys", keys, "--dist", dist}, true, false, func(t *testing.T) {
			if err := verifytest.Copy(dist, tampered); err != nil {
				t.Fatal(err)
			}
			sums := filepath.Join(tampered, "SHA256SUMS")
			data, _ := os.ReadFile(sums)
			os.WriteFile(sums, append(data, '\n'), 0o644)
		}},
		{"build a bad config", []string{"--config", badCfg, "build"}, false, true, nil},
		{"resign", []string{"--config", cfg, "resign", "--keys", keys, "--dist", dist}, true, false, nil},
		{"resign without keys", []string{"--config", cfg, "resign", "--keys", filepath.Join(root, "nokeys"), "--dist", dist}, false, false, nil},
		{"verify", []string{"verify", "--key", filepath.Join(keys, signing.ReleasePubFile), dist}, true, false, nil},
		{"verify a tampered release", []string{"verify", "--key", filepath.Join(keys, signing.ReleasePubFile), tampered}, false, false, nil},
		{"verify nothing", []string{"verify", "--key", filepath.Join(keys, signing.ReleasePubFile), filepath.Join(root, "nothing")}, false, false, nil},
		{"detect", []string{"detect", "--root", fedora}, true, false, nil},
		{"detect a file", []string{"detect", "--root", cfg}, false, false, nil},
		{"install", []string{"install", "--dry-run", "--key", filepath.Join(keys, signing.ReleasePubFile), "--root", fedora, dist}, true, false, nil},
		{"install without a key", []string{"install", "--dry-run", "--root", fedora, dist}, false, false, nil},
		{"bundle", []string{"bundle", "--dist", dist, "--out", filepath.Join(root, "bundle")}, true, false, nil},
		{"bundle without --out", []string{"bundle", "--dist", dist}, false, false, nil},
		{"unknown flag", []string{"build", "--no-such-flag"}, false, false, nil},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"--json"}, s.args...)...)
			if (code == exitOK) != s.ok {
				t.Fatalf("exit %d, want success %v\n%s%s", code, s.ok, stdout, stderr)
			}
			doc := oneJSON(t, stdout)
			if got, isBool := doc["ok"].(bool); !isBool || got != s.ok {
				t.Errorf(`top-level "ok" is %v, want %v`, doc["ok"], s.ok)
			}
			if msg, _ := doc["error"].(string); !s.ok && msg == "" {
				t.Errorf(`a failure has no "error" message: %s`, stdout)
			}
			if _, has := doc["error"]; s.ok && has {
				t.Errorf(`a success has an "error": %s`, stdout)
			}
			if ps, _ := doc["problems"].([]any); s.problems && len(ps) == 0 {
				t.Errorf(`a bad config has no "problems": %s`, stdout)
			}
			if bad := badKeys(doc, ""); len(bad) > 0 {
				t.Errorf("keys that are not snake_case: %s", strings.Join(bad, ", "))
			}
			if s.then != nil {
				s.then(t)
			}
		})
		if !ok && s.then != nil {
			t.FailNow() // later steps need this one
		}
	}
}

// TestBadKeysFindsEveryDepth keeps TestJSONShape honest: a Go field name
// or camelCase key anywhere in a document is reported.
func TestBadKeysFindsEveryDepth(t *testing.T) {
	doc := map[string]any{"ok": true, "problems": []any{map[string]any{"File": "x", "line": 1}},
		"release": map[string]any{"keys": map[string]any{"apkKeyName": "k", "sha256": "s"}}}
	if got := strings.Join(badKeys(doc, ""), " "); got != ".problems[].File .release.keys.apkKeyName" {
		t.Errorf("badKeys = %q", got)
	}
}
