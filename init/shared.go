package initsys

// Helpers shared by the renderers: defaults and checks on the service model,
// shell quoting, and the per-profile privilege settings that the inits
// without a sandbox of their own (everything but systemd) apply through
// setpriv(1).

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/omnipack/omnipack/layout"
)

// DefaultStopTimeout is used when the service leaves StopTimeout at 0. The
// sysvinit script runs its own stop loop and needs a number; the other inits
// get the same value so they all behave alike.
const DefaultStopTimeout = 30

var (
	// accountRE is a system account name useradd and busybox adduser take.
	accountRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	envRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	capRE     = regexp.MustCompile(`^CAP_[A-Z_]+$`)
)

// reloadSignals are the signals every init can deliver: runit's sv(8) has a
// command for each of them and nothing else.
var reloadSignals = []string{"ALRM", "HUP", "INT", "QUIT", "USR1", "USR2"}

// Prepare fills in defaults and rejects what the renderers cannot express
// safely. Names are validated elsewhere too, but the renderers embed them
// unquoted, so they check again rather than trust the caller.
func Prepare(s Service) (Service, error) {
	var err error
	if layout.CheckName(s.Name) != nil {
		return s, fmt.Errorf("initsys: invalid service name %q", s.Name)
	}
	if s.Description == "" {
		s.Description = s.Name
	}
	if hasControl(s.Description) {
		return s, fmt.Errorf("initsys: %s: description contains a control character", s.Name)
	}
	if !path.IsAbs(s.Exec) || hasControl(s.Exec) {
		return s, fmt.Errorf("initsys: %s: exec must be an absolute path, got %q", s.Name, s.Exec)
	}
	for _, a := range s.Args {
		if hasControl(a) {
			return s, fmt.Errorf("initsys: %s: argument %q contains a control character", s.Name, a)
		}
	}
	if s.User == "" {
		s.User = "root"
	}
	if s.Group == "" {
		s.Group = s.User
	}
	if !accountRE.MatchString(s.User) || !accountRE.MatchString(s.Group) {
		return s, fmt.Errorf("initsys: %s: invalid user or group %q:%q", s.Name, s.User, s.Group)
	}
	for k, v := range s.Environment {
		if !envRE.MatchString(k) {
			return s, fmt.Errorf("initsys: %s: invalid environment variable name %q", s.Name, k)
		}
		if hasControl(v) {
			return s, fmt.Errorf("initsys: %s: environment variable %s contains a control character", s.Name, k)
		}
	}
	if s.WorkingDir == "" {
		s.WorkingDir = "/"
	}
	for _, p := range []*string{&s.WorkingDir, &s.StateDir, &s.ConfigDir, &s.EnvironmentFile} {
		if *p == "" {
			continue
		}
		if !path.IsAbs(*p) || hasControl(*p) {
			return s, fmt.Errorf("initsys: %s: %q is not an absolute path", s.Name, *p)
		}
		*p = path.Clean(*p)
	}
	for _, d := range s.Dirs {
		if !path.IsAbs(d.Path) || path.Clean(d.Path) != d.Path || d.Path == "/" || hasControl(d.Path) {
			return s, fmt.Errorf("initsys: %s: directory %q is not a clean absolute path", s.Name, d.Path)
		}
		for _, a := range []string{d.Owner, d.Group} {
			if a != "root" && a != s.User && a != s.Group {
				return s, fmt.Errorf("initsys: %s: directory %s: %q is neither root nor the service's account", s.Name, d.Path, a)
			}
		}
		if d.Mode > 0o777 {
			return s, fmt.Errorf("initsys: %s: directory %s: mode %o has more than permission bits", s.Name, d.Path, d.Mode)
		}
	}
	switch {
	case s.Restart == "":
		s.Restart = RestartOnFailure
	case !slices.Contains(RestartPolicies, s.Restart):
		return s, fmt.Errorf("initsys: %s: unknown restart policy %q", s.Name, s.Restart)
	}
	switch {
	case s.Profile == "":
		s.Profile = ProfileDefault
	case !slices.Contains(Profiles, s.Profile):
		return s, fmt.Errorf("initsys: %s: unknown profile %q", s.Name, s.Profile)
	}
	if s.RestartSec < 0 || s.StopTimeout < 0 {
		return s, fmt.Errorf("initsys: %s: negative restart or stop timeout", s.Name)
	}
	if s.StopTimeout == 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	if s.Capabilities, err = normalizeCaps(s.Name, s.Capabilities); err != nil {
		return s, err
	}
	if s.RequiredCapabilities, err = normalizeCaps(s.Name, s.RequiredCapabilities); err != nil {
		return s, err
	}
	for _, c := range s.RequiredCapabilities {
		if !slices.Contains(s.Capabilities, c) {
			return s, fmt.Errorf("initsys: %s: required capability %s is not among the declared capabilities %v", s.Name, c, s.Capabilities)
		}
	}
	if err := checkLimits(s.Name, s.Limits); err != nil {
		return s, err
	}
	if s.ReloadSignal != "" {
		sig := strings.TrimPrefix(strings.ToUpper(s.ReloadSignal), "SIG")
		if !slices.Contains(reloadSignals, sig) {
			return s, fmt.Errorf("initsys: %s: reload signal %q not supported (one of %v)", s.Name, s.ReloadSignal, reloadSignals)
		}
		s.ReloadSignal = sig
	}
	return s, nil
}

