package host

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBoot boots every booting variant and asks the init itself whether it
// is up. Two run at a time (go test's default -parallel is GOMAXPROCS).
func TestBoot(t *testing.T) {
	RequireRoot(t)
	checks := map[Variant]func(t *testing.T, h *Host){
		Systemd: func(t *testing.T, h *Host) {
			// is-system-running exits non-zero for degraded.
			out, _ := h.Run(t, "systemctl is-system-running")
			if s := strings.TrimSpace(out); s != "running" && s != "degraded" {
				t.Errorf("systemctl is-system-running = %q, want running or degraded\n%s",
					s, h.MustRun(t, "systemctl --failed --no-pager || true"))
			}
			wantComm(t, h, "systemd")
		},
		OpenRC: func(t *testing.T, h *Host) {
			if out := strings.TrimSpace(h.MustRun(t, "rc-status --runlevel")); out != "default" {
				t.Errorf("rc-status --runlevel = %q, want default", out)
			}
			if out := strings.TrimSpace(h.MustRun(t, "cat /run/openrc/softlevel")); out != "default" {
				t.Errorf("/run/openrc/softlevel = %q, want default", out)
			}
			wantComm(t, h, "init")
		},
		SysVinit: func(t *testing.T, h *Host) {
			if out := strings.TrimSpace(h.MustRun(t, "runlevel")); out != "N 2" {
				t.Errorf("runlevel = %q, want N 2", out)
			}
			if out := h.MustRun(t, "ls /run/openrc 2>&1 || true"); !strings.Contains(out, "No such file") {
				t.Errorf("plain sysvinit host runs OpenRC: %s", out)
			}
			wantComm(t, h, "init")
		},
		Runit: func(t *testing.T, h *Host) {
			out := h.MustRun(t, "sv status /etc/service/default-syslog")
			if !strings.HasPrefix(out, "run: ") {
				t.Errorf("sv status = %q, want run: ...", out)
			}
			if ps := h.MustRun(t, "ps -e -o comm="); !strings.Contains(ps, "runsvdir") {
				t.Errorf("no runsvdir in ps:\n%s", ps)
			}
			wantComm(t, h, "runit")
		},
	}
	for _, v := range Booting {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			h := New(t, v)
			checks[v](t, h)
			if got := strings.TrimSpace(h.MustRun(t, "hostname")); got != h.Name() {
				t.Errorf("hostname = %q, want %q", got, h.Name())
			}
			testRunExitCode(t, h)
			testCopyIn(t, h)
			testBackground(t, h)
			testBounds(t, h)
		})
	}
}

func TestNoInit(t *testing.T) {
	RequireRoot(t)
	h := New(t, NoInit)
	comm := strings.TrimSpace(h.MustRun(t, "cat /proc/1/comm"))
	switch comm {
	case "systemd", "init", "runit", "openrc-init", "runsvdir":
		t.Errorf("noinit host runs an init as PID 1: %q", comm)
	}
	if comm != "sh" {
		t.Errorf("/proc/1/comm = %q, want the command's own sh", comm)
	}
	if _, err := os.Stat(filepath.Join(h.Root(), "sbin/init")); err == nil {
		t.Errorf("noinit root has /sbin/init")
	}
	testRunExitCode(t, h)
	testCopyIn(t, h)
}

func wantComm(t *testing.T, h *Host, want string) {
	t.Helper()
	if got := strings.TrimSpace(h.MustRun(t, "cat /proc/1/comm")); got != want {
		t.Errorf("/proc/1/comm = %q, want %q", got, want)
	}
}

func testRunExitCode(t *testing.T, h *Host) {
	t.Helper()
	out, err := h.Run(t, "echo to-stdout; echo to-stderr >&2; exit 7")
	if err == nil {
		t.Fatalf("Run(exit 7) returned no error")
	}
	if code := ExitCode(err); code != 7 {
		t.Errorf("ExitCode = %d (%v), want 7", code, err)
	}
	if !strings.Contains(out, "to-stdout") || !strings.Contains(out, "to-stderr") {
		t.Errorf("output %q lacks stdout or stderr", out)
	}
	if _, err := h.Run(t, "true"); err != nil {
		t.Errorf("Run(true): %v", err)
	}
}

