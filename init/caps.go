package initsys

// Capabilities a host's bounding set lacks. Containers often run with a
// reduced capability bounding set (systemd-nspawn drops CAP_SYSLOG, as do
// many Docker and LXC setups), and no process in them can gain what the
// set lacks: setpriv fails outright when asked to. The shell inits
// therefore read the bounding set when they start the service, drop each
// declared capability it lacks with one warning, and refuse to start when a
// required one is missing. The code that does so is generated here, from
// the capability numbers below, so every init says the same.

import (
	"fmt"
	"slices"
	"strings"
)

// capNumbers are the capability numbers of linux/capability.h: bit N of
// CapBnd in /proc/PID/status is capability N.
var capNumbers = map[string]int{
	"CAP_CHOWN":              0,
	"CAP_DAC_OVERRIDE":       1,
	"CAP_DAC_READ_SEARCH":    2,
	"CAP_FOWNER":             3,
	"CAP_FSETID":             4,
	"CAP_KILL":               5,
	"CAP_SETGID":             6,
	"CAP_SETUID":             7,
	"CAP_SETPCAP":            8,
	"CAP_LINUX_IMMUTABLE":    9,
	"CAP_NET_BIND_SERVICE":   10,
	"CAP_NET_BROADCAST":      11,
	"CAP_NET_ADMIN":          12,
	"CAP_NET_RAW":            13,
	"CAP_IPC_LOCK":           14,
	"CAP_IPC_OWNER":          15,
	"CAP_SYS_MODULE":         16,
	"CAP_SYS_RAWIO":          17,
	"CAP_SYS_CHROOT":         18,
	"CAP_SYS_PTRACE":         19,
	"CAP_SYS_PACCT":          20,
	"CAP_SYS_ADMIN":          21,
	"CAP_SYS_BOOT":           22,
	"CAP_SYS_NICE":           23,
	"CAP_SYS_RESOURCE":       24,
	"CAP_SYS_TIME":           25,
	"CAP_SYS_TTY_CONFIG":     26,
	"CAP_MKNOD":              27,
	"CAP_LEASE":              28,
	"CAP_AUDIT_WRITE":        29,
	"CAP_AUDIT_CONTROL":      30,
	"CAP_SETFCAP":            31,
	"CAP_MAC_OVERRIDE":       32,
	"CAP_MAC_ADMIN":          33,
	"CAP_SYSLOG":             34,
	"CAP_WAKE_ALARM":         35,
	"CAP_BLOCK_SUSPEND":      36,
	"CAP_AUDIT_READ":         37,
	"CAP_PERFMON":            38,
	"CAP_BPF":                39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// CapNumber returns the number of a capability named like CAP_SYSLOG.
func CapNumber(name string) (int, bool) {
	n, ok := capNumbers[name]
	return n, ok
}

// CapNames returns every capability name omnipack knows, by number.
func CapNames() []string {
	names := make([]string, 0, len(capNumbers))
	for n := range capNumbers {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return capNumbers[a] - capNumbers[b] })
	return names
}

// IsRequired reports whether the service cannot run without capability c.
func IsRequired(s Service, c string) bool { return slices.Contains(s.RequiredCapabilities, c) }

// Variables the capability check sets, for the code that runs after it.
const (
	// CapsKeep holds the setpriv capability list of the declared
	// capabilities the bounding set holds, such as "-all,+syslog".
	CapsKeep = "caps_keep"
	// CapsIAB holds the same in libcap's IAB text ("^cap_syslog"), as
	// OpenRC's capabilities= takes it; set only when asked for.
	CapsIAB = "caps_iab"
	// CapsMissing lists the required capabilities the bounding set
	// lacks, "CAP_A, CAP_B"; empty when the service may start.
	CapsMissing = "caps_missing"
)

// CapsEmit returns the sh command that prints a message at a level,
// "warning" or "error"; msg is the message as a double-quoted sh word's
// contents (it may expand variables).
type CapsEmit func(level, msg string) string

// StderrEmit prints "NAME: LEVEL: MESSAGE" to stderr, as the maintainer
// scripts do.
func StderrEmit(name string) CapsEmit {
	return func(level, msg string) string {
		return fmt.Sprintf(`echo "%s: %s: %s" >&2`, name, level, msg)
	}
}

