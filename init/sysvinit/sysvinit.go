package sysvinit

import (
	"fmt"
	"os"
	"strings"
	"text/template"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/layout"
)

// Init renders an LSB init script in POSIX sh. It uses dpkg's
// start-stop-daemon where there is one and daemonizes by itself elsewhere,
// and sources /lib/lsb/init-functions only for nicer messages.
//
// sysvinit does not supervise: the daemon is started once and Restart= is
// not honoured. (An inittab respawn entry could restart it, but would take
// the daemon out of the reach of the init script and of runlevel changes.)
//
// Privileges: when util-linux setpriv is installed it switches to the
// service user, keeps the declared capabilities ambient, limits the bounding
// set and sets no_new_privs as the profile asks, and profile nonetwork adds
// unshare --net; without setpriv the user switch falls back to
// start-stop-daemon --chuid or chroot --userspec, and the rest is lost (a
// warning says so). The filesystem, device and syscall restrictions of the
// systemd profiles have no equivalent.
//
// Limits: the start sets the open files limit with ulimit -n, and the nice
// value with start-stop-daemon --nicelevel or nice -n, which add it to the
// starting shell's (0 at boot). sysvinit manages no cgroups, so the memory
// maximum and CPU weight are not enforced.
type Init struct{}

func (Init) Name() string    { return "sysvinit" }
func (Init) Precedence() int { return 50 }