func testCopyIn(t *testing.T, h *Host) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(src, []byte("hello from the machine\n"), 0o750); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/var/tmp/omnipack/payload"}
	if h.Variant() != NoInit {
		paths = append(paths, "/tmp/omnipack/payload") // the container's tmpfs
	}
	for _, p := range paths {
		h.CopyIn(t, src, p)
		out := h.MustRun(t, "stat -c %a "+p+" && cat "+p)
		if out != "750\nhello from the machine\n" {
			t.Errorf("%s in the container: %q", p, out)
		}
	}
}

// testBounds checks that a command has the bounding set of the container's
// init, which lacks CAP_SYSLOG (bit 34), as a shell in the container would.
func testBounds(t *testing.T, h *Host) {
	t.Helper()
	out := h.MustRun(t, "sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status /proc/1/status")
	f := strings.Fields(out)
	if len(f) != 2 || f[0] != f[1] {
		t.Fatalf("bounding sets of a command and of the init: %q, want two equal", out)
	}
	if mask, err := strconv.ParseUint(f[0], 16, 64); err != nil || mask&(1<<34) != 0 {
		t.Errorf("the container's bounding set %s holds CAP_SYSLOG: nspawn's default should not", f[0])
	}
}

// testBackground checks that Run returns when the shell exits even though a
// process it started still holds its stdout.
func testBackground(t *testing.T, h *Host) {
	t.Helper()
	start := time.Now()
	pid := strings.TrimSpace(h.MustRun(t, "sleep 600 & echo $!"))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run with a background process took %v", d)
	}
	// By its pid, not by pgrep -x sleep: the shell has forked the child
	// when Run returns, but the child may not have exec'd sleep yet.
	if out, err := h.Run(t, "kill -0 "+pid); err != nil {
		t.Errorf("background process %s did not outlive Run: %v %s", pid, err, out)
	}
}

func TestRunTimeout(t *testing.T) {
	RequireRoot(t)
	h := New(t, NoInit, WithRunTimeout(2*time.Second))
	start := time.Now()
	_, err := h.Run(t, "sleep 60")
	if err == nil || ExitCode(err) != -1 {
		t.Errorf("Run(sleep 60) with a 2 s timeout: err = %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestCacheKeys(t *testing.T) {
	plain := ImageTarball(Systemd)
	extra := ImageTarball(Systemd, WithPackages("pacman-package-manager"))
	same := ImageTarball(Systemd, WithPackages("pacman-package-manager", "pacman-package-manager"))
	if plain == extra {
		t.Errorf("extra packages do not change the cache key: %s", plain)
	}
	if extra != same {
		t.Errorf("duplicate package changes the cache key: %s vs %s", extra, same)
	}
	if ImageTarball(NoInit) != BaseTarball() {
		t.Errorf("noinit without extras should be the base tarball")
	}
	if ImageTarball(OpenRC) == ImageTarball(SysVinit) {
		t.Errorf("openrc and sysvinit share a cache key")
	}
	for _, p := range []string{plain, extra, BaseTarball()} {
		if filepath.Dir(p) != CacheDir() {
			t.Errorf("%s is not under %s", p, CacheDir())
		}
	}
}

// TestLocalDeb installs a .deb built on the spot with `apt-get install
// ./x.deb`, the way the real-host tier installs omnipack's packages.
func TestLocalDeb(t *testing.T) {
	RequireRoot(t)
	h := New(t, SysVinit)
	h.MustRun(t, `set -e
d=/var/tmp/pkg
mkdir -p $d/DEBIAN $d/usr/bin
printf 'Package: omnipack-e2e-probe\nVersion: 1.0\nArchitecture: all\nMaintainer: e2e <e2e@localhost>\nDepends: procps\nDescription: probe\n' >$d/DEBIAN/control
printf '#!/bin/sh\necho probe-ok\n' >$d/usr/bin/omnipack-e2e-probe
chmod 755 $d/usr/bin/omnipack-e2e-probe
dpkg-deb --build --root-owner-group $d /var/tmp/probe.deb >/dev/null`)
	h.MustRun(t, "apt-get install -y -q /var/tmp/probe.deb")
	if out := h.MustRun(t, "omnipack-e2e-probe"); out != "probe-ok\n" {
		t.Errorf("installed probe printed %q", out)
	}
}

// TestExtraPackages boots the systemd variant with pacman, as the Arch
// tests do.
func TestExtraPackages(t *testing.T) {
	RequireRoot(t)
	h := New(t, Systemd, WithPackages("pacman-package-manager"))
	h.MustRun(t, "pacman --version")
	if _, err := h.Run(t, "command -v pacman"); err != nil {
		t.Errorf("pacman missing: %v", err)
	}
}
