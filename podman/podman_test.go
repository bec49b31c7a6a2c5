package podman

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Quadlet is the generator of Debian 13's podman, which .ci/prereqs puts
// here: Debian 12's podman has none.
const Quadlet = "/var/cache/omnipack-tools/quadlet"

func example() Unit {
	return Unit{Name: "crashwatch", Description: "crashwatch in its container",
		Image: "ghcr.io/vendor/crashwatch@sha256:" + strings.Repeat("ab", 32), Capabilities: []string{"CAP_SYSLOG"},
		ConfigDir: "/etc/crashwatch", StateDirs: []string{"/var/lib/crashwatch"}, HostPaths: []string{"/dev/kmsg", "/var/log/kern.log"},
		HostNetwork: true, OpenFiles: 4096, HealthCommand: []string{"/usr/bin/crashwatch", "-check-config"},
		Restart: "always", RestartSec: 2, StopTimeout: 10}
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found; install it (.ci/prereqs) to run this test", tool)
		}
	}
}

// verify runs systemd-analyze verify on a unit file.
func verify(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", filepath.Base(path), err, out)
	}
}

// TestQuadletAcceptsTheContainerFile: Debian 13's quadlet turns the
// .container file into a unit (it refuses unknown keys), the unit passes
// systemd-analyze verify, and its podman run carries every setting.
func TestQuadletAcceptsTheContainerFile(t *testing.T) {
	need(t, Quadlet, "systemd-analyze", "/usr/bin/podman")
	u := example()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, u.QuadletFile()), u.Quadlet(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Quadlet, "-dryrun", "-no-kmsg-log")
	cmd.Env = append(os.Environ(), "QUADLET_UNIT_DIRS="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "unsupported key") || !strings.Contains(string(out), "---crashwatch.service---") {
		t.Fatalf("quadlet -dryrun: %v\n%s\n%s", err, u.Quadlet(), out)
	}
	_, unit, _ := strings.Cut(string(out), "---crashwatch.service---\n")
	for _, want := range []string{"--read-only", "--cap-drop all", "--cap-add cap_syslog", "--network host",
		"-v /etc/crashwatch:/etc/crashwatch:ro", "--device /dev/kmsg:/dev/kmsg:r", "--ulimit nofile=4096:4096",
		`--health-cmd "[\"/usr/bin/crashwatch\",\"-check-config\"]"`, "Restart=always", u.Image} {
		if !strings.Contains(unit, want) {
			t.Errorf("quadlet's unit lacks %q:\n%s", want, unit)
		}
	}
	gen := filepath.Join(t.TempDir(), "crashwatch.service")
	if err := os.WriteFile(gen, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	verify(t, gen)
}

// TestPlainUnitVerifies: the plain unit passes systemd-analyze verify and
// runs podman with every setting.
func TestPlainUnitVerifies(t *testing.T) {
	need(t, "systemd-analyze", "/usr/bin/podman")
	u := example()
	p := filepath.Join(t.TempDir(), u.UnitFile())
	if err := os.WriteFile(p, u.Plain(), 0o644); err != nil {
		t.Fatal(err)
	}
	verify(t, p)
	for _, want := range []string{"--read-only", "--cap-drop=all", "--cap-add=CAP_SYSLOG", "--network=host",
		"--volume=/etc/crashwatch:/etc/crashwatch:ro", "--volume=crashwatch-state-0:/var/lib/crashwatch", "--device=/dev/kmsg:/dev/kmsg:r",
		"--volume=/var/log/kern.log:/var/log/kern.log:ro", `'--health-cmd=["/usr/bin/crashwatch","-check-config"]'`, "Restart=always", "RestartSec=2"} {
		if !strings.Contains(string(u.Plain()), want) {
			t.Errorf("the unit lacks %q:\n%s", want, u.Plain())
		}
	}
}