// normalizeCaps spells capabilities as CAP_NAME, sorted and without
// duplicates, and rejects names that are not capabilities.
func normalizeCaps(name string, in []string) ([]string, error) {
	caps := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.ToUpper(c)
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !capRE.MatchString(c) {
			return nil, fmt.Errorf("initsys: %s: invalid capability %q", name, c)
		}
		if _, ok := CapNumber(c); !ok {
			return nil, fmt.Errorf("initsys: %s: unknown capability %s", name, c)
		}
		caps = append(caps, c)
	}
	slices.Sort(caps)
	return slices.Compact(caps), nil
}

// hasControl reports whether s holds a character no init file format can
// carry on one line.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// IsRoot reports whether the daemon keeps running as root.
func IsRoot(s Service) bool { return s.User == "root" }

// AlivePID is a Shell.PID fragment: it prints the pid that the sh command
// cmd prints, and fails unless that process is alive.
func AlivePID(cmd string) string {
	return `omnipack_pid=$(` + cmd + ` 2>/dev/null) && [ -n "$omnipack_pid" ] && [ -d "/proc/$omnipack_pid" ] && echo "$omnipack_pid"`
}

// shSafe matches words that need no quoting in POSIX sh.
var shSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// ShellSafe reports whether w needs no quoting as a POSIX sh word.
func ShellSafe(w string) bool { return shSafe.MatchString(w) }

// ShQuote quotes s as one POSIX sh word. Words with $ or ` are
// double-quoted so that shellcheck does not mistake them for expansions that
// were meant to happen (SC2016).
func ShQuote(s string) string {
	switch {
	case shSafe.MatchString(s):
		return s
	case strings.ContainsAny(s, "$`"):
		return ShValue(s)
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShJoin quotes each word and joins them with spaces.
func ShJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = ShQuote(w)
	}
	return strings.Join(q, " ")
}

// ShValue double-quotes s for the right-hand side of an assignment. OpenRC's
// command_args holds sh words itself, and nesting them in double quotes
// reads better than nesting single quotes.
func ShValue(s string) string {
	return `"` + shDoubleEscape.Replace(s) + `"`
}

var shDoubleEscape = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")

// CapShort turns CAP_SYS_TIME into sys_time, the spelling setpriv and
// libcap use.
func CapShort(c string) string { return strings.ToLower(strings.TrimPrefix(c, "CAP_")) }

// Privileges holds what a profile asks of inits that have no sandbox: they
// can set the user, the capability sets, no_new_privs and the umask, and
// can put the daemon in an empty network namespace.
type Privileges struct {
	Confine   bool   // bounding set = the declared capabilities, no_new_privs
	Umask     string // empty leaves the init's umask
	NoNetwork bool   // unshare --net
}

