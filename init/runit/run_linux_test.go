package runit

// This test runs the generated run script for real: they start a recording daemon, as root, under the service user, and
// check what it got. They need root to switch users; run `go test` as root
// (the container builds do) to include them.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

func TestRunitRuns(t *testing.T) {
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
			s.Environment["ONESHOT"] = "1"
			files := inittest.Render(t, Init{}, s)
			// runsv runs ./run from the service directory.
			svdir := t.TempDir()
			run := filepath.Join(svdir, "run")
			if err := os.WriteFile(run, inittest.File(t, files, "/etc/sv/"+s.Name+"/run").Body, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(run)
			cmd.Dir = svdir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			sb.Check(t, s, true)
			isolated := strings.TrimSpace(sb.Read(t, "netns")) != ownNetns
			if isolated != (profile == initsys.ProfileNoNetwork) {
				t.Errorf("network namespace isolated = %v for profile %s", isolated, profile)
			}
		})
	}
}
