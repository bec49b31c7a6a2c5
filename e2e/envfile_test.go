package e2e

// The real-host tier of --set env.NAME=VALUE: install.sh and omnipack
// install write the environment file of a release built with [service]
// environment_file = true, and the init hands the value to the daemon.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/pipeline"
)

// Values that need every kind of escaping in the environment file: each
// must reach the daemon exactly, through systemd's EnvironmentFile= and
// through a shell init's ". FILE".
const (
	envNoteSh = `sh set: two  spaces "double" 'single' $HOME ${PATH} \back\\slash ` + "`tick`" + ` #hash ü`
	envNoteGo = `go set: $(id) "q" \ ` + "``" + ` 'x'`
	envToken  = "env-SECRET-4b2e"
	envFile   = "/etc/default/" + agent // the deb's
)

// newEnvFixture builds the example, deb only, signed, with [service]
// environment_file = true, a declared default for E2E_NOTE, and the
// variable E2E_TOKEN among [installer] secrets.
func newEnvFixture(t *testing.T) *installFixture {
	t.Helper()
	work := t.TempDir()
	fx := &installFixture{work: work, srv: newReleaseServer()}
	t.Cleanup(fx.srv.Close)
	fx.defaultURL = fx.srv.URL() + "/c/0"
	var err error
	if fx.keys, err = makeKeys(filepath.Join(work, "keys")); err != nil {
		t.Fatal(err)
	}
	edit := func(text string) string {
		for _, r := range []struct{ prefix, line string }{
			{"base_url = ", fmt.Sprintf("base_url = %q\nhealth_seconds = 3", fx.defaultURL)},
			{"stop_timeout = ", "stop_timeout = 10\nenvironment_file = true\n\n[service.environment]\nE2E_NOTE = \"shipped default\""},
			{"secrets = ", `secrets = ["auth_key", "env.E2E_TOKEN"]`},
			{"formats = ", `formats = ["deb"]`},
		} {
			if !strings.Contains(text, "\n"+r.prefix) {
				t.Fatalf("the example's omnipack.toml has no line %q…", r.prefix)
			}
			text = replaceLine(text, r.prefix, r.line)
		}
		return text
	}
	now := time.Now()
	if fx.v1, err = buildExampleRelease(work, v1, "", edit, pipeline.Options{Keys: fx.keys, Now: func() time.Time { return now }}); err != nil {
		t.Fatalf("building the release: %v", err)
	}
	if got := fx.v1.m.Artifacts; len(got) == 0 {
		t.Fatal("the release has no artifacts")
	}
	for _, a := range fx.v1.m.Artifacts {
		if a.Format == "deb" && a.EnvironmentFile != envFile {
			t.Fatalf("release.json names %q as the deb's environment file, want %s", a.EnvironmentFile, envFile)
		}
	}
	if fx.installSh, err = os.ReadFile(filepath.Join(fx.v1.dir, "install.sh")); err != nil {
		t.Fatal(err)
	}
	return fx
}

