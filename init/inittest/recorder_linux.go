package inittest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	initsys "github.com/omnipack/omnipack/init"
)

// RecorderDelayEnv names a test-only knob: the recorder sleeps that many
// seconds after writing its output and before installing its signal
// handlers, widening the window in which a signal kills it. A test that
// passes with it set waits for Ready, not for the output or for start to
// return.
const RecorderDelayEnv = "OMNIPACK_TEST_RECORDER_DELAY"

// recorder is a daemon that writes down its arguments, environment,
// credentials, capabilities, resource limits and nice value, then (unless
// ONESHOT is set) installs its signal handlers, says it is ready by
// renaming its pid into the file "ready", and waits for signals, noting
// each SIGHUP in "hup".
const recorder = `#!/bin/sh
out=%s
for a; do printf '%%s\n' "$a"; done >"$out/args"
env >"$out/env"
id -u >"$out/uid"
grep -E '^(CapEff|CapAmb|CapBnd|NoNewPrivs):' "/proc/$$/status" >"$out/status"
pwd >"$out/pwd"
umask >"$out/umask"
readlink "/proc/$$/ns/net" >"$out/netns"
cat "/proc/$$/limits" >"$out/limits"
cat "/proc/$$/stat" >"$out/stat"
echo start >>"$out/starts"
[ -n "$ONESHOT" ] && exit 0
if [ -n "$` + RecorderDelayEnv + `" ]; then
	sleep "$` + RecorderDelayEnv + `"
fi
trap 'echo hup >>"$out/hup"' HUP
trap 'exit 0' TERM
# What an init keeps of a daemon's output (CheckOutputLog).
echo "recorder $$: ready"
echo "recorder $$: on stderr" >&2
# Until here a HUP or TERM kills the shell: only now is it ready. The
# rename makes "ready" appear whole.
echo $$ >"$out/ready.tmp" && mv "$out/ready.tmp" "$out/ready"
while :; do
	sleep 1 &
	wait $!
done
`

// Sandbox is a world-readable temp dir holding the recorder and its output.
type Sandbox struct {
	Dir, Bin, Out string
}

func NewSandbox(t *testing.T) Sandbox {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to the service user; run go test as root")
	}
	dir, err := os.MkdirTemp("", "omnipack-init-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sb := Sandbox{Dir: dir, Bin: filepath.Join(dir, "omnipack-rec"), Out: filepath.Join(dir, "out")}
	for _, d := range []string{dir, sb.Out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		// The daemon runs as nobody and must reach and write these.
		os.Chmod(d, 0o777)
	}
	if err := os.WriteFile(sb.Bin, fmt.Appendf(nil, recorder, sb.Out), 0o755); err != nil {
		t.Fatal(err)
	}
	return sb
}

func (sb Sandbox) Read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sb.Out, name))
	if err != nil {
		t.Fatalf("daemon did not record %s: %v", name, err)
	}
	return string(b)
}

// WaitTimeout bounds every wait on the recorder. It is generous because a
// wait only ends early when the awaited event happens: a slow machine makes
// the tests slower, never wrong.
const WaitTimeout = 60 * time.Second

// WaitFor polls until the recorder has written the file name and returns
// its contents. It fails the test when daemon, the recorder's pid, has
// exited first, or after WaitTimeout.
func (sb Sandbox) WaitFor(t *testing.T, name string, daemon int) string {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		b, err := os.ReadFile(filepath.Join(sb.Out, name))
		if err == nil {
			return string(b)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("reading the recorder's %s: %v", name, err)
		}
		if !Alive(daemon) {
			t.Fatalf("the daemon (pid %d) exited without writing %s", daemon, name)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon (pid %d) wrote no %s within %v", daemon, name, WaitTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitReady waits until the recorder running as pid daemon has installed
// its signal handlers, which it does after writing everything Check reads.
func (sb Sandbox) WaitReady(t *testing.T, daemon int) {
	t.Helper()
	raw := sb.WaitFor(t, "ready", daemon)
	if pid, err := strconv.Atoi(strings.TrimSpace(raw)); err != nil || pid != daemon {
		t.Fatalf("the recorder that got ready is %q, not pid %d", raw, daemon)
	}
}

// Alive reports whether pid runs: it exists and is not a zombie.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses, which may
	// itself hold ") ".
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// Service is the representative service pointed at the recorder, running
// as nobody so the test needs no user of its own.
func (sb Sandbox) Service(t *testing.T, name string) initsys.Service {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody: %v", err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatalf("no group %s: %v", u.Gid, err)
	}
	s := Crashwatch()
	s.Name = name
	s.Exec = sb.Bin
	s.User, s.Group = u.Username, g.Name
	s.StateDir = filepath.Join(sb.Dir, "state")
	s.WorkingDir = s.StateDir
	s.StopTimeout = 5
	return s
}

// CheckOutputLog: the ready daemon's stdout and stderr lines are in the
// log file, which its own user owns.
func CheckOutputLog(t *testing.T, s initsys.Service, daemon int) {
	t.Helper()
	p := initsys.LogFile(s.Name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the daemon's output log: %v", err)
	}
	for _, want := range []string{fmt.Sprintf("recorder %d: ready\n", daemon), fmt.Sprintf("recorder %d: on stderr\n", daemon)} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q:\n%s", p, want, data)
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	u, err := user.Lookup(s.User)
	if err != nil {
		t.Fatal(err)
	}
	if uid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)); uid != u.Uid {
		t.Errorf("%s is owned by uid %s, want %s (%s)", p, uid, u.Uid, s.User)
	}
}

