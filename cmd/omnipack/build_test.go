package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// TestSignedBuildWarnsWithoutBaseURL checks that a signed build whose
// install.sh has no base URL says so on stderr, naming the key to set and
// the installer's flags, in text and with --json (whose stdout stays one
// JSON document), and that neither a build with base_url set nor an
// unsigned build (which writes no install.sh) does.
func TestSignedBuildWarnsWithoutBaseURL(t *testing.T) {
	keys, err := verifytest.NewKeySet(filepath.Join(t.TempDir(), "keys"), "probe")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(signing.PasswordEnv, verifytest.Password)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	withURL := strings.Replace(validConfig, `archs = ["amd64"]`,
		"archs = [\"amd64\"]\n\n[installer]\nbase_url = \"https://downloads.example.com/probe\"", 1)
	for _, c := range []struct {
		name, cfg          string
		signed, json, warn bool
	}{
		{"no base_url", validConfig, true, false, true},
		{"no base_url, --json", validConfig, true, true, true},
		{"base_url set", withURL, true, false, false},
		{"unsigned", validConfig, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, path := writeProject(t, c.cfg)
			args := []string{"--config", path, "build", "--dist", filepath.Join(dir, "dist")}
			if c.signed {
				args = append(args, "--keys", keys.Dir)
			}
			if c.json {
				args = append([]string{"--json"}, args...)
			}
			code, stdout, stderr := runCmd(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			warned := strings.Contains(stderr, "omnipack: warning: "+pipeline.NoBaseURLWarning)
			if warned != c.warn {
				t.Errorf("warned %v, want %v; stderr:\n%s", warned, c.warn, stderr)
			}
			for _, want := range []string{"[installer] base_url", "--base-url URL", "--offline DIR"} {
				if c.warn && !strings.Contains(stderr, want) {
					t.Errorf("the warning does not name %s:\n%s", want, stderr)
				}
			}
			if strings.Contains(stdout, "warning") {
				t.Errorf("the warning went to stdout:\n%s", stdout)
			}
			if c.json {
				var rep map[string]any
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep["ok"] != true {
					t.Errorf("--json stdout is not the report alone: %v\n%s", err, stdout)
				}
			}
		})
	}
}
