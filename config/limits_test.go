package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
)

func TestParseMemorySize(t *testing.T) {
	for _, c := range []struct {
		in   any
		want uint64 // 0: refused
	}{
		{int64(268435456), 268435456}, {"268435456", 268435456}, {"1", 1},
		{"1K", 1 << 10}, {"256M", 256 << 20}, {"2G", 2 << 30}, {"3T", 3 << 40},
		{"8388607T", 8388607 << 40},
		{"8388608T", 0}, {"99999999999999999999", 0}, {int64(-1), 0}, {int64(0), 0}, {"0M", 0},
		{"256m", 0}, {"256MB", 0}, {"256 M", 0}, {"1.5G", 0}, {1.5, 0}, {"-1", 0}, {"", 0},
		{"infinity", 0}, {"max", 0}, {"50%", 0}, {true, 0},
	} {
		got, msg, fix := parseMemorySize(c.in)
		if got != c.want {
			t.Errorf("parseMemorySize(%#v) = %d, want %d", c.in, got, c.want)
		}
		if (msg == "") != (c.want != 0) || (fix == "") != (c.want != 0) {
			t.Errorf("parseMemorySize(%#v): message %q, fix %q", c.in, msg, fix)
		}
	}
}

// TestLimitsModel loads [service.limits] and checks the service model the
// renderers get, and that a config without the table sets no limit.
func TestLimitsModel(t *testing.T) {
	const base = `[project]
name = "probe"
version = "1.0.0"
maintainer = "Ops <ops@example.com>"

[binary.prebuilt]
amd64 = "probe"

[targets]
archs = ["amd64"]
inits = ["systemd", "openrc"]
`
	load := func(t *testing.T, cfg string) *Config {
		t.Helper()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "probe"), []byte("#!/bin/sh\n"), 0o755)
		path := filepath.Join(dir, "omnipack.toml")
		os.WriteFile(path, []byte(cfg), 0o644)
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := load(t, base+"\n[service.limits]\nopen_files = 4096\nmemory_max = \"256M\"\ncpu_weight = 50\nnice = 0\n")
	got := c.ServiceModel("deb").Limits
	if got.OpenFiles != 4096 || got.MemoryMax != 256<<20 || got.CPUWeight != 50 || got.Nice == nil || *got.Nice != 0 {
		t.Errorf("limits model %+v (nice %v), want 4096 files, 256 MiB, weight 50, nice 0", got, got.Nice)
	}
	// systemd and OpenRC enforce all of them: nothing to note.
	if len(c.Notes) != 0 {
		t.Errorf("notes %q, want none", c.Notes)
	}
	if got := load(t, base).ServiceModel("deb").Limits; !got.IsZero() {
		t.Errorf("no [service.limits], but limits %+v", got)
	}

	c = load(t, strings.Replace(base, `inits = ["systemd", "openrc"]`, `inits = ["systemd", "runit", "upstart"]`, 1)+"\n[service.limits]\nmemory_max = 1048576\n")
	want := "service.limits: memory_max and cpu_weight are not enforced under runit and upstart, which put a service in no cgroup of its own (open_files and nice are)"
	if len(c.Notes) != 1 || c.Notes[0] != want {
		t.Errorf("notes %q, want [%q]", c.Notes, want)
	}
	if got := c.ServiceModel("deb").Limits; got != (initsys.Limits{MemoryMax: 1 << 20}) {
		t.Errorf("limits model %+v, want only 1 MiB of memory", got)
	}
}