// TestEnvironmentFile, on systemd and on OpenRC (whose init script sources
// the file): install.sh --set env.NAME=VALUE installs and writes the
// environment file (0640 root:crashwatch; the secret never printed) and
// the daemon's own environment, read from /proc/PID/environ, holds the
// value exactly; the same run again changes nothing; omnipack install
// --set env.NAME=VALUE writes another value and restarts the daemon, which
// then holds that one; the two dry runs plan alike; a purge removes the
// file.
func TestEnvironmentFile(t *testing.T) {
	host.RequireRoot(t)
	fx := newEnvFixture(t)
	for i, v := range []host.Variant{host.Systemd, host.OpenRC} {
		ch := fx.srv.channel(i)
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			h := host.New(t, v)
			ch.publish(fx, fx.v1.dir)
			args := "--set auth_key=env-test-key --set env.E2E_NOTE=" + shQuote(envNoteSh) + " --set env.E2E_TOKEN=" + envToken

			out, err := h.Run(t, installCmd("curl", ch, "--dry-run "+args))
			if err != nil {
				t.Fatalf("dry run: %v\n%s", err, out)
			}
			assertDryRunsAgree(t, fx, h, ch, out, args)
			for _, want := range []string{"plan: set-env " + envFile + " E2E_NOTE E2E_TOKEN\n",
				"would set: env.E2E_NOTE=", "env.E2E_TOKEN=<secret> in " + envFile + " (mode 0640, root:" + agent + ")"} {
				if !strings.Contains(out, want) {
					t.Errorf("dry run lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, envToken) {
				t.Errorf("the dry run shows the secret:\n%s", out)
			}
			if _, err := h.Run(t, "test -e "+envFile); err == nil {
				t.Errorf("the dry run wrote %s", envFile)
			}

			// install.sh: the package, then the file, then a restart.
			out = mustInstall(t, h, installCmd("curl", ch, args))
			t.Logf("install:\n%s", out)
			if !strings.Contains(out, "set env.E2E_NOTE=") || strings.Contains(out, envToken) {
				t.Errorf("install output does not say it set the file, or shows the secret:\n%s", out)
			}
			pid := waitRunning(t, h)
			assertSetEnvFile(t, h)
			assertDaemonEnv(t, h, pid, map[string]string{"E2E_NOTE": envNoteSh, "E2E_TOKEN": envToken})
			if hits, err := h.Run(t, "grep -lsF -f "+needle(t, h, envToken)+" /proc/[0-9]*/cmdline"); err == nil {
				t.Errorf("the secret is in the arguments of: %s", hits)
			}

			// The same again: the file is not rewritten, nothing restarts.
			before := h.MustRun(t, "stat -c '%i %Y' "+envFile)
			out = mustInstall(t, h, installCmd("curl", ch, args))
			if !strings.Contains(out, envFile+" already has") || strings.Contains(out, "restart") {
				t.Errorf("second run:\n%s", out)
			}
			if after := h.MustRun(t, "stat -c '%i %Y' "+envFile); after != before {
				t.Errorf("second run rewrote %s", envFile)
			}
			if again := waitRunning(t, h); again != pid {
				t.Errorf("second run restarted the daemon (%s, now %s)", pid, again)
			}

			// omnipack install: another value, a restart, the new value.
			out, err = h.Run(t, "omnipack install --key /var/tmp/release.pub --set env.E2E_NOTE="+shQuote(envNoteGo)+" "+ch.URL+" 2>&1")
			t.Logf("omnipack install:\n%s", out)
			if err != nil {
				t.Fatalf("omnipack install: %v", err)
			}
			if !strings.Contains(out, "env.E2E_NOTE=<set>") || strings.Contains(out, "go set") {
				t.Errorf("omnipack install shows the value or not the key:\n%s", out)
			}
			pid2 := waitRunningNot(t, h, pid)
			assertSetEnvFile(t, h)
			assertDaemonEnv(t, h, pid2, map[string]string{"E2E_NOTE": envNoteGo, "E2E_TOKEN": envToken})

			// A purge of the deb removes its environment file too.
			mustInstall(t, h, installCmd("curl", ch, "--uninstall --purge"))
			if _, err := h.Run(t, "test -e "+envFile); err == nil {
				t.Errorf("--uninstall --purge left %s", envFile)
			}
		})
	}
}

// assertSetEnvFile: crashwatch's environment file is 0640 root:crashwatch,
// as the package ships it, with its comments kept.
func assertSetEnvFile(t *testing.T, h *host.Host) {
	t.Helper()
	if got := strings.TrimSpace(h.MustRun(t, "stat -c '%a %U %G' "+envFile)); got != "640 root "+agent {
		t.Errorf("%s is %q, want 640 root %s", envFile, got, agent)
	}
	if body := h.MustRun(t, "cat "+envFile); !strings.Contains(body, "# Settings for "+agent) || !strings.Contains(body, "#E2E_NOTE=\"shipped default\"") {
		t.Errorf("%s lost the shipped comments:\n%s", envFile, body)
	}
}

// assertDaemonEnv reads the environment the init gave the daemon, pid,
// from /proc/PID/environ and compares the variables exactly.
func assertDaemonEnv(t *testing.T, h *host.Host, pid string, want map[string]string) {
	t.Helper()
	environ := h.MustRun(t, "cat /proc/"+pid+"/environ")
	got := map[string]string{}
	for _, kv := range strings.Split(environ, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			got[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("on %s the daemon has %s=%q, want %q", h.Variant(), k, got[k], v)
		}
	}
}

// shQuote quotes s as one sh word.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
