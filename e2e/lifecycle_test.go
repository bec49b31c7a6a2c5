package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/e2e/host"
)

// initStatus asks each init, through its own tool, whether the agent runs.
// Each command exits 0 only when the service is up.
var initStatus = map[host.Variant]string{
	host.Systemd:  "systemctl is-active --quiet " + agent + ".service",
	host.OpenRC:   "rc-service " + agent + " status",
	host.SysVinit: "/etc/init.d/" + agent + " status",
	host.Runit:    "sv status " + agent + " | grep -q '^run:'",
}

// serviceFiles are the places each init's integration is installed to; remove
// must delete them.
var serviceFiles = map[host.Variant][]string{
	host.Systemd:  {"/usr/lib/systemd/system/" + agent + ".service"},
	host.OpenRC:   {"/etc/init.d/" + agent},
	host.SysVinit: {"/etc/init.d/" + agent},
	host.Runit:    {"/etc/sv/" + agent, "/etc/service/" + agent},
}

// packageManager drives one package format inside a container.
type packageManager struct {
	format  string
	install string // %s is the package path
	upgrade string
	remove  string
	purge   string // empty: the format has no purge
	newConf string // where the upgrade leaves the new default config
	// keptConf is where removal keeps an edited config: dpkg leaves it in
	// place; rpm and pacman rename it to .rpmsave and .pacsave.
	keptConf string
}

var (
	dpkg = packageManager{
		format:   "deb",
		install:  "dpkg -i %s",
		upgrade:  "dpkg --force-confold -i %s",
		remove:   "dpkg -r " + agent,
		purge:    "dpkg -P " + agent,
		newConf:  "/etc/" + agent + "/" + agent + ".toml.dpkg-dist",
		keptConf: "/etc/" + agent + "/" + agent + ".toml",
	}
	apt = packageManager{
		format:   "deb",
		install:  "apt-get install -y %s",
		upgrade:  "apt-get install -y -o Dpkg::Options::=--force-confold %s",
		remove:   "apt-get remove -y " + agent,
		purge:    "apt-get purge -y " + agent,
		newConf:  "/etc/" + agent + "/" + agent + ".toml.dpkg-dist",
		keptConf: "/etc/" + agent + "/" + agent + ".toml",
	}
	rpm = packageManager{
		format:   "rpm",
		install:  "rpm -i --nodeps %s",
		upgrade:  "rpm -U --nodeps %s",
		remove:   "rpm -e --nodeps " + agent,
		newConf:  "/etc/" + agent + "/" + agent + ".toml.rpmnew",
		keptConf: "/etc/" + agent + "/" + agent + ".toml.rpmsave",
	}
	// Package signatures are the signing tier's subject; here pacman is
	// told not to require them.
	pacman = packageManager{
		format:   "archlinux",
		install:  "pacman -U --noconfirm --config /var/tmp/pacman.conf %s",
		upgrade:  "pacman -U --noconfirm --config /var/tmp/pacman.conf %s",
		remove:   "pacman -R --noconfirm --config /var/tmp/pacman.conf " + agent,
		newConf:  "/etc/" + agent + "/" + agent + ".toml.pacnew",
		keptConf: "/etc/" + agent + "/" + agent + ".toml.pacsave",
	}
)

const pacmanConf = `[options]
RootDir = /
DBPath = /var/lib/pacman/
SigLevel = Never
LocalFileSigLevel = Never
`

func TestLifecycle(t *testing.T) {
	host.RequireRoot(t)
	cases := []struct {
		variant host.Variant
		pm      packageManager
		opts    []host.Option
	}{
		{host.Systemd, apt, nil},
		{host.OpenRC, dpkg, nil},
		{host.SysVinit, dpkg, nil},
		{host.Runit, apt, nil},
		{host.Systemd, rpm, nil},
		{host.SysVinit, rpm, nil},
		{host.Systemd, pacman, []host.Option{host.WithPackages("pacman-package-manager")}},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("%s/%s", tc.variant, tc.pm.install[:strings.IndexByte(tc.pm.install, ' ')])
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := host.New(t, tc.variant, tc.opts...)
			lifecycle(t, h, tc.pm)
		})
	}
}

