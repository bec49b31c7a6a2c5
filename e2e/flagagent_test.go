package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// The second example agent, examples/net_probe: a daemon configured by
// flags, with an underscore in its program name and a package name of its
// own.
const (
	probe        = "net_probe"
	probePackage = "omnipack-net-probe"
	probeAddr    = "/run/" + probe + "/listen" // written once it serves
)

var probeV1, probeV2 *release

// buildProbeRelease builds net_probe for amd64 at version, signed with
// keys unless nil.
func buildProbeRelease(work, version string, keys *pipeline.Keys) (*release, error) {
	src := filepath.Join(work, "probe-src-"+version)
	cfgPath, err := prepareExampleOf("../examples/net_probe", src, func(text string) string {
		return strings.Replace(text, `version = "1.0.0"`, fmt.Sprintf("version = %q", version), 1)
	})
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	dist := filepath.Join(work, "probe-dist-"+version)
	m, err := pipeline.Run(context.Background(), pipeline.Options{Config: cfg, DistDir: dist, Keys: keys})
	if err != nil {
		return nil, err
	}
	return &release{dir: dist, m: m}, nil
}

// probeInit is how each init reports on and restarts net_probe.
type probeInit struct {
	status, restart string
	serviceFiles    []string
}

var probeInits = map[host.Variant]probeInit{
	host.Systemd:  {"systemctl is-active --quiet " + probe, "systemctl restart " + probe, []string{"/usr/lib/systemd/system/" + probe + ".service"}},
	host.OpenRC:   {"rc-service " + probe + " status", "rc-service " + probe + " restart", []string{"/etc/init.d/" + probe}},
	host.SysVinit: {"/etc/init.d/" + probe + " status", "/etc/init.d/" + probe + " restart", []string{"/etc/init.d/" + probe}},
	host.Runit:    {"sv status " + probe + " | grep -q '^run:'", "sv restart " + probe, []string{"/etc/sv/" + probe, "/etc/service/" + probe}},
}

// probeDefaultArgs are the daemon's arguments with the shipped defaults,
// probeEditedArgs those after the host's environment file edit.
var (
	probeFixedArgs   = []string{"-textfile-dir", "/var/lib/" + probe + "/textfile", "-labels-file", "/etc/" + probe + "/labels.prom", "-addr-file", probeAddr}
	probeDefaultArgs = slices.Concat([]string{"/usr/bin/" + probe, "-listen", "127.0.0.1:9120"}, probeFixedArgs, []string{"-label", "default"})
	probeEditedArgs  = slices.Concat([]string{"/usr/bin/" + probe, "-listen", "127.0.0.1:9121"}, probeFixedArgs, []string{"-label", "edited-on-host", "-interval", "7s"})
)

// probeEdit is what the admin writes into the environment file.
const probeEdit = `LISTEN="127.0.0.1:9121"` + "\n" + `NET_PROBE_ARGS="-label edited-on-host -interval 7s"` + "\n"

// TestFlagAgent installs net_probe's deb with dpkg on the four real-host
// inits, and its rpm with omnipack install on the systemd and sysvinit
// hosts: the program keeps its name under its own package name, the
// environment file tunes its flags and survives the upgrade, its
// directories are created as declared, and purge leaves nothing, no file
// owned by the deleted account included. Each host has a network of its
// own: every net_probe listens on the same port.
func TestFlagAgent(t *testing.T) {
	host.RequireRoot(t)
	for _, v := range []host.Variant{host.Systemd, host.OpenRC, host.SysVinit, host.Runit} {
		t.Run("deb/"+string(v), func(t *testing.T) {
			t.Parallel()
			probeDebLifecycle(t, host.New(t, v, host.WithPrivateNetwork()))
		})
	}
	for _, v := range []host.Variant{host.Systemd, host.SysVinit} {
		t.Run("rpm/"+string(v), func(t *testing.T) {
			t.Parallel()
			h := host.New(t, v, host.WithPrivateNetwork())
			h.MustRun(t, "rm -f /etc/os-release && printf 'ID=fedora\\nVERSION_ID=40\\n' > /etc/os-release")
			probeRPMLifecycle(t, h)
		})
	}
}

