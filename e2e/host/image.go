package host

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Suite is the Debian release every throw-away host runs.
const Suite = "bookworm"

// recipeVersion is mixed into every cache key. Bump it whenever the way a
// base or variant root is built changes in a way the package lists do not
// show (post-install tweaks, debootstrap flags, ...).
const recipeVersion = "1"

// DefaultMirror is the Debian archive debootstrap and apt use while building
// the cached roots. OMNIPACK_E2E_MIRROR overrides it.
const DefaultMirror = "http://deb.debian.org/debian"

// DefaultCacheDir holds the cached root tarballs. OMNIPACK_E2E_CACHE
// overrides it.
const DefaultCacheDir = "/var/cache/omnipack-e2e"

// basePackages are added to debootstrap's minbase. Every variant gets them.
// passwd (useradd) is already part of minbase.
var basePackages = []string{
	"adduser",
	"curl",
	"gpgv",
	"openssl",
	"procps",
	"rpm",
	"wget",
}

// variantPackages are installed on top of the base for each variant.
var variantPackages = map[Variant][]string{
	Systemd:  {"systemd", "systemd-sysv", "dbus"},
	OpenRC:   {"sysvinit-core", "openrc"},
	SysVinit: {"sysvinit-core"},
	Runit:    {"runit-init"},
	NoInit:   nil,
}

// CacheDir returns the directory the root tarballs are cached in.
func CacheDir() string {
	if d := os.Getenv("OMNIPACK_E2E_CACHE"); d != "" {
		return d
	}
	return DefaultCacheDir
}

func mirror() string {
	if m := os.Getenv("OMNIPACK_E2E_MIRROR"); m != "" {
		return m
	}
	return DefaultMirror
}

func key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func baseKey() string {
	return key("base", recipeVersion, Suite, strings.Join(basePackages, ","))
}

// BaseTarball returns the path the base tarball is (or would be) cached at,
// without building it.
func BaseTarball() string {
	return filepath.Join(CacheDir(), fmt.Sprintf("base-%s-%s.tar", Suite, baseKey()))
}

// ImageTarball returns the path the tarball for variant v with the given
// options is (or would be) cached at, without building it. With no extra
// packages, the noinit image is the base tarball itself.
func ImageTarball(v Variant, opts ...Option) string {
	c := newConfig(opts)
	if v == NoInit && len(c.packages) == 0 {
		return BaseTarball()
	}
	pkgs := append(append([]string(nil), variantPackages[v]...), c.packages...)
	k := key("variant", recipeVersion, baseKey(), string(v), strings.Join(pkgs, ","))
	return filepath.Join(CacheDir(), fmt.Sprintf("variant-%s-%s.tar", v, k))
}

// Base makes sure the cached debootstrap minbase root for Suite exists and
// returns the path of its tarball. The first call on a machine builds it
// (debootstrap, about 40-60 s); later calls, in this or any other process,
// reuse it. A lock file serialises concurrent builders.
func Base(t testing.TB) string {
	t.Helper()
	RequireRoot(t)
	out := BaseTarball()
	buildOnce(t, out, func(work, log string) error {
		root := filepath.Join(work, "root")
		args := []string{
			"--variant=minbase",
			"--include=" + strings.Join(basePackages, ","),
			Suite, root, mirror(),
		}
		if err := runLogged(log, 20*time.Minute, "debootstrap", args...); err != nil {
			return err
		}
		// Downloaded .debs are only dead weight in every copy.
		debs, _ := filepath.Glob(filepath.Join(root, "var/cache/apt/archives/*.deb"))
		for _, d := range debs {
			if err := os.Remove(d); err != nil {
				return err
			}
		}
		// debootstrap copies the build machine's hostname.
		if err := os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("omnipack-e2e\n"), 0o644); err != nil {
			return err
		}
		return tarCreate(log, root, work)
	})
	return out
}

// Image makes sure the cached root tarball for variant v (plus any extra
// packages from WithPackages) exists and returns its path. Variants are
// built from the base with apt-get inside a chroot, services prevented from
// starting by a temporary policy-rc.d.
func Image(t testing.TB, v Variant, opts ...Option) string {
	t.Helper()
	RequireRoot(t)
	if _, ok := variantPackages[v]; !ok {
		t.Fatalf("host: unknown variant %q", v)
	}
	for _, p := range newConfig(opts).packages {
		if !pkgName.MatchString(p) {
			t.Fatalf("host: %q is not a Debian package name", p)
		}
	}
	base := Base(t)
	out := ImageTarball(v, opts...)
	if out == base {
		return out
	}
	c := newConfig(opts)
	pkgs := append(append([]string(nil), variantPackages[v]...), c.packages...)
	buildOnce(t, out, func(work, log string) error {
		root := filepath.Join(work, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			return err
		}
		if err := tarExtract(log, base, root); err != nil {
			return err
		}
		policy := filepath.Join(root, "usr/sbin/policy-rc.d")
		if err := os.WriteFile(policy, []byte("#!/bin/sh\n# omnipack e2e image build: start no services\nexit 101\n"), 0o755); err != nil {
			return err
		}
		if resolv, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			// apt needs DNS inside the chroot; booted containers get their
			// own copy from systemd-nspawn anyway.
			p := filepath.Join(root, "etc/resolv.conf")
			_ = os.Remove(p)
			if err := os.WriteFile(p, resolv, 0o644); err != nil {
				return err
			}
		}
		if err := chrootApt(log, root, pkgs); err != nil {
			return err
		}
		if err := os.Remove(policy); err != nil {
			return err
		}
		if err := tweak(root, v); err != nil {
			return err
		}
		return tarCreate(log, root, work)
	})
	return out
}

