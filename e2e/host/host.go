// Package host boots throw-away Debian 12 hosts for omnipack's real-host
// test tier.
//
// A host is a root directory booted with systemd-nspawn under one of the
// init systems omnipack supports (systemd, OpenRC, sysvinit, runit), or a
// root that is never booted (noinit). Roots come from tarballs cached under
// CacheDir (see Base and Image); New unpacks a fresh copy for every test,
// so a test may do anything to its host.
//
// The containers share the machine's network namespace: a test HTTP server
// on 127.0.0.1 is reachable from inside. They need root, systemd-nspawn,
// nsenter, unshare and debootstrap on the machine (see RequireRoot).
package host

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	initsys "github.com/omnipack/omnipack/init"
)

// Variant names the init system a host boots.
type Variant string

const (
	// Systemd boots systemd as PID 1 (systemd-nspawn -b).
	Systemd Variant = "systemd"
	// OpenRC boots sysvinit's /sbin/init, which runs OpenRC.
	OpenRC Variant = "openrc"
	// SysVinit boots plain sysvinit with sysv-rc.
	SysVinit Variant = "sysvinit"
	// Runit boots runit (runit-init) as PID 1.
	Runit Variant = "runit"
	// NoInit is the base root, never booted: every Run is a fresh
	// systemd-nspawn container whose PID 1 is the command's shell.
	NoInit Variant = "noinit"
)

// Booting lists the variants that boot an init.
var Booting = []Variant{Systemd, OpenRC, SysVinit, Runit}

// Default timeouts; see WithBootTimeout and WithRunTimeout.
const (
	DefaultBootTimeout = 90 * time.Second
	DefaultRunTimeout  = 5 * time.Minute
	stopTimeout        = 15 * time.Second
)

// shmMinFree is how much room /dev/shm needs for New to put roots there.
const shmMinFree = 4 << 30

// Option configures Image and New.
type Option func(*config)

type config struct {
	packages       []string
	bootTimeout    time.Duration
	runTimeout     time.Duration
	privateNetwork bool
}

