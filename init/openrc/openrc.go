package openrc

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/omnipack/omnipack/init/systemd"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/layout"
)

// Init renders an openrc-run script. OpenRC usually runs on top of
// sysvinit's PID 1 (Debian) or BusyBox init (Alpine), so it is detected
// before sysvinit.
//
// Restart policies: supervise-daemon restarts the daemon whenever it exits,
// so "always" and "on-failure" both map to it and cannot be told apart;
// "never" uses start-stop-daemon, which does not supervise.
//
// Privileges: OpenRC's own capabilities= and no_new_privs= are not usable
// on Debian 12 (OpenRC 0.45): its supervise-daemon is built without libcap,
// its start-stop-daemon is dpkg's, which knows neither option, and
// supervise-daemon.sh passes --no_new_privs where the binary wants
// --no-new-privs (fixed upstream in 2023). The script therefore wraps the
// daemon in util-linux setpriv when it is installed, which applies the
// profile's bounding set, ambient capabilities and no_new_privs the same way
// on every OpenRC, and for profile nonetwork in unshare --net; without
// setpriv it falls back to command_user= and, for capabilities, to
// capabilities= (which needs a libcap-enabled OpenRC), and warns.
// The filesystem, device and syscall restrictions of the systemd profiles
// have no OpenRC equivalent.
type Init struct{}

func (Init) Name() string    { return "openrc" }
func (Init) Precedence() int { return 20 }

// ManagesCgroups: openrc-run puts each service in a cgroup of its own
// where the host lets it (see writeLimits).
func (Init) ManagesCgroups() bool { return true }

// Running: openrc writes /run/openrc/softlevel when it has booted.
func (Init) Running() bool {
	_, err := os.Stat("/run/openrc/softlevel")
	return err == nil
}

// openrcSafeExec matches the Exec paths OpenRC can carry: supervise-daemon.sh
// and start-stop-daemon.sh expand $command unquoted.
var openrcSafeExec = regexp.MustCompile(`^/[A-Za-z0-9_@%+=:,./-]+$`)

