package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crashwatch.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	path := writeConfig(t, `
auth_key = "k3y"
node_id = "web-01"
source = "/var/log/kern.log"
output = "/var/log/crashwatch/events.jsonl"
retry_interval = "250ms"
from_start = true
`)
	got, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		AuthKey:       "k3y",
		NodeID:        "web-01",
		Source:        "/var/log/kern.log",
		Output:        "/var/log/crashwatch/events.jsonl",
		RetryInterval: 250 * time.Millisecond,
		FromStart:     true,
	}
	if got != want {
		t.Errorf("loadConfig = %+v, want %+v", got, want)
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	host, _ := os.Hostname()
	got, err := loadConfig(writeConfig(t, `auth_key = ""`))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{NodeID: host, Source: "/dev/kmsg", Output: "stdout", RetryInterval: 5 * time.Second}
	if got != want {
		t.Errorf("loadConfig = %+v, want %+v", got, want)
	}
}

// The config shipped in packages must load as it is.
func TestShippedConfig(t *testing.T) {
	cfg, err := loadConfig("crashwatch.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuthKey != "" || cfg.Source != "/dev/kmsg" || cfg.Output != "stdout" || cfg.RetryInterval != 5*time.Second || cfg.FromStart {
		t.Errorf("shipped config = %+v, want the defaults and an empty auth_key", cfg)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // all must appear in the error
	}{
		{"unknown key", "auth_key = \"k\"\nnodeid = \"x\"\n", []string{`unknown key "nodeid"`}},
		{"unknown table", "auth_key = \"k\"\n[extra]\nx = 1\n", []string{`unknown key "extra"`}},
		{"wrong type", "auth_key = \"k\"\nnode_id = 5\n", []string{"line 2", `"node_id"`, "incompatible types"}},
		{"wrong type bool", "auth_key = \"k\"\nfrom_start = \"yes\"\n", []string{`"from_start"`}},
		{"auth_key not a string", "auth_key = 1234\n", []string{`"auth_key"`}},
		{"missing auth_key", "node_id = \"x\"\n", []string{`missing required key "auth_key"`}},
		{"bad duration", "auth_key = \"k\"\nretry_interval = \"soon\"\n", []string{`"retry_interval"`, `"soon"`}},
		{"zero duration", "auth_key = \"k\"\nretry_interval = \"0s\"\n", []string{`"retry_interval"`}},
		{"duration as number", "auth_key = \"k\"\nretry_interval = 5\n", []string{`"retry_interval"`}},
		{"relative source", "auth_key = \"k\"\nsource = \"kern.log\"\n", []string{`"source"`}},
		{"relative output", "auth_key = \"k\"\noutput = \"events.jsonl\"\n", []string{`"output"`}},
		{"syntax", "auth_key = \"k\n", []string{"line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.text)
			_, err := loadConfig(path)
			if err == nil {
				t.Fatal("loadConfig succeeded, want an error")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := loadConfig(path)
	if err == nil || err.Error() != "config "+path+": no such file or directory" {
		t.Errorf("loadConfig(missing) error = %v", err)
	}
}
