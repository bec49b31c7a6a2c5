package runit

import (
	"fmt"
	"strings"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/layout"
)

// Init renders a service directory /etc/sv/NAME with a run script and a
// log service that keeps stdout and stderr in /var/log/NAME via svlogd.
//
// Restart policies: runsv restarts the run script whenever it exits, so
// "on-failure" behaves like "always" (a finish script that stops runsv on a
// clean exit would also stop it on `sv restart` of a daemon that exits 0 on
// SIGTERM). For "never" the run script tells runsv "once" before it execs
// the daemon, which holds for boot, `sv up` and `sv restart` alike.
// RestartSec is not expressible: runsv waits a fixed second between starts.
//
// Privileges are applied as in the sysvinit script: util-linux setpriv (and
// unshare --net for profile nonetwork) if present, else chpst -u, which
// cannot keep capabilities.
//
// Limits: ./run sets the open files limit with ulimit -n (chpst -o would
// set the soft limit only) and the nice value with nice -n. runit manages
// no cgroups, so the memory maximum and CPU weight are not enforced; chpst
// -m limits the data segment and address space, which is no memory maximum
// (a Go daemon reserves far more address space than it uses).
type Init struct{}

func (Init) Name() string    { return "runit" }
func (Init) Precedence() int { return 40 }

// Running: runit is PID 1, or a runsvdir supervises services under
// another PID 1 (a container).
func (Init) Running() bool { return initsys.PID1Name() == "runit" || initsys.AnyProcess("runsvdir") }

func runitDir(name string) string { return "/etc/sv/" + name }

func (Init) Render(s initsys.Service) ([]initsys.File, error) {
	s, err := initsys.Prepare(s)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("#!/bin/sh")
	b.WriteString(initsys.Header(s))
	line("exec 2>&1")
	if s.Restart == initsys.RestartNever {
		line("# Restart=never: ask runsv not to restart the daemon when it exits.")
		line("sv once . >/dev/null 2>&1")
	}
	setprivCaps := initsys.SetprivCaps(nil)
	if check := initsys.CapsCheckFunc(s, false, warnOnce(s.Name)); check != "" {
		b.WriteString(check)
		line("if ! caps_check; then")
		line("	# Failing again every second would not help: stay down until")
		line("	# sv up asks again.")
		line("	sv once . >/dev/null 2>&1")
		line("	exit 1")
		line("fi")
		setprivCaps = `"$` + initsys.CapsKeep + `"`
	}
	if required := initsys.SetprivRequired(s, false); required != "" {
		line("if ! %s; then", initsys.HaveSetpriv)
		line("	echo \"%s: error: setpriv (util-linux) not found; without it %s cannot be granted to %s, and the service requires it; install util-linux\"", s.Name, required, s.User)
		line("	sv once . >/dev/null 2>&1")
		line("	exit 1")
		line("fi")
	}
	if s.StateDir != "" {
		line("install -d -m 0750 -o %s -g %s %s || exit 1", s.User, s.Group, initsys.ShQuote(s.StateDir))
	}
	for _, c := range initsys.InstallDirs(s) {
		line("%s || exit 1", c)
	}
	line("cd %s || exit 1", initsys.ShQuote(s.WorkingDir))
	if u := initsys.ProfilePrivileges(s.Profile).Umask; u != "" {
		line("umask %s", u)
	}
	for _, k := range s.EnvKeys() {
		line("export %s=%s", k, initsys.ShQuote(s.Environment[k]))
	}
	if load := initsys.EnvFileLoad(s); load != "" {
		line("%s", load)
	}
	switch {
	case s.ExpandsArgs():
		// $NAME splits at blanks without globbing, as under systemd.
		line("set -f")
		line("set -- %s %s", initsys.ShQuote(s.Exec), initsys.ShArgs(s))
		line("set +f")
	case len(s.Args) > 0:
		line("set -- %s %s", initsys.ShQuote(s.Exec), initsys.ShJoin(s.Args))
	default:
		line("set -- %s", initsys.ShQuote(s.Exec))
	}
	if n := initsys.LimitsNotEnforced(s.Limits, "runit"); n != "" {
		line("# %s.", n)
	}
	if u := initsys.UlimitOpenFiles(s, initsys.StderrEmit(s.Name)); u != "" {
		line("%s", u)
	}
	// The nice value is set first, as root, which may lower it; nice(1)
	// adds it to runsv's own, which is 0 at boot.
	nice := ""
	if v := s.Limits.NiceValue(); v != "" {
		nice = "nice -n " + v + " "
	}
	if setpriv := initsys.SetprivArgs(s, setprivCaps); setpriv != nil {
		line("if %s; then", initsys.HaveSetpriv)
		if initsys.ProfilePrivileges(s.Profile).NoNetwork {
			line("\t# An empty network namespace, like systemd's PrivateNetwork=.")
			line("\tif command -v unshare >/dev/null 2>&1; then")
			line("\t\texec %sunshare --net -- setpriv %s \"$@\"", nice, strings.Join(setpriv, " "))
			line("\tfi")
		}
		line("\texec %ssetpriv %s \"$@\"", nice, strings.Join(setpriv, " "))
		line("fi")
		if loss := initsys.SetprivLoss(s, false); loss != "" && initsys.SetprivRequired(s, false) == "" {
			line("echo \"%s: setpriv (util-linux) not found, starting without %s\"", s.Name, loss)
		}
	}
	if initsys.IsRoot(s) {
		line("exec %s\"$@\"", nice)
	} else {
		line("exec %schpst -u %s \"$@\"", nice, s.User+":"+s.Group)
	}
	run := b.String()

	logDir := layout.LogDir(s.Name)
	b.Reset()
	line("#!/bin/sh")
	b.WriteString(initsys.Header(s))
	line("install -d -m 0750 -o %s -g %s %s || exit 1", s.User, s.Group, logDir)
	if initsys.IsRoot(s) {
		line("exec svlogd -tt %s", logDir)
	} else {
		line("exec chpst -u %s svlogd -tt %s", s.User+":"+s.Group, logDir)
	}
	logRun := b.String()

	dir := runitDir(s.Name)
	return []initsys.File{
		{Target: dir + "/run", Mode: 0o755, Body: []byte(run)},
		{Target: dir + "/log/run", Mode: 0o755, Body: []byte(logRun)},
	}, nil
}

