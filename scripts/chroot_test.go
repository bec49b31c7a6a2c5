package scripts

// Behaviour tests: the generated scripts run for real, as root, inside
// throw-away chroots built from this machine's own tools, so nothing they do
// touches the host. Three roots are built:
//
//   - dash:    /bin/sh is dash, with coreutils, grep, sed and shadow's
//     useradd/groupadd/userdel/groupdel (Debian, Ubuntu);
//   - bash:    the same with /bin/sh being bash (and bash to source Arch's
//     .INSTALL as pacman does);
//   - busybox: /bin/sh and every tool is busybox (ash) as on Alpine, plus
//     install and shadow's tools where this machine's busybox lacks the
//     applet (Debian builds busybox without adduser/addgroup/install), and
//     no getent, so the /etc/group fallback runs.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/layout"
)

const (
	chrootPath = "/usr/sbin:/usr/bin:/sbin:/bin"
	record     = "/var/lib/omnipack/crashwatch.init"
	accounts   = "/var/lib/omnipack/crashwatch.accounts"
	stateDir   = "/var/lib/crashwatch"
	configDir  = "/etc/crashwatch"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("needs root (chroot); run as root or via make test")
	}
	for _, tool := range []string{"ldd", "unshare", "mount", "chroot", "busybox"} {
		if _, err := lookPath(tool); err != nil {
			t.Fatalf("the chroot tests need %s (Debian: libc-bin, util-linux, coreutils, busybox): %v", tool, err)
		}
	}
}

// root is one throw-away chroot.
type root struct {
	t      *testing.T
	dir    string
	flavor string
}

var hostTools = []string{
	"cat", "chown", "chmod", "mkdir", "rm", "rmdir", "mv", "ls", "touch", "install",
	"stat", "sort", "sed", "grep", "id", "getent", "useradd", "groupadd", "userdel",
	"groupdel", "nologin", "dash", "bash", "sleep", "tail",
}

// busyboxExtras are the tools the scripts use that Debian's busybox lacks.
var busyboxExtras = []string{"install", "useradd", "groupadd", "userdel", "groupdel"}

