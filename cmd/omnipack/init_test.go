package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitWritesAValidConfig checks that omnipack init's output validates
// as written, with paths relative to the config file wherever init is run
// from, and that init never overwrites without --force.
func TestInitWritesAValidConfig(t *testing.T) {
	for _, src := range []string{"cmd/agent", "agent-bin"} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "cmd/agent"), 0o755)
		os.WriteFile(filepath.Join(dir, "agent-bin"), []byte("\x7fELF"), 0o755)
		cfg := filepath.Join(dir, "etc", "omnipack.toml")
		os.MkdirAll(filepath.Dir(cfg), 0o755)
		src = filepath.Join(dir, src)
		var stdout, stderr bytes.Buffer
		code := run([]string{"--config", cfg, "init", "--name", "my-agent", src}, &stdout, &stderr)
		if code != exitOK {
			t.Fatalf("init %s: exit %d: %s", src, code, stderr.String())
		}
		if code := run([]string{"--config", cfg, "validate"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("init %s wrote a config that does not validate: %s", src, stderr.String())
		}
		stderr.Reset()
		if code := run([]string{"--config", cfg, "init", src}, &stdout, &stderr); code != exitInput || !strings.Contains(stderr.String(), "--force") {
			t.Errorf("init over an existing config: exit %d, %s", code, stderr.String())
		}
	}
}