// chrootApt installs pkgs into root. It runs in a private mount namespace,
// so the /proc mounted for apt disappears with the process even if the
// test binary dies half-way. A chroot (not systemd-nspawn) is used on
// purpose: inside nspawn, ischroot(1) says "not a chroot" and
// sysvinit-core's postinst then waits ~45 s for an init that is not there.
func chrootApt(log, root string, pkgs []string) error {
	script := strings.Join([]string{
		"set -e",
		"apt-get -q -o Acquire::Languages=none update",
		"apt-get -q -y --no-install-recommends install " + strings.Join(pkgs, " "),
		"apt-get clean",
	}, "\n")
	return runLogged(log, 15*time.Minute, "unshare", "--mount", "--propagation", "private",
		"sh", "-c", `mount -t proc proc "$1/proc" && exec chroot "$1" /usr/bin/env -i `+
			`PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 `+
			`DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true sh -c "$2"`,
		"sh", root, script)
}

// tweak adapts a freshly installed variant root to life in a container.
func tweak(root string, v Variant) error {
	// Each booted host gets its own machine ID from systemd-nspawn
	// (--uuid); an empty /etc/machine-id makes systemd use it.
	if fi, err := os.Stat(filepath.Join(root, "etc/machine-id")); err == nil && fi.Mode().IsRegular() {
		if err := os.WriteFile(filepath.Join(root, "etc/machine-id"), nil, 0o444); err != nil {
			return err
		}
	}
	if err := os.Remove(filepath.Join(root, "var/lib/dbus/machine-id")); err != nil && !os.IsNotExist(err) {
		return err
	}
	switch v {
	case OpenRC, SysVinit:
		// There are no /dev/ttyN in the container: gettys on them only
		// respawn "too fast" and spam the console.
		p := filepath.Join(root, "etc/inittab")
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			if len(l) > 1 && l[0] >= '1' && l[0] <= '6' && l[1] == ':' && strings.Contains(l, "getty") {
				lines[i] = "#" + l
			}
		}
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			return err
		}
	case Runit:
		gettys, _ := filepath.Glob(filepath.Join(root, "etc/runit/runsvdir/default/getty-*"))
		for _, g := range gettys {
			if err := os.Remove(g); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildOnce builds out with build unless it exists, holding out+".lock"
// (flock) so that parallel test processes build it once. build gets a
// private work directory on the cache file system and the path of a log
// file; it must leave the tarball at work/root.tar.
func buildOnce(t testing.TB, out string, build func(work, log string) error) {
	t.Helper()
	if _, err := os.Stat(out); err == nil {
		return
	}
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("host: %v", err)
	}
	lock, err := os.OpenFile(out+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("host: %v", err)
	}
	defer lock.Close()
	waited := time.Now()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("host: lock %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(out); err == nil {
		t.Logf("host: %s was built by someone else while we waited %v", filepath.Base(out), time.Since(waited).Round(time.Millisecond))
		return
	}
	name := strings.TrimSuffix(filepath.Base(out), ".tar")
	// We hold the lock: a work directory by this name can only be the
	// leftover of a builder that was killed.
	work := filepath.Join(dir, ".build-"+name)
	if err := os.RemoveAll(work); err != nil {
		t.Fatalf("host: %v", err)
	}
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatalf("host: %v", err)
	}
	defer os.RemoveAll(work)
	log := filepath.Join(dir, name+".log")
	_ = os.Remove(log)
	start := time.Now()
	t.Logf("host: building %s (log: %s)", out, log)
	if err := build(work, log); err != nil {
		t.Fatalf("host: building %s: %v\n%s", filepath.Base(out), err, tail(log, 40))
	}
	if err := os.Rename(filepath.Join(work, "root.tar"), out); err != nil {
		t.Fatalf("host: %v", err)
	}
	t.Logf("host: built %s in %v", filepath.Base(out), time.Since(start).Round(100*time.Millisecond))
}

var tarFlags = []string{"--numeric-owner", "--xattrs", "--xattrs-include=*"}

// tarCreate writes work/root.tar from root.
func tarCreate(log, root, work string) error {
	args := append(append([]string(nil), tarFlags...), "-C", root, "-cf", filepath.Join(work, "root.tar"), ".")
	if err := runLogged(log, 10*time.Minute, "tar", args...); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(work, "root.tar"))
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// tarExtract unpacks tarball into dir, keeping owners, modes and xattrs.
func tarExtract(log, tarball, dir string) error {
	args := append(append([]string(nil), tarFlags...), "-C", dir, "-xpf", tarball)
	return runLogged(log, 10*time.Minute, "tar", args...)
}

// runLogged runs name args with stdout and stderr appended to log.
func runLogged(log string, timeout time.Duration, name string, args ...string) error {
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "+ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("%s: timed out after %v", name, timeout)
	}
}

// cleanEnv is the environment for commands run on behalf of tests: nothing
// from the developer's shell (GOFLAGS, LANGUAGE, proxies ...) leaks in.
func cleanEnv() []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"LANG=C.UTF-8",
		"DEBIAN_FRONTEND=noninteractive",
	}
}

// tail returns the last n lines of file.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// sortedCopy is used for cache keys of extra packages, so that the order
// options are given in does not matter.
func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