func (Init) Render(s initsys.Service) ([]initsys.File, error) {
	s, err := initsys.Prepare(s)
	if err != nil {
		return nil, err
	}
	if !openrcSafeExec.MatchString(s.Exec) {
		return nil, fmt.Errorf("initsys: %s: OpenRC cannot run %q: its scripts split the command path on spaces", s.Name, s.Exec)
	}
	supervised := s.Restart != initsys.RestartNever
	priv := initsys.ProfilePrivileges(s.Profile)
	// caps_check works out at start time which declared capabilities this
	// host can grant; the fallback without setpriv uses capabilities=.
	check := initsys.CapsCheckFunc(s, !initsys.IsRoot(s), openrcEmit(s.Name))
	setprivCaps := initsys.SetprivCaps(nil)
	if check != "" {
		setprivCaps = "$" + initsys.CapsKeep
	}
	setpriv := initsys.SetprivArgs(s, setprivCaps)

	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("#!/sbin/openrc-run")
	// openrc-run reads the variables below; shellcheck cannot know that.
	line("# shellcheck shell=sh disable=SC2034")
	b.WriteString(initsys.Header(s))
	line("")
	line("description=%s", initsys.ShValue(s.Description))
	line("command=%s", s.Exec)
	if len(s.Args) > 0 && !s.ExpandsArgs() {
		// openrc-run evals command_args, so it holds sh words. With
		// arguments that expand, start_pre works them out.
		line("command_args=%s", initsys.ShValue(initsys.ShJoin(s.Args)))
	}
	if !initsys.IsRoot(s) {
		line("command_user=%s", initsys.ShValue(s.User+":"+s.Group))
		if len(s.Capabilities) > 0 {
			// Only used without setpriv; see start_pre.
			caps := make([]string, len(s.Capabilities))
			for i, c := range s.Capabilities {
				caps[i] = "^cap_" + initsys.CapShort(c)
			}
			line("capabilities=%s", initsys.ShValue(strings.Join(caps, ",")))
		}
	}
	if s.WorkingDir != "/" {
		line("directory=%s", initsys.ShValue(s.WorkingDir))
	}
	if priv.Umask != "" {
		line("umask=%s", priv.Umask)
	}
	line("retry=%s", initsys.ShValue(fmt.Sprintf("TERM/%d/KILL/5", s.StopTimeout)))
	if supervised {
		line("supervisor=supervise-daemon")
		// supervise-daemon counts whole seconds; 0 would respawn a
		// crashing daemon in a tight loop.
		line("respawn_delay=%d", max(s.RestartSec, 1))
		// Unlimited, as systemd's Restart= is once RestartSec spaces the
		// attempts beyond its start rate limit.
		line("respawn_max=0")
	} else {
		line("command_background=yes")
		line("pidfile=%s", initsys.ShValue("/run/"+s.Name+".pid"))
	}
	if s.ReloadSignal != "" {
		line(`extra_started_commands="reload"`)
	}
	if supervised {
		// supervise-daemon, OpenRC's own on every system, appends the
		// daemon's output here; start_pre creates the file.
		line("output_log=%s", initsys.LogFile(s.Name))
		line("error_log=%s", initsys.LogFile(s.Name))
	}
	writeLimits(&b, s.Limits, supervised)
	if len(s.Environment) > 0 || s.EnvironmentFile != "" {
		line("")
		for _, k := range s.EnvKeys() {
			line("export %s=%s", k, initsys.ShQuote(s.Environment[k]))
		}
		if load := initsys.EnvFileLoad(s); load != "" {
			line("%s", load)
		}
	}

	line("")
	line("depend() {")
	// "use" starts after the network and logger when the host has them;
	// "need net" would refuse to start where nothing provides net
	// (containers, hosts without ifupdown or netifrc).
	if s.AfterNetwork {
		line("\tuse net logger")
		line("\tafter net")
	} else {
		line("\tuse logger")
	}
	line("}")

	if check != "" {
		line("")
		b.WriteString(check)
	}

	line("")
	line("start_pre() {")
	if s.ExpandsArgs() {
		// $NAME splits at blanks without globbing, as under systemd;
		// each word is then quoted again for openrc-run's eval.
		line("\tset -f")
		line("\tset -- %s", initsys.ShArgs(s))
		line("\tset +f")
		line("\tcommand_args=")
		line("\tfor omnipack_a; do")
		line("\t\tcommand_args=\"$command_args '$(printf '%%s' \"$omnipack_a\" | sed \"s/'/'\\\\\\\\''/g\")'\"")
		line("\tdone")
	}
	// The daemon's output log, owned by its user, who may write it.
	// checkpath follows no link planted in the directory.
	owner := initsys.ShQuote(s.User + ":" + s.Group)
	line("\tcheckpath -d -m 0750 -o %s %s || return 1", owner, layout.LogDir(s.Name))
	line("\tcheckpath -f -m 0640 -o %s %s || return 1", owner, initsys.LogFile(s.Name))
	if !supervised {
		line("\t# dpkg's start-stop-daemon (Debian's OpenRC runs it) takes --output;")
		line("\t# OpenRC's own takes output_log and error_log.")
		line("\tif start-stop-daemon --version 2>/dev/null | grep -q 'for Debian'; then")
		line("\t\tstart_stop_daemon_args=\"${start_stop_daemon_args:-} --output %s\"", initsys.LogFile(s.Name))
		line("\telse")
		line("\t\toutput_log=%s", initsys.LogFile(s.Name))
		line("\t\terror_log=%s", initsys.LogFile(s.Name))
		line("\tfi")
	}
	if s.StateDir != "" {
		line("\tcheckpath -d -m 0750 -o %s %s || return 1", owner, initsys.ShQuote(s.StateDir))
	}
	for _, d := range s.Dirs {
		line("\tcheckpath -d -m %04o -o %s %s || return 1", d.Mode, initsys.ShQuote(d.Owner+":"+d.Group), initsys.ShQuote(d.Path))
	}
	if check != "" {
		line("\tcaps_check || return 1")
	}
	if setpriv != nil {
		line("\t# OpenRC's capabilities= and no_new_privs= do not work on every")
		line("\t# build (not on Debian's); util-linux setpriv applies them everywhere.")
		line("\tif %s; then", initsys.HaveSetpriv)
		line("\t\tcommand_args=\"%s $command $command_args\"", strings.Join(setpriv, " "))
		line("\t\tcommand=$(command -v setpriv)")
		line("\t\tunset command_user capabilities")
		if priv.NoNetwork {
			line("\t\t# An empty network namespace, like systemd's PrivateNetwork=.")
			line("\t\tif command -v unshare >/dev/null 2>&1; then")
			line("\t\t\tcommand_args=\"--net -- $command $command_args\"")
			line("\t\t\tcommand=$(command -v unshare)")
			line("\t\tfi")
		}
		loss := initsys.SetprivLoss(s, true)
		iab := check != "" && !initsys.IsRoot(s)
		if loss != "" || iab {
			line("\telse")
		}
		if iab {
			line("\t\tcapabilities=$%s", initsys.CapsIAB)
		}
		if loss != "" {
			line("\t\tewarn \"setpriv (util-linux) not found, starting without %s\"", loss)
		}
		line("\tfi")
	}
	line("\treturn 0")
	line("}")

	if !supervised {
		line("")
		line("start_post() {")
		line("\t# start-stop-daemon.sh stops what it recorded as $command; record")
		line("\t# the daemon rather than the setpriv that exec'd it.")
		line("\tservice_set_value command %s", s.Exec)
		line("}")
	}

	if s.ReloadSignal != "" {
		line("")
		line("reload() {")
		line("\tebegin \"Reloading ${RC_SVCNAME}\"")
		if supervised {
			line("\tsupervise-daemon \"${RC_SVCNAME}\" --signal %s", s.ReloadSignal)
		} else {
			line("\tkill -s %s \"$(cat \"$pidfile\")\"", s.ReloadSignal)
		}
		line("\teend $?")
		line("}")
	}
	return []initsys.File{{Target: "/etc/init.d/" + s.Name, Mode: 0o755, Body: []byte(b.String())}}, nil
}

