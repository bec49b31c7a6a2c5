package scripts

// Which shell functions each kind of script carries, in order.
var (
	baseFuncs    = []string{"say", "warn", "die", "say_lines", "run_tool"}
	accountFuncs = append(baseFuncs[:len(baseFuncs):len(baseFuncs)],
		"group_exists", "user_exists", "nologin_shell", "note_created", "ensure_accounts")
	recordFuncs = []string{
		"in_chroot", "init_running", "init_online", "init_known", "init_stop",
		"init_disable", "init_reload", "read_record", "remove_recorded", "unintegrate"}
	removeFuncs = append(baseFuncs[:len(baseFuncs):len(baseFuncs)], recordFuncs...)
	// A deb's prerm only stops the service; its postrm disables it and
	// deletes the files (Debian policy 9.3.3: update-rc.d belongs in postrm).
	stopFuncs = append(baseFuncs[:len(baseFuncs):len(baseFuncs)],
		"in_chroot", "init_running", "init_online", "init_known", "init_stop", "read_record", "stop_recorded")
	configureFuncs = append(append(accountFuncs[:len(accountFuncs):len(accountFuncs)], recordFuncs...),
		"init_installed", "init_enable", "init_start", "init_restart", "init_start_check", "init_status_hint",
		"init_status", "init_pid", "init_log", "show_log", "watch_start",
		"init_files", "detect_init", "record_parents", "install_file", "prune_stale",
		"ensure_state_dir", "note_purge", "ensure_dir", "ensure_dirs", "own_config_path", "own_config", "integrate", "configure_service")
	purgeFuncs = append(append(baseFuncs[:len(baseFuncs):len(baseFuncs)], recordFuncs...),
		"group_exists", "user_exists", "remove_accounts", "remove_created", "purge")
)

