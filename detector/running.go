package detector

import (
	"os"
	"os/exec"
	"strings"

	"github.com/omnipack/omnipack/init/inits"
)

// init returns the init system running as PID 1, tested in initsys.All
// order as the maintainer scripts do; None in a chroot or a container
// without an init; Unknown for a tree, where nothing runs that belongs to
// it.
func (t tree) init() string {
	if !t.host {
		return Unknown
	}
	if inChroot() {
		return None
	}
	for _, r := range inits.All() {
		if r.Running() {
			return r.Name()
		}
	}
	return None
}

// inChroot is true when / is not PID 1's root, as the maintainer scripts'
// in_chroot tells it. Without /proc this cannot be told and is taken as
// false.
func inChroot() bool {
	root, err := os.Stat("/")
	if err != nil {
		return false
	}
	pid1, err := os.Stat("/proc/1/root/.")
	if err != nil {
		return false
	}
	return !os.SameFile(root, pid1)
}

// container returns None or the kind of container. The marker files count
// in a tree too; PID 1's environment, systemd-detect-virt (final when it is
// installed and answers) and PID 1's cgroup describe the running system and
// are asked only on the host.
func (t tree) container() string {
	switch {
	case t.present("/.dockerenv"):
		return "docker"
	case t.present("/run/.containerenv"):
		return "podman"
	case !t.host:
		return None
	}
	if env, err := os.ReadFile("/proc/1/environ"); err == nil {
		for _, kv := range strings.Split(string(env), "\x00") {
			if v, ok := strings.CutPrefix(kv, "container="); ok {
				if v != "" {
					return containerName(v)
				}
				break
			}
		}
	}
	if v := firstOutputLine("systemd-detect-virt", "-c"); v != "" {
		return containerName(v)
	}
	cgroup, _ := os.ReadFile("/proc/1/cgroup")
	cg := string(cgroup)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(cg, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("/docker/", "/docker-"):
		return "docker"
	case has("/libpod-", "/libpod_"):
		return "podman"
	case has("/lxc/", "/lxc.payload"):
		return "lxc"
	case has("/kubepods"):
		return "container-other"
	}
	return None
}

// containerName keeps a container name that is a plain identifier; anything
// else is reported as container-other rather than printed.
func containerName(v string) string {
	if valid(v) {
		return v
	}
	return "container-other"
}

// privilege returns root, the first of sudo and doas in PATH, or None;
// Unknown for a tree, which cannot show who will run the installer.
func (t tree) privilege() string {
	if !t.host {
		return Unknown
	}
	if os.Geteuid() == 0 {
		return "root"
	}
	for _, tool := range []string{"sudo", "doas"} {
		if _, err := exec.LookPath(tool); err == nil {
			return tool
		}
	}
	return None
}
