package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/e2e/host"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

// exampleLimits are the example agent's [service.limits], as its packages
// carry them. The lifecycle checks each of them, so the example sets all.
func exampleLimits(t *testing.T) initsys.Limits {
	t.Helper()
	c, err := config.Load("../examples/crashwatch/" + config.DefaultFile)
	if err != nil {
		t.Fatal(err)
	}
	l := c.ServiceModel("deb").Limits
	if l.OpenFiles == 0 || l.MemoryMax == 0 || l.CPUWeight == 0 || l.Nice == nil {
		t.Fatalf("the example agent does not set every limit: %+v", l)
	}
	return l
}

// assertLimits checks the limits the running agent, pid, has: the open
// files limit, soft and hard, and the nice value under every init (the
// shell inits add the nice value to that of what starts them, 0 here),
// and under systemd the cgroup settings systemd holds for the service.
// The containers' cgroup controllers are read-only, so whether the memory
// maximum and CPU weight are enforced cannot be seen here.
func assertLimits(t *testing.T, h *host.Host, pid string) {
	t.Helper()
	l := exampleLimits(t)
	want := strconv.Itoa(l.OpenFiles)
	if soft, hard := inittest.OpenFilesLimit(t, h.MustRun(t, "cat /proc/"+pid+"/limits")); soft != want || hard != want {
		t.Errorf("%s: the agent's open files limit is soft %s hard %s, want %s for both", h.Variant(), soft, hard, want)
	}
	if nice := inittest.NiceOf(t, h.MustRun(t, "cat /proc/"+pid+"/stat")); nice != *l.Nice {
		t.Errorf("%s: the agent runs at nice %d, want %d", h.Variant(), nice, *l.Nice)
	}
	if h.Variant() != host.Systemd {
		return
	}
	show := map[string]string{}
	for _, kv := range strings.Fields(h.MustRun(t, "systemctl show -p MemoryMax -p CPUWeight "+agent)) {
		k, v, _ := strings.Cut(kv, "=")
		show[k] = v
	}
	if show["MemoryMax"] != strconv.FormatUint(l.MemoryMax, 10) || show["CPUWeight"] != strconv.Itoa(l.CPUWeight) {
		t.Errorf("systemctl show: MemoryMax=%s CPUWeight=%s, want %d and %d", show["MemoryMax"], show["CPUWeight"], l.MemoryMax, l.CPUWeight)
	}
}

// TestOpenRCCgroupLimits shows what OpenRC does with the memory maximum and
// CPU weight in a container whose cgroups are read-only. In a
// systemd-nspawn container it does not load its cgroup support at all
// (rc_sys SYSTEMD-NSPAWN), so it ignores them without a word. Told it runs
// in an LXC container, it does load it, says "No permission to apply cgroup
// settings", leaves the service in the container's root cgroup, and starts
// it all the same, with the open files limit and the nice value applied.
func TestOpenRCCgroupLimits(t *testing.T) {
	host.RequireRoot(t)
	t.Parallel()
	h := host.New(t, host.OpenRC)
	out := h.MustRun(t, "dpkg -i "+copyPackage(t, h, releaseV1.artifact(t, "deb")))
	pid := waitRunning(t, h)
	if sys := strings.TrimSpace(h.MustRun(t, "openrc --sys")); sys != "SYSTEMD-NSPAWN" {
		t.Fatalf("OpenRC takes this container for %q, not SYSTEMD-NSPAWN", sys)
	}
	if strings.Contains(out, "cgroup") {
		t.Errorf("OpenRC in systemd-nspawn speaks of cgroups:\n%s", out)
	}
	assertLimits(t, h, pid)

	h.MustRun(t, `echo 'rc_sys="lxc"' >>/etc/rc.conf`)
	out = h.MustRun(t, "rc-service "+agent+" restart")
	if !strings.Contains(out, "No permission to apply cgroup settings") {
		t.Errorf("OpenRC, as in LXC, does not say it cannot apply the cgroup settings:\n%s", out)
	}
	pid = waitRunningNot(t, h, pid)
	assertLimits(t, h, pid)
	if cg := h.MustRun(t, "cat /proc/"+pid+"/cgroup"); !strings.Contains(cg, ":memory:/\n") {
		t.Errorf("the agent left the container's root memory cgroup, which is read-only:\n%s", cg)
	}
}