func newConfig(opts []Option) config {
	c := config{bootTimeout: DefaultBootTimeout, runTimeout: DefaultRunTimeout}
	for _, o := range opts {
		o(&c)
	}
	seen := map[string]bool{}
	var pkgs []string
	for _, p := range sortedCopy(c.packages) {
		if !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	c.packages = pkgs
	return c
}

// WithPackages installs extra Debian packages into the variant's image
// (for example pacman-package-manager). They are part of the image's cache
// key: each distinct set gets its own cached tarball, built once.
func WithPackages(pkgs ...string) Option {
	return func(c *config) { c.packages = append(c.packages, pkgs...) }
}

// WithPrivateNetwork gives the host a network namespace of its own, with
// only a loopback interface: its services can bind the ports they like
// while other hosts run. The test's servers on 127.0.0.1 are then out of
// its reach.
func WithPrivateNetwork() Option {
	return func(c *config) { c.privateNetwork = true }
}

// WithBootTimeout bounds how long New waits for the init to come up.
func WithBootTimeout(d time.Duration) Option {
	return func(c *config) { c.bootTimeout = d }
}

// WithRunTimeout bounds each Run on the host; on expiry the command's
// process group is killed and Run returns an error.
func WithRunTimeout(d time.Duration) Option {
	return func(c *config) { c.runTimeout = d }
}

var pkgName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?(=[A-Za-z0-9.+~:-]+)?$`)

// RequireRoot fails the test (it does not skip it) unless the process runs
// as root and the tools the real-host tier needs are installed.
func RequireRoot(t testing.TB) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (euid is "+strconv.Itoa(os.Geteuid())+")")
	}
	for _, tool := range []string{"systemd-nspawn", "nsenter", "unshare", "setpriv", "chroot", "debootstrap", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("real-host tier needs root and systemd-nspawn; run `sudo make test` (see README)\nmissing: %s", strings.Join(missing, ", "))
	}
}

// Host is a throw-away Debian 12 host. Its root is a directory on the
// machine, removed when the test ends.
type Host struct {
	variant    Variant
	root       string
	dir        string
	name       string
	runTimeout time.Duration

	// booted variants
	nspawn *exec.Cmd
	exited chan struct{} // closed when nspawn has exited
	pid1   int
	logf   string

	mu sync.Mutex // noinit: one nspawn per root at a time
}

// New unpacks a fresh copy of the variant's image and, for the booting
// variants, boots it in the background and waits until its init is up. The
// container is stopped and its root removed when the test ends.
func New(t testing.TB, v Variant, opts ...Option) *Host {
	t.Helper()
	c := newConfig(opts)
	img := Image(t, v, opts...)

	dir := workDir(t)
	h := &Host{
		variant:    v,
		dir:        dir,
		root:       filepath.Join(dir, "root"),
		name:       "omnipack-" + string(v) + "-" + randomHex(3),
		runTimeout: c.runTimeout,
		logf:       filepath.Join(dir, "console.log"),
	}
	if err := os.Mkdir(h.root, 0o755); err != nil {
		t.Fatalf("host: %v", err)
	}
	start := time.Now()
	if err := tarExtract(h.logf, img, h.root); err != nil {
		t.Fatalf("host: unpacking %s: %v\n%s", img, err, tail(h.logf, 20))
	}
	if err := os.WriteFile(filepath.Join(h.root, "etc/hostname"), []byte(h.name+"\n"), 0o644); err != nil {
		t.Fatalf("host: %v", err)
	}
	unpacked := time.Since(start)
	if v == NoInit {
		t.Logf("host: %s ready in %v (unpack)", h.name, unpacked.Round(time.Millisecond))
		return h
	}
	h.boot(t, c.bootTimeout, c.privateNetwork)
	t.Logf("host: %s up in %v (unpack %v, boot %v)", h.name,
		time.Since(start).Round(time.Millisecond), unpacked.Round(time.Millisecond),
		(time.Since(start) - unpacked).Round(time.Millisecond))
	return h
}

func (h *Host) boot(t testing.TB, timeout time.Duration, privateNetwork bool) {
	t.Helper()
	var args []string
	if privateNetwork {
		args = append(args, "--private-network")
	}
	args = append(args,
		"--register=no", "--keep-unit", "-q",
		"-D", h.root,
		"--machine="+h.name,
		"--uuid="+uuid(),
		// nspawn's default capability bounding set, which lacks
		// CAP_SYSLOG, as many container setups do: the services must cope.
	)
	if h.variant == Systemd {
		args = append(args, "-b")
	} else {
		// Name the init explicitly: -b looks for systemd first.
		args = append(args, "/sbin/init")
	}
	log, err := os.OpenFile(h.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("host: %v", err)
	}
	defer log.Close()
	fmt.Fprintf(log, "+ systemd-nspawn %s\n", strings.Join(args, " "))
	cmd := exec.Command("systemd-nspawn", args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Keep the terminal's ^C away from it (Cleanup stops it), but stop
		// it if the test binary dies without running Cleanup.
		Setpgid:   true,
		Pdeathsig: syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("host: starting systemd-nspawn: %v", err)
	}
	h.nspawn = cmd
	h.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(h.exited)
	}()
	t.Cleanup(func() { h.stop(t) })

	deadline := time.Now().Add(timeout)
	for h.pid1 == 0 {
		if h.hasExited() {
			t.Fatalf("host: systemd-nspawn for %s exited during boot:\n%s", h.variant, tail(h.logf, 40))
		}
		if time.Now().After(deadline) {
			t.Fatalf("host: no PID 1 for %s after %v:\n%s", h.variant, timeout, tail(h.logf, 40))
		}
		h.pid1 = findPID1(cmd.Process.Pid)
		if h.pid1 == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}

	probe := readyProbe[h.variant]
	var last string
	for {
		if h.hasExited() {
			t.Fatalf("host: %s container exited during boot:\n%s", h.variant, tail(h.logf, 40))
		}
		out, err := h.run(probe, 10*time.Second)
		last = strings.TrimSpace(out)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host: %s init not up after %v; last probe (%s): %v %s\nconsole:\n%s",
				h.variant, timeout, probe, err, last, tail(h.logf, 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readyProbe holds, per booting variant, a shell command that succeeds once
// the init has finished bringing the host up.
var readyProbe = map[Variant]string{
	// running, or degraded when some unit failed: boot is over either way.
	Systemd: `s=$(systemctl is-system-running 2>&1); echo "$s"; [ "$s" = running ] || [ "$s" = degraded ]`,
	// OpenRC has entered the default runlevel and nothing is still starting.
	OpenRC: `[ "$(cat /run/openrc/softlevel 2>/dev/null)" = default ] && ! pgrep -x openrc >/dev/null`,
	// init is in a multi-user runlevel and /etc/init.d/rc has finished.
	SysVinit: `r=$(runlevel 2>&1); echo "$r"; case "$r" in *" "[2345]) ;; *) exit 1;; esac; ! pgrep -f '^/bin/sh /etc/init.d/rc ' >/dev/null`,
	// stage 2 has exec'd runsvdir and every service has its runsv.
	Runit: `pgrep -x runsvdir >/dev/null || exit 1; for s in /etc/service/*; do [ -e "$s" ] || continue; sv status "$s" || exit 1; done`,
}

func (h *Host) hasExited() bool {
	select {
	case <-h.exited:
		return true
	default:
		return false
	}
}

// stop ends the container: SIGTERM to systemd-nspawn (it halts a booted
// systemd and SIGKILLs any other init), then SIGKILL to the container's
// PID 1 and to nspawn if that has not worked in time. Only these two PIDs
// are ever signalled.
func (h *Host) stop(t testing.TB) {
	if t.Failed() {
		t.Logf("host: console of %s:\n%s", h.name, tail(h.logf, 60))
	}
	defer h.removeNspawnLeftovers()
	if h.hasExited() {
		return
	}
	_ = h.nspawn.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
		return
	case <-time.After(stopTimeout):
	}
	t.Logf("host: %s did not stop within %v; killing it", h.name, stopTimeout)
	if h.pid1 != 0 {
		// Killing a PID namespace's init kills everything in it.
		_ = syscall.Kill(h.pid1, syscall.SIGKILL)
	}
	_ = h.nspawn.Process.Kill()
	select {
	case <-h.exited:
	case <-time.After(stopTimeout):
		t.Errorf("host: systemd-nspawn (pid %d) for %s would not die", h.nspawn.Process.Pid, h.name)
	}
}

// findPID1 returns the child of nspawn that is PID 1 of a new PID
// namespace, or 0.
func findPID1(nspawn int) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	want := strconv.Itoa(nspawn)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		var ppid string
		var nspid []string
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PPid:"); ok {
				ppid = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
				nspid = strings.Fields(v)
			}
		}
		if ppid == want && len(nspid) >= 2 && nspid[len(nspid)-1] == "1" {
			return pid
		}
	}
	return 0
}

// Variant returns the host's variant.
func (h *Host) Variant() Variant { return h.variant }

// Name returns the host's machine name, which is also its hostname.
func (h *Host) Name() string { return h.name }

// Root returns the host's root directory on the machine.
func (h *Host) Root() string { return h.root }

// Path returns where containerPath lives on the machine. Note that the
// container mounts its own tmpfs on /tmp, /run and /dev: files there are not
// visible under Root.
func (h *Host) Path(containerPath string) string {
	return filepath.Join(h.root, filepath.Clean("/"+containerPath))
}

// PID1 returns the machine-side PID of the container's init, or 0 for
// noinit.
func (h *Host) PID1() int { return h.pid1 }

// ConsoleLog returns what systemd-nspawn and the init have printed so far.
func (h *Host) ConsoleLog() string {
	b, _ := os.ReadFile(h.logf)
	return string(b)
}

// Run runs `sh -c cmd` as root inside the host and returns its stdout and
// stderr, interleaved. err is non-nil if the command exits non-zero (an
// *exec.ExitError; see ExitCode) or cannot be run.
//
// On a booted host the command joins all the container's namespaces
// (nsenter -t PID1 -a), so it sees the running init, and processes it
// starts in the background live on. It has the capability bounding set of
// the container's init, as a shell in the container would. On noinit each Run is a container of
// its own (systemd-nspawn --pipe): /tmp and /run are fresh tmpfs every time
// and nothing outlives the command.
func (h *Host) Run(t testing.TB, cmd string) (string, error) {
	t.Helper()
	return h.run(cmd, h.runTimeout)
}

// MustRun is Run, failing the test with the command's output when it fails.
func (h *Host) MustRun(t testing.TB, cmd string) string {
	t.Helper()
	out, err := h.Run(t, cmd)
	if err != nil {
		t.Fatalf("on %s: %s: %v\n%s", h.name, cmd, err, out)
	}
	return out
}

// ExitCode returns the exit status carried by an error from Run: 0 for nil,
// -1 if the command did not exit normally (signal, timeout, failed start).
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func (h *Host) run(script string, timeout time.Duration) (string, error) {
	var cmd *exec.Cmd
	if h.variant == NoInit {
		h.mu.Lock()
		defer h.mu.Unlock()
		args := []string{"--register=no", "--keep-unit", "-q", "--pipe",
			"-D", h.root, "--machine=" + h.name}
		for _, e := range cleanEnv() {
			args = append(args, "--setenv="+e)
		}
		args = append(args, "/bin/sh", "-c", script)
		cmd = exec.Command("systemd-nspawn", args...)
		cmd.Env = cleanEnv()
	} else {
		if h.hasExited() {
			return "", fmt.Errorf("host %s is not running", h.name)
		}
		argv := append(h.containerBounds(), "nsenter", "-t", strconv.Itoa(h.pid1), "-a", "/bin/sh", "-c", script)
		cmd = exec.Command(argv[0], argv[1:]...)
		// nsenter passes its environment on unchanged.
		cmd.Env = cleanEnv()
	}
	// Output goes to a file, not a pipe: a daemon started in the background
	// keeps its inherited stdout open, and waiting for EOF on a pipe would
	// hang until it exits.
	out, err := os.CreateTemp(h.dir, "run-*.out")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(timeout):
		if h.variant == NoInit {
			// The command is PID 1 of nspawn's container: killing it ends
			// the PID namespace, and nspawn with it.
			if pid1 := findPID1(cmd.Process.Pid); pid1 != 0 {
				_ = syscall.Kill(pid1, syscall.SIGKILL)
			}
		}
		// The whole process group: nsenter forks the shell, and the shell
		// forks the command.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		runErr = fmt.Errorf("timed out after %v", timeout)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	b, err := io.ReadAll(out)
	if err != nil {
		return "", err
	}
	if h.variant == NoInit {
		b = h.dropNspawnNoise(b)
		h.removeNspawnLeftovers()
	}
	return string(b), runErr
}

// containerBounds returns the setpriv command that gives what follows it
// the capability bounding set of the container's init, as a shell inside
// the container has. nsenter alone keeps the machine's, so a daemon that a
// command started would have capabilities that no process in the container
// can have (nspawn's set lacks CAP_SYSLOG). It is read on every call: the
// set is final only once nspawn has exec'd the init.
func (h *Host) containerBounds() []string {
	own, errOwn := capBnd("/proc/self/status")
	initSet, errInit := capBnd(fmt.Sprintf("/proc/%d/status", h.pid1))
	if errOwn != nil || errInit != nil {
		return nil // the command fails on its own: the container is gone
	}
	var drop []string
	for _, name := range initsys.CapNames() {
		n, _ := initsys.CapNumber(name)
		if own&^initSet&(1<<n) != 0 {
			drop = append(drop, "-"+initsys.CapShort(name))
		}
	}
	if len(drop) == 0 {
		return nil
	}
	return []string{"setpriv", "--bounding-set=" + strings.Join(drop, ","), "--"}
}

// capBnd reads the capability bounding set from a /proc/PID/status file.
func capBnd(status string) (uint64, error) {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("%s has no CapBnd", status)
}

// dropNspawnNoise removes the one message systemd-nspawn 252 prints into
// the command's output on every run on this machine: /run here is not a
// tmpfs, so nspawn refuses to rm -rf its (empty) propagation directory.
func (h *Host) dropNspawnNoise(b []byte) []byte {
	msg := []byte(`Attempted to remove disk file system under "` + propagateDir(h.name) + `", and we can't allow that.`)
	b = bytes.ReplaceAll(b, append(msg, '\n'), nil)
	return bytes.ReplaceAll(b, msg, nil)
}

func propagateDir(name string) string {
	return "/run/systemd/nspawn/propagate/" + name
}

// removeNspawnLeftovers removes what an exited systemd-nspawn leaves on the
// machine when it cannot clean up itself (see dropNspawnNoise) or was
// killed: its empty propagation directory and its lock file for our root.
// Both names are ours alone: the machine name is random, the lock file is
// keyed by our root's inode.
func (h *Host) removeNspawnLeftovers() {
	_ = os.Remove(propagateDir(h.name))
	var st syscall.Stat_t
	if err := syscall.Stat(h.root, &st); err == nil {
		_ = os.Remove(fmt.Sprintf("/run/systemd/nspawn/locks/inode-%d:%d", st.Dev, st.Ino))
	}
}

// CopyIn copies the file hostPath into the host at containerPath, creating
// parent directories and keeping the file's permission bits. Files go
// straight into the root directory, except under the container's own tmpfs
// mounts (/tmp, /run, /dev), where they are streamed in through the
// running container; on noinit those paths do not survive a Run, so CopyIn
// refuses them.
func (h *Host) CopyIn(t testing.TB, hostPath, containerPath string) {
	t.Helper()
	src, err := os.Open(hostPath)
	if err != nil {
		t.Fatalf("host: CopyIn: %v", err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		t.Fatalf("host: CopyIn: %v", err)
	}
	if !fi.Mode().IsRegular() {
		t.Fatalf("host: CopyIn: %s is not a regular file", hostPath)
	}
	cpath := filepath.Clean("/" + containerPath)
	mode := fi.Mode().Perm()

	if inContainerTmpfs(cpath) {
		if h.variant == NoInit {
			t.Fatalf("host: CopyIn: %s is on a tmpfs that each noinit Run mounts afresh; use e.g. /var/tmp", cpath)
		}
		cmd := exec.Command("nsenter", "-t", strconv.Itoa(h.pid1), "-a", "/bin/sh", "-c",
			`mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1"`,
			"sh", cpath, fmt.Sprintf("%o", mode))
		cmd.Env = cleanEnv()
		cmd.Stdin = src
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("host: CopyIn %s -> %s: %v\n%s", hostPath, cpath, err, out)
		}
		return
	}

	dst := h.Path(cpath)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatalf("host: CopyIn: %v", err)
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatalf("host: CopyIn: %v", err)
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		t.Fatalf("host: CopyIn: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("host: CopyIn: %v", err)
	}
	if err := os.Chmod(dst, mode); err != nil { // umask and pre-existing files
		t.Fatalf("host: CopyIn: %v", err)
	}
}

func inContainerTmpfs(p string) bool {
	for _, m := range []string{"/tmp", "/run", "/dev", "/proc", "/sys"} {
		if p == m || strings.HasPrefix(p, m+"/") {
			return true
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// uuid returns a random version 4 UUID, used as the container's machine ID.
func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// workDir returns a fresh directory for one host's root, removed when the
// test ends. Roots go to a tmpfs when one is usable: unpacking a 330 MB
// root there takes ~0.3 s against 1-6 s on the VM's disk. The parent is
// OMNIPACK_E2E_WORKDIR if set, else /dev/shm if it is a writable tmpfs
// without nosuid/nodev (file capabilities and setuid must work in the
// container) and with at least 4 GiB free, else the test's TempDir.
func workDir(t testing.TB) string {
	t.Helper()
	parent := os.Getenv("OMNIPACK_E2E_WORKDIR")
	if parent == "" {
		parent = "/dev/shm"
		var st syscall.Statfs_t
		const tmpfsMagic = 0x01021994
		const stNosuid, stNodev, stRdonly = 0x2, 0x4, 0x1
		if err := syscall.Statfs(parent, &st); err != nil || st.Type != tmpfsMagic ||
			st.Flags&(stNosuid|stNodev|stRdonly) != 0 ||
			uint64(st.Bavail)*uint64(st.Bsize) < shmMinFree {
			return t.TempDir()
		}
	}
	parent = filepath.Join(parent, "omnipack-e2e")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		t.Fatalf("host: %v", err)
	}
	reapOnce.Do(func() { reapStale(parent) })
	dir, err := os.MkdirTemp(parent, strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		t.Fatalf("host: %v", err)
	}
	// Registered before the container's own Cleanup, so it runs after it.
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("host: removing %s: %v", dir, err)
		}
	})
	return dir
}

var reapOnce sync.Once

// reapStale removes host directories left under parent by test processes
// that were killed before their Cleanup ran (their containers died with
// them: see Pdeathsig in boot). Directories are named PID-random.
func reapStale(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		pidStr, _, ok := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}
