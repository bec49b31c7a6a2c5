package sysvinit

// These tests run the generated init script for real: they start a recording daemon, as root, under the service user, and
// check what it got. They need root to switch users; run `go test` as root
// (the container builds do) to include them.

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
	"github.com/omnipack/omnipack/layout"
)

// serial makes each test service's name, and so its pidfile, its own.
var serial atomic.Int64

func TestSysvinitRuns(t *testing.T) { sysvinitRuns(t) }

// TestSysvinitRunsSlowDaemon runs the same with a daemon that takes seconds
// to install its signal handlers after writing its output, as on a busy
// machine: the test must wait for the daemon to be ready, not for its
// output or for start to return, or the reload kills it.
func TestSysvinitRunsSlowDaemon(t *testing.T) {
	t.Setenv(inittest.RecorderDelayEnv, "3")
	sysvinitRuns(t)
}

func sysvinitRuns(t *testing.T) {
	inittest.Need(t, "setpriv", "apt-get install util-linux")
	inittest.Need(t, "start-stop-daemon", "apt-get install dpkg")
	inittest.Subreaper(t)
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
		{"start-stop-daemon+setpriv", initsys.ProfileDefault, fullPath, true},
		{"start-stop-daemon+setpriv+unshare", initsys.ProfileNoNetwork, fullPath, true},
		{"start-stop-daemon+chuid", initsys.ProfileDefault, func(t *testing.T) string { return inittest.PathWithout(t, "setpriv") }, false},
		{"sh+setpriv", initsys.ProfileDefault, func(t *testing.T) string { return inittest.PathWithout(t, "start-stop-daemon") }, true},
		{"sh+chroot", initsys.ProfileDefault, func(t *testing.T) string { return inittest.PathWithout(t, "start-stop-daemon", "setpriv") }, false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			sb := inittest.NewSandbox(t)
			s := sb.Service(t, fmt.Sprintf("omnipack-test-%d-%d", os.Getpid(), serial.Add(1)))
			s.Profile = m.profile
			s.Limits = inittest.Limits
			script := inittest.WriteTemp(t, s.Name, inittest.Render(t, Init{}, s)[0].Body, 0o755)
			pidfile := "/run/" + s.Name + ".pid"
			t.Cleanup(func() { os.Remove(pidfile); os.RemoveAll(layout.LogDir(s.Name)) })
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
			sb.WaitReady(t, pid)
			sb.Check(t, s, m.wantCaps)
			inittest.CheckOutputLog(t, s, pid)
			isolated := strings.TrimSpace(sb.Read(t, "netns")) != ownNetns
			if isolated != (m.profile == initsys.ProfileNoNetwork) {
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
			sb.WaitFor(t, "hup", pid)
			if out, code := action("stop"); code != 0 {
				t.Errorf("stop = %d\n%s", code, out)
			}
			select {
			case <-exited:
			case <-time.After(inittest.WaitTimeout):
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

// TestSysvinitWithoutCapability starts the service, which declares
// CAP_SYSLOG and CAP_NET_RAW, with CAP_SYSLOG missing from the bounding set,
// as in a systemd-nspawn container: the daemon runs with CAP_NET_RAW only
// and start warns once; when CAP_SYSLOG is required, start fails saying so
// and no daemon runs.
func TestSysvinitWithoutCapability(t *testing.T) {
	inittest.Need(t, "start-stop-daemon", "apt-get install dpkg")
	inittest.Subreaper(t)
	for _, required := range []bool{false, true} {
		t.Run(map[bool]string{false: "declared", true: "required"}[required], func(t *testing.T) {
			sb := inittest.NewSandbox(t)
			s := sb.Service(t, fmt.Sprintf("omnipack-test-%d-%d", os.Getpid(), serial.Add(1)))
			s.Capabilities = []string{"CAP_SYSLOG", "CAP_NET_RAW"}
			if required {
				s.RequiredCapabilities = []string{"CAP_SYSLOG"}
			}
			script := inittest.WriteTemp(t, s.Name, inittest.Render(t, Init{}, s)[0].Body, 0o755)
			pidfile := "/run/" + s.Name + ".pid"
			t.Cleanup(func() { os.Remove(pidfile); os.RemoveAll(layout.LogDir(s.Name)) })
			action := func(a string) (string, int) {
				argv := inittest.WithoutCap(t, "CAP_SYSLOG", script, a)
				out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
				if ee, ok := err.(*exec.ExitError); ok {
					return string(out), ee.ExitCode()
				} else if err != nil {
					t.Fatalf("%s: %v", a, err)
				}
				return string(out), 0
			}

			out, code := action("start")
			if required {
				if code == 0 || !strings.Contains(out, inittest.RequiredError(s, "CAP_SYSLOG")) {
					t.Errorf("start = %d, want a failure saying %q:\n%s", code, inittest.RequiredError(s, "CAP_SYSLOG"), out)
				}
				if out, code := action("status"); code != 3 {
					t.Errorf("status after the refused start = %d, want 3\n%s", code, out)
				}
				if sb.Has("args") {
					t.Errorf("the daemon ran without its required capability")
				}
				return
			}
			if code != 0 {
				t.Fatalf("start = %d\n%s", code, out)
			}
			if n := strings.Count(out, "warning"); n != 1 || !strings.Contains(out, inittest.DroppedWarning(s, "CAP_SYSLOG")) {
				t.Errorf("start printed %d warnings, want one: %q\n%s", n, inittest.DroppedWarning(s, "CAP_SYSLOG"), out)
			}
			raw, err := os.ReadFile(pidfile)
			if err != nil {
				t.Fatalf("no pidfile: %v", err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
			// Reaped here, as an orphan of the script, so that stop
			// does not wait for a zombie.
			go syscall.Wait4(pid, nil, 0, nil)
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
			sb.WaitReady(t, pid)
			// CAP_NET_RAW is bit 13.
			const netRawOnly = "0000000000002000"
			for field, want := range map[string]string{"CapBnd": netRawOnly, "CapAmb": netRawOnly, "CapEff": netRawOnly} {
				if got := sb.CapField(t, field); got != want {
					t.Errorf("daemon %s = %s, want %s", field, got, want)
				}
			}
			if uid := strings.TrimSpace(sb.Read(t, "uid")); uid == "0" {
				t.Errorf("the daemon runs as root")
			}
			if out, code := action("stop"); code != 0 {
				t.Errorf("stop = %d\n%s", code, out)
			}
		})
	}
}

// TestSysvinitEnvironmentFileAndDirs starts a service whose arguments
// expand from its settings file, with the file and without it, and which
// declares directories the start must create as declared. The script runs
// in a directory holding a file "*" would match: $FLAGS must not glob.
func TestSysvinitEnvironmentFileAndDirs(t *testing.T) {
	inittest.Need(t, "start-stop-daemon", "apt-get install dpkg")
	inittest.Subreaper(t)
	for _, written := range []bool{true, false} {
		t.Run(fmt.Sprintf("written=%v", written), func(t *testing.T) {
			sb := inittest.NewSandbox(t)
			s := sb.WithDirs(sb.WithEnvFile(t, sb.Service(t, fmt.Sprintf("omnipack-test-%d-%d", os.Getpid(), serial.Add(1))), written))
			script := inittest.WriteTemp(t, s.Name, inittest.Render(t, Init{}, s)[0].Body, 0o755)
			pidfile := "/run/" + s.Name + ".pid"
			t.Cleanup(func() { os.Remove(pidfile); os.RemoveAll(layout.LogDir(s.Name)) })
			cwd := t.TempDir()
			inittest.GlobBait(t, cwd, s.WorkingDir)
			action := func(a string) {
				cmd := exec.Command(script, a)
				cmd.Dir = cwd
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", a, err, out)
				}
			}
			action("start")
			raw, err := os.ReadFile(pidfile)
			if err != nil {
				t.Fatalf("no pidfile: %v", err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
			// The test is the daemon's subreaper: reap it, or stop
			// waits for a zombie.
			go syscall.Wait4(pid, nil, 0, nil)
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
			sb.WaitReady(t, pid)
			sb.CheckEnvFileArgs(t, written)
			sb.CheckDirs(t, s)
			action("stop")
		})
	}
}

// TestSysvinitOpenFilesNotRaised starts the service where the script may
// not raise the hard open files limit to the one asked for (no
// CAP_SYS_RESOURCE, a lower hard limit), as in some containers: the daemon
// starts with the hard limit as both limits, as systemd gets as close as it
// may, and start warns saying so.
func TestSysvinitOpenFilesNotRaised(t *testing.T) {
	inittest.Need(t, "start-stop-daemon", "apt-get install dpkg")
	inittest.Need(t, "prlimit", "apt-get install util-linux")
	inittest.Subreaper(t)
	sb := inittest.NewSandbox(t)
	s := sb.Service(t, fmt.Sprintf("omnipack-test-%d-%d", os.Getpid(), serial.Add(1)))
	s.Limits = inittest.Limits
	script := inittest.WriteTemp(t, s.Name, inittest.Render(t, Init{}, s)[0].Body, 0o755)
	pidfile := "/run/" + s.Name + ".pid"
	t.Cleanup(func() { os.Remove(pidfile); os.RemoveAll(layout.LogDir(s.Name)) })
	const soft, hard = 500, 1000
	argv := append([]string{"prlimit", fmt.Sprintf("--nofile=%d:%d", soft, hard), "--"}, inittest.WithoutCap(t, "CAP_SYS_RESOURCE", script, "start")...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("%s: warning: the open files limit cannot be raised to %d here; starting with the hard limit, %d", s.Name, s.Limits.OpenFiles, hard); !strings.Contains(string(out), want) {
		t.Errorf("start did not warn %q:\n%s", want, out)
	}
	raw, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("no pidfile: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	go syscall.Wait4(pid, nil, 0, nil)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	sb.WaitReady(t, pid)
	if gotSoft, gotHard := sb.OpenFiles(t); gotSoft != strconv.Itoa(hard) || gotHard != strconv.Itoa(hard) {
		t.Errorf("daemon open files limit soft %s hard %s, want %d for both", gotSoft, gotHard, hard)
	}
	if out, err := exec.Command(script, "stop").CombinedOutput(); err != nil {
		t.Errorf("stop: %v\n%s", err, out)
	}
}
