package initsys

// These tests run the generated sysvinit script and runit run script for
// real: they start a recording daemon, as root, under the service user, and
// check what it got. They need root to switch users; run `go test` as root
// (the container builds do) to include them.

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recorder is a daemon that writes down its arguments, environment,
// credentials and capabilities, then (unless ONESHOT is set) waits for
// signals, noting each SIGHUP.
const recorder = `#!/bin/sh
out=%s
for a; do printf '%%s\n' "$a"; done >"$out/args"
env >"$out/env"
id -u >"$out/uid"
grep -E '^(CapAmb|CapBnd|NoNewPrivs):' "/proc/$$/status" >"$out/status"
pwd >"$out/pwd"
umask >"$out/umask"
readlink "/proc/$$/ns/net" >"$out/netns"
[ -n "$ONESHOT" ] && exit 0
trap 'echo hup >>"$out/hup"' HUP
trap 'exit 0' TERM
while :; do
	sleep 1 &
	wait $!
done
`

// sandbox is a world-readable temp dir holding the recorder and its output.
type sandbox struct {
	dir, bin, out string
}

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to the service user; run go test as root")
	}
	dir, err := os.MkdirTemp("", "omnipack-init-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sb := sandbox{dir: dir, bin: filepath.Join(dir, "omnipack-rec"), out: filepath.Join(dir, "out")}
	for _, d := range []string{dir, sb.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		// The daemon runs as nobody and must reach and write these.
		os.Chmod(d, 0o777)
	}
	if err := os.WriteFile(sb.bin, fmt.Appendf(nil, recorder, sb.out), 0o755); err != nil {
		t.Fatal(err)
	}
	return sb
}

func (sb sandbox) read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sb.out, name))
	if err != nil {
		t.Fatalf("daemon did not record %s: %v", name, err)
	}
	return string(b)
}

// service is the representative service pointed at the recorder, running
// as nobody so the test needs no user of its own.
func (sb sandbox) service(t *testing.T, name string) Service {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody: %v", err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatalf("no group %s: %v", u.Gid, err)
	}
	s := crashwatch()
	s.Name = name
	s.Exec = sb.bin
	s.User, s.Group = u.Username, g.Name
	s.StateDir = filepath.Join(sb.dir, "state")
	s.WorkingDir = s.StateDir
	s.StopTimeout = 5
	return s
}

// check compares what the recorder saw with what s asked for.
func (sb sandbox) check(t *testing.T, s Service, wantCaps bool) {
	t.Helper()
	args := strings.Split(strings.TrimSuffix(sb.read(t, "args"), "\n"), "\n")
	if !slices.Equal(args, s.Args) {
		t.Errorf("daemon args %q, want %q", args, s.Args)
	}
	env := sb.read(t, "env")
	for _, k := range s.EnvKeys() {
		if !strings.Contains(env, "\n"+k+"="+s.Environment[k]+"\n") && !strings.HasPrefix(env, k+"="+s.Environment[k]+"\n") {
			t.Errorf("daemon environment lacks %s=%q", k, s.Environment[k])
		}
	}
	u, _ := user.Lookup(s.User)
	if uid := strings.TrimSpace(sb.read(t, "uid")); uid != u.Uid {
		t.Errorf("daemon uid %s, want %s", uid, u.Uid)
	}
	if pwd := strings.TrimSpace(sb.read(t, "pwd")); pwd != s.WorkingDir {
		t.Errorf("daemon cwd %s, want %s", pwd, s.WorkingDir)
	}
	if um := strings.TrimSpace(sb.read(t, "umask")); um != "0077" {
		t.Errorf("daemon umask %s, want 0077", um)
	}
	st := sb.read(t, "status")
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
}