// ProfilePrivileges maps a profile onto what setpriv and unshare can apply.
// The filesystem, device, syscall and address-family restrictions of the
// systemd units have no equivalent there.
func ProfilePrivileges(profile string) Privileges {
	switch profile {
	case ProfileTrusted:
		return Privileges{}
	case ProfileNoNetwork:
		return Privileges{Confine: true, Umask: "0077", NoNetwork: true}
	}
	return Privileges{Confine: true, Umask: "0077"}
}

// SetprivCaps is the setpriv capability list that keeps exactly caps:
// "-all,+syslog".
func SetprivCaps(caps []string) string {
	list := "-all"
	for _, c := range caps {
		list += ",+" + CapShort(c)
	}
	return list
}

// SetprivArgs returns the setpriv(1) options that switch to the service user
// and leave it the capabilities caps, ending in "--". caps is a setpriv
// capability list (SetprivCaps) or sh that expands to one at start time,
// such as "$caps_keep" after caps_check. It returns nil when setpriv has
// nothing to do (root, trusted profile).
func SetprivArgs(s Service, caps string) []string {
	var args []string
	if !IsRoot(s) {
		args = append(args, "--reuid="+s.User, "--regid="+s.Group, "--init-groups")
		if len(s.Capabilities) > 0 {
			// Ambient capabilities survive both the switch away from root
			// and the exec of a binary without file capabilities; the
			// kernel requires them to be inheritable too.
			args = append(args, "--inh-caps="+caps, "--ambient-caps="+caps)
		}
	}
	if ProfilePrivileges(s.Profile).Confine {
		args = append(args, "--bounding-set="+caps, "--no-new-privs")
	}
	if len(args) == 0 {
		return nil
	}
	return append(args, "--")
}

// SetprivLoss names what a daemon goes without when setpriv is missing and
// the init falls back to its own user switch; empty when nothing is lost.
// withCaps says whether the fallback keeps the capabilities (OpenRC's
// capabilities= may).
func SetprivLoss(s Service, withCaps bool) string {
	var lost []string
	if !IsRoot(s) && len(s.Capabilities) > 0 && !withCaps {
		lost = append(lost, strings.Join(s.Capabilities, " "))
	}
	p := ProfilePrivileges(s.Profile)
	if p.Confine {
		lost = append(lost, "the bounding set", "no_new_privs")
	}
	if p.NoNetwork {
		lost = append(lost, "network isolation")
	}
	return strings.Join(lost, ", ")
}

// SetprivRequired names the required capabilities that the init's own user
// switch, used when setpriv is missing, cannot grant; empty when it can or
// none are required. withCaps is as for SetprivLoss.
func SetprivRequired(s Service, withCaps bool) string {
	if IsRoot(s) || withCaps {
		return ""
	}
	return strings.Join(s.RequiredCapabilities, ", ")
}

// HaveSetpriv is a sh condition true when setpriv is util-linux's: BusyBox
// also ships a setpriv, but one that cannot switch users or set the
// bounding set.
const HaveSetpriv = `setpriv --help 2>/dev/null | grep -q -- --reuid`

// CommName is what the kernel reports as the daemon's comm (the first 15
// bytes of the binary's name); the sysvinit script matches on it because,
// unlike the binary's path, it survives the package upgrade that replaced
// the binary.
func CommName(exec string) string {
	n := path.Base(exec)
	if len(n) > 15 {
		n = n[:15]
	}
	return n
}

// Header is the first comment of every generated file.
func Header(s Service) string {
	return "# Generated by omnipack for " + s.Name + "; edits are lost on upgrade.\n"
}

// PID1Name is PID 1's command name, as /proc/1/comm gives it: what the
// Running conditions of sysvinit and runit test.
func PID1Name() string {
	b, _ := os.ReadFile("/proc/1/comm")
	return strings.TrimRight(string(b), "\n")
}