func newRoot(t *testing.T, flavor string) *root {
	t.Helper()
	requireRoot(t)
	r := &root{t: t, dir: t.TempDir(), flavor: flavor}
	for _, d := range []string{"etc", "tmp", "run", "var/lib", "var/log", "dev", "root", "usr/bin", "usr/sbin", "usr/lib", "usr/lib64"} {
		r.mkdir("/"+d, 0o755)
	}
	if err := os.Chmod(r.host("/tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"} {
		if err := os.Symlink(target, r.host("/"+link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mknod(r.host("/dev/null"), syscall.S_IFCHR|0o666, int(mkdev(1, 3))); err != nil {
		t.Fatalf("mknod /dev/null in the chroot: %v", err)
	}
	if err := os.Chmod(r.host("/dev/null"), 0o666); err != nil {
		t.Fatal(err)
	}
	r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644)
	r.write("/etc/group", "root:x:0:\n", 0o644)
	r.write("/etc/shadow", "root:*:19000:0:99999:7:::\n", 0o640)
	r.write("/etc/gshadow", "root:*::\n", 0o640)
	if defs, err := os.ReadFile("/etc/login.defs"); err == nil {
		r.write("/etc/login.defs", string(defs), 0o644)
	}

	switch flavor {
	case "dash", "bash":
		for _, tool := range hostTools {
			r.copyTool(tool)
		}
		r.symlink("/usr/bin/"+flavor, "/usr/bin/sh")
	case "busybox":
		bb := r.copyTool("busybox")
		out, err := exec.Command(bb, "--list-full").Output()
		if err != nil {
			t.Fatalf("busybox --list-full: %v", err)
		}
		for _, applet := range strings.Fields(string(out)) {
			dst := r.host("/" + applet)
			if _, err := os.Lstat(dst); err == nil {
				continue
			}
			r.mkdir(filepath.Dir("/"+applet), 0o755)
			if err := os.Symlink("/usr/bin/busybox", dst); err != nil {
				t.Fatal(err)
			}
		}
		for _, tool := range busyboxExtras {
			if _, err := os.Lstat(r.host("/usr/bin/" + tool)); err == nil {
				continue // this busybox has the applet
			}
			if _, err := os.Lstat(r.host("/usr/sbin/" + tool)); err == nil {
				continue
			}
			r.copyTool(tool)
		}
	default:
		t.Fatalf("unknown flavor %q", flavor)
	}
	return r
}

func mkdev(major, minor uint32) uint64 {
	return uint64(major)<<8 | uint64(minor)
}

func (r *root) host(p string) string { return filepath.Join(r.dir, p) }

func (r *root) mkdir(p string, mode os.FileMode) {
	r.t.Helper()
	if err := os.MkdirAll(r.host(p), mode); err != nil {
		r.t.Fatal(err)
	}
}

func (r *root) write(p, body string, mode os.FileMode) {
	r.t.Helper()
	r.mkdir(filepath.Dir(p), 0o755)
	if err := os.WriteFile(r.host(p), []byte(body), mode); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Chmod(r.host(p), mode); err != nil {
		r.t.Fatal(err)
	}
}

func (r *root) symlink(target, p string) {
	r.t.Helper()
	if err := os.Symlink(target, r.host(p)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *root) touch(p string) { r.write(p, "", 0o644) }

func (r *root) remove(p string) {
	r.t.Helper()
	if err := os.RemoveAll(r.host(p)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *root) exists(p string) bool {
	_, err := os.Lstat(r.host(p))
	return err == nil
}

func (r *root) read(p string) string {
	r.t.Helper()
	b, err := os.ReadFile(r.host(p))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

func (r *root) stat(p string) (os.FileMode, uint32, uint32) {
	r.t.Helper()
	fi, err := os.Lstat(r.host(p))
	if err != nil {
		r.t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fi.Mode(), st.Uid, st.Gid
}

// copyTool copies a host tool and the shared libraries it needs into the
// chroot, at the path it has on the host; it returns the host path.
func (r *root) copyTool(name string) string {
	r.t.Helper()
	p, err := lookPath(name)
	if err != nil {
		r.t.Fatalf("the chroot needs %s from this machine: %v", name, err)
	}
	r.copyFile(p)
	out, _ := exec.Command("ldd", p).Output() // fails for static binaries
	for _, m := range regexp.MustCompile(`(?m)(/\S+) \(0x`).FindAllStringSubmatch(string(out), -1) {
		if !r.exists(m[1]) {
			r.copyFile(m[1])
		}
	}
	return p
}

func lookPath(name string) (string, error) {
	for _, d := range filepath.SplitList(chrootPath) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", name, chrootPath)
}

func (r *root) copyFile(p string) {
	r.t.Helper()
	src, err := os.Open(p) // follows symlinks: the chroot gets the content
	if err != nil {
		r.t.Fatal(err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		r.t.Fatal(err)
	}
	r.mkdir(filepath.Dir(p), 0o755)
	dst, err := os.OpenFile(r.host(p), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		r.t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		r.t.Fatal(err)
	}
}

// unpack puts in place what unpacking the package would: every init's
// staged files and a root-owned 0640 config in a 0750 config directory.
func (r *root) unpack(in Input) {
	r.t.Helper()
	for _, ini := range in.Inits {
		for _, f := range in.Files[ini.Name()] {
			r.write(layout.Staged(in.Service.Name, ini.Name(), f.Target), string(f.Body), 0o644)
		}
	}
	r.mkdir(configDir, 0o750)
	if !r.exists(testConfig) {
		r.write(testConfig, "listen = ':8080'\n", 0o640)
	}
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs a script in the chroot with /bin/sh, as package managers do.
func (r *root) run(script string, args ...string) result {
	r.t.Helper()
	r.write("/tmp/script", script, 0o755)
	cmd := exec.Command("/bin/sh", append([]string{"/tmp/script"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: r.dir}
	return r.exec(cmd)
}

// runBash runs bash -c CODE in the chroot (pacman's way with .INSTALL).
func (r *root) runBash(code string) result {
	r.t.Helper()
	cmd := exec.Command("/usr/bin/bash", "-c", code)
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: r.dir}
	return r.exec(cmd)
}

// runWithProc runs a script like run, but with /proc mounted in the chroot,
// in new PID and mount namespaces whose PID 1 stays outside the chroot (so
// nothing outlives the command, and PID 1's root is readable, which this
// machine's real PID 1 may not be): the scripts can then see that / is not
// PID 1's root.
func (r *root) runWithProc(script string, args ...string) result {
	r.t.Helper()
	r.write("/tmp/script", script, 0o755)
	r.mkdir("/proc", 0o555)
	wrapper := `dir=$1; shift; mount -t proc proc "$dir/proc" && chroot "$dir" /bin/sh /tmp/script "$@"`
	all := append([]string{"--pid", "--fork", "--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", wrapper, "sh", r.dir}, args...)
	return r.exec(exec.Command("unshare", all...))
}

func (r *root) exec(cmd *exec.Cmd) result {
	r.t.Helper()
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=" + chrootPath, "LC_ALL=C"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		r.t.Fatalf("running %v: %v", cmd.Args, err)
	}
	return res
}

// ok runs a script, requires exit 0 and that every message is on stderr and
// prefixed with the service name; it returns stderr.
func (r *root) ok(script string, args ...string) string {
	r.t.Helper()
	return r.want(0, r.run(script, args...))
}

func (r *root) want(code int, res result) string {
	r.t.Helper()
	if res.code != code {
		r.t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, code, res.stdout, res.stderr)
	}
	r.t.Logf("exit %d; stderr:\n%s", res.code, res.stderr)
	if res.stdout != "" {
		r.t.Errorf("the script printed to stdout; all messages go to stderr:\n%s", res.stdout)
	}
	for _, l := range strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n") {
		if l != "" && !strings.HasPrefix(l, "crashwatch: ") {
			r.t.Errorf("message without the %q prefix: %q\nstderr:\n%s", "crashwatch: ", l, res.stderr)
		}
	}
	return res.stderr
}

// actions returns what the test init was asked to do since the last call.
func (r *root) actions(init string) string {
	r.t.Helper()
	p := "/var/log/" + init + "/actions"
	if !r.exists(p) {
		return ""
	}
	s := r.read(p)
	r.remove(p)
	return strings.TrimSpace(strings.ReplaceAll(s, init+" ", ""))
}

// account returns the passwd or group entry for name, or nil.
func (r *root) account(file, name string) []string {
	r.t.Helper()
	var found []string
	sc := bufio.NewScanner(strings.NewReader(r.read(file)))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if f[0] == name {
			if found != nil {
				r.t.Errorf("%s lists %s twice", file, name)
			}
			found = f
		}
	}
	return found
}

func (r *root) id(file, name string) uint32 {
	r.t.Helper()
	e := r.account(file, name)
	if e == nil {
		r.t.Fatalf("%s has no %s", file, name)
	}
	n, err := strconv.Atoi(e[2])
	if err != nil {
		r.t.Fatal(err)
	}
	return uint32(n)
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func equal(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, got, want)
	}
}

func generate(t *testing.T, gen func(Input) (Set, error), in Input) Set {
	t.Helper()
	s, err := gen(in)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const recordV1 = `testinit
/etc/testinit/crashwatch.conf
/etc/testinit/sv/
/etc/testinit/sv/crashwatch/
/etc/testinit/sv/crashwatch/log/
/etc/testinit/sv/crashwatch/log/run
`

// installed checks the testinit integration of the first version.
func (r *root) installedV1() {
	r.t.Helper()
	equal(r.t, "record", r.read(record), recordV1)
	for _, f := range testinitFiles {
		equal(r.t, f.Target, r.read(f.Target), string(f.Body))
		if mode, uid, gid := r.stat(f.Target); mode.Perm() != os.FileMode(f.Mode) || uid != 0 || gid != 0 {
			r.t.Errorf("%s: mode %v owner %d:%d, want %v root:root", f.Target, mode, uid, gid, os.FileMode(f.Mode))
		}
	}
}

func (r *root) accountsCreated() {
	r.t.Helper()
	u := r.account("/etc/passwd", "crashwatch")
	if u == nil {
		r.t.Fatal("the user crashwatch was not created")
	}
	if u[5] != stateDir || (u[6] != "/usr/sbin/nologin" && u[6] != "/sbin/nologin") {
		r.t.Errorf("crashwatch's home and shell are %s and %s; want %s and nologin", u[5], u[6], stateDir)
	}
	if gid := r.id("/etc/group", "crashwatch"); u[3] != strconv.Itoa(int(gid)) {
		r.t.Errorf("crashwatch's primary group is %s, want crashwatch (%d)", u[3], gid)
	}
	if uid, _ := strconv.Atoi(u[2]); uid == 0 || uid >= 1000 {
		r.t.Errorf("crashwatch has uid %d; want a system uid", uid)
	}
}

func TestDebLifecycle(t *testing.T) {
	for _, flavor := range []string{"dash", "bash", "busybox"} {
		t.Run(flavor, func(t *testing.T) { debLifecycle(t, flavor) })
	}
}

func debLifecycle(t *testing.T, flavor string) {
	in := testInput()
	deb := generate(t, Deb, in)
	r := newRoot(t, flavor)
	r.touch("/run/testinit")
	r.write("/etc/testinit/other.conf", "not ours\n", 0o644)

	// Fresh install.
	msg := r.ok(deb.PreInstall, "install")
	contains(t, "preinst", msg, "crashwatch: created the system group crashwatch", "crashwatch: created the system user crashwatch")
	r.accountsCreated()
	equal(t, "accounts note", r.read(accounts), "group crashwatch\nuser crashwatch\n")
	r.unpack(in)
	msg = r.ok(deb.PostInstall, "configure", "")
	contains(t, "postinst", msg, "crashwatch: started the service (testinit)")
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nstart")
	r.installedV1()
	uid, gid := r.id("/etc/passwd", "crashwatch"), r.id("/etc/group", "crashwatch")
	if mode, u, g := r.stat(stateDir); !mode.IsDir() || mode.Perm() != 0o750 || u != uid || g != gid {
		t.Errorf("state dir: %v %d:%d, want 0750 crashwatch:crashwatch", mode, u, g)
	}
	for _, p := range []string{configDir, testConfig} {
		if mode, u, g := r.stat(p); u != 0 || g != gid {
			t.Errorf("%s: owner %d:%d, want root:crashwatch", p, u, g)
		} else if mode.Perm() != 0o750 && mode.Perm() != 0o640 {
			t.Errorf("%s: mode changed to %v", p, mode)
		}
	}
	if mode, _, _ := r.stat("/var/lib/omnipack"); mode.Perm() != 0o755 {
		t.Errorf("/var/lib/omnipack has mode %v, want 0755", mode)
	}

	// Reinstalling the same version: every step again, idempotent.
	r.ok(deb.PreRemove, "upgrade", "1.0")
	equal(t, "actions of prerm upgrade", r.actions("testinit"), "")
	msg = r.ok(deb.PreInstall, "upgrade", "1.0")
	if strings.Contains(msg, "created") {
		t.Errorf("preinst created accounts again:\n%s", msg)
	}
	r.ok(deb.PostRemove, "upgrade", "1.0")
	r.installedV1()
	msg = r.ok(deb.PostInstall, "configure", "1.0")
	contains(t, "postinst", msg, "crashwatch: restarted the service (testinit)")
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nrestart")
	r.installedV1()
	r.accountsCreated()
	equal(t, "accounts note", r.read(accounts), "group crashwatch\nuser crashwatch\n")

	// An admin's group on the config survives an upgrade; a config the
	// package manager rewrote root:root gets the group back.
	if err := os.Chown(r.host(testConfig), 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(r.host(configDir), 0, 4242); err != nil {
		t.Fatal(err)
	}
	r.ok(deb.PostInstall, "configure", "1.0")
	r.actions("testinit")
	if _, _, g := r.stat(testConfig); g != gid {
		t.Errorf("a root:root config was not given group crashwatch on upgrade")
	}
	if _, _, g := r.stat(configDir); g != 4242 {
		t.Errorf("the admin's group on %s was changed to %d", configDir, g)
	}

	// A service that fails to start does not fail the package.
	r.touch("/etc/testinit.failstart")
	msg = r.ok(deb.PostInstall, "configure", "1.0")
	contains(t, "postinst", msg, "crashwatch: warning: the service failed to restart; the package is installed anyway; check it with: testinitctl status crashwatch")
	r.remove("/etc/testinit.failstart")
	r.actions("testinit")

	// A failed start check: the init is still asked to start (it records
	// why the service does not run), and the start counts as failed.
	r.touch("/etc/testinit.failcheck")
	msg = r.ok(deb.PostInstall, "configure", "1.0")
	contains(t, "postinst", msg, "crashwatch: error: the start check failed",
		"crashwatch: warning: the service failed to restart; the package is installed anyway; check it with: testinitctl status crashwatch")
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nrestart")
	r.remove("/etc/testinit.failcheck")

	// Removal, in dpkg's order: prerm only stops; postrm disables and
	// takes down exactly what was recorded.
	r.ok(deb.PreRemove, "remove")
	equal(t, "actions of prerm remove", r.actions("testinit"), "stop")
	if !r.exists(record) || !r.exists("/etc/testinit/crashwatch.conf") {
		t.Error("prerm deleted the service files; that is postrm's job")
	}
	msg = r.ok(deb.PostRemove, "remove")
	contains(t, "postrm", msg, "crashwatch: removed the service from testinit")
	equal(t, "actions of postrm remove", r.actions("testinit"), "stop\ndisable\nreload")
	for _, p := range []string{record, "/etc/testinit/crashwatch.conf", "/etc/testinit/sv"} {
		if r.exists(p) {
			t.Errorf("%s is left after removal", p)
		}
	}
	for _, p := range []string{"/etc/testinit/other.conf", testConfig, stateDir, accounts} {
		if !r.exists(p) {
			t.Errorf("removal deleted %s", p)
		}
	}
	if !r.exists(testConfig) || r.account("/etc/passwd", "crashwatch") == nil {
		t.Error("postrm remove deleted the config or the user; only purge may")
	}
	r.ok(deb.PreRemove, "remove") // nothing recorded any more: a no-op
	equal(t, "actions", r.actions("testinit"), "")

	// Purge deletes config, state, the logs an init such as runit's svlogd
	// wrote as the service's user, and the accounts.
	r.write("/var/log/crashwatch/current", "a log line\n", 0o640)
	msg = r.ok(deb.PostRemove, "purge")
	contains(t, "postrm purge", msg, "crashwatch: purged")
	for _, p := range []string{configDir, stateDir, "/var/log/crashwatch", accounts, "/var/lib/omnipack"} {
		if r.exists(p) {
			t.Errorf("%s is left after purge", p)
		}
	}
	if r.account("/etc/passwd", "crashwatch") != nil || r.account("/etc/group", "crashwatch") != nil {
		t.Errorf("purge left the accounts:\n%s%s", r.read("/etc/passwd"), r.read("/etc/group"))
	}
	r.ok(deb.PostRemove, "purge") // again: a no-op
}

func TestOfflineInstall(t *testing.T) {
	in := testInput()
	deb := generate(t, Deb, in)
	r := newRoot(t, "dash")
	r.touch("/etc/otherinit.installed")
	r.ok(deb.PreInstall, "install")
	r.unpack(in)
	msg := r.ok(deb.PostInstall, "configure", "")
	contains(t, "postinst", msg, "crashwatch: no init system is running; installed otherinit files and enabled the service; it will start on next boot")
	equal(t, "actions", r.actions("otherinit"), "enable")
	equal(t, "record", r.read(record), "otherinit\n/etc/otherinit/\n/etc/otherinit/init.d/\n/etc/otherinit/init.d/crashwatch\n")
	if mode, _, _ := r.stat("/etc/otherinit/init.d/crashwatch"); mode.Perm() != 0o755 {
		t.Errorf("installed with mode %v, want 0755", mode)
	}

	// Removal offline: disable, but nothing to stop or reload.
	r.ok(deb.PreRemove, "remove")
	equal(t, "actions of prerm", r.actions("otherinit"), "")
	r.ok(deb.PostRemove, "remove")
	equal(t, "actions", r.actions("otherinit"), "disable")
	if r.exists("/etc/otherinit") || r.exists(record) {
		t.Error("offline removal left files")
	}
}

func TestNoInitFound(t *testing.T) {
	in := testInput()
	deb := generate(t, Deb, in)
	r := newRoot(t, "busybox")
	r.ok(deb.PreInstall, "install")
	r.unpack(in)
	msg := r.ok(deb.PostInstall, "configure", "")
	contains(t, "postinst", msg, "crashwatch: no init system detected; the service files are left in /usr/lib/crashwatch/init and nothing was enabled")
	if r.exists(record) || r.exists("/etc/testinit") || r.exists("/etc/otherinit") {
		t.Error("files were installed though no init system was found")
	}
	equal(t, "actions", r.actions("testinit")+r.actions("otherinit"), "")
	r.ok(deb.PreRemove, "remove")
	r.ok(deb.PostRemove, "purge")
}

// TestChrootIsNotRunning: testinit's runtime marker is visible, but / is not
// PID 1's root, so nothing may be started.
func TestChrootIsNotRunning(t *testing.T) {
	in := testInput()
	deb := generate(t, Deb, in)
	r := newRoot(t, "dash")
	r.touch("/run/testinit")
	r.write("/etc/testinit/other.conf", "not ours\n", 0o644)
	r.touch("/etc/testinit.installed")
	r.ok(deb.PreInstall, "install")
	r.unpack(in)
	msg := r.want(0, r.runWithProc(deb.PostInstall, "configure", ""))
	contains(t, "postinst", msg, "crashwatch: no init system is running; installed testinit files and enabled the service; it will start on next boot")
	equal(t, "actions", r.actions("testinit"), "enable")
	r.installedV1()
	r.want(0, r.runWithProc(deb.PreRemove, "remove"))
	r.want(0, r.runWithProc(deb.PostRemove, "remove"))
	equal(t, "actions", r.actions("testinit"), "disable")
}

func TestInitSwitch(t *testing.T) {
	in := testInput()
	deb := generate(t, Deb, in)
	r := newRoot(t, "busybox")
	r.touch("/run/testinit")
	r.ok(deb.PreInstall, "install")
	r.unpack(in)
	r.ok(deb.PostInstall, "configure", "")
	r.actions("testinit")

	r.remove("/run/testinit")
	r.touch("/run/otherinit")
	msg := r.ok(deb.PostInstall, "configure", "1.0")
	contains(t, "postinst", msg, "crashwatch: switching the service from testinit to otherinit", "crashwatch: started the service (otherinit)")
	equal(t, "testinit actions", r.actions("testinit"), "disable")
	equal(t, "otherinit actions", r.actions("otherinit"), "reload\nenable\nstart")
	if r.exists("/etc/testinit") {
		t.Error("the testinit files were not removed")
	}
	equal(t, "record", r.read(record), "otherinit\n/etc/otherinit/\n/etc/otherinit/init.d/\n/etc/otherinit/init.d/crashwatch\n")
}

// TestUpgradeChangesFiles: an upgrade whose init files differ deletes the
// old ones it no longer installs, and keeps track of directories in use.
func TestUpgradeChangesFiles(t *testing.T) {
	in := testInput()
	r := newRoot(t, "dash")
	r.touch("/run/testinit")
	r.write("/etc/testinit/other.conf", "not ours\n", 0o644)
	v1 := generate(t, Deb, in)
	r.ok(v1.PreInstall, "install")
	r.unpack(in)
	r.ok(v1.PostInstall, "configure", "")
	r.installedV1()

	in2 := testInput()
	in2.Files["testinit"] = []initsys.File{
		{Target: "/etc/testinit/crashwatch.conf", Mode: 0o600, Body: []byte("v2\n")},
		{Target: "/etc/testinit/sv/crashwatch/run", Mode: 0o755, Body: []byte("#!/bin/sh\n")},
	}
	v2 := generate(t, Deb, in2)
	r.unpack(in2)
	r.ok(v2.PostInstall, "configure", "1.0")
	equal(t, "record", r.read(record), "testinit\n/etc/testinit/crashwatch.conf\n/etc/testinit/sv/\n/etc/testinit/sv/crashwatch/\n/etc/testinit/sv/crashwatch/run\n")
	equal(t, "upgraded file", r.read("/etc/testinit/crashwatch.conf"), "v2\n")
	if mode, _, _ := r.stat("/etc/testinit/crashwatch.conf"); mode.Perm() != 0o600 {
		t.Errorf("upgraded file has mode %v, want 0600", mode)
	}
	if r.exists("/etc/testinit/sv/crashwatch/log") {
		t.Error("a file and directory the upgrade no longer installs were left")
	}
	r.ok(v2.PreRemove, "remove")
	r.ok(v2.PostRemove, "remove")
	if r.exists("/etc/testinit/sv") || !r.exists("/etc/testinit/other.conf") {
		t.Error("removal after the upgrade did not delete exactly the recorded paths")
	}
}

func TestAccountCreationFailureFails(t *testing.T) {
	in := testInput()
	deb := generate(t, Deb, in)
	r := newRoot(t, "dash")
	r.remove("/usr/sbin/groupadd")
	res := r.run(deb.PreInstall, "install")
	msg := r.want(1, res)
	contains(t, "preinst", msg, "crashwatch: error: cannot create the system group crashwatch: neither groupadd nor addgroup is installed")
}

// TestExistingAccountsSurvivePurge: accounts that existed before the package
// (a shared one, say) are used but never deleted.
func TestExistingAccountsSurvivePurge(t *testing.T) {
	in := testInput()
	deb := generate(t, Deb, in)
	r := newRoot(t, "busybox")
	r.write("/etc/group", "root:x:0:\ncrashwatch:x:500:\n", 0o644)
	r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\ncrashwatch:x:500:500::/nonexistent:/bin/false\n", 0o644)
	msg := r.ok(deb.PreInstall, "install")
	if strings.Contains(msg, "created") {
		t.Errorf("preinst created existing accounts:\n%s", msg)
	}
	r.unpack(in)
	r.ok(deb.PostInstall, "configure", "")
	if _, u, g := r.stat(stateDir); u != 500 || g != 500 {
		t.Errorf("state dir owned by %d:%d, want the existing 500:500", u, g)
	}
	r.ok(deb.PreRemove, "remove")
	r.ok(deb.PostRemove, "purge")
	if r.account("/etc/passwd", "crashwatch") == nil || r.account("/etc/group", "crashwatch") == nil {
		t.Error("purge deleted accounts the package did not create")
	}
}

func TestRootService(t *testing.T) {
	in := testInput()
	in.Service.User, in.Service.Group = "root", "root"
	deb := generate(t, Deb, in)
	r := newRoot(t, "dash")
	r.touch("/run/testinit")
	passwd := r.read("/etc/passwd")
	r.ok(deb.PreInstall, "install")
	r.unpack(in)
	r.ok(deb.PostInstall, "configure", "")
	equal(t, "/etc/passwd", r.read("/etc/passwd"), passwd)
	if mode, u, g := r.stat(stateDir); mode.Perm() != 0o750 || u != 0 || g != 0 {
		t.Errorf("state dir: %v %d:%d, want 0750 root:root", mode, u, g)
	}
	r.ok(deb.PreRemove, "remove")
	r.ok(deb.PostRemove, "purge")
	equal(t, "/etc/passwd", r.read("/etc/passwd"), passwd)
}

// TestRPMLifecycle follows rpm's order: on upgrade the new %pre and %post
// run before the old %preun with $1 = 1.
func TestRPMLifecycle(t *testing.T) {
	in := testInput()
	rpm := generate(t, RPM, in)
	r := newRoot(t, "dash")
	r.touch("/run/testinit")
	r.write("/etc/testinit/other.conf", "not ours\n", 0o644)

	r.ok(rpm.PreInstall, "1")
	r.accountsCreated()
	r.unpack(in)
	contains(t, "%post", r.ok(rpm.PostInstall, "1"), "crashwatch: started the service (testinit)")
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nstart")
	r.installedV1()

	r.ok(rpm.PreInstall, "2")
	contains(t, "%post", r.ok(rpm.PostInstall, "2"), "crashwatch: restarted the service (testinit)")
	r.ok(rpm.PreRemove, "1") // the old version's %preun
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nrestart")
	r.installedV1()

	r.ok(rpm.PreRemove, "0")
	equal(t, "actions", r.actions("testinit"), "stop\ndisable\nreload")
	if r.exists(record) || r.exists("/etc/testinit/crashwatch.conf") || !r.exists("/etc/testinit/other.conf") {
		t.Error("erase did not delete exactly the recorded files")
	}
	if !r.exists(testConfig) || r.account("/etc/passwd", "crashwatch") == nil {
		t.Error("erase deleted the config or the user; rpm has no purge")
	}
}

func TestAPKLifecycle(t *testing.T) {
	in := testInput()
	apk := generate(t, APK, in)
	r := newRoot(t, "busybox")
	r.touch("/run/testinit")
	r.write("/etc/testinit/other.conf", "not ours\n", 0o644)

	r.ok(apk.PreInstall, "1.0-r0")
	r.accountsCreated()
	r.unpack(in)
	contains(t, ".post-install", r.ok(apk.PostInstall, "1.0-r0"), "crashwatch: started the service (testinit)")
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nstart")
	r.installedV1()

	r.ok(apk.PreUpgrade, "1.1-r0", "1.0-r0")
	contains(t, ".post-upgrade", r.ok(apk.PostUpgrade, "1.1-r0", "1.0-r0"), "crashwatch: restarted the service (testinit)")
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nrestart")

	r.ok(apk.PreRemove, "1.1-r0")
	equal(t, "actions", r.actions("testinit"), "stop\ndisable\nreload")
	if r.exists(record) || r.exists("/etc/testinit/sv") || r.exists("/etc/testinit/crashwatch.conf") || !r.exists("/etc/testinit/other.conf") {
		t.Error("deinstall did not delete the recorded files")
	}
	if !r.exists(testConfig) || r.account("/etc/passwd", "crashwatch") == nil {
		t.Error("deinstall deleted the config or the user; apk has no purge")
	}
}

// TestArchLifecycle sources .INSTALL as nfpm builds it and calls its
// functions with bash, as pacman does.
func TestArchLifecycle(t *testing.T) {
	in := testInput()
	arch := generate(t, Arch, in)
	r := newRoot(t, "bash")
	r.touch("/run/testinit")
	r.write("/etc/testinit/other.conf", "not ours\n", 0o644)
	r.write("/tmp/.INSTALL", archInstall(arch), 0o644)
	call := func(fn string, args ...string) string {
		t.Helper()
		return r.want(0, r.runBash(". /tmp/.INSTALL; "+fn+" "+strings.Join(args, " ")))
	}

	call("pre_install", "1.0-1")
	r.accountsCreated()
	r.unpack(in)
	contains(t, "post_install", call("post_install", "1.0-1"), "crashwatch: started the service (testinit)")
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nstart")
	r.installedV1()

	call("pre_upgrade", "1.1-1", "1.0-1")
	contains(t, "post_upgrade", call("post_upgrade", "1.1-1", "1.0-1"), "crashwatch: restarted the service (testinit)")
	equal(t, "actions", r.actions("testinit"), "reload\nenable\nrestart")

	call("pre_remove", "1.1-1")
	equal(t, "actions", r.actions("testinit"), "stop\ndisable\nreload")
	if r.exists(record) || r.exists("/etc/testinit/sv") || r.exists("/etc/testinit/crashwatch.conf") || !r.exists("/etc/testinit/other.conf") {
		t.Error("pre_remove did not delete the recorded files")
	}
	if !r.exists(testConfig) || r.account("/etc/passwd", "crashwatch") == nil {
		t.Error("removal deleted the config or the user; pacman has no purge")
	}
}

// TestRegisteredRenderersInChroot runs the scripts generated from the real
// renderers in chroots where none of their init systems exists: their
// conditions must evaluate cleanly under dash and busybox ash, and the
// scripts must fall back to leaving the files staged.
func TestRegisteredRenderersInChroot(t *testing.T) {
	all := inits.All()
	if len(all) == 0 {
		t.Skip("no init renderers registered in package initsys yet")
	}
	in := Input{Service: testService(), Inits: all, Files: map[string][]initsys.File{}}
	for _, r := range all {
		files, err := r.Render(in.Service)
		if err != nil {
			t.Fatal(err)
		}
		in.Files[r.Name()] = files
	}
	deb := generate(t, Deb, in)
	for _, flavor := range []string{"dash", "busybox"} {
		t.Run(flavor, func(t *testing.T) {
			r := newRoot(t, flavor)
			r.ok(deb.PreInstall, "install")
			r.unpack(in)
			msg := r.ok(deb.PostInstall, "configure", "")
			contains(t, "postinst", msg, "no init system detected; the service files are left in /usr/lib/crashwatch/init")
			r.ok(deb.PreRemove, "remove")
			r.ok(deb.PostRemove, "purge")
		})
	}
}

// TestDeclaredDirs: configure creates the declared directories and the
// parents they lack, owned as declared, and notes them; an upgrade keeps
// the admin's mode and gives an existing directory its owner back; purge
// deletes a purge = true tree with its contents, an empty directory, and
// the parents it created, and keeps a directory holding the admin's files.
func TestDeclaredDirs(t *testing.T) {
	in := testInput()
	in.Service.Dirs = []initsys.Dir{
		{Path: "/srv/crashwatch/spool", Owner: "crashwatch", Group: "crashwatch", Mode: 0o710},
		{Path: "/var/cache/crashwatch", Owner: "crashwatch", Group: "crashwatch", Mode: 0o700, Purge: true},
		{Path: "/var/lib/shared-textfile", Owner: "root", Group: "crashwatch", Mode: 0o770},
	}
	in.Service.EnvironmentFile = "/etc/default/crashwatch"
	deb := generate(t, Deb, in)
	r := newRoot(t, "dash")
	r.touch("/run/testinit")
	r.mkdir("/var/cache", 0o755)
	r.ok(deb.PreInstall, "install")
	r.unpack(in)
	r.ok(deb.PostInstall, "configure", "")
	gid := r.id("/etc/group", "crashwatch")
	uid := r.id("/etc/passwd", "crashwatch")
	for _, d := range in.Service.Dirs {
		wantUID := uid
		if d.Owner == "root" {
			wantUID = 0
		}
		if mode, u, g := r.stat(d.Path); !mode.IsDir() || uint32(mode.Perm()) != d.Mode || u != wantUID || g != gid {
			t.Errorf("%s: %v %d:%d, want %04o %d:%d", d.Path, mode, u, g, d.Mode, wantUID, gid)
		}
	}
	if mode, u, _ := r.stat("/srv/crashwatch"); !mode.IsDir() || u != 0 {
		t.Errorf("the parent /srv/crashwatch is %v owned by %d", mode, u)
	}
	equal(t, "dirs record", r.read("/var/lib/omnipack/crashwatch.purge"),
		"empty /srv\nempty /srv/crashwatch\nempty /srv/crashwatch/spool\ntree /var/cache/crashwatch\nempty /var/lib/shared-textfile\nfile /etc/default/crashwatch\n")

	// The admin loosens a mode and an owner goes astray: an upgrade gives
	// the owner back and keeps the mode.
	if err := os.Chmod(r.host("/srv/crashwatch/spool"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(r.host("/var/cache/crashwatch"), 0, 0); err != nil {
		t.Fatal(err)
	}
	r.ok(deb.PostInstall, "configure", "1.0.0")
	if mode, _, _ := r.stat("/srv/crashwatch/spool"); mode.Perm() != 0o750 {
		t.Errorf("the upgrade reset the admin's mode: %v", mode)
	}
	if _, u, _ := r.stat("/var/cache/crashwatch"); u != uid {
		t.Errorf("the upgrade left /var/cache/crashwatch owned by %d", u)
	}
	equal(t, "dirs record after the upgrade", r.read("/var/lib/omnipack/crashwatch.purge"),
		"empty /srv\nempty /srv/crashwatch\nempty /srv/crashwatch/spool\ntree /var/cache/crashwatch\nempty /var/lib/shared-textfile\nfile /etc/default/crashwatch\n")

	r.write("/var/cache/crashwatch/blob", "cached\n", 0o600)
	r.write("/var/lib/shared-textfile/admin.prom", "kept\n", 0o644)
	// What rpm or pacman would leave of an edited environment file.
	r.write("/etc/default/crashwatch", "FLAGS=\"-v\"\n", 0o640)
	r.write("/etc/default/crashwatch.rpmsave", "FLAGS=\"-v\"\n", 0o640)
	r.ok(deb.PreRemove, "remove")
	r.ok(deb.PostRemove, "remove")
	for _, d := range in.Service.Dirs {
		if !r.exists(d.Path) {
			t.Errorf("removal deleted %s; only purge may", d.Path)
		}
	}
	msg := r.ok(deb.PostRemove, "purge")
	contains(t, "postrm purge", msg, "crashwatch: kept /var/lib/shared-textfile: it is not empty")
	for _, p := range []string{"/srv", "/var/cache/crashwatch", "/var/lib/omnipack/crashwatch.purge", "/etc/default/crashwatch", "/etc/default/crashwatch.rpmsave"} {
		if r.exists(p) {
			t.Errorf("%s is left after purge", p)
		}
	}
	if !r.exists("/var/lib/shared-textfile/admin.prom") || !r.exists("/var/cache") {
		t.Error("purge deleted the admin's file or a directory it did not create")
	}
}

// TestStartCheck: after the start the scripts watch the service for
// StartCheckSeconds; a service the init reports down, one it restarted
// (a new pid) or one whose health command fails makes a warning with its
// last log lines, and the install still succeeds. A healthy one, none.
func TestStartCheck(t *testing.T) {
	for _, flavor := range []string{"dash", "busybox"} {
		t.Run(flavor, func(t *testing.T) {
			in := testInput()
			in.Service.StartCheckSeconds = 1
			in.Service.HealthCommand = []string{"/bin/sh", "-c", "if [ -e /etc/unhealthy ]; then echo 'probe: connection refused'; exit 3; fi"}
			deb := generate(t, Deb, in)
			r := newRoot(t, flavor)
			r.touch("/run/testinit")
			r.mkdir("/var/log/testinit", 0o755)
			r.write("/var/log/testinit/service.log", "crashwatch: error: open /srv/missing.conf: no such file or directory\n", 0o644)
			r.ok(deb.PreInstall, "install")
			r.unpack(in)

			msg := r.ok(deb.PostInstall, "configure", "")
			contains(t, "healthy postinst", msg, "crashwatch: started the service (testinit)")
			if strings.Contains(msg, "warning") || strings.Contains(msg, "log lines") {
				t.Errorf("a healthy start warned:\n%s", msg)
			}

			const daemonLine = "crashwatch: crashwatch: error: open /srv/missing.conf: no such file or directory"
			for _, c := range []struct{ name, file, want string }{
				{"down", "/etc/testinit.down", "crashwatch: warning: the service restarted, but it is not running 0 s later; the package is installed anyway; check it with: testinitctl status crashwatch"},
				{"restarted", "/etc/testinit.flap", "crashwatch: warning: the service restarted, but it was restarted within 1 s (pid 1, then 2)"},
				{"unhealthy", "/etc/unhealthy", "crashwatch: warning: the service restarted, but its health command (/bin/sh -c if [ -e /etc/unhealthy ]; then echo 'probe: connection refused'; exit 3; fi) exited with status 3"},
			} {
				r.write(c.file, "1\n", 0o644)
				msg := r.ok(deb.PostInstall, "configure", "1.0")
				contains(t, c.name+" postinst", msg, c.want, "crashwatch: last log lines (testinit):", daemonLine)
				if c.name == "unhealthy" {
					contains(t, c.name+" postinst", msg, "crashwatch: probe: connection refused")
				}
				r.remove(c.file)
			}

			// Without a log of the init's, nor a system log, it says so.
			r.remove("/var/log/testinit/service.log")
			r.touch("/etc/testinit.down")
			msg = r.ok(deb.PostInstall, "configure", "1.0")
			contains(t, "postinst without a log", msg, "crashwatch: no log lines of the service were found")
			r.write("/var/log/syslog", "other: line\nJan 1 crashwatch[7]: from syslog\n", 0o644)
			msg = r.ok(deb.PostInstall, "configure", "1.0")
			contains(t, "postinst with syslog", msg, "crashwatch: last log lines (system log):", "crashwatch: Jan 1 crashwatch[7]: from syslog")
		})
	}
}