// Running: sysvinit's PID 1 is called init and listens on /run/initctl.
func (Init) Running() bool {
	fi, err := os.Stat("/run/initctl")
	return initsys.PID1Name() == "init" && err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

var sysvTemplate = template.Must(template.New("sysv").Parse(`#!/bin/sh
### BEGIN INIT INFO
# Provides:          {{.Name}}
# Required-Start:    {{.Deps}}
# Required-Stop:     {{.Deps}}
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: {{.Description}}
### END INIT INFO
{{.Header -}}
# sysvinit does not supervise: the daemon is not restarted if it exits.
{{- if .NotEnforced}}
# {{.NotEnforced}}.
{{- end}}

NAME={{.Name}}
DAEMON={{.Daemon}}
COMM={{.Comm}}
PIDFILE=/run/{{.Name}}.pid
RUN_AS={{.RunAs}}
WORKDIR={{.WorkDir}}
STOP_TIMEOUT={{.StopTimeout}}
{{- range .Env}}
export {{.}}
{{- end}}

if [ ! -x "$DAEMON" ]; then
	case "$1" in
	stop | status) ;;
	*)
		echo "$DAEMON is not installed" >&2
		exit 5
		;;
	esac
fi

# Messages go through the LSB functions when the system has them.
if [ -r /lib/lsb/init-functions ]; then
	# shellcheck source=/dev/null
	. /lib/lsb/init-functions
fi

say() {
	if command -v log_daemon_msg >/dev/null 2>&1; then
		log_daemon_msg "$1"
	else
		printf '%s... ' "$1"
	fi
}

done_() {
	if command -v log_end_msg >/dev/null 2>&1; then
		log_end_msg "$1"
	elif [ "$1" -eq 0 ]; then
		echo "done"
	else
		echo "failed"
	fi
	return "$1"
}

# have_ssd is true for dpkg's start-stop-daemon; BusyBox's lacks the
# options used here.
have_ssd() {
	start-stop-daemon --version 2>/dev/null | grep -q 'for Debian'
}

# running_pid prints the daemon's pid. It matches the process name as well,
# so that a stale pidfile naming a recycled pid does not count, and it
# ignores a daemon that exited but was not reaped yet.
running_pid() {
	[ -r "$PIDFILE" ] || return 1
	read -r pid_ <"$PIDFILE" || [ -n "$pid_" ] || return 1
	case $pid_ in '' | *[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$pid_/comm" 2>/dev/null)" = "$COMM" ] || return 1
	if grep -q '^State:[[:space:]]*Z' "/proc/$pid_/status" 2>/dev/null; then
		return 1
	fi
	echo "$pid_"
}

{{- if .CapsCheck}}

{{.CapsCheck}}
{{- end}}

do_start() {
	if running_pid >/dev/null; then
		return 0
	fi
{{- if .CapsCheck}}
	caps_check || return 1
{{- end}}
{{- if .StateDir}}
	install -d -m 0750 -o {{.User}} -g {{.Group}} {{.StateDir}} || return 1
{{- end}}
{{- range .Dirs}}
	{{.}} || return 1
{{- end}}
{{- if .EnvLoad}}
	{{.EnvLoad}}
{{- end}}
	# The daemon's stdout and stderr go to {{.LogFile}}: sysvinit keeps
	# them nowhere. The daemon's own user opens it, after the user switch
	# below, so a link planted in its directory reaches nothing it could
	# not write anyway.
	install -d -m 0750 -o {{.User}} -g {{.Group}} {{.LogDir}} || return 1
{{- if .Expands}}
	# $NAME splits at blanks without globbing, as under systemd.
	set -f
	set -- "$DAEMON"{{.Args}}
	set +f
{{- else}}
	set -- "$DAEMON"{{.Args}}
{{- end}}
	# shellcheck disable=SC2016
	set -- /bin/sh -c 'exec "$0" "$@" >>{{.LogFile}} 2>&1' "$@"
{{- if .Setpriv}}
	if {{.HaveSetpriv}}; then
		set -- "$(command -v setpriv)" {{.Setpriv}} "$@"
		RUN_AS=
{{- if .NoNetwork}}
		# An empty network namespace, like systemd's PrivateNetwork=.
		if command -v unshare >/dev/null 2>&1; then
			set -- "$(command -v unshare)" --net -- "$@"
		fi
{{- end}}
{{- if .RequiredLost}}
	else
		echo "$NAME: error: setpriv (util-linux) not found; without it {{.RequiredLost}} cannot be granted to {{.User}}, and the service requires it; install util-linux" >&2
		return 1
{{- else if .Loss}}
	else
		echo "$NAME: setpriv (util-linux) not found, starting without {{.Loss}}" >&2
{{- end}}
	fi
{{- end}}
{{- if .Umask}}
	umask {{.Umask}}
{{- end}}
{{- if .Ulimit}}
	{{.Ulimit}}
{{- end}}
	if have_ssd; then
		cmd_=$1
		shift
		start-stop-daemon --start --quiet --background --make-pidfile \
			--pidfile "$PIDFILE" --name "$COMM" --chdir "$WORKDIR" \
			${RUN_AS:+--chuid "$RUN_AS"}{{if .Nice}} --nicelevel {{.Nice}}{{end}} --startas "$cmd_" -- "$@" || return 1
	else
		if [ -n "$RUN_AS" ]; then
			# chroot --userspec switches user without forking, so the
			# pid recorded below stays the daemon's.
			# shellcheck disable=SC2016
			set -- chroot --userspec="$RUN_AS" / /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$WORKDIR" "$@"
		fi
{{- if .Nice}}
		# Outermost, so that it runs as root, which may lower the value.
		set -- nice -n {{.Nice}} "$@"
{{- end}}
		if command -v setsid >/dev/null 2>&1; then
			set -- setsid "$@"
		fi
		(cd "$WORKDIR" && exec "$@") </dev/null >/dev/null 2>&1 &
		echo $! >"$PIDFILE"
	fi
	# Catch a daemon that dies on startup.
	sleep 1
	running_pid >/dev/null
}

do_stop() {
	if have_ssd; then
		rc_=0
		start-stop-daemon --stop --quiet --retry "TERM/$STOP_TIMEOUT/KILL/5" \
			--pidfile "$PIDFILE" --name "$COMM" || rc_=$?
		# 1 means nothing was running.
		[ "$rc_" -le 1 ] || return 1
		rm -f "$PIDFILE"
		return 0
	fi
	pid_=$(running_pid) || {
		rm -f "$PIDFILE"
		return 0
	}
	kill -s TERM "$pid_" 2>/dev/null
	waited_=0
	while running_pid >/dev/null; do
		if [ "$waited_" -ge "$STOP_TIMEOUT" ]; then
			kill -s KILL "$pid_" 2>/dev/null
			sleep 1
			break
		fi
		sleep 1
		waited_=$((waited_ + 1))
	done
	running_pid >/dev/null && return 1
	rm -f "$PIDFILE"
	return 0
}
{{- if .ReloadSignal}}

do_reload() {
	pid_=$(running_pid) || return 7
	kill -s {{.ReloadSignal}} "$pid_"
}
{{- end}}

case "$1" in
start)
	say "Starting $NAME"
	do_start
	done_ $?
	;;
stop)
	say "Stopping $NAME"
	do_stop
	done_ $?
	;;
restart)
	say "Restarting $NAME"
	do_stop && do_start
	done_ $?
	;;
{{- if .ReloadSignal}}
reload | force-reload)
	say "Reloading $NAME"
	do_reload
	done_ $?
	;;
{{- else}}
reload)
	echo "$NAME: reload is not supported" >&2
	exit 3
	;;
force-reload)
	say "Restarting $NAME"
	do_stop && do_start
	done_ $?
	;;
{{- end}}
status)
	if pid_=$(running_pid); then
		echo "$NAME is running (pid $pid_)"
		exit 0
	elif [ -e "$PIDFILE" ]; then
		echo "$NAME is not running but $PIDFILE exists"
		exit 1
	fi
	echo "$NAME is not running"
	exit 3
	;;
*)
	echo "Usage: $0 {start|stop|restart|reload|force-reload|status}" >&2
	exit 2
	;;
esac
`))

func (Init) Render(s initsys.Service) ([]initsys.File, error) {
	s, err := initsys.Prepare(s)
	if err != nil {
		return nil, err
	}
	// caps_check works out at start time which declared capabilities
	// this host can grant.
	setprivCaps := initsys.SetprivCaps(nil)
	if len(s.Capabilities) > 0 {
		setprivCaps = `"$` + initsys.CapsKeep + `"`
	}
	data := struct {
		Name, Description, Header, Deps    string
		Daemon, Comm, RunAs, WorkDir, Args string
		User, Group, StateDir              string
		HaveSetpriv, Setpriv, Loss, Umask  string
		CapsCheck, RequiredLost            string
		EnvLoad, Ulimit, Nice, NotEnforced string
		LogDir, LogFile                    string
		Dirs                               []string
		NoNetwork, Expands                 bool
		ReloadSignal                       string
		StopTimeout                        int
		Env                                []string
	}{
		Name:         s.Name,
		Description:  s.Description,
		Header:       initsys.Header(s),
		Deps:         "$remote_fs $syslog",
		Daemon:       initsys.ShQuote(s.Exec),
		Comm:         initsys.ShQuote(initsys.CommName(s.Exec)),
		WorkDir:      initsys.ShQuote(s.WorkingDir),
		User:         s.User,
		Group:        s.Group,
		HaveSetpriv:  initsys.HaveSetpriv,
		Setpriv:      strings.Join(initsys.SetprivArgs(s, setprivCaps), " "),
		CapsCheck:    strings.TrimSuffix(initsys.CapsCheckFunc(s, false, initsys.StderrEmit("$NAME")), "\n"),
		RequiredLost: initsys.SetprivRequired(s, false),
		Umask:        initsys.ProfilePrivileges(s.Profile).Umask,
		NoNetwork:    initsys.ProfilePrivileges(s.Profile).NoNetwork,
		Loss:         initsys.SetprivLoss(s, false),
		ReloadSignal: s.ReloadSignal,
		StopTimeout:  s.StopTimeout,
		EnvLoad:      initsys.EnvFileLoad(s),
		Dirs:         initsys.InstallDirs(s),
		Expands:      s.ExpandsArgs(),
		Ulimit:       strings.ReplaceAll(initsys.UlimitOpenFiles(s, initsys.StderrEmit("$NAME")), "\n", "\n\t"),
		Nice:         s.Limits.NiceValue(),
		NotEnforced:  initsys.LimitsNotEnforced(s.Limits, "sysvinit"),
		LogDir:       layout.LogDir(s.Name),
		LogFile:      initsys.LogFile(s.Name),
	}
	if s.AfterNetwork {
		data.Deps += " $network"
	}
	if !initsys.IsRoot(s) {
		data.RunAs = s.User + ":" + s.Group
	}
	if len(s.Args) > 0 {
		data.Args = " " + initsys.ShArgs(s)
	}
	if s.StateDir != "" {
		data.StateDir = initsys.ShQuote(s.StateDir)
	}
	for _, k := range s.EnvKeys() {
		data.Env = append(data.Env, k+"="+initsys.ShQuote(s.Environment[k]))
	}
	var b strings.Builder
	if err := sysvTemplate.Execute(&b, data); err != nil {
		return nil, err
	}
	return []initsys.File{{Target: "/etc/init.d/" + s.Name, Mode: 0o755, Body: []byte(b.String())}}, nil
}

// Shell uses update-rc.d (Debian) or chkconfig (Red Hat) to enable the
// script and falls back to making the rc?.d links itself; both tools only
// write links, so enabling works offline. Start and stop go through
// invoke-rc.d where it exists, so that policy-rc.d can veto them in chroots.
func (Init) Shell(s initsys.Service) initsys.Shell {
	n := initsys.ShQuote(s.Name)
	script := "/etc/init.d/" + s.Name
	invoke := func(action string) string {
		return fmt.Sprintf("if command -v invoke-rc.d >/dev/null 2>&1; then invoke-rc.d %s %s; else %s %s; fi", n, action, script, action)
	}
	enable := fmt.Sprintf(`if command -v update-rc.d >/dev/null 2>&1; then update-rc.d %[1]s defaults; `+
		`elif command -v chkconfig >/dev/null 2>&1; then chkconfig --add %[1]s; `+
		`else for omnipack_rl in 0 1 2 3 4 5 6; do `+
		`omnipack_dir=/etc/rc$omnipack_rl.d; [ -d "$omnipack_dir" ] || omnipack_dir=/etc/rc.d/rc$omnipack_rl.d; `+
		`case $omnipack_rl in [2345]) omnipack_link=S20%[1]s ;; *) omnipack_link=K80%[1]s ;; esac; `+
		`if [ -d "$omnipack_dir" ]; then ln -sf ../init.d/%[1]s "$omnipack_dir/$omnipack_link"; fi; done; fi`, n)
	disable := fmt.Sprintf(`if command -v update-rc.d >/dev/null 2>&1; then update-rc.d -f %[1]s remove; `+
		`elif command -v chkconfig >/dev/null 2>&1; then chkconfig --del %[1]s; `+
		`else rm -f /etc/rc[0-6].d/[SK][0-9][0-9]%[1]s /etc/rc.d/rc[0-6].d/[SK][0-9][0-9]%[1]s; fi`, n)
	return initsys.Shell{
		// sysvinit's PID 1 is called init and listens on /run/initctl.
		// systemd may provide /run/initctl too, but its PID 1 is called
		// systemd, and runit's is called runit.
		Running: `{ [ "$(cat /proc/1/comm 2>/dev/null)" = init ] && [ -p /run/initctl ]; }`,
		// Debian's sysvinit-core installs /sbin/init as a binary of that
		// name and reads /etc/inittab; systemd, runit and BusyBox make
		// /sbin/init a symlink to something else.
		Installed: `{ [ -f /etc/inittab ] && case "$(readlink -f /sbin/init 2>/dev/null)" in */sbin/init) true ;; *) false ;; esac; }`,
		Enable:    enable,
		Disable:   disable,
		Start:     invoke("start"),
		Stop:      invoke("stop"),
		Restart:   invoke("restart"),
		// Through sh, not as a command of its own: status needs no
		// invoke-rc.d, and lintian takes a line that starts with the
		// script for a start that bypasses it.
		Status:     "sh " + script + " status >/dev/null 2>&1",
		PID:        initsys.AlivePID("cat /run/" + s.Name + ".pid"),
		StatusHint: script + " status",
		Reload:     ":",
		// The script sends the daemon's output here.
		Log: fmt.Sprintf("tail -n %d %s", initsys.LogLines, initsys.LogFile(s.Name)),
	}
}

// LogsToFile: the script writes the daemon's output to initsys.LogFile.
func (Init) LogsToFile() bool { return true }