// AnyProcess reports whether a process has the command name.
func AnyProcess(name string) bool {
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, c := range comms {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		if strings.TrimRight(string(b), "\n") == name {
			return true
		}
	}
	return false
}

// ArgVar says whether an argument word expands, and how. A whole word
// "$NAME" naming one of the service's Environment variables expands and is
// split at blanks, without globbing, as systemd splits it; a whole word
// "${NAME}" expands as one word. Every other word is passed as it is,
// dollar signs and all.
func (s Service) ArgVar(a string) (name string, split, ok bool) {
	switch {
	case strings.HasPrefix(a, "${") && strings.HasSuffix(a, "}"):
		name = a[2 : len(a)-1]
	case strings.HasPrefix(a, "$"):
		name, split = a[1:], true
	default:
		return "", false, false
	}
	if _, declared := s.Environment[name]; !declared || !envRE.MatchString(name) {
		return "", false, false
	}
	return name, split, true
}

// ExpandsArgs reports whether an argument word expands (ArgVar).
func (s Service) ExpandsArgs() bool {
	for _, a := range s.Args {
		if _, _, ok := s.ArgVar(a); ok {
			return true
		}
	}
	return false
}

// ShArgs renders the arguments as sh words: literal words quoted,
// expanding ones as $NAME (to be split: the caller runs them under set -f)
// or "${NAME}".
func ShArgs(s Service) string {
	words := make([]string, len(s.Args))
	for i, a := range s.Args {
		name, split, ok := s.ArgVar(a)
		switch {
		case ok && split:
			words[i] = "$" + name
		case ok:
			words[i] = `"${` + name + `}"`
		default:
			words[i] = ShQuote(a)
		}
	}
	return strings.Join(words, " ")
}

// EnvFileLoad is the sh line that exports what the environment file sets,
// where there is one: the shell inits' form of systemd's
// EnvironmentFile=-PATH. "" without an environment file.
func EnvFileLoad(s Service) string {
	if s.EnvironmentFile == "" {
		return ""
	}
	f := ShQuote(s.EnvironmentFile)
	// The file is the host's, not the script's: nothing for shellcheck to follow.
	return "# shellcheck source=/dev/null\nif [ -r " + f + " ]; then set -a; . " + f + "; set +a; fi"
}

// EnvFileQuote writes value for an environment file in the one form
// systemd's EnvironmentFile= and sh's "." read alike: in double quotes,
// with \ " $ and ` escaped by a backslash. The value holds no newline.
func EnvFileQuote(value string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range value {
		if strings.ContainsRune("\\\"$`", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// EnvFileDefaults is the environment file a package ships: comments
// saying how to write it, and the service's declared environment as
// commented lines, so the package's defaults apply until a line is set.
func EnvFileDefaults(s Service) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Settings for %s on this host, read by its service each time it starts,\n", s.Name)
	b.WriteString("# whichever init runs it. One NAME=\"value\" per line; within the double\n")
	b.WriteString("# quotes write \\\" \\\\ \\$ and \\` for those characters. A variable named in the\n")
	b.WriteString("# service's arguments as $NAME is split at blanks, ${NAME} is one word.\n")
	b.WriteString("# Restart the service after an edit. Upgrades keep this file.\n")
	if len(s.Environment) > 0 {
		b.WriteString("#\n# The package's defaults, which a line here overrides:\n")
		for _, k := range s.EnvKeys() {
			fmt.Fprintf(&b, "#%s=%s\n", k, EnvFileQuote(s.Environment[k]))
		}
	}
	return []byte(b.String())
}

// InstallDirs are the sh commands that create the service's Dirs before
// it starts, owned and moded as declared: install -d also sets both on a
// directory that exists.
func InstallDirs(s Service) []string {
	var out []string
	for _, d := range s.Dirs {
		out = append(out, fmt.Sprintf("install -d -m %04o -o %s -g %s %s", d.Mode, d.Owner, d.Group, ShQuote(d.Path)))
	}
	return out
}