// lifecycle installs v1, checks it runs correctly, edits the config,
// upgrades to v2, and removes (and purges) the package.
func lifecycle(t *testing.T, h *host.Host, pm packageManager) {
	pkg1 := copyPackage(t, h, releaseV1.artifact(t, pm.format))
	pkg2 := copyPackage(t, h, releaseV2.artifact(t, pm.format))
	if pm.format == "archlinux" {
		// On Arch, /bin/sh is bash and pacman runs .INSTALL with it; nfpm
		// writes .INSTALL for bash. Debian's pacman runs it with /bin/sh,
		// so this host is made to match Arch.
		h.MustRun(t, "ln -sf bash /bin/sh && mkdir -p /var/lib/pacman && cat > /var/tmp/pacman.conf <<'EOF'\n"+pacmanConf+"EOF")
	}
	v := h.Variant()

	out := h.MustRun(t, fmt.Sprintf(pm.install, pkg1))
	t.Logf("install:\n%s", out)
	pid1 := waitRunning(t, h)
	assertRunsAs(t, h, pid1, agent)
	assertWithoutSyslog(t, h, pid1, out)
	assertLimits(t, h, pid1)
	conf := "/etc/" + agent + "/" + agent + ".toml"
	if got := strings.TrimSpace(h.MustRun(t, "stat -c '%a %U %G' "+conf)); got != "640 root "+agent {
		t.Errorf("config mode/owner = %q, want 640 root %s", got, agent)
	}
	if got := strings.TrimSpace(h.MustRun(t, "stat -c '%U %G' /var/lib/"+agent)); got != agent+" "+agent {
		t.Errorf("state dir owner = %q", got)
	}

	h.MustRun(t, "echo 'node_id = \"edited-by-admin\"' >> "+conf)
	out = h.MustRun(t, fmt.Sprintf(pm.upgrade, pkg2))
	t.Logf("upgrade:\n%s", out)
	if !strings.Contains(h.MustRun(t, "cat "+conf), "edited-by-admin") {
		t.Errorf("upgrade lost the admin's edit to %s", conf)
	}
	if !strings.Contains(h.MustRun(t, "cat "+pm.newConf), v2ConfigTag) {
		t.Errorf("upgrade did not deliver the new default beside the config as %s", pm.newConf)
	}
	pid2 := waitRunningNot(t, h, pid1)
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("installed binary says %q, want %s %s", got, agent, v2)
	}
	// A process still running the replaced binary shows "(deleted)".
	if exe := strings.TrimSpace(h.MustRun(t, fmt.Sprintf("readlink /proc/%s/exe", pid2))); exe != "/usr/bin/"+agent {
		t.Errorf("running process executes %q, not the new binary", exe)
	}
	assertRunsAs(t, h, pid2, agent)
	assertLimits(t, h, pid2)

	out = h.MustRun(t, pm.remove)
	t.Logf("remove:\n%s", out)
	if _, err := h.Run(t, initStatus[v]); err == nil {
		t.Errorf("service still reported running after remove")
	}
	if pids, err := h.Run(t, "pgrep -x "+agent); err == nil {
		t.Errorf("agent process still running after remove: %s", pids)
	}
	for _, f := range append(serviceFiles[v], "/usr/bin/"+agent) {
		if _, err := h.Run(t, "test -e "+f); err == nil {
			t.Errorf("%s left behind after remove", f)
		}
	}
	if !strings.Contains(h.MustRun(t, "cat "+pm.keptConf), "edited-by-admin") {
		t.Errorf("remove did not keep the edited config as %s", pm.keptConf)
	}
	if pm.purge == "" {
		return
	}
	out = h.MustRun(t, pm.purge)
	t.Logf("purge:\n%s", out)
	if _, err := h.Run(t, "test -e /etc/"+agent); err == nil {
		t.Errorf("purge left /etc/%s", agent)
	}
	if _, err := h.Run(t, "getent passwd "+agent); err == nil {
		t.Errorf("purge left the user %s", agent)
	}
	if _, err := h.Run(t, "getent group "+agent); err == nil {
		t.Errorf("purge left the group %s", agent)
	}
}

func copyPackage(t *testing.T, h *host.Host, path string) string {
	dest := "/var/tmp/" + filepath.Base(path)
	h.CopyIn(t, path, dest)
	return dest
}

