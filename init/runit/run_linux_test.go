package runit

// These tests run the generated run script for real, the way runsv does:
// they start it as root in the service directory and drive the daemon with
// the signals sv sends (sv hup, sv down), and check what the recording
// daemon got. They need root to switch users; run `go test` as root (the
// container builds do) to include them.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

func TestRunitRuns(t *testing.T) { runitRuns(t) }

// TestRunitRunsSlowDaemon runs the same with a daemon that takes seconds to
// install its signal handlers after writing its output, as on a busy
// machine: the test must wait for the daemon to be ready, or sv hup kills
// it.
func TestRunitRunsSlowDaemon(t *testing.T) {
	t.Setenv(inittest.RecorderDelayEnv, "3")
	runitRuns(t)
}

// svDir writes the run script of s into a fresh service directory and
// returns the directory, from which runsv runs ./run.
func svDir(t *testing.T, s initsys.Service) string {
	t.Helper()
	files := inittest.Render(t, Init{}, s)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "run"), inittest.File(t, files, "/etc/sv/"+s.Name+"/run").Body, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runitRuns(t *testing.T) {
	inittest.Need(t, "setpriv", "apt-get install util-linux")
	inittest.Need(t, "unshare", "apt-get install util-linux")
	ownNetns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{initsys.ProfileDefault, initsys.ProfileNoNetwork} {
		t.Run(profile, func(t *testing.T) {
			sb := inittest.NewSandbox(t)
			s := sb.Service(t, "omnipack-runit-test")
			s.Profile = profile
			dir := svDir(t, s)
			cmd := exec.Command(filepath.Join(dir, "run"))
			cmd.Dir = dir
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })

			// runsv signals the pid it started, so the run script must
			// exec its way to the daemon: the recorder must be that pid.
			pid := cmd.Process.Pid
			sb.WaitReady(t, pid)
			sb.Check(t, s, true)
			isolated := strings.TrimSpace(sb.Read(t, "netns")) != ownNetns
			if isolated != (profile == initsys.ProfileNoNetwork) {
				t.Errorf("network namespace isolated = %v for profile %s", isolated, profile)
			}

			// sv hup, then sv down.
			if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			sb.WaitFor(t, "hup", pid)
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("the daemon did not exit cleanly on TERM: %v\n%s", err, out.String())
				}
			case <-time.After(inittest.WaitTimeout):
				t.Errorf("the daemon still runs %v after TERM", inittest.WaitTimeout)
			}
		})
	}
}
