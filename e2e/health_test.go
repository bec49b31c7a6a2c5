package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/pipeline"
)

// The net_probe variants TestHealth installs.
const (
	// missingLabels is the file the broken variant's args name, which
	// nothing ships or creates: net_probe exits at once, saying why.
	missingLabels = "/srv/" + probe + "/labels.prom"
	// brokenLine is what net_probe prints then.
	brokenLine = probe + ": error: -labels-file: open " + missingLabels + ": no such file or directory"
	// unhealthyLine is what its health command prints when it asks an
	// address file the daemon never writes.
	unhealthyLine = probe + ": unhealthy:"
)

// assertHealthyStart: the package's start check found nothing to say.
func assertHealthyStart(t *testing.T, out string) {
	t.Helper()
	for _, bad := range []string{"warning:", ": last log lines", "unhealthy:"} {
		if strings.Contains(out, bad) {
			t.Errorf("a healthy install says %q:\n%s", bad, out)
		}
	}
}

// buildProbeVariant builds net_probe's deb for amd64 with edit applied to
// its omnipack.toml, and returns it with the config's path.
func buildProbeVariant(t *testing.T, name string, edit func(string) string) (deb, cfgPath string) {
	t.Helper()
	work := t.TempDir()
	cfgPath, err := prepareExampleOf("../examples/net_probe", filepath.Join(work, "src"), func(text string) string {
		return strings.Replace(edit(text), `formats = ["deb", "rpm", "apk", "archlinux", "tarball", "oci"]`, `formats = ["deb"]`, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	dist := filepath.Join(work, "dist")
	m, err := pipeline.Run(context.Background(), pipeline.Options{Config: cfg, DistDir: dist})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	r := &release{dir: dist, m: m}
	return r.artifact(t, "deb"), cfgPath
}

// replaceIn replaces old in text, which must hold it.
func replaceIn(t *testing.T, text, old, new string) string {
	t.Helper()
	if !strings.Contains(text, old) {
		t.Fatalf("examples/net_probe/omnipack.toml no longer holds %q", old)
	}
	return strings.Replace(text, old, new, 1)
}

// TestHealth: net_probe with a path in args that no host has exits at
// once with its own error line. omnipack validate warns of the path
// beforehand; then on each of the four real-host inits dpkg -i succeeds,
// and its output has the start check's warning and net_probe's own error
// line (from the journal, OpenRC's and sysvinit's log file, svlogd's). A
// net_probe that runs but whose health command fails gets the warning
// with the command's output. (TestFlagAgent holds a healthy install to no
// warning.)
func TestHealth(t *testing.T) {
	host.RequireRoot(t)
	brokenDeb, brokenCfg := buildProbeVariant(t, "broken", func(text string) string {
		return replaceIn(t, text, `"-labels-file", "/etc/net_probe/labels.prom"`, `"-labels-file", "`+missingLabels+`"`)
	})
	unhealthyDeb, _ := buildProbeVariant(t, "unhealthy", func(text string) string {
		return replaceIn(t, text, `health_command = ["net_probe", "-check", "-addr-file", "/run/net_probe/listen"]`,
			`health_command = ["net_probe", "-check", "-addr-file", "/run/net_probe/not-written"]`)
	})

	t.Run("validate", func(t *testing.T) {
		out, err := exec.Command(omnipackCLI(t), "--config", brokenCfg, "validate").CombinedOutput()
		if err != nil {
			t.Fatalf("validate: %v\n%s", err, out)
		}
		want := "service.args[5]: " + missingLabels + " is neither shipped nor created by the package"
		if !strings.Contains(string(out), "warning: "+brokenCfg) || !strings.Contains(string(out), want) {
			t.Errorf("validate does not warn %q:\n%s", want, out)
		}
	})

	for _, v := range host.Booting {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			h := host.New(t, v, host.WithPrivateNetwork())

			pkg := copyPackage(t, h, brokenDeb)
			out, err := h.Run(t, "dpkg -i "+pkg+" 2>&1")
			t.Logf("install of the broken net_probe:\n%s", out)
			if err != nil {
				t.Fatalf("dpkg -i failed (exit %d): a failed start must not fail the install", host.ExitCode(err))
			}
			if !strings.Contains(out, probe+": warning: the service") {
				t.Errorf("the install does not warn that the service is not running")
			}
			if !strings.Contains(out, brokenLine) {
				t.Errorf("the install does not show net_probe's own error line %q", brokenLine)
			}
			h.MustRun(t, "dpkg -P "+probePackage)
			if _, err := h.Run(t, "pgrep -x "+probe); err == nil {
				t.Errorf("net_probe still runs after purge")
			}

			pkg = copyPackage(t, h, unhealthyDeb)
			out, err = h.Run(t, "dpkg -i "+pkg+" 2>&1")
			t.Logf("install of the net_probe whose health command fails:\n%s", out)
			if err != nil {
				t.Fatalf("dpkg -i failed (exit %d): a failed health command must not fail the install", host.ExitCode(err))
			}
			want := probe + ": warning: the service started, but its health command (/usr/bin/" + probe + " -check -addr-file /run/" + probe + "/not-written) exited with status 1"
			if !strings.Contains(out, want) {
				t.Errorf("the install does not say %q", want)
			}
			if !strings.Contains(out, unhealthyLine) {
				t.Errorf("the install does not show the health command's output %q", unhealthyLine)
			}
			// It runs all the same: only the probe failed.
			waitProbe(t, h, "")
		})
	}
}