// waitRunning waits until the init reports the service up and one agent
// process exists, and returns its PID.
func waitRunning(t *testing.T, h *host.Host) string {
	t.Helper()
	return waitFor(t, h, func(pid string) bool { return true })
}

// waitRunningNot waits for a running agent whose PID differs from old: the
// upgrade must restart the service.
func waitRunningNot(t *testing.T, h *host.Host, old string) string {
	t.Helper()
	return waitFor(t, h, func(pid string) bool { return pid != old })
}

// waitTimeout bounds waitFor. It is generous for a busy machine: the wait
// ends as soon as the service is up.
const waitTimeout = 90 * time.Second

func waitFor(t *testing.T, h *host.Host, accept func(pid string) bool) string {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last string
	for time.Now().Before(deadline) {
		status, err := h.Run(t, initStatus[h.Variant()])
		pid, perr := h.Run(t, "pgrep -x "+agent)
		pid = strings.TrimSpace(pid)
		if err == nil && perr == nil && !strings.Contains(pid, "\n") && accept(pid) {
			return pid
		}
		last = fmt.Sprintf("status err=%v: %s; pgrep: %q", err, status, pid)
		time.Sleep(300 * time.Millisecond)
	}
	diag, _ := h.Run(t, "ps -ef; cat /var/lib/omnipack/"+agent+".init")
	t.Fatalf("%s: service not running as expected: %s\n%s", h.Variant(), last, diag)
	return ""
}

// droppedSyslog is what every init says when it starts the agent without
// CAP_SYSLOG, which systemd-nspawn's bounding set lacks.
const droppedSyslog = agent + ": warning: CAP_SYSLOG is not in this host's capability bounding set; starting without it"

// assertWithoutSyslog checks that the agent, pid, runs without CAP_SYSLOG,
// which the container's bounding set lacks, and that the install output
// said so exactly once.
func assertWithoutSyslog(t *testing.T, h *host.Host, pid, installOut string) {
	t.Helper()
	// Else the rest would prove nothing.
	bnd := strings.TrimSpace(h.MustRun(t, "sed -n 's/^CapBnd:[[:space:]]*//p' /proc/1/status"))
	if mask, err := strconv.ParseUint(bnd, 16, 64); err != nil || mask&(1<<34) != 0 {
		t.Fatalf("the container's bounding set %q holds CAP_SYSLOG (bit 34): %v", bnd, err)
	}
	if n := strings.Count(installOut, droppedSyslog); n != 1 {
		t.Errorf("install output names the dropped CAP_SYSLOG %d times, want once (%q):\n%s", n, droppedSyslog, installOut)
	}
	// The agent declares CAP_SYSLOG only, so it is left none.
	st := h.MustRun(t, "grep -E '^Cap(Eff|Amb|Bnd):' /proc/"+pid+"/status")
	for _, field := range []string{"CapEff", "CapAmb", "CapBnd"} {
		if !strings.Contains(st, field+":\t0000000000000000") {
			t.Errorf("the agent has capabilities it should not (%s):\n%s", field, st)
		}
	}
}

func assertRunsAs(t *testing.T, h *host.Host, pid, user string) {
	t.Helper()
	if got := strings.TrimSpace(h.MustRun(t, "ps -o user= -p "+pid)); got != user {
		t.Errorf("agent runs as %q, want %q", got, user)
	}
}

// TestNoInitRunning installs into a container where no init runs (like an
// image build): the install succeeds, says so, and starts nothing.
func TestNoInitRunning(t *testing.T) {
	host.RequireRoot(t)
	t.Parallel()
	h := host.New(t, host.NoInit)
	pkg := copyPackage(t, h, releaseV1.artifact(t, "deb"))
	out := h.MustRun(t, "dpkg -i "+pkg)
	if !strings.Contains(out, "no init system detected") || !strings.Contains(out, "nothing was enabled") {
		t.Errorf("install output does not say that nothing was started:\n%s", out)
	}
	if pids, err := h.Run(t, "pgrep -x "+agent); err == nil {
		t.Errorf("agent started without an init: %s", pids)
	}
	h.MustRun(t, "test -x /usr/bin/"+agent+" && test -f /etc/"+agent+"/"+agent+".toml")
}
