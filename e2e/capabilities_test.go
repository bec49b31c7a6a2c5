package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/pipeline"
)

// requiredSyslog is what every init says when it refuses to start the agent
// without CAP_SYSLOG, which the vendor marked required.
const requiredSyslog = agent + ": error: CAP_SYSLOG is required but not in this host's capability bounding set; not starting without it"

// settledDown holds, per init, a command that succeeds once the init has
// given up on the agent (runit runs ./run in the background; the others
// fail the start before returning).
var settledDown = map[host.Variant]string{
	host.Systemd:  "systemctl show -p AssertResult --value " + agent + ".service | grep -qx no",
	host.OpenRC:   "! rc-service " + agent + " status",
	host.SysVinit: "! /etc/init.d/" + agent + " status",
	host.Runit:    "grep -qF 'CAP_SYSLOG is required' /var/log/" + agent + "/current && sv status " + agent + " | grep -q '^down:'",
}

// TestRequiredCapability installs a crashwatch whose vendor marked
// CAP_SYSLOG required on one container per init. The containers' bounding
// set lacks it, so the package installs but the service must not start:
// the install output says why, once (then the log lines the failed start
// shows may say it again), and the agent never runs.
func TestRequiredCapability(t *testing.T) {
	host.RequireRoot(t)
	rel, err := buildExampleRelease(t.TempDir(), v1, "", func(text string) string {
		return replaceLine(text, "capabilities = ", `capabilities = ["CAP_SYSLOG"]`+"\n"+`required_capabilities = ["CAP_SYSLOG"]`)
	}, pipeline.Options{})
	if err != nil {
		t.Fatalf("building the release: %v", err)
	}
	for _, v := range host.Booting {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			h := host.New(t, v)
			pkg := copyPackage(t, h, rel.artifact(t, "deb"))
			out := h.MustRun(t, "dpkg -i "+pkg)
			t.Logf("install:\n%s", out)
			// Once before the service's log lines, which may say it too
			// (runit's svlogd keeps what the run script printed).
			said, _, _ := strings.Cut(out, agent+": last log lines")
			if n := strings.Count(said, requiredSyslog); n != 1 {
				t.Errorf("install output says %d times %q, want once", n, requiredSyslog)
			}
			if !strings.Contains(out, agent+": warning: the service failed to start") {
				t.Errorf("install output does not say that the service failed to start")
			}
			deadline := time.Now().Add(waitTimeout)
			for {
				if _, err := h.Run(t, settledDown[v]); err == nil {
					break
				}
				if time.Now().After(deadline) {
					diag, _ := h.Run(t, "ps -ef; cat /var/log/"+agent+"/current 2>&1")
					t.Fatalf("%s did not give up on the agent within %v:\n%s", v, waitTimeout, diag)
				}
				time.Sleep(300 * time.Millisecond)
			}
			if pids, err := h.Run(t, "pgrep -x "+agent); err == nil {
				t.Errorf("the agent runs without its required capability: %s", pids)
			}
			if v == host.Systemd {
				// Started by hand, the unit's AssertCapability= stops it.
				out, err := h.Run(t, "systemctl start "+agent+".service")
				if err == nil || !strings.Contains(out, "Assertion failed") {
					t.Errorf("systemctl start: %v, want an assertion failure:\n%s", err, out)
				}
				status, _ := h.Run(t, "systemctl status --no-pager "+agent+".service")
				if !strings.Contains(status, "AssertCapability=CAP_SYSLOG") {
					t.Errorf("systemctl status does not name the failed AssertCapability=CAP_SYSLOG:\n%s", status)
				}
			}
		})
	}
}
