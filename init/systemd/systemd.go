package systemd

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	initsys "github.com/omnipack/omnipack/init"
)

// Init renders a unit with the sandbox of the service's profile. Every
// unit is meant to pass `systemd-analyze verify` and to score low in
// `systemd-analyze security`; the tests hold it to that.
type Init struct{}

func (Init) Name() string    { return "systemd" }
func (Init) Precedence() int { return 10 }

// ManagesCgroups: every unit runs in a cgroup of its own.
func (Init) ManagesCgroups() bool { return true }

// Running: systemd creates /run/systemd/system at boot (sd_booted(3)).
func (Init) Running() bool {
	fi, err := os.Stat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

func systemdUnitPath(name string) string { return "/usr/lib/systemd/system/" + name + ".service" }

// capNeed is what a capability is asked for, so that the sandbox does not
// take away exactly that: granting CAP_SYSLOG and then hiding the kernel log
// with ProtectKernelLogs= would be pointless.
type capNeed struct {
	kernelLogs bool     // omit ProtectKernelLogs=
	clock      bool     // omit ProtectClock=
	modules    bool     // omit ProtectKernelModules=
	devices    bool     // omit PrivateDevices=
	realtime   bool     // omit RestrictRealtime=
	readHome   bool     // ProtectHome=read-only rather than yes
	syscalls   []string // allowed again after the deny list
	families   []string // address families beyond the profile's
	bind       []string // device nodes made visible read-only
}

var capNeeds = map[string]capNeed{
	"CAP_SYSLOG":          {kernelLogs: true, syscalls: []string{"syslog"}, bind: []string{"/dev/kmsg"}},
	"CAP_SYS_TIME":        {clock: true, syscalls: []string{"@clock"}},
	"CAP_SYS_MODULE":      {modules: true, syscalls: []string{"@module"}},
	"CAP_SYS_RAWIO":       {devices: true, syscalls: []string{"@raw-io"}},
	"CAP_SYS_PTRACE":      {syscalls: []string{"ptrace"}},
	"CAP_SYS_RESOURCE":    {syscalls: []string{"@resources"}},
	"CAP_SYS_NICE":        {realtime: true, syscalls: []string{"@resources"}},
	"CAP_SETUID":          {syscalls: []string{"@setuid"}},
	"CAP_SETGID":          {syscalls: []string{"@setuid"}},
	"CAP_SYS_CHROOT":      {syscalls: []string{"chroot"}},
	"CAP_NET_ADMIN":       {families: []string{"AF_NETLINK", "AF_PACKET"}},
	"CAP_NET_RAW":         {families: []string{"AF_PACKET"}},
	"CAP_DAC_READ_SEARCH": {readHome: true},
	"CAP_DAC_OVERRIDE":    {readHome: true},
}

// Render writes one unit. The sandbox per profile:
//
//   - default: the filesystem is read-only (ProtectSystem=strict) except the
//     StateDirectory, /home, /root and /run/user are hidden, /tmp and /dev
//     are private, kernel tunables, modules, logs, clock, hostname and
//     cgroups are protected, other users' processes are invisible, syscalls
//     are limited to @system-service minus @privileged and @resources, and
//     sockets to AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK. Left out, because
//     they break ordinary agents: PrivateUsers= (hides supplementary groups
//     such as adm, which log readers rely on), ProcSubset=pid (hides
//     /proc/meminfo, /proc/stat and friends), PrivateNetwork= and
//     IPAddressDeny= (agents talk to the network).
//   - strict: default plus PrivateUsers= (unless capabilities are declared:
//     inside a user namespace they would be worthless), ProcSubset=pid, no
//     AF_NETLINK, and IP traffic only to localhost (IPAddressDeny=any,
//     IPAddressAllow=localhost), for daemons that report to a local
//     collector. (systemd's own strict profile cuts the network entirely;
//     without localhost no agent could deliver anything, and nonetwork
//     exists for that.)
//   - nonetwork: default plus PrivateNetwork=yes, IPAddressDeny=any and
//     AF_UNIX only.
//   - trusted: only PrivateTmp=; no bounding set, no syscall filter, no
//     no_new_privs. The declared capabilities are still granted.
//
// The declared capabilities form the bounding set (empty when none), and are
// made ambient for a non-root user; see capNeeds for what each one re-opens.
func (Init) Render(s initsys.Service) ([]initsys.File, error) {
	s, err := initsys.Prepare(s)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	b.WriteString(initsys.Header(s))
	line("[Unit]")
	line("Description=%s", systemdEscape(s.Description))
	if s.AfterNetwork {
		line("Wants=network-online.target")
		line("After=network-online.target")
	}
	for _, c := range s.RequiredCapabilities {
		// Checked against the service manager's bounding set: a
		// capability it lacks could not reach the service. Unlike the
		// others, which systemd quietly leaves out, this one fails the
		// start.
		line("AssertCapability=%s", c)
	}
	line("")
	line("[Service]")
	line("Type=exec")
	line("ExecStart=%s", systemdCommand(s))
	if s.ReloadSignal != "" {
		line("ExecReload=/bin/kill -s %s $MAINPID", s.ReloadSignal)
	}
	if !initsys.IsRoot(s) {
		line("User=%s", s.User)
		line("Group=%s", s.Group)
	}
	for _, k := range s.EnvKeys() {
		line("Environment=%s", systemdQuote(k+"="+s.Environment[k], false))
	}
	if s.EnvironmentFile != "" {
		// Read after Environment=, so what the host sets there wins;
		// "-": a deleted file is no error.
		line("EnvironmentFile=-%s", s.EnvironmentFile)
	}
	if s.WorkingDir != "/" {
		line("WorkingDirectory=%s", systemdEscape(s.WorkingDir))
	}
	if rel, ok := strings.CutPrefix(s.StateDir, "/var/lib/"); ok && rel != "" {
		// systemd creates it, chowns it to User= and makes it writable
		// under ProtectSystem=strict.
		line("StateDirectory=%s", systemdQuote(rel, false))
		line("StateDirectoryMode=0750")
	} else if s.StateDir != "" {
		line("ReadWritePaths=%s", systemdQuote(s.StateDir, false))
	}
	writeDirs(line, s)
	if rel, ok := strings.CutPrefix(s.ConfigDir, "/etc/"); ok && rel != "" {
		// Read-only for the daemon; the unit only makes sure it exists and
		// exports $CONFIGURATION_DIRECTORY.
		line("ConfigurationDirectory=%s", systemdQuote(rel, false))
	}
	line("Restart=%s", map[string]string{initsys.RestartAlways: "always", initsys.RestartOnFailure: "on-failure", initsys.RestartNever: "no"}[s.Restart])
	if s.RestartSec > 0 {
		line("RestartSec=%d", s.RestartSec)
	}
	line("TimeoutStopSec=%d", s.StopTimeout)
	if l := s.Limits; !l.IsZero() {
		line("")
		line("# Resource limits.")
		if l.OpenFiles > 0 {
			// One number sets the soft and the hard limit.
			line("LimitNOFILE=%d", l.OpenFiles)
		}
		if l.MemoryMax > 0 {
			line("MemoryMax=%d", l.MemoryMax)
		}
		if l.CPUWeight > 0 {
			line("CPUWeight=%d", l.CPUWeight)
		}
		if l.Nice != nil {
			line("Nice=%d", *l.Nice)
		}
	}
	writeSandbox(&b, s)
	line("")
	line("[Install]")
	line("WantedBy=multi-user.target")
	return []initsys.File{{Target: systemdUnitPath(s.Name), Mode: 0o644, Body: []byte(b.String())}}, nil
}

// writeSandbox writes the capability and hardening settings of s.Profile.
func writeSandbox(b *strings.Builder, s initsys.Service) {
	line := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	caps := strings.Join(s.Capabilities, " ")

	line("")
	line("# Sandbox for profile %q.", s.Profile)
	if s.Profile == initsys.ProfileTrusted {
		if len(s.Capabilities) > 0 && !initsys.IsRoot(s) {
			line("AmbientCapabilities=%s", caps)
		}
		line("PrivateTmp=yes")
		return
	}

	var need capNeed
	for _, c := range s.Capabilities {
		n := capNeeds[c]
		need.kernelLogs = need.kernelLogs || n.kernelLogs
		need.clock = need.clock || n.clock
		need.modules = need.modules || n.modules
		need.devices = need.devices || n.devices
		need.realtime = need.realtime || n.realtime
		need.readHome = need.readHome || n.readHome
		need.syscalls = append(need.syscalls, n.syscalls...)
		need.families = append(need.families, n.families...)
		need.bind = append(need.bind, n.bind...)
	}
	yes := func(setting string, keep bool) {
		if !keep {
			line("%s=yes", setting)
		}
	}

	line("CapabilityBoundingSet=%s", caps)
	if len(s.Capabilities) > 0 && !initsys.IsRoot(s) {
		line("AmbientCapabilities=%s", caps)
	}
	line("NoNewPrivileges=yes")
	line("ProtectSystem=strict")
	if need.readHome {
		line("ProtectHome=read-only")
	} else {
		line("ProtectHome=yes")
	}
	line("PrivateTmp=yes")
	yes("PrivateDevices", need.devices)
	line("DevicePolicy=closed")
	for _, dev := range need.bind {
		// "-" tolerates a missing node, as in containers.
		line("DeviceAllow=%s r", dev)
		line("BindReadOnlyPaths=-%s", dev)
	}
	line("PrivateMounts=yes")
	if s.Profile == initsys.ProfileStrict && len(s.Capabilities) == 0 {
		line("PrivateUsers=yes")
	}
	line("ProtectKernelTunables=yes")
	yes("ProtectKernelModules", need.modules)
	yes("ProtectKernelLogs", need.kernelLogs)
	line("ProtectControlGroups=yes")
	yes("ProtectClock", need.clock)
	line("ProtectHostname=yes")
	line("ProtectProc=invisible")
	if s.Profile == initsys.ProfileStrict {
		line("ProcSubset=pid")
	}
	line("RestrictNamespaces=yes")
	yes("RestrictRealtime", need.realtime)
	line("RestrictSUIDSGID=yes")
	line("LockPersonality=yes")
	line("MemoryDenyWriteExecute=yes")
	line("RemoveIPC=yes")
	line("UMask=0077")
	line("SystemCallArchitectures=native")
	line("SystemCallFilter=@system-service")
	line("SystemCallFilter=~@privileged @resources")
	if len(need.syscalls) > 0 {
		slices.Sort(need.syscalls)
		line("SystemCallFilter=%s", strings.Join(slices.Compact(need.syscalls), " "))
	}
	line("SystemCallErrorNumber=EPERM")

	var families []string
	switch s.Profile {
	case initsys.ProfileNoNetwork:
		families = []string{"AF_UNIX"}
	case initsys.ProfileStrict:
		families = []string{"AF_UNIX", "AF_INET", "AF_INET6"}
	default:
		families = []string{"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}
	}
	if s.Profile != initsys.ProfileNoNetwork {
		for _, f := range need.families {
			if !slices.Contains(families, f) {
				families = append(families, f)
			}
		}
	}
	line("RestrictAddressFamilies=%s", strings.Join(families, " "))
	switch s.Profile {
	case initsys.ProfileNoNetwork:
		line("PrivateNetwork=yes")
		line("IPAddressDeny=any")
	case initsys.ProfileStrict:
		line("IPAddressDeny=any")
		line("IPAddressAllow=localhost")
	}
}

// systemdEscape escapes specifiers in a setting that takes the rest of the
// line verbatim (Description=, paths).
func systemdEscape(s string) string { return strings.ReplaceAll(s, "%", "%%") }

var systemdSafe = regexp.MustCompile(`^[A-Za-z0-9_@%$+=:,./-]+$`)

// systemdQuote quotes one word for ExecStart= or Environment=. Both undo C
// escapes inside double quotes and expand % specifiers; only command lines
// expand $VAR, so exec doubles the dollar signs there.
func systemdQuote(w string, exec bool) string {
	r := []string{`\`, `\\`, `"`, `\"`, `%`, `%%`}
	if exec {
		r = append(r, `$`, `$$`)
	}
	esc := strings.NewReplacer(r...).Replace(w)
	if systemdSafe.MatchString(w) {
		return esc
	}
	return `"` + esc + `"`
}

// systemdCommand renders an ExecStart= command line. An argument that
// expands (initsys.Service.ArgVar) is left for systemd to expand: $NAME
// split at blanks, ${NAME} as one word; every other "$" is literal.
func systemdCommand(s initsys.Service) string {
	words := []string{systemdQuote(s.Exec, true)}
	for _, a := range s.Args {
		if name, split, ok := s.ArgVar(a); ok {
			if split {
				words = append(words, "$"+name)
			} else {
				words = append(words, "${"+name+"}")
			}
			continue
		}
		if a == ";" {
			// A lone ";" separates commands; "\;" is the literal.
			words = append(words, `\;`)
			continue
		}
		words = append(words, systemdQuote(a, true))
	}
	return strings.Join(words, " ")
}

// Shell drives systemctl. `systemctl enable` only creates symlinks, so it
// works in a chroot without a running systemd.
func (Init) Shell(s initsys.Service) initsys.Shell {
	unit := initsys.ShQuote(s.Name + ".service")
	// systemd leaves out the capabilities its bounding set lacks without a
	// word, and fails AssertCapability= with little more: the check says
	// which in the installer's output.
	check := initsys.CapsCheckLine(s)
	if check != "" {
		check += "; [ -z \"$" + initsys.CapsMissing + "\" ]"
	}
	return initsys.Shell{
		Running:    `[ -d /run/systemd/system ]`,
		Installed:  `{ [ "$(readlink -f /sbin/init 2>/dev/null)" = /lib/systemd/systemd ] || [ "$(readlink -f /sbin/init 2>/dev/null)" = /usr/lib/systemd/systemd ]; }`,
		Enable:     "systemctl enable " + unit,
		Disable:    "systemctl disable " + unit,
		Start:      "systemctl start " + unit,
		Stop:       "systemctl stop " + unit,
		Restart:    "systemctl restart " + unit,
		StartCheck: check,
		// Only "active": a unit waiting to be restarted is "activating".
		Status:     "systemctl is-active --quiet " + unit + " 2>/dev/null",
		PID:        `omnipack_pid=$(systemctl show -p MainPID --value ` + unit + `) && [ "${omnipack_pid:-0}" != 0 ] && echo "$omnipack_pid"`,
		StatusHint: "systemctl status " + unit,
		Reload:     "systemctl daemon-reload",
		Log:        fmt.Sprintf("journalctl -u %s -n %d --no-pager", unit, initsys.LogLines),
	}
}

// systemdDirectives name, by directory kind, the directive with which
// systemd creates a directory of that tree owned by User= and Group=, and
// keeps it writable under ProtectSystem=strict.
var systemdDirectives = map[string]string{
	initsys.DirState: "StateDirectory", initsys.DirCache: "CacheDirectory",
	initsys.DirLogs: "LogsDirectory", initsys.DirRuntime: "RuntimeDirectory",
}

// writeDirs maps the declared directories to systemd's directives where
// systemd can create them as declared: of a managed tree, owned by the
// service's account, with the one mode the kind's Mode= directive gives
// (the state directory's 0750 for state). The others are created by the
// package's scripts and made writable with ReadWritePaths=.
func writeDirs(line func(string, ...any), s initsys.Service) {
	modes := map[string]uint32{}
	if strings.HasPrefix(s.StateDir, "/var/lib/") {
		modes[initsys.DirState] = 0o750
	}
	var byKind = map[string][]string{}
	var writable []string
	for _, d := range s.Dirs {
		kind, rel := d.Kind()
		mode, seen := modes[kind]
		if kind == "" || d.Owner != s.User || d.Group != s.Group || (seen && mode != d.Mode) {
			writable = append(writable, d.Path)
			continue
		}
		modes[kind] = d.Mode
		byKind[kind] = append(byKind[kind], rel)
	}
	for _, kind := range []string{initsys.DirState, initsys.DirCache, initsys.DirLogs, initsys.DirRuntime} {
		if len(byKind[kind]) == 0 {
			continue
		}
		directive := systemdDirectives[kind]
		line("%s=%s", directive, strings.Join(byKind[kind], " "))
		if kind != initsys.DirState {
			line("%sMode=%04o", directive, modes[kind])
		}
	}
	for _, p := range writable {
		// "-": no error while the package's scripts have not created it.
		line("ReadWritePaths=-%s", p)
	}
}
