// Package podman renders the agent's image as a host service: a quadlet
// .container file for /etc/containers/systemd/ (podman 4.4 and later), and
// a plain systemd unit that runs the image with podman run, for hosts whose
// podman predates quadlet (Debian 12's 4.3). Both run the container with
// the service's capabilities only, a read-only root, the host's config
// directory mounted read-only, a volume for the state, and the health
// command; systemd restarts it as [service] restart says.
package podman

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Unit is what the units say of the agent.
type Unit struct {
	Name        string
	Description string
	// Image is the image reference podman runs.
	Image string
	// Capabilities are CAP_ names; every other capability is dropped.
	Capabilities []string
	// ConfigDir is the host's config directory, mounted read-only at the
	// same path; StateDirs get a named volume each.
	ConfigDir string
	StateDirs []string
	// HostPaths are mounted read-only at the same path; /dev paths are
	// passed as devices.
	HostPaths []string
	// HostNetwork runs the container in the host's network, as the
	// packaged service runs; otherwise it has none.
	HostNetwork bool
	// OpenFiles, when set, is RLIMIT_NOFILE, soft and hard.
	OpenFiles     int
	HealthCommand []string
	// Restart is systemd's Restart= ("always", "on-failure", "no").
	Restart     string
	RestartSec  int
	StopTimeout int
}

// QuadletFile and UnitFile are the files' names.
func (u Unit) QuadletFile() string { return u.Name + ".container" }
func (u Unit) UnitFile() string    { return u.Name + "-podman.service" }

// options are the container's settings, each as a quadlet key and value
// and as podman run's arguments.
func (u Unit) options() [][3]string {
	var o [][3]string
	add := func(key, value string, args ...string) { o = append(o, [3]string{key, value, strings.Join(args, " ")}) }
	add("ContainerName", u.Name, "--name", u.Name)
	add("ReadOnly", "true", "--read-only")
	add("DropCapability", "all", "--cap-drop=all")
	for _, c := range u.Capabilities {
		add("AddCapability", c, "--cap-add="+c)
	}
	add("NoNewPrivileges", "true", "--security-opt=no-new-privileges")
	if u.HostNetwork {
		add("Network", "host", "--network=host")
	} else {
		add("Network", "none", "--network=none")
	}
	add("Volume", u.ConfigDir+":"+u.ConfigDir+":ro", "--volume="+u.ConfigDir+":"+u.ConfigDir+":ro")
	for i, d := range u.StateDirs {
		v := fmt.Sprintf("%s-state-%d:%s", u.Name, i, d)
		add("Volume", v, "--volume="+v)
	}
	for _, p := range u.HostPaths {
		if strings.HasPrefix(p, "/dev/") {
			add("AddDevice", p+":"+p+":r", "--device="+p+":"+p+":r")
			continue
		}
		add("Volume", p+":"+p+":ro", "--volume="+p+":"+p+":ro")
	}
	if u.OpenFiles > 0 {
		l := fmt.Sprintf("nofile=%d:%d", u.OpenFiles, u.OpenFiles)
		add("Ulimit", l, "--ulimit="+l)
	}
	if len(u.HealthCommand) > 0 {
		// As a JSON array: the image has no shell to run a command line.
		cmd, _ := json.Marshal(u.HealthCommand)
		add("HealthCmd", string(cmd), "'--health-cmd="+string(cmd)+"'")
	}
	return o
}

// Quadlet is the .container file.
func (u Unit) Quadlet() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: the %s image as a service, for /etc/containers/systemd/ (podman 4.4 or later).\n", u.QuadletFile(), u.Name)
	fmt.Fprintf(&b, "[Unit]\nDescription=%s\n", u.Description)
	if u.HostNetwork {
		b.WriteString("Wants=network-online.target\nAfter=network-online.target\n")
	}
	fmt.Fprintf(&b, "\n[Container]\nImage=%s\n", u.Image)
	for _, o := range u.options() {
		fmt.Fprintf(&b, "%s=%s\n", o[0], o[1])
	}
	b.WriteString("\n[Service]\n")
	u.service(&b)
	b.WriteString("\n[Install]\nWantedBy=multi-user.target\n")
	return []byte(b.String())
}

// Plain is the systemd unit that runs the image with podman run.
func (u Unit) Plain() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: the %s image as a service, for hosts whose podman has no quadlet.\n", u.UnitFile(), u.Name)
	fmt.Fprintf(&b, "[Unit]\nDescription=%s\n", u.Description)
	if u.HostNetwork {
		b.WriteString("Wants=network-online.target\nAfter=network-online.target\n")
	}
	b.WriteString("RequiresMountsFor=%t/containers\n\n[Service]\n")
	b.WriteString("Environment=PODMAN_SYSTEMD_UNIT=%n\n")
	args := []string{"/usr/bin/podman", "run", "--rm", "--replace", "--cidfile=%t/%N.cid", "--cgroups=split", "--sdnotify=conmon", "-d"}
	for _, o := range u.options() {
		args = append(args, o[2])
	}
	args = append(args, u.Image)
	fmt.Fprintf(&b, "ExecStart=%s\n", strings.Join(args, " "))
	b.WriteString("ExecStop=/usr/bin/podman stop --ignore -t " + fmt.Sprint(max(u.StopTimeout, 1)) + " --cidfile=%t/%N.cid\n")
	b.WriteString("ExecStopPost=-/usr/bin/podman rm -f --ignore --cidfile=%t/%N.cid\n")
	b.WriteString("Type=notify\nNotifyAccess=all\nDelegate=yes\nKillMode=mixed\nSyslogIdentifier=%N\n")
	u.service(&b)
	b.WriteString("\n[Install]\nWantedBy=multi-user.target\n")
	return []byte(b.String())
}

func (u Unit) service(b *strings.Builder) {
	restart := u.Restart
	if restart == "" || restart == "never" {
		restart = "no"
	}
	fmt.Fprintf(b, "Restart=%s\n", restart)
	if u.RestartSec > 0 {
		fmt.Fprintf(b, "RestartSec=%d\n", u.RestartSec)
	}
	if u.StopTimeout > 0 {
		// podman's own stop timeout, plus its time to remove the container.
		fmt.Fprintf(b, "TimeoutStopSec=%d\n", u.StopTimeout+10)
	}
}