// capsWarned is where the run script notes the capabilities it last warned
// about: runsv runs it again on every restart, and the log should say it
// once a boot, not once a second.
func capsWarned(name string) string { return "/run/" + name + ".caps-warned" }

// warnOnce prints a capability warning to the log unless the run script
// already gave it for the same capabilities since boot; errors always.
func warnOnce(name string) initsys.CapsEmit {
	plain := initsys.StderrEmit(name)
	return func(level, msg string) string {
		if level != "warning" {
			return plain(level, msg)
		}
		return fmt.Sprintf(`if [ "$(cat %[1]s 2>/dev/null)" != "$caps_lacking" ]; then %[2]s; echo "$caps_lacking" >%[1]s; fi`,
			capsWarned(name), plain(level, msg))
	}
}

// runitServiceDirs are the directories runsvdir watches, in the order they
// are tried: Debian's runit-init, Void and others, and the runsvdir
// default behind Debian's /etc/service when that symlink is dangling.
var runitServiceDirs = []string{"/etc/service", "/var/service", "/etc/runit/runsvdir/default"}

// Shell links the service directory into the first directory runsvdir
// watches and talks to runsv through sv with the absolute service path, so
// it does not depend on sv's compiled-in default directory.
func (Init) Shell(s initsys.Service) initsys.Shell {
	dir := runitDir(s.Name)
	dirs := strings.Join(runitServiceDirs, " ")
	// "up" would undo the "once" the run script of a Restart=never service
	// sends when runsv starts it.
	start := "up"
	if s.Restart == initsys.RestartNever {
		start = "once"
	}
	sv := func(cmd string) string { return "sv " + cmd + " " + dir }
	// The run script's output goes to the service's log; the check here
	// says in the installer's output what the service goes without.
	check := initsys.CapsCheckLine(s)
	if check != "" {
		check += "; [ -z \"$" + initsys.CapsMissing + "\" ]"
	}
	return initsys.Shell{
		Running:   `{ [ "$(cat /proc/1/comm 2>/dev/null)" = runit ] || grep -qsx runsvdir /proc/[0-9]*/comm; }`,
		Installed: `case "$(readlink -f /sbin/init 2>/dev/null)" in */runit-init | */runit) true ;; *) false ;; esac`,
		Enable: fmt.Sprintf(`for omnipack_sv in %s; do if [ -d "$omnipack_sv" ]; then `+
			`if [ ! -e "$omnipack_sv/%[2]s" ] && [ ! -L "$omnipack_sv/%[2]s" ]; then ln -s %[3]s "$omnipack_sv/%[2]s"; fi; break; fi; done`,
			dirs, s.Name, dir),
		// Unlinking alone leaves runsv and the logger (running as the
		// service's user) alive for a while, so a purge could not delete
		// the user. "sv exit" stops both and ends runsv; runsv's supervise
		// directories go with it, so the service directory can be removed.
		Disable: fmt.Sprintf(`for omnipack_sv in %s; do if [ -L "$omnipack_sv/%[2]s" ]; then rm -f "$omnipack_sv/%[2]s"; fi; done; `+
			`sv exit %[3]s >/dev/null 2>&1; omnipack_wait=0; `+
			`while sv status %[3]s >/dev/null 2>&1 && [ "$omnipack_wait" -lt 10 ]; do omnipack_wait=$((omnipack_wait + 1)); sleep 1; done; `+
			`rm -rf %[3]s/supervise %[3]s/log/supervise %[4]s`,
			dirs, s.Name, dir, capsWarned(s.Name)),
		// runsvdir looks for new service directories every five seconds;
		// until runsv runs, sv cannot reach the service.
		Start: fmt.Sprintf(`omnipack_wait=0; until %[1]s >/dev/null 2>&1 || [ "$omnipack_wait" -ge 10 ]; do `+
			`omnipack_wait=$((omnipack_wait + 1)); sleep 1; done; %[1]s`, sv(start)),
		Stop: sv("down"),
		// Not sv restart: it counts the restart done when the service's
		// status changed in the same second it was asked, so right after
		// a start it returns before the old process is even signalled.
		// force-stop waits until the daemon is gone (killing it after
		// the stop timeout), then start until the new one runs.
		Restart:    fmt.Sprintf("sv -w %d force-stop %s; sv start %s", s.StopTimeout, dir, dir),
		StartCheck: check,
		Status:     sv("status") + " 2>/dev/null | grep -q '^run:'",
		// runsv notes the run script's pid, which execs the daemon.
		PID:        initsys.AlivePID("cat " + dir + "/supervise/pid"),
		StatusHint: sv("status"),
		Reload:     ":",
		// The log service svlogd writes the daemon's output here.
		Log: fmt.Sprintf("tail -n %d %s/current", initsys.LogLines, layout.LogDir(s.Name)),
	}
}