// Check compares what the recorder saw with what s asked for.
func (sb Sandbox) Check(t *testing.T, s initsys.Service, wantCaps bool) {
	t.Helper()
	args := strings.Split(strings.TrimSuffix(sb.Read(t, "args"), "\n"), "\n")
	if !slices.Equal(args, s.Args) {
		t.Errorf("daemon args %q, want %q", args, s.Args)
	}
	env := sb.Read(t, "env")
	for _, k := range s.EnvKeys() {
		if !strings.Contains(env, "\n"+k+"="+s.Environment[k]+"\n") && !strings.HasPrefix(env, k+"="+s.Environment[k]+"\n") {
			t.Errorf("daemon environment lacks %s=%q", k, s.Environment[k])
		}
	}
	u, _ := user.Lookup(s.User)
	if uid := strings.TrimSpace(sb.Read(t, "uid")); uid != u.Uid {
		t.Errorf("daemon uid %s, want %s", uid, u.Uid)
	}
	if pwd := strings.TrimSpace(sb.Read(t, "pwd")); pwd != s.WorkingDir {
		t.Errorf("daemon cwd %s, want %s", pwd, s.WorkingDir)
	}
	if um := strings.TrimSpace(sb.Read(t, "umask")); um != "0077" {
		t.Errorf("daemon umask %s, want 0077", um)
	}
	st := sb.Read(t, "status")
	// CAP_SYSLOG is bit 34.
	const syslogOnly = "0000000400000000"
	if wantCaps {
		for _, want := range []string{"CapAmb:\t" + syslogOnly, "CapBnd:\t" + syslogOnly, "NoNewPrivs:\t1"} {
			if !strings.Contains(st, want) {
				t.Errorf("daemon status lacks %q:\n%s", want, st)
			}
		}
	} else if !strings.Contains(st, "CapAmb:\t0000000000000000") {
		t.Errorf("daemon has ambient capabilities without setpriv:\n%s", st)
	}
	if fi, err := os.Stat(s.StateDir); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("state dir: %v %v", fi, err)
	}
	sb.CheckLimits(t, s)
}

// OpenFiles returns the soft and hard open files limit the recorder ran
// under, from its /proc/PID/limits.
func (sb Sandbox) OpenFiles(t *testing.T) (soft, hard string) {
	t.Helper()
	return OpenFilesLimit(t, sb.Read(t, "limits"))
}

// OpenFilesLimit reads the soft and hard "Max open files" of a
// /proc/PID/limits.
func OpenFilesLimit(t *testing.T, limits string) (soft, hard string) {
	t.Helper()
	for _, l := range strings.Split(limits, "\n") {
		if rest, ok := strings.CutPrefix(l, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[0], f[1]
			}
		}
	}
	t.Fatalf("no \"Max open files\" in the limits:\n%s", limits)
	return "", ""
}

// Nice returns the nice value the recorder ran with.
func (sb Sandbox) Nice(t *testing.T) int {
	t.Helper()
	return NiceOf(t, sb.Read(t, "stat"))
}

// NiceOf reads the nice value, field 19, of a /proc/PID/stat line.
func NiceOf(t *testing.T, stat string) int {
	t.Helper()
	// Fields are counted after the command name in parentheses, which
	// may itself hold spaces and ")": the state is field 3.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		t.Fatalf("not a /proc/PID/stat line: %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 17 {
		t.Fatalf("not a /proc/PID/stat line: %q", stat)
	}
	n, err := strconv.Atoi(f[19-3])
	if err != nil {
		t.Fatalf("nice field %q of %q: %v", f[19-3], stat, err)
	}
	return n
}

// OwnNice is the nice value of the test process: the shell inits add a
// service's nice value to that of whoever starts it.
func OwnNice(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	return NiceOf(t, string(b))
}

// CheckLimits compares the open files limit and nice value the recorder
// ran with to what s asked for: soft and hard open files equal to
// s.Limits.OpenFiles, and the nice value s.Limits.Nice added to the test
// process's own (which the kernel keeps within -20..19).
func (sb Sandbox) CheckLimits(t *testing.T, s initsys.Service) {
	t.Helper()
	if n := s.Limits.OpenFiles; n > 0 {
		want := strconv.Itoa(n)
		if soft, hard := sb.OpenFiles(t); soft != want || hard != want {
			t.Errorf("daemon open files limit soft %s hard %s, want %s for both", soft, hard, want)
		}
	}
	if s.Limits.Nice != nil {
		want := min(max(OwnNice(t)+*s.Limits.Nice, initsys.MinNice), initsys.MaxNice)
		if got := sb.Nice(t); got != want {
			t.Errorf("daemon nice %d, want %d", got, want)
		}
	}
}