func probeDebLifecycle(t *testing.T, h *host.Host) {
	pkg1 := copyPackage(t, h, probeV1.artifact(t, "deb"))
	pkg2 := copyPackage(t, h, probeV2.artifact(t, "deb"))
	env := "/etc/default/" + probe

	out := h.MustRun(t, "dpkg -i "+pkg1+" 2>&1")
	t.Logf("install:\n%s", out)
	assertHealthyStart(t, out)
	pid := waitProbe(t, h, "")
	assertProbeInstalled(t, h, pid, probeDefaultArgs)
	if got := strings.TrimSpace(h.MustRun(t, "dpkg-query -W -f='${Package} ${Version} ${db:Status-Status}' "+probePackage)); got != probePackage+" "+v1+"-1 installed" {
		t.Errorf("dpkg knows the package as %q", got)
	}
	if conffiles := h.MustRun(t, "dpkg-query -W -f='${Conffiles}' "+probePackage); !strings.Contains(conffiles, env+" ") {
		t.Errorf("%s is not a conffile:\n%s", env, conffiles)
	}
	assertEnvFile(t, h, env)

	pid = probeEditAndRestart(t, h, env, pid)

	out = h.MustRun(t, "dpkg --force-confold -i "+pkg2+" 2>&1")
	t.Logf("upgrade:\n%s", out)
	assertHealthyStart(t, out)
	probeAfterUpgrade(t, h, env, pid)

	uid, gid := probeAccount(t, h)
	out = h.MustRun(t, "dpkg -P "+probePackage)
	t.Logf("purge:\n%s", out)
	assertProbeGone(t, h, uid, gid, env)
}

func probeRPMLifecycle(t *testing.T, h *host.Host) {
	d1, d2, pub := signedCopiesOf(t, probeV1, probeV2)
	h.CopyIn(t, omnipackCLI(t), "/usr/local/bin/omnipack")
	h.CopyIn(t, pub, "/var/tmp/release.pub")
	for dir, dest := range map[string]string{d1: "/var/tmp/probe1", d2: "/var/tmp/probe2"} {
		if err := verifytest.CopyTree(dir, h.Path(dest)); err != nil {
			t.Fatal(err)
		}
	}
	env := "/etc/sysconfig/" + probe
	omni := "omnipack install --key /var/tmp/release.pub "

	out := h.MustRun(t, omni+"/var/tmp/probe1 2>&1")
	t.Logf("install:\n%s", out)
	assertHealthyStart(t, out)
	if !strings.Contains(out, "passed its health command") {
		t.Errorf("omnipack install did not run the health command:\n%s", out)
	}
	pid := waitProbe(t, h, "")
	assertProbeInstalled(t, h, pid, probeDefaultArgs)
	if got := strings.TrimSpace(h.MustRun(t, "rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}' "+probePackage)); got != probePackage+" "+v1+"-1" {
		t.Errorf("rpm knows the package as %q", got)
	}
	if configs := h.MustRun(t, "rpm -qc "+probePackage); !strings.Contains(configs, env+"\n") {
		t.Errorf("%s is not %%config:\n%s", env, configs)
	}
	assertEnvFile(t, h, env)

	pid = probeEditAndRestart(t, h, env, pid)

	out = h.MustRun(t, omni+"/var/tmp/probe2 2>&1")
	t.Logf("upgrade:\n%s", out)
	probeAfterUpgrade(t, h, env, pid)

	uid, gid := probeAccount(t, h)
	out = h.MustRun(t, "omnipack install --uninstall --purge --name "+probe+" 2>&1")
	t.Logf("purge:\n%s", out)
	assertProbeGone(t, h, uid, gid, env)
}

// waitProbe waits until the init reports net_probe up, one net_probe
// process runs (with a pid other than old) and it answers -check through
// the address file it writes once it serves, and returns its pid.
func waitProbe(t *testing.T, h *host.Host, old string) string {
	t.Helper()
	status := probeInits[h.Variant()].status
	deadline := time.Now().Add(waitTimeout)
	var last string
	for time.Now().Before(deadline) {
		_, serr := h.Run(t, status)
		pid, perr := h.Run(t, "pgrep -x "+probe)
		pid = strings.TrimSpace(pid)
		check, cerr := h.Run(t, "/usr/bin/"+probe+" -check -addr-file "+probeAddr)
		if serr == nil && perr == nil && cerr == nil && !strings.Contains(pid, "\n") && pid != old {
			return pid
		}
		last = fmt.Sprintf("status: %v; pgrep: %q; check: %v %s", serr, pid, cerr, check)
		time.Sleep(300 * time.Millisecond)
	}
	diag, _ := h.Run(t, "ps -ef; cat /var/lib/omnipack/"+probe+".init")
	t.Fatalf("%s: net_probe not serving: %s\n%s", h.Variant(), last, diag)
	return ""
}

// probeArgs reads the daemon's command line.
func probeArgs(t *testing.T, h *host.Host, pid string) []string {
	t.Helper()
	raw := h.MustRun(t, "tr '\\0' '\\n' < /proc/"+pid+"/cmdline")
	return strings.Split(strings.TrimSuffix(raw, "\n"), "\n")
}

