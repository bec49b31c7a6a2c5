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
			script := inittest.WriteTemp(t, s.Name, inittest.Render(t, Init{}, s)[0].Body, 0o755)
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
			sb.WaitReady(t, pid)
			sb.Check(t, s, m.wantCaps)
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
