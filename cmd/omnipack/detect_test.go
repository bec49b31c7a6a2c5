package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// detectRoot makes a root file system holding only an os-release.
func detectRoot(t *testing.T, osRelease string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte(osRelease), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestDetectJSON(t *testing.T) {
	root := detectRoot(t, "ID=alpine\nVERSION_ID=3.20.3\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"detect", "--root", root, "--json"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	for key, want := range map[string]any{
		"ok":              true,
		"package_format":  "apk",
		"package_manager": "apk",
		"distro_id":       "alpine",
		"distro_version":  "3.20.3",
		"distro_like":     []any{},
		// A tree cannot show what runs or who runs the installer.
		"init":      "unknown",
		"privilege": "unknown",
	} {
		if g, _ := json.Marshal(got[key]); string(g) != mustJSON(t, want) {
			t.Errorf("%s = %s, want %s", key, g, mustJSON(t, want))
		}
	}
	for _, key := range []string{"root", "arch", "libc", "container"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON lacks %s:\n%s", key, stdout.String())
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDetectText prints the lines detect.sh prints, package line first.
func TestDetectText(t *testing.T) {
	root := detectRoot(t, "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.3\"\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"detect", "--root", root}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "package_format=deb package_manager=apt\n") {
		t.Errorf("no package line first:\n%s", out)
	}
	if !strings.Contains(out, "\ndistro_like=ubuntu debian\n") {
		t.Errorf("no distro_like line:\n%s", out)
	}
}

// TestDetectBadRoot: a root that is not a directory is bad input, exit 2,
// reported in JSON too.
func TestDetectBadRoot(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"detect", "--root", missing}, &stdout, &stderr); code != exitInput {
		t.Fatalf("exit %d, want %d", code, exitInput)
	}
	if !strings.Contains(stderr.String(), missing) || !strings.Contains(stderr.String(), "fix:") {
		t.Errorf("message does not name the root and the fix: %s", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"--json", "detect", "--root", missing}, &stdout, &stderr); code != exitInput {
		t.Fatalf("--json exit %d, want %d", code, exitInput)
	}
	var report errorReportJSON
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil || report.OK || report.Error == "" {
		t.Errorf("want ok=false with an error, got %+v (%v)\n%s", report, err, stdout.String())
	}
}
