package sysvinit

import (
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

func TestSysvinitScripts(t *testing.T) {
	for _, v := range inittest.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			f := inittest.Render(t, Init{}, v.Svc)[0]
			if f.Target != "/etc/init.d/"+v.Svc.Name || f.Mode != 0o755 {
				t.Errorf("target %s mode %o", f.Target, f.Mode)
			}
			inittest.Shellcheck(t, v.Name, f.Body)
			inittest.ParseSh(t, v.Name, f.Body)
		})
	}
}

func TestSysvinitHeader(t *testing.T) {
	body := inittest.Render(t, Init{}, inittest.Crashwatch())[0].Body
	head, _, ok := strings.Cut(string(body), "### END INIT INFO\n")
	if !ok || !strings.HasPrefix(head, "#!/bin/sh\n### BEGIN INIT INFO\n") {
		t.Fatalf("no LSB header\n%s", body)
	}
	for _, want := range []string{
		"# Provides:          crashwatch",
		"# Required-Start:    $remote_fs $syslog $network",
		"# Required-Stop:     $remote_fs $syslog $network",
		"# Default-Start:     2 3 4 5",
		"# Default-Stop:      0 1 6",
		"# Short-Description: Crash report watcher (100% local)",
	} {
		if !inittest.HasLine([]byte(head), want) {
			t.Errorf("header lacks %q\n%s", want, head)
		}
	}
	if strings.Contains(string(body), "\n. /lib/lsb/init-functions") {
		t.Errorf("sources init-functions unconditionally")
	}

	bare := inittest.Render(t, Init{}, initsys.Service{Name: "bare", Exec: "/usr/sbin/bare"})[0].Body
	if !inittest.HasLine(bare, "# Required-Start:    $remote_fs $syslog") {
		t.Errorf("bare service depends on the network\n%s", bare)
	}
	if !inittest.HasLine(bare, "\techo \"$NAME: reload is not supported\" >&2") {
		t.Errorf("reload without a signal\n%s", bare)
	}
}
