package inits_test

import (
	"strings"
	"testing"

	"github.com/omnipack/omnipack/detector"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/init/inittest"
	"github.com/omnipack/omnipack/install"
	"github.com/omnipack/omnipack/scripts"
	"github.com/omnipack/omnipack/scripts/installer"
)

// TestEveryInitIsWired proves that each registered init system takes part
// in every stage, through the stage: its files are rendered; the maintainer
// scripts detect it, install its files and drive it; detect.sh tests the
// same running condition Go's detector does; omnipack install drives it and
// reads its log; install.sh renders its commands, status hint and log.
func TestEveryInitIsWired(t *testing.T) {
	svc := inittest.Crashwatch()
	set, err := scripts.Deb(scripts.Input{Service: svc, Inits: inits.All()})
	if err != nil {
		t.Fatal(err)
	}
	rendered := installer.InitsFor(svc, inits.Names())
	if len(rendered) != len(inits.All()) {
		t.Fatalf("install.sh renders %d inits, %d are registered", len(rendered), len(inits.All()))
	}
	for i, r := range inits.All() {
		t.Run(r.Name(), func(t *testing.T) {
			files := inittest.Render(t, r, svc)
			if len(files) == 0 {
				t.Fatal("render: no files")
			}
			sh := r.Shell(svc)
			// The maintainer scripts: detection, the files, the commands.
			for _, want := range []string{"\t'" + r.Name() + "')\n", sh.Running, sh.Start, sh.StatusHint} {
				if !strings.Contains(set.PostInstall, want) {
					t.Errorf("maintainer scripts lack %q", want)
				}
			}
			for _, f := range files {
				if !strings.Contains(set.PostInstall, f.Target) {
					t.Errorf("maintainer scripts do not install %s", f.Target)
				}
			}
			// detect.sh and Go's detector.
			if !strings.Contains(installer.DetectSh, sh.Running) {
				t.Errorf("detect.sh lacks the running condition %q", sh.Running)
			}
			_ = r.Running() // the Go side of the same condition (compared on this host by detector's tests)
			// omnipack install.
			for _, what := range []string{"start", "stop", "restart", "status"} {
				c, ok := install.InitCommand(r.Name(), svc.Name, what)
				if !ok || !strings.Contains(c.String(), strings.Fields(map[string]string{"start": sh.Start, "stop": sh.Stop, "restart": sh.Restart, "status": sh.Status}[what])[0]) {
					t.Errorf("omnipack install cannot %s it: %v %v", what, c, ok)
				}
			}
			facts := detector.Facts{Init: r.Name()}
			if got := install.DrivableInit(facts, install.State{}); got != r.Name() {
				t.Errorf("omnipack install drives %q when %s runs", got, r.Name())
			}
			// install.sh.
			if rendered[i].Name != r.Name() || rendered[i].StatusHint != sh.StatusHint || rendered[i].Log != sh.Log || rendered[i].Status != sh.Status {
				t.Errorf("install.sh renders %+v for %s", rendered[i], r.Name())
			}
			if sh.StatusHint == "" {
				t.Error("no status hint")
			}
		})
	}
}
