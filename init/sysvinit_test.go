package initsys

import (
	"strings"
	"testing"
)

func TestSysvinitScripts(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			f := render(t, "sysvinit", v.svc)[0]
			if f.Target != "/etc/init.d/"+v.svc.Name || f.Mode != 0o755 {
				t.Errorf("target %s mode %o", f.Target, f.Mode)
			}
			shellcheck(t, v.name, f.Body)
			parseSh(t, v.name, f.Body)
		})
	}
}

func TestSysvinitHeader(t *testing.T) {
	body := render(t, "sysvinit", crashwatch())[0].Body
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
		if !hasLine([]byte(head), want) {
			t.Errorf("header lacks %q\n%s", want, head)
		}
	}
	if strings.Contains(string(body), "\n. /lib/lsb/init-functions") {
		t.Errorf("sources init-functions unconditionally")
	}

	bare := render(t, "sysvinit", Service{Name: "bare", Exec: "/usr/sbin/bare"})[0].Body
	if !hasLine(bare, "# Required-Start:    $remote_fs $syslog") {
		t.Errorf("bare service depends on the network\n%s", bare)
	}
	if !hasLine(bare, "\techo \"$NAME: reload is not supported\" >&2") {
		t.Errorf("reload without a signal\n%s", bare)
	}
}
