package initsys

import (
	"strings"
	"testing"
)

func TestRunitScripts(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			files := render(t, "runit", v.svc)
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
				shellcheck(t, v.name, f.Body)
				parseSh(t, v.name, f.Body)
			}
			run := file(t, files, "/etc/sv/"+v.svc.Name+"/run").Body
			once := hasLine(run, "sv once . >/dev/null 2>&1")
			if once != (v.svc.Restart == RestartNever) {
				t.Errorf("sv once = %v for restart %q\n%s", once, v.svc.Restart, run)
			}
			file(t, files, "/etc/sv/"+v.svc.Name+"/log/run")
			// "sv up" from the Start fragment would undo the run script's
			// "once" for a Restart=never service.
			start := (runit{}).Shell(v.svc).Start
			if strings.Contains(start, "sv once ") != (v.svc.Restart == RestartNever) {
				t.Errorf("Start %q for restart %q", start, v.svc.Restart)
			}
		})
	}
}

func TestRunitScript(t *testing.T) {
	files := render(t, "runit", crashwatch())
	run := file(t, files, "/etc/sv/crashwatch/run").Body
	for _, want := range []string{
		"exec 2>&1",
		"install -d -m 0750 -o crashwatch -g crashwatch /var/lib/crashwatch || exit 1",
		"cd /var/lib/crashwatch || exit 1",
		"umask 0077",
		"export LOG_LEVEL=info",
		"exec chpst -u crashwatch:crashwatch \"$@\"",
	} {
		if !hasLine(run, want) {
			t.Errorf("run lacks %q\n%s", want, numbered(run))
		}
	}
	logRun := file(t, files, "/etc/sv/crashwatch/log/run").Body
	if !hasLine(logRun, "exec chpst -u crashwatch:crashwatch svlogd -tt /var/log/crashwatch") {
		t.Errorf("log/run:\n%s", logRun)
	}
}