// PathWithout returns a PATH of symlinks to every command on the current
// PATH except the named ones, to run a script as if they were not installed.
func PathWithout(t *testing.T, drop ...string) string {
	t.Helper()
	// Not t.TempDir: the daemon, running as nobody, searches it too.
	dir, err := os.MkdirTemp("", "omnipack-path-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if slices.Contains(drop, e.Name()) {
				continue
			}
			os.Symlink(filepath.Join(d, e.Name()), filepath.Join(dir, e.Name())) // first one wins
		}
	}
	return dir
}

// Subreaper makes this test process adopt the daemons the init script
// orphans, so that they can be reaped when they exit; otherwise, under a
// PID 1 that does not reap, a stopped daemon would linger as a zombie.
func Subreaper(t *testing.T) {
	t.Helper()
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
}

// WithoutCap returns argv run under a capability bounding set without c,
// as in a systemd-nspawn container, which drops CAP_SYSLOG.
func WithoutCap(t *testing.T, c string, argv ...string) []string {
	t.Helper()
	Need(t, "setpriv", "apt-get install util-linux")
	return append([]string{"setpriv", "--bounding-set=-" + initsys.CapShort(c), "--"}, argv...)
}

// DroppedWarning is what every init says when it starts s without the
// capability c, which the bounding set lacks.
func DroppedWarning(s initsys.Service, c string) string {
	return s.Name + ": warning: " + c + " is not in this host's capability bounding set; starting without it"
}

// RequiredError is what every init says when it refuses to start s
// without the required capability c.
func RequiredError(s initsys.Service, c string) string {
	return s.Name + ": error: " + c + " is required but not in this host's capability bounding set; not starting without it"
}

// CapField returns a field of the recorder's capability status, such as
// CapBnd, as the kernel printed it.
func (sb Sandbox) CapField(t *testing.T, field string) string {
	t.Helper()
	for _, l := range strings.Split(sb.Read(t, "status"), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("the recorder's status has no %s", field)
	return ""
}

// Has reports whether the recorder wrote the file name.
func (sb Sandbox) Has(name string) bool {
	_, err := os.Stat(filepath.Join(sb.Out, name))
	return err == nil
}

// WithEnvFile gives s, a Sandbox service, EnvFileService's arguments and
// environment and a settings file in the sandbox; with written, the file
// holds EnvFile, else it does not exist.
func (sb Sandbox) WithEnvFile(t *testing.T, s initsys.Service, written bool) initsys.Service {
	t.Helper()
	ef := EnvFileService(s.Profile)
	s.Args, s.Environment = ef.Args, ef.Environment
	s.EnvironmentFile = filepath.Join(sb.Dir, "settings")
	if written {
		if err := os.WriteFile(s.EnvironmentFile, []byte(EnvFile), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// CheckEnvFileArgs compares the arguments the recorder got with what the
// settings file WithEnvFile wrote asks for, or without it the defaults.
func (sb Sandbox) CheckEnvFileArgs(t *testing.T, written bool) {
	t.Helper()
	want := EnvFileArgs
	if !written {
		want = EnvFileDefaultArgs
	}
	if got := strings.Split(strings.TrimSuffix(sb.Read(t, "args"), "\n"), "\n"); !slices.Equal(got, want) {
		t.Errorf("with the settings file written = %v the daemon got %q, want %q", written, got, want)
	}
}

// WithDirs gives s, a Sandbox service, directories in the sandbox: one
// owned by the service's account and one by root with the service's
// group, both with modes the tests would not get by accident.
func (sb Sandbox) WithDirs(s initsys.Service) initsys.Service {
	s.Dirs = []initsys.Dir{
		{Path: filepath.Join(sb.Dir, "spool", "inbox"), Owner: s.User, Group: s.Group, Mode: 0o710},
		{Path: filepath.Join(sb.Dir, "shared"), Owner: "root", Group: s.Group, Mode: 0o570},
	}
	return s
}

// CheckDirs checks that each of s's directories exists, owned and moded
// as declared.
func (sb Sandbox) CheckDirs(t *testing.T, s initsys.Service) {
	t.Helper()
	for _, d := range s.Dirs {
		fi, err := os.Stat(d.Path)
		if err != nil {
			t.Errorf("directory %s: %v", d.Path, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		u, _ := user.LookupId(strconv.Itoa(int(st.Uid)))
		g, _ := user.LookupGroupId(strconv.Itoa(int(st.Gid)))
		if !fi.IsDir() || uint32(fi.Mode().Perm()) != d.Mode || u == nil || u.Username != d.Owner || g == nil || g.Name != d.Group {
			t.Errorf("directory %s is %v uid %d gid %d, want %04o %s:%s", d.Path, fi.Mode(), st.Uid, st.Gid, d.Mode, d.Owner, d.Group)
		}
	}
}