// pathWithout returns a PATH of symlinks to every command on the current
// PATH except the named ones, to run a script as if they were not installed.
func pathWithout(t *testing.T, drop ...string) string {
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

// subreaper makes this test process adopt the daemons the init script
// orphans, so that they can be reaped when they exit; otherwise, under a
// PID 1 that does not reap, a stopped daemon would linger as a zombie.
func subreaper(t *testing.T) {
	t.Helper()
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
}

func TestSysvinitRuns(t *testing.T) {
	need(t, "setpriv", "apt-get install util-linux")
	need(t, "start-stop-daemon", "apt-get install dpkg")
	subreaper(t)
	ownNetns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	fullPath := func(*testing.T) string { return os.Getenv("PATH") }
	modes := []struct {
		name     string
		profile  string
		path     func(t *testing.T) string
		wantCaps bool
	}{
		{"start-stop-daemon+setpriv", ProfileDefault, fullPath, true},
		{"start-stop-daemon+setpriv+unshare", ProfileNoNetwork, fullPath, true},
		{"start-stop-daemon+chuid", ProfileDefault, func(t *testing.T) string { return pathWithout(t, "setpriv") }, false},
		{"sh+setpriv", ProfileDefault, func(t *testing.T) string { return pathWithout(t, "start-stop-daemon") }, true},
		{"sh+chroot", ProfileDefault, func(t *testing.T) string { return pathWithout(t, "start-stop-daemon", "setpriv") }, false},
	}
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			sb := newSandbox(t)
			s := sb.service(t, fmt.Sprintf("omnipack-test-%d-%d", os.Getpid(), i))
			s.Profile = m.profile
			script := writeTemp(t, s.Name, render(t, "sysvinit", s)[0].Body, 0o755)
			pidfile := "/run/" + s.Name + ".pid"
			t.Cleanup(func() { os.Remove(pidfile) })
			path := m.path(t)
			action := func(a string) (string, int) {
				cmd := exec.Command(script, a)
				cmd.Env = append(os.Environ(), "PATH="+path)
				out, err := cmd.CombinedOutput()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatalf("%s: %v", a, err)
				}
				return string(out), code
			}

			if out, code := action("status"); code != 3 {
				t.Fatalf("status before start = %d, want 3\n%s", code, out)
			}
			if out, code := action("start"); code != 0 {
				t.Fatalf("start = %d\n%s", code, out)
			}
			raw, err := os.ReadFile(pidfile)
			if err != nil {
				t.Fatalf("no pidfile: %v", err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
			exited := make(chan struct{})
			go func() {
				var ws syscall.WaitStatus
				syscall.Wait4(pid, &ws, 0, nil)
				close(exited)
			}()
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

			if out, code := action("status"); code != 0 {
				t.Fatalf("status after start = %d\n%s", code, out)
			}
			sb.check(t, s, m.wantCaps)
			isolated := strings.TrimSpace(sb.read(t, "netns")) != ownNetns
			if isolated != (m.profile == ProfileNoNetwork) {
				t.Errorf("network namespace isolated = %v for profile %s", isolated, m.profile)
			}
			if out, code := action("start"); code != 0 {
				t.Errorf("second start = %d\n%s", code, out)
			}
			if raw2, _ := os.ReadFile(pidfile); string(raw2) != string(raw) {
				t.Errorf("second start replaced the daemon: %s -> %s", raw, raw2)
			}
			if out, code := action("reload"); code != 0 {
				t.Errorf("reload = %d\n%s", code, out)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				if _, err := os.Stat(filepath.Join(sb.out, "hup")); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("daemon never saw SIGHUP")
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if out, code := action("stop"); code != 0 {
				t.Errorf("stop = %d\n%s", code, out)
			}
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Errorf("daemon %d still running after stop", pid)
			}
			if out, code := action("status"); code != 3 {
				t.Errorf("status after stop = %d, want 3\n%s", code, out)
			}
			if out, code := action("stop"); code != 0 {
				t.Errorf("stop when stopped = %d\n%s", code, out)
			}
			if out, code := action("bogus"); code != 2 {
				t.Errorf("unknown action = %d, want 2\n%s", code, out)
			}
		})
	}
}

func TestRunitRuns(t *testing.T) {
	need(t, "setpriv", "apt-get install util-linux")
	need(t, "unshare", "apt-get install util-linux")
	ownNetns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{ProfileDefault, ProfileNoNetwork} {
		t.Run(profile, func(t *testing.T) {
			sb := newSandbox(t)
			s := sb.service(t, "omnipack-runit-test")
			s.Profile = profile
			s.Environment["ONESHOT"] = "1"
			files := render(t, "runit", s)
			// runsv runs ./run from the service directory.
			svdir := t.TempDir()
			run := filepath.Join(svdir, "run")
			if err := os.WriteFile(run, file(t, files, "/etc/sv/"+s.Name+"/run").Body, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(run)
			cmd.Dir = svdir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			sb.check(t, s, true)
			isolated := strings.TrimSpace(sb.read(t, "netns")) != ownNetns
			if isolated != (profile == ProfileNoNetwork) {
				t.Errorf("network namespace isolated = %v for profile %s", isolated, profile)
			}
		})
	}
}