// assertProbeInstalled: the program keeps its name for its binary, its
// service and /etc; it runs as its own user with the expected flags; its
// declared directories exist, owned as declared.
func assertProbeInstalled(t *testing.T, h *host.Host, pid string, wantArgs []string) {
	t.Helper()
	for _, p := range append(probeInits[h.Variant()].serviceFiles, "/usr/bin/"+probe, "/etc/"+probe+"/labels.prom") {
		if _, err := h.Run(t, "test -e "+p); err != nil {
			t.Errorf("%s is missing", p)
		}
	}
	assertRunsAs(t, h, pid, probe)
	if got := probeArgs(t, h, pid); !slices.Equal(got, wantArgs) {
		t.Errorf("the daemon runs as %q, want %q", got, wantArgs)
	}
	for dir, want := range map[string]string{
		"/var/lib/" + probe + "/textfile": "770 " + probe + " " + probe,
		"/run/" + probe:                   "755 " + probe + " " + probe,
	} {
		if got := strings.TrimSpace(h.MustRun(t, "stat -c '%a %U %G' "+dir)); got != want {
			t.Errorf("%s is %q, want %q", dir, got, want)
		}
	}
}

// assertEnvFile: the environment file is the package's commented
// defaults, 0640 root:net_probe.
func assertEnvFile(t *testing.T, h *host.Host, env string) {
	t.Helper()
	if got := strings.TrimSpace(h.MustRun(t, "stat -c '%a %U %G' "+env)); got != "640 root "+probe {
		t.Errorf("%s is %q, want 640 root %s", env, got, probe)
	}
	if body := h.MustRun(t, "cat "+env); !strings.Contains(body, "\n#NET_PROBE_ARGS=\"-label default\"\n") {
		t.Errorf("%s does not list the defaults:\n%s", env, body)
	}
}

// probeEditAndRestart edits the environment file as an admin would,
// restarts the service through its init, and checks the new flags.
func probeEditAndRestart(t *testing.T, h *host.Host, env, pid string) string {
	t.Helper()
	h.MustRun(t, "cat >> "+env+" <<'EOF'\n"+probeEdit+"EOF")
	h.MustRun(t, probeInits[h.Variant()].restart)
	pid = waitProbe(t, h, pid)
	if got := probeArgs(t, h, pid); !slices.Equal(got, probeEditedArgs) {
		t.Errorf("after the edit and a restart the daemon runs as %q, want %q", got, probeEditedArgs)
	}
	return pid
}

// probeAfterUpgrade: the upgrade restarted the daemon with the new
// version, kept the edit, and the daemon still gets the edited flags.
func probeAfterUpgrade(t *testing.T, h *host.Host, env, old string) {
	t.Helper()
	pid := waitProbe(t, h, old)
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+probe+" -version")); got != probe+" "+v2 {
		t.Errorf("after the upgrade the binary says %q", got)
	}
	if body := h.MustRun(t, "cat "+env); !strings.Contains(body, probeEdit) {
		t.Errorf("the upgrade lost the edit to %s:\n%s", env, body)
	}
	if got := probeArgs(t, h, pid); !slices.Equal(got, probeEditedArgs) {
		t.Errorf("after the upgrade the daemon runs as %q, want %q", got, probeEditedArgs)
	}
}

// probeAccount returns net_probe's uid and gid.
func probeAccount(t *testing.T, h *host.Host) (uid, gid string) {
	t.Helper()
	return strings.TrimSpace(h.MustRun(t, "id -u "+probe)), strings.TrimSpace(h.MustRun(t, "id -g "+probe))
}

// assertProbeGone: after purge no trace of net_probe is left, and no file
// anywhere belongs to its deleted uid or gid.
func assertProbeGone(t *testing.T, h *host.Host, uid, gid, env string) {
	t.Helper()
	for _, p := range append(probeInits[h.Variant()].serviceFiles,
		"/usr/bin/"+probe, "/etc/"+probe, env, "/var/lib/"+probe, "/run/"+probe, "/var/log/"+probe,
		"/var/lib/omnipack/"+probe+".purge", "/var/lib/omnipack/"+probe+".release") {
		if _, err := h.Run(t, "test -e "+p+" || test -L "+p); err == nil {
			t.Errorf("purge left %s", p)
		}
	}
	if _, err := h.Run(t, "getent passwd "+probe+" || getent group "+probe); err == nil {
		t.Errorf("purge left the account %s", probe)
	}
	if _, err := h.Run(t, "pgrep -x "+probe); err == nil {
		t.Errorf("net_probe still runs after purge")
	}
	owned := h.MustRun(t, `find / \( -path /proc -o -path /sys -o -path /dev \) -prune -o \( -uid `+uid+` -o -gid `+gid+` \) -print`)
	if owned = strings.TrimSpace(owned); owned != "" {
		t.Errorf("files owned by the deleted uid %s or gid %s are left:\n%s", uid, gid, owned)
	}
}