// capsCheckLines is the capability check as complete sh commands, one a
// line, so that they can make a function body or be joined with "; " into
// one line. They read CapBnd from status (a /proc/PID/status path), set
// CapsKeep, CapsMissing (and CapsIAB when iab is set), and report through
// emit: an error naming the missing required capabilities, else one warning
// naming the dropped ones. A bounding set that cannot be read is taken to
// hold everything, leaving it to setpriv to fail as it would have.
func capsCheckLines(s Service, status string, iab bool, emit CapsEmit) []string {
	lines := []string{
		`caps_bnd=`,
		fmt.Sprintf(`if [ -r %[1]s ]; then while read -r caps_key caps_value; do if [ "$caps_key" = CapBnd: ]; then caps_bnd=$caps_value; fi; done <%[1]s; fi`, status),
		`case $caps_bnd in '' | *[!0-9a-fA-F]*) caps_bnd=7fffffffffffffff ;; esac`,
		`caps_keep=-all caps_lacking='' caps_missing=''`,
	}
	if iab {
		lines = append(lines, `caps_iab=`)
	}
	for _, c := range s.Capabilities {
		n := capNumbers[c]
		keep := fmt.Sprintf("caps_keep=$caps_keep,+%s", CapShort(c))
		if iab {
			keep += fmt.Sprintf(" caps_iab=${caps_iab:+$caps_iab,}^cap_%s", CapShort(c))
		}
		list := "caps_lacking"
		if IsRequired(s, c) {
			list = "caps_missing"
		}
		lines = append(lines, fmt.Sprintf(`if [ $((0x$caps_bnd >> %d & 1)) = 1 ]; then %s; else %s=${%[3]s:+$%[3]s, }%s; fi`, n, keep, list, c))
	}
	lines = append(lines,
		`if [ -n "$caps_missing" ]; then caps_named=$caps_missing; else caps_named=$caps_lacking; fi`,
		`case $caps_named in *,*) caps_are=are caps_it=them ;; *) caps_are=is caps_it=it ;; esac`,
		fmt.Sprintf(`if [ -n "$caps_missing" ]; then %s; elif [ -n "$caps_lacking" ]; then %s; fi`,
			emit("error", `$caps_missing $caps_are required but not in this host's capability bounding set; not starting without $caps_it (a container must be given $caps_it, e.g. systemd-nspawn --capability=$(echo "$caps_missing" | tr -d ' ') or docker run --cap-add=$(echo "$caps_missing" | sed 's/, / --cap-add=/g'))`),
			emit("warning", `$caps_lacking $caps_are not in this host's capability bounding set; starting without $caps_it`)),
	)
	return lines
}

// CapsCheckBody is the capability check as lines of a script of its own
// (an Upstart pre-start script), on the calling process's bounding set,
// ending in a command that fails when a required capability is missing;
// nil when the service declares no capabilities.
func CapsCheckBody(s Service, emit CapsEmit) []string {
	if len(s.Capabilities) == 0 {
		return nil
	}
	return append(capsCheckLines(s, "/proc/self/status", false, emit), `[ -z "$caps_missing" ]`)
}

// CapsCheckFunc returns the definition of the sh function caps_check, which
// runs the capability check on the calling process's bounding set and
// returns non-zero when a required capability is missing; see
// capsCheckLines. It returns "" when the service declares no capabilities.
func CapsCheckFunc(s Service, iab bool, emit CapsEmit) string {
	if len(s.Capabilities) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("# caps_check: sets " + CapsKeep + " to the declared capabilities this host's\n" +
		"# capability bounding set holds; warns once naming those it lacks, and\n" +
		"# fails naming the required ones it lacks.\n")
	b.WriteString("caps_check() {\n")
	for _, l := range capsCheckLines(s, "/proc/self/status", iab, emit) {
		b.WriteString("\t" + l + "\n")
	}
	b.WriteString("\t[ -z \"$caps_missing\" ]\n}\n")
	return b.String()
}

// CapsCheckLine is the capability check as one line of sh for the
// Start and Restart fragments of an init whose service manager is PID 1
// (systemd, runit): it reports on PID 1's bounding set, which the service
// inherits, so that what the service goes without shows where it is
// installed. It leaves CapsMissing set; "" when the service declares no
// capabilities.
func CapsCheckLine(s Service) string {
	// Shell fragments are asked for with the service as configured, and
	// rendering rejects what normalizeCaps does.
	s.Capabilities, _ = normalizeCaps(s.Name, s.Capabilities)
	s.RequiredCapabilities, _ = normalizeCaps(s.Name, s.RequiredCapabilities)
	if len(s.Capabilities) == 0 {
		return ""
	}
	return strings.Join(capsCheckLines(s, "/proc/1/status", false, StderrEmit(s.Name)), "; ")
}
