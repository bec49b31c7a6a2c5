package runit

import (
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

func TestRunitScripts(t *testing.T) {
	for _, v := range inittest.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			files := inittest.Render(t, Init{}, v.Svc)
			if len(files) != 2 {
				t.Fatalf("got %d files, want run and log/run", len(files))
			}
			for _, f := range files {
				if f.Mode != 0o755 {
					t.Errorf("%s mode %o, want 0755", f.Target, f.Mode)
				}
				if !strings.HasPrefix(string(f.Body), "#!/bin/sh\n") {
					t.Errorf("%s: wrong shebang", f.Target)
				}
				inittest.Shellcheck(t, v.Name, f.Body)
				inittest.ParseSh(t, v.Name, f.Body)
			}
			run := inittest.File(t, files, "/etc/sv/"+v.Svc.Name+"/run").Body
			once := inittest.HasLine(run, "sv once . >/dev/null 2>&1")
			if once != (v.Svc.Restart == initsys.RestartNever) {
				t.Errorf("sv once = %v for restart %q\n%s", once, v.Svc.Restart, run)
			}
			inittest.File(t, files, "/etc/sv/"+v.Svc.Name+"/log/run")
			// "sv up" from the Start fragment would undo the run script's
			// "once" for a Restart=never service.
			start := (Init{}).Shell(v.Svc).Start
			if strings.Contains(start, "sv once ") != (v.Svc.Restart == initsys.RestartNever) {
				t.Errorf("Start %q for restart %q", start, v.Svc.Restart)
			}
		})
	}
}

func TestRunitScript(t *testing.T) {
	files := inittest.Render(t, Init{}, inittest.Crashwatch())
	run := inittest.File(t, files, "/etc/sv/crashwatch/run").Body
	for _, want := range []string{
		"exec 2>&1",
		"install -d -m 0750 -o crashwatch -g crashwatch /var/lib/crashwatch || exit 1",
		"cd /var/lib/crashwatch || exit 1",
		"umask 0077",
		"export LOG_LEVEL=info",
		"exec chpst -u crashwatch:crashwatch \"$@\"",
	} {
		if !inittest.HasLine(run, want) {
			t.Errorf("run lacks %q\n%s", want, inittest.Numbered(run))
		}
	}
	logRun := inittest.File(t, files, "/etc/sv/crashwatch/log/run").Body
	if !inittest.HasLine(logRun, "exec chpst -u crashwatch:crashwatch svlogd -tt /var/log/crashwatch") {
		t.Errorf("log/run:\n%s", logRun)
	}
}
