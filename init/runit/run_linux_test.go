package runit

// These tests run the generated run script for real, the way runsv does:
// they start it as root in the service directory and drive the daemon with
// the signals sv sends (sv hup, sv down), and check what the recording
// daemon got. They need root to switch users; run `go test` as root (the
// container builds do) to include them.

import (
	"fmt"
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
			s.Limits = inittest.Limits
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

// TestRunitWithoutCapability runs ./run, for a service that declares
// CAP_SYSLOG and CAP_NET_RAW, three times as runsv restarts it, with
// CAP_SYSLOG missing from the bounding set as in a systemd-nspawn container:
// the daemon runs with CAP_NET_RAW only each time, and the log says so once,
// not on every restart. When CAP_SYSLOG is required, ./run fails saying so,
// tells runsv not to restart it, and no daemon runs.
func TestRunitWithoutCapability(t *testing.T) {
	for _, required := range []bool{false, true} {
		t.Run(map[bool]string{false: "declared", true: "required"}[required], func(t *testing.T) {
			sb := inittest.NewSandbox(t)
			s := sb.Service(t, fmt.Sprintf("omnipack-runit-test-%d", os.Getpid()))
			s.Capabilities = []string{"CAP_SYSLOG", "CAP_NET_RAW"}
			if required {
				s.RequiredCapabilities = []string{"CAP_SYSLOG"}
			}
			s.Environment["ONESHOT"] = "1"
			t.Cleanup(func() { os.Remove(capsWarned(s.Name)) })
			dir := svDir(t, s)
			// An sv that notes what the run script asks of runsv.
			bin := t.TempDir()
			svLog := filepath.Join(bin, "sv.log")
			if err := os.WriteFile(filepath.Join(bin, "sv"), []byte("#!/bin/sh\necho \"$*\" >>"+svLog+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}

			var outputs []string
			for range 3 {
				argv := inittest.WithoutCap(t, "CAP_SYSLOG", "./run")
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
				out, err := cmd.CombinedOutput()
				if required {
					if err == nil || !strings.Contains(string(out), inittest.RequiredError(s, "CAP_SYSLOG")) {
						t.Fatalf("run: %v, want a failure saying %q:\n%s", err, inittest.RequiredError(s, "CAP_SYSLOG"), out)
					}
					if got, _ := os.ReadFile(svLog); string(got) != "once .\n" {
						t.Errorf("run told runsv %q, want \"once .\" so that it is not restarted every second", got)
					}
					if sb.Has("args") {
						t.Errorf("the daemon ran without its required capability")
					}
					return
				}
				if err != nil {
					t.Fatalf("run: %v\n%s", err, out)
				}
				outputs = append(outputs, string(out))
			}
			if !strings.Contains(outputs[0], inittest.DroppedWarning(s, "CAP_SYSLOG")) || strings.Count(outputs[0], "warning") != 1 {
				t.Errorf("first start: want the one warning %q:\n%s", inittest.DroppedWarning(s, "CAP_SYSLOG"), outputs[0])
			}
			for i, out := range outputs[1:] {
				if strings.Contains(out, "warning") {
					t.Errorf("restart %d warned again:\n%s", i+1, out)
				}
			}
			if starts := strings.Count(sb.Read(t, "starts"), "start"); starts != 3 {
				t.Errorf("the daemon started %d times, want 3", starts)
			}
			// CAP_NET_RAW is bit 13.
			const netRawOnly = "0000000000002000"
			for _, field := range []string{"CapBnd", "CapAmb", "CapEff"} {
				if got := sb.CapField(t, field); got != netRawOnly {
					t.Errorf("daemon %s = %s, want %s", field, got, netRawOnly)
				}
			}
		})
	}
}

// TestRunitEnvironmentFileAndDirs runs ./run for a service whose arguments
// expand from its settings file, with the file and without it, and which
// declares directories ./run must create as declared. The working
// directories hold a file "*" would match: $FLAGS must not glob.
func TestRunitEnvironmentFileAndDirs(t *testing.T) {
	for _, written := range []bool{true, false} {
		t.Run(fmt.Sprintf("written=%v", written), func(t *testing.T) {
			sb := inittest.NewSandbox(t)
			s := sb.WithDirs(sb.WithEnvFile(t, sb.Service(t, "omnipack-runit-test"), written))
			dir := svDir(t, s)
			inittest.GlobBait(t, dir, s.WorkingDir)
			cmd := exec.Command(filepath.Join(dir, "run"))
			cmd.Dir = dir
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			sb.WaitReady(t, cmd.Process.Pid)
			sb.CheckEnvFileArgs(t, written)
			sb.CheckDirs(t, s)
		})
	}
}