// writeLimits sets the variables through which openrc-run applies the
// limits before it starts the daemon. openrc-run sets the cgroup values
// only where it has loaded its cgroup support and the host mounts the
// controller writable (not in a systemd-nspawn container): on cgroup v2
// from rc_cgroup_settings, on a v1 hierarchy (OpenRC's default hybrid mode
// keeps memory and cpu there) from rc_cgroup_memory and rc_cgroup_cpu.
// What it cannot set it leaves, and the daemon starts without it.
func writeLimits(b *strings.Builder, l initsys.Limits, supervised bool) {
	if l.IsZero() {
		return
	}
	line := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	line("")
	line("# Resource limits.")
	if l.OpenFiles > 0 {
		// openrc-run's sh runs ulimit -n, which sets the soft and the
		// hard limit.
		line(`rc_ulimit="-n %d"`, l.OpenFiles)
	}
	var v2 []string
	if l.MemoryMax > 0 {
		v2 = append(v2, fmt.Sprintf("memory.max %d", l.MemoryMax))
	}
	if l.CPUWeight > 0 {
		v2 = append(v2, fmt.Sprintf("cpu.weight %d", l.CPUWeight))
	}
	if len(v2) > 0 {
		// One "file value" a line.
		line("rc_cgroup_settings=\"%s\"", strings.Join(v2, "\n"))
	}
	if l.MemoryMax > 0 {
		line(`rc_cgroup_memory="memory.limit_in_bytes %d"`, l.MemoryMax)
	}
	if l.CPUWeight > 0 {
		line(`rc_cgroup_cpu="cpu.shares %d"`, initsys.CPUShares(l.CPUWeight))
	}
	if l.Nice != nil {
		// supervise-daemon sets it as it is; dpkg's start-stop-daemon
		// (Debian's) adds it to openrc-run's own, which is 0 at boot.
		if supervised {
			line(`supervise_daemon_args="--nicelevel %d"`, *l.Nice)
		} else {
			line(`start_stop_daemon_args="--nicelevel %d"`, *l.Nice)
		}
	}
}

// openrcEmit reports through OpenRC's own message functions, which also
// reach its log, in the same words as the other inits.
func openrcEmit(name string) initsys.CapsEmit {
	return func(level, msg string) string {
		fn := map[string]string{"warning": "ewarn", "error": "eerror"}[level]
		return fmt.Sprintf(`%s "%s: %s: %s"`, fn, name, level, msg)
	}
}

// Shell drives rc-update and rc-service; rc-update only edits symlinks under
// /etc/runlevels, so enabling works offline.
func (Init) Shell(s initsys.Service) initsys.Shell {
	n := initsys.ShQuote(s.Name)
	// supervise-daemon notes the daemon it runs as the service's
	// child_pid; start-stop-daemon writes the pidfile.
	pidSource := "cat /run/openrc/options/" + s.Name + "/child_pid"
	if s.Restart == initsys.RestartNever {
		pidSource = "cat /run/" + s.Name + ".pid"
	}
	return initsys.Shell{
		Running:   `[ -e /run/openrc/softlevel ]`,
		Installed: `{ [ -x /sbin/openrc-run ] || [ -x /usr/sbin/openrc-run ]; } && ! ` + systemd.Init{}.Shell(s).Installed,
		Enable:    "rc-update add " + n + " default",
		Disable:   "rc-update del " + n + " default",
		Start:     "rc-service " + n + " start",
		Stop:      "rc-service " + n + " stop",
		Restart:   "rc-service " + n + " restart",
		// supervise-daemon keeps saying "started" while it respawns a
		// crashing daemon: PID tells.
		Status:     "rc-service " + n + " status >/dev/null 2>&1",
		PID:        initsys.AlivePID(pidSource),
		StatusHint: "rc-service " + n + " status",
		// OpenRC rebuilds its dependency cache when a script changes.
		Reload: ":",
		// The script has supervise-daemon or start-stop-daemon write the
		// daemon's output here.
		Log: fmt.Sprintf("tail -n %d %s", initsys.LogLines, initsys.LogFile(s.Name)),
	}
}

// LogsToFile: the script has the daemon's output written to
// initsys.LogFile.
func (Init) LogsToFile() bool { return true }