// funcs are the shell functions that do not depend on the init systems.
// They are text/template sources over data; q quotes a value as one word.
// Values put unquoted into messages are validated to need no quoting.
var funcs = map[string]string{
	"say": `# say MESSAGE...: tells the admin, prefixed with the service name.
say() {
	printf '%s: %s\n' {{q .Name}} "$*" >&2
}
`,
	"warn": `# warn MESSAGE...: says something went wrong that the package survives.
warn() {
	say "warning: $*"
}
`,
	"die": `# die MESSAGE...: says what failed and fails the script.
die() {
	say "error: $*"
	exit 1
}
`,
	"say_lines": `# say_lines TEXT: says each line of TEXT, what a tool printed.
say_lines() {
	if [ -n "$1" ]; then
		printf '%s\n' "$1" | while IFS= read -r line; do
			say "$line"
		done
	fi
}
`,
	"run_tool": `# run_tool COMMAND [ARG...]: runs a tool and says what it printed, so that its
# messages carry the prefix too; returns the tool's exit status.
run_tool() {
	tool_out=$("$@" 2>&1)
	tool_status=$?
	say_lines "$tool_out"
	return "$tool_status"
}
`,
	"group_exists": `# group_exists GROUP: true when GROUP exists.
group_exists() {
	if command -v getent >/dev/null 2>&1; then
		getent group "$1" >/dev/null 2>&1
	else
		grep -q "^$1:" /etc/group 2>/dev/null
	fi
}
`,
	"user_exists": `# user_exists USER: true when USER exists.
user_exists() {
	id -u "$1" >/dev/null 2>&1
}
`,
	"nologin_shell": `# nologin_shell: prints the login shell that refuses logins on this host.
nologin_shell() {
	for nologin in /usr/sbin/nologin /sbin/nologin; do
		if [ -x "$nologin" ]; then
			printf '%s\n' "$nologin"
			return 0
		fi
	done
	printf '%s\n' /bin/false
}
`,
	"note_created": `# note_created KIND NAME: remembers that this package created an account, so
# that a purge deletes only accounts it made and never a shared one that
# existed before (nobody, adm, ...).
note_created() {
	if run_tool install -d -m 0755 {{q .RecordDir}} && printf '%s %s\n' "$1" "$2" >>{{q .Accounts}}; then
		return 0
	fi
	warn "could not note in {{.Accounts}} that the $1 $2 was created; a purge will keep it"
}
`,
	"ensure_accounts": `# ensure_accounts: creates the service's system group and user when missing.
# shadow's groupadd/useradd where present (Debian, Fedora, Arch, SUSE),
# busybox's addgroup/adduser otherwise (Alpine). Failing is fatal: the
# service cannot run without them.
ensure_accounts() {
{{- if .CreateGroup}}
	if ! group_exists {{q .Group}}; then
		if command -v groupadd >/dev/null 2>&1; then
			run_tool groupadd --system {{q .Group}} || die "could not create the system group {{.Group}}"
		elif command -v addgroup >/dev/null 2>&1; then
			run_tool addgroup -S {{q .Group}} || die "could not create the system group {{.Group}}"
		else
			die "cannot create the system group {{.Group}}: neither groupadd nor addgroup is installed"
		fi
		note_created group {{q .Group}}
		say "created the system group {{.Group}}"
	fi
{{- end}}
{{- if .CreateUser}}
	if ! user_exists {{q .User}}; then
		shell=$(nologin_shell)
		if command -v useradd >/dev/null 2>&1; then
			run_tool useradd --system --no-create-home --home-dir {{q .StateDir}} --shell "$shell" -g {{q .Group}} {{q .User}} ||
				die "could not create the system user {{.User}}"
		elif command -v adduser >/dev/null 2>&1; then
			run_tool adduser -S -D -H -h {{q .StateDir}} -s "$shell" -G {{q .Group}} {{q .User}} ||
				die "could not create the system user {{.User}}"
		else
			die "cannot create the system user {{.User}}: neither useradd nor adduser is installed"
		fi
		note_created user {{q .User}}
		say "created the system user {{.User}}"
	fi
{{- end}}
	return 0
}
`,
	"remove_accounts": `# remove_accounts: deletes the user and group this package created (as noted
# by note_created), never accounts that existed before it.
remove_accounts() {
	if [ ! -f {{q .Accounts}} ]; then
		return 0
	fi
{{- if .CreateUser}}
	if grep -qxF 'user {{.User}}' {{q .Accounts}} && user_exists {{q .User}}; then
		if command -v userdel >/dev/null 2>&1; then
			run_tool userdel {{q .User}} || warn "could not delete the system user {{.User}}"
		elif command -v deluser >/dev/null 2>&1; then
			run_tool deluser {{q .User}} || warn "could not delete the system user {{.User}}"
		else
			warn "cannot delete the system user {{.User}}: neither userdel nor deluser is installed"
		fi
	fi
{{- end}}
{{- if .CreateGroup}}
	# userdel and deluser may have deleted the user's group already.
	if grep -qxF 'group {{.Group}}' {{q .Accounts}} && group_exists {{q .Group}}; then
		if command -v groupdel >/dev/null 2>&1; then
			run_tool groupdel {{q .Group}} || warn "could not delete the system group {{.Group}}"
		elif command -v delgroup >/dev/null 2>&1; then
			run_tool delgroup {{q .Group}} || warn "could not delete the system group {{.Group}}"
		else
			warn "cannot delete the system group {{.Group}}: neither groupdel nor delgroup is installed"
		fi
	fi
{{- end}}
	rm -f {{q .Accounts}}
	rmdir {{q .RecordDir}} 2>/dev/null || :
}
`,
	"in_chroot": `# in_chroot: true when / is not PID 1's root (a chroot or an image build),
# where no init system may be driven even if its runtime directories are
# visible. Without /proc this cannot be told and is taken as false.
in_chroot() {
	root_id=$(stat -c %d:%i / 2>/dev/null) || return 1
	pid1_root_id=$(stat -c %d:%i /proc/1/root/. 2>/dev/null) || return 1
	[ "$root_id" != "$pid1_root_id" ]
}
`,
	"init_online": `# init_online INIT: true when INIT runs here, so services can be started and
# stopped through it.
init_online() {
	! in_chroot && init_running "$1"
}
`,
	"read_record": `# read_record: sets old_init to the init system the record names, or to
# nothing when the service is not set up with any.
read_record() {
	old_init=
	if [ -f {{q .Record}} ]; then
		IFS= read -r old_init <{{q .Record}} || :
	fi
}
`,
	"record_parents": `# record_parents PATH: adds to the new record, outermost first and with a
# trailing /, the directories of PATH that are ours: those installing PATH is
# about to create, and those the current record lists (an earlier install
# created them), so that removal deletes them too.
record_parents() {
	parents=
	dir=${1%/*}
	while [ -n "$dir" ]; do
		if grep -qxF -e "$dir/" {{q .RecordNew}}; then
			break
		fi
		if [ -d "$dir" ] && ! grep -qxF -e "$dir/" {{q .Record}} 2>/dev/null; then
			break
		fi
		parents="$dir/
$parents"
		dir=${dir%/*}
	done
	printf '%s' "$parents" >>{{q .RecordNew}}
}
`,
	"install_file": `# install_file MODE STAGED TARGET: installs one init file from the package's
# stage and adds it to the new record.
install_file() {
	if [ ! -f "$2" ]; then
		say "error: $2 is missing; the package is incomplete"
		return 1
	fi
	record_parents "$3" &&
		run_tool install -D -m "$1" "$2" "$3" &&
		printf '%s\n' "$3" >>{{q .RecordNew}}
}
`,
	"remove_recorded": `# remove_recorded RECORD: deletes the files RECORD lists, then the directories
# it lists (those ending in /), deepest first, as far as they are empty.
remove_recorded() {
	sed 1d "$1" | while IFS= read -r path; do
		case "$path" in
		*/) ;;
		/*)
			run_tool rm -f "$path" || warn "could not delete $path"
			;;
		esac
	done
	sed 1d "$1" | grep '^/.*/$' | sort -r | while IFS= read -r path; do
		rmdir "$path" 2>/dev/null || :
	done
}
`,
	"prune_stale": `# prune_stale OLD NEW: deletes what record OLD lists and record NEW does not
# (files an upgrade no longer installs). OLD's directories that are still
# in use stay ours: they are added to NEW.
prune_stale() {
	sed 1d "$1" | while IFS= read -r path; do
		case "$path" in
		*/) ;;
		/*)
			grep -qxF -e "$path" "$2" || run_tool rm -f "$path" || warn "could not delete $path"
			;;
		esac
	done
	sed 1d "$1" | grep '^/.*/$' | sort -r | while IFS= read -r path; do
		if ! grep -qxF -e "$path" "$2"; then
			rmdir "$path" 2>/dev/null || :
			if [ -d "$path" ]; then
				printf '%s\n' "$path" >>"$2"
			fi
		fi
	done
}
`,
	"stop_recorded": `# stop_recorded: stops the service through the init system the record
# names, where that init runs. Failures only warn.
stop_recorded() {
	read_record
	if [ -n "$old_init" ] && init_known "$old_init" && init_online "$old_init"; then
		init_stop "$old_init" || warn "could not stop the service through $old_init"
	fi
	return 0
}
`,
	"unintegrate": `# unintegrate: stops and disables the service through the init system the
# record names, deletes every path the record lists, then the record, and
# has the init re-read its definitions. Failures only warn: a removal that
# cannot finish is worse than a leftover file.
unintegrate() {
	read_record
	if [ -z "$old_init" ]; then
		return 0
	fi
	if init_known "$old_init"; then
		if init_online "$old_init"; then
			init_stop "$old_init" || warn "could not stop the service through $old_init"
		fi
		init_disable "$old_init" || warn "could not disable the service in $old_init"
	else
		warn "the service was set up for $old_init, which this package cannot drive; deleting its files without stopping it"
	fi
	remove_recorded {{q .Record}}
	run_tool rm -f {{q .Record}} || warn "could not delete {{.Record}}"
	rmdir {{q .RecordDir}} 2>/dev/null || :
	if init_known "$old_init" && init_online "$old_init"; then
		init_reload "$old_init" || warn "$old_init could not re-read its service definitions"
	fi
	say "removed the service from $old_init"
}
`,
	"ensure_state_dir": `# ensure_state_dir: creates the state directory, mode 0750, owned by the
# service's account. An existing one gets its owner back, never its mode:
# that is the admin's.
ensure_state_dir() {
	if [ -d {{q .StateDir}} ]; then
		run_tool chown {{q (print .User ":" .Group)}} {{q .StateDir}} ||
			die "could not give {{.StateDir}} to {{.User}}:{{.Group}}"
	else
		run_tool install -d -m 0750 -o {{q .User}} -g {{q .Group}} {{q .StateDir}} ||
			die "could not create {{.StateDir}}"
	fi
}
`,
	"own_config": `# own_config: gives the config directory and the config files the package
# ships to group {{.Group}} while they are owned by root:root, which is how the
# package manager writes them (on install, and on upgrade when it replaces
# an unmodified config), so the service can read a 0640 config. Owners the
# admin set are kept and modes are never changed.
own_config() {
{{- if .CreateGroup}}
{{- range .ConfigPaths}}
	own_config_path {{q .}}
{{- end}}
{{- end}}
	return 0
}
`,
	"own_config_path": `# own_config_path PATH: see own_config.
own_config_path() {
	if [ -e "$1" ] && [ "$(stat -c %u:%g "$1")" = 0:0 ]; then
		run_tool chown -h {{q (print "root:" .Group)}} "$1" || die "could not give $1 to group {{.Group}}"
	fi
}
`,
	"integrate": `# integrate: installs the service files of the init system in use and
# enables the service; then, where that init runs, starts the service, or
# restarts it when it was already set up with the same init (an upgrade).
# An upgrade that finds another init than the record names removes the old
# integration first.
integrate() {
	read_record
	detect_init
	if [ -z "$init" ]; then
		say "no init system detected; the service files are left in {{.Stage}} and nothing was enabled"
		return 0
	fi
	if [ -n "$old_init" ] && [ "$old_init" != "$init" ]; then
		say "switching the service from $old_init to $init"
		unintegrate
		old_init=
	fi
	run_tool install -d -m 0755 {{q .RecordDir}} || die "could not create {{.RecordDir}}"
	printf '%s\n' "$init" >{{q .RecordNew}} || die "could not write {{.RecordNew}}"
	init_files "$init" || die "could not install the $init service files"
	if [ -n "$old_init" ]; then
		prune_stale {{q .Record}} {{q .RecordNew}}
	fi
	run_tool mv -f {{q .RecordNew}} {{q .Record}} || die "could not write {{.Record}}"
	hint=$(init_status_hint "$init")
	if [ "$online" != yes ]; then
		if init_enable "$init"; then
			say "no init system is running; installed $init files and enabled the service; it will start on next boot"
		else
			warn "no init system is running; installed $init files but could not enable the service; check it with: $hint"
		fi
		return 0
	fi
	init_reload "$init" || warn "$init could not re-read its service definitions"
	init_enable "$init" || warn "could not enable the service in $init; check it with: $hint"
	# The init still starts the service when the check fails, so that it
	# records why it would not run (systemd's failed assertion).
	init_start_check "$init"
	check_status=$?
	if [ "$old_init" = "$init" ]; then
		started=restarted
		init_restart "$init"
	else
		started=started
		init_start "$init"
	fi
	start_status=$?
	if [ "$start_status" -ne 0 ] || [ "$check_status" -ne 0 ]; then
		warn "the service failed to ${started%ed}; the package is installed anyway; check it with: $hint"
		show_log "$init"
	elif watch_start "$init"; then
		say "$started the service ($init)"
	else
		warn "the service $started, but $watch_why; the package is installed anyway; check it with: $hint"
		say_lines "$watch_out"
		show_log "$init"
	fi
	return 0
}
`,
	"watch_start": `# watch_start INIT: true when the service still runs, the same process,
# {{.StartCheckSeconds}} s after its start or restart{{if .HealthCommand}}, and its health command
# then passes{{end}}; otherwise sets watch_why, and watch_out to what a failed
# health command printed. It looks every second and
# must see the service up at the end: a unit systemd restarts is
# "activating", a daemon supervise-daemon or runsv respawns has a new pid.
watch_start() {
	watch_why=
	watch_out=
{{- if .StartCheckSeconds}}
	ws_i=0
	ws_pid=
	while :; do
		if ! init_status "$1"; then
			watch_why="it is not running $ws_i s later"
			return 1
		fi
		ws_now=$(init_pid "$1")
		case $? in
		0)
			if [ -z "$ws_pid" ]; then
				ws_pid=$ws_now
			elif [ "$ws_now" != "$ws_pid" ]; then
				watch_why="it was restarted within $ws_i s (pid $ws_pid, then $ws_now)"
				return 1
			fi
			;;
		1)
			watch_why="no process of it is alive $ws_i s later"
			return 1
			;;
		esac
		[ "$ws_i" -lt {{.StartCheckSeconds}} ] || break
		sleep 1
		ws_i=$((ws_i + 1))
	done
{{- end}}
{{- if .HealthCommand}}
	# A probe that hangs must not hold the package manager forever.
	ws_timeout=
	if command -v timeout >/dev/null 2>&1; then
		ws_timeout="timeout {{.HealthTimeout}}"
	fi
	# The words are the vendor's literally: none expands.
	# shellcheck disable=SC2016
	ws_out=$($ws_timeout {{.HealthCommand}} 2>&1 </dev/null)
	ws_status=$?
	if [ "$ws_status" -ne 0 ]; then
		# shellcheck disable=SC2016
		ws_cmd={{q .HealthText}}
		watch_why="its health command ($ws_cmd) exited with status $ws_status"
		watch_out=$ws_out
		return 1
	fi
{{- end}}
	return 0
}
`,
	"show_log": `# show_log INIT: says the service's last log lines, from the log INIT keeps,
# else from the system log.
show_log() {
	if sl_lines=$(init_log "$1") && [ -n "$sl_lines" ]; then
		say "last log lines ($1):"
	elif sl_lines=$({{.SyslogTail}}) && [ -n "$sl_lines" ]; then
		say "last log lines (system log):"
	else
		say "no log lines of the service were found"
		return 0
	fi
	say_lines "$sl_lines"
}
`,
	"configure_service": `# configure_service: everything after the package's files are in place, on
# install and upgrade alike.
configure_service() {
	ensure_accounts
	ensure_state_dir
	ensure_dirs
	own_config
	integrate
}
`,
	"note_purge": `# note_purge KIND PATH: remembers in {{.PurgeList}} that this package created
# PATH, so that every purge deletes it: a tree with its contents, an empty
# directory when empty, a file with the copies package managers keep.
note_purge() {
	if [ -f {{q .PurgeList}} ] && grep -qxF "$1 $2" {{q .PurgeList}}; then
		return 0
	fi
	if run_tool install -d -m 0755 {{q .RecordDir}} && printf '%s %s\n' "$1" "$2" >>{{q .PurgeList}}; then
		return 0
	fi
	warn "could not note in {{.PurgeList}} that $2 was created; a purge will keep it"
}
`,
	"ensure_dir": `# ensure_dir PATH OWNER GROUP MODE KIND: creates a declared directory and the
# parents it lacks (noted as empty), or gives an existing one its owner
# back, never its mode: that is the admin's.
ensure_dir() {
	if [ -d "$1" ]; then
		run_tool chown "$2:$3" "$1" || die "could not give $1 to $2:$3"
	else
		ed_parent=${1%/*}
		ed_missing=
		while [ -n "$ed_parent" ] && [ ! -d "$ed_parent" ]; do
			ed_missing="$ed_parent $ed_missing"
			ed_parent=${ed_parent%/*}
		done
		for ed_p in $ed_missing; do
			run_tool install -d -m 0755 "$ed_p" || die "could not create $ed_p"
			note_purge empty "$ed_p"
		done
		run_tool install -d -m "$4" -o "$2" -g "$3" "$1" || die "could not create $1"
	fi
	note_purge "$5" "$1"
}
`,
	"ensure_dirs": `# ensure_dirs: creates the directories omnipack.toml declares in its dirs, and
# notes the environment file for purge.
ensure_dirs() {
{{- range .Dirs}}
	ensure_dir {{q .Path}} {{q .Owner}} {{q .Group}} {{.Mode}} {{if .Purge}}tree{{else}}empty{{end}}
{{- end}}
{{- if .EnvironmentFile}}
	note_purge file {{q .EnvironmentFile}}
{{- end}}
	:
}
`,
	"remove_created": `# remove_created: deletes what this package created as noted by note_purge,
# the last created first: a tree with its contents, another directory only
# when empty, a file with its kept copies. A path without a component named
# {{.Name}} is never deleted with its contents, nor as a file.
remove_created() {
	if [ ! -f {{q .PurgeList}} ]; then
		return 0
	fi
	rc_lines=$(sed -n '1!G;h;$p' {{q .PurgeList}})
	printf '%s\n' "$rc_lines" | while read -r rc_kind rc_path; do
		case $rc_path in
		/[!/]*) ;;
		*) continue ;;
		esac
		case $rc_kind/$rc_path in
		tree/*/{{.Name}}/* | tree/*/{{.Name}}) run_tool rm -rf "$rc_path" || warn "could not delete $rc_path" ;;
		file/*/{{.Name}}/* | file/*/{{.Name}})
			for rc_f in "$rc_path"{{range .KeptCopies}} "$rc_path{{.}}"{{end}}; do
				[ ! -e "$rc_f" ] || run_tool rm -f "$rc_f" || warn "could not delete $rc_f"
			done
			;;
		empty/*) [ ! -d "$rc_path" ] || rmdir "$rc_path" 2>/dev/null || say "kept $rc_path: it is not empty" ;;
		esac
	done
	run_tool rm -f {{q .PurgeList}} || warn "could not delete {{.PurgeList}}"
}
`,
	"purge": `# purge: deletes what a removal keeps: the config, the state, the logs, the
# directories and the accounts this package created.
purge() {
	# A removal that failed half way may have left the service set up.
	unintegrate
	run_tool rm -rf {{q .ConfigDir}} || warn "could not delete {{.ConfigDir}}"
	run_tool rm -rf {{q .StateDir}} || warn "could not delete {{.StateDir}}"
	run_tool rm -rf {{q .LogDir}} || warn "could not delete {{.LogDir}}"
	remove_created
	remove_accounts
	say "purged {{.ConfigDir}}, {{.StateDir}} and {{.LogDir}}{{if or .CreateUser .CreateGroup}}, and the accounts this package created{{end}}"
}
`,
}

// Main functions.
const (
	plainAccountsMain = `main() {
	ensure_accounts
	return 0
}
`
	plainConfigureMain = `main() {
	configure_service
	return 0
}
`
	plainRemoveMain = `main() {
	unintegrate
	return 0
}
`
	debPreinstMain = `main() {
	case "$1" in
	install | upgrade)
		ensure_accounts
		;;
	esac
	return 0
}
`
	debPostinstMain = `main() {
	case "$1" in
	configure | abort-remove)
		configure_service
		;;
	esac
	return 0
}
`
	debPrermMain = `main() {
	case "$1" in
	remove)
		stop_recorded
		;;
	esac
	return 0
}
`
	debPostrmMain = `main() {
	case "$1" in
	remove)
		unintegrate
		;;
	purge)
		purge
		;;
	esac
	return 0
}
`
	rpmPreunMain = `main() {
	if [ "${1:-}" = 0 ]; then
		unintegrate
	fi
	return 0
}
`
)

// When each script runs and what it is given.
const (
	debPreinstDoc = `
dpkg runs it before unpacking, as: install [OLD-VERSION] | upgrade OLD-VERSION
| abort-upgrade NEW-VERSION. It creates the service's accounts on install
and upgrade, before dpkg unpacks files that may belong to them.`
	debPostinstDoc = `
dpkg runs it after unpacking, as: configure [LAST-CONFIGURED-VERSION] |
abort-upgrade NEW-VERSION | abort-remove | abort-deconfigure ... | triggered.
On configure (install, upgrade, reinstall) it sets the service up. On
abort-remove, after a prerm remove failed, it sets the service up again.
abort-upgrade and abort-deconfigure need nothing: prerm changed nothing.
dpkg itself handles the conffiles (keeps the admin's edits, asks on
conflicts, deletes them on purge).`
	debPrermDoc = `
dpkg runs it before removing files, as: remove | upgrade NEW-VERSION |
deconfigure in-favour ... | failed-upgrade OLD-VERSION. Only remove takes
the service down, and only by stopping it: postrm disables it and deletes
its files. On upgrade the new version's postinst restarts it.`
	debPostrmDoc = `
dpkg runs it after removing files, as: remove | purge | upgrade NEW-VERSION
| failed-upgrade OLD-VERSION | abort-install [OLD-VERSION] | abort-upgrade
OLD-VERSION | disappear .... remove disables the service (prerm stopped it)
and deletes the files the record lists. purge also deletes the config
directory, the state directory and the accounts this package created. It
must not rely on the package's files: they are gone by now.`
	rpmPreDoc = `
rpm runs it as %pre before unpacking, with $1 the number of versions
installed afterwards: 1 on install, 2 on upgrade. It creates the service's
accounts either way, before rpm unpacks files that may belong to them.`
	rpmPostDoc = `
rpm runs it as %post after unpacking, with $1 = 1 on install and 2 on
upgrade; on upgrade it runs before the old version's %preun and %postun.
It sets the service up (restarting it when the record shows it was set up
before).`
	rpmPreunDoc = `
rpm runs it as %preun before erasing files, with $1 the number of versions
left afterwards: 0 on erase, 1 when an upgrade erases the old version after
the new version's %post ran. Only $1 = 0 takes the service down. There is
no %postun: rpm has no purge, so the config stays (modified files are kept
as .rpmsave) and so do the service's accounts, which files the admin kept
may still belong to.`
	apkPreInstallDoc = `
apk runs it as .pre-install NEW-VERSION before unpacking a new install. It
creates the service's accounts.`
	apkPreUpgradeDoc = `
apk runs it as .pre-upgrade NEW-VERSION OLD-VERSION before unpacking an
upgrade. It creates the service's accounts if they went missing.`
	apkPostInstallDoc = `
apk runs it as .post-install NEW-VERSION after unpacking a new install. It
sets the service up.`
	apkPostUpgradeDoc = `
apk runs it as .post-upgrade NEW-VERSION OLD-VERSION after unpacking an
upgrade (the old version's deinstall scripts do not run). It sets the
service up and restarts it.`
	apkPreDeinstallDoc = `
apk runs it as .pre-deinstall OLD-VERSION before deleting files, on removal
only. It takes the service down. There is no .post-deinstall: apk has no
purge, so the config stays (apk keeps modified config files) and so do the
service's accounts, which files the admin kept may still belong to.`
	archPreInstallDoc = `
The body of pre_install in .INSTALL: pacman calls pre_install NEW-VERSION
before unpacking a new install. It creates the service's accounts.`
	archPreUpgradeDoc = `
The body of pre_upgrade in .INSTALL: pacman calls pre_upgrade NEW-VERSION
OLD-VERSION before unpacking an upgrade. It creates the service's accounts
if they went missing.`
	archPostInstallDoc = `
The body of post_install in .INSTALL: pacman calls post_install NEW-VERSION
after unpacking a new install. It sets the service up.`
	archPostUpgradeDoc = `
The body of post_upgrade in .INSTALL: pacman calls post_upgrade NEW-VERSION
OLD-VERSION after unpacking an upgrade (the old version's remove functions
do not run). It sets the service up and restarts it.`
	archPreRemoveDoc = `
The body of pre_remove in .INSTALL: pacman calls pre_remove OLD-VERSION
before deleting files, on removal only. It takes the service down. There is
no post_remove: pacman has no purge, so the config stays (modified files
are kept as .pacsave) and so do the service's accounts, which files the
admin kept may still belong to.`
)
