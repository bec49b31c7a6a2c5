// Package initsys holds the init-independent service model, the Renderer
// interface every init system implements, and the helpers the renderers
// share. Each init system is a package of its own below init/ (systemd,
// openrc, upstart, runit, sysvinit); package inits is their one registry.
package initsys

import (
	"fmt"
	"sort"
	"strings"

	"github.com/omnipack/omnipack/layout"
)

// Profile names follow systemd's portable-service security profiles.
const (
	ProfileDefault   = "default"
	ProfileStrict    = "strict"
	ProfileTrusted   = "trusted"
	ProfileNoNetwork = "nonetwork"
)

// Profiles lists every valid hardening profile.
var Profiles = []string{ProfileDefault, ProfileStrict, ProfileTrusted, ProfileNoNetwork}

// Restart policies.
const (
	RestartAlways    = "always"
	RestartOnFailure = "on-failure"
	RestartNever     = "never"
)

// RestartPolicies lists every valid restart policy.
var RestartPolicies = []string{RestartAlways, RestartOnFailure, RestartNever}

// Service is the init-independent description of one daemon.
type Service struct {
	Name        string // service name; also the package name
	Description string
	Exec        string   // absolute path of the daemon binary on the host
	Args        []string // arguments, passed verbatim (no shell)
	User        string   // "root" means no system user is created
	Group       string
	Environment map[string]string
	// EnvironmentFile, when set, is the per-host settings file every init
	// reads before it starts the daemon (KEY=VALUE lines, as systemd's
	// EnvironmentFile= reads them): what it sets overrides Environment.
	EnvironmentFile string
	WorkingDir      string // absolute; empty means "/"
	StateDir        string // absolute, e.g. /var/lib/NAME; created owned by User
	ConfigDir       string // absolute, e.g. /etc/NAME
	Restart         string // one of RestartPolicies
	RestartSec      int    // seconds between restarts
	AfterNetwork    bool
	Capabilities    []string // e.g. CAP_NET_BIND_SERVICE; ambient + bounding set
	// RequiredCapabilities are those of Capabilities the daemon cannot run
	// without: where the host's bounding set lacks one, the start fails
	// instead of going on without it, as it does for the others.
	RequiredCapabilities []string
	Profile              string // one of Profiles
	ReloadSignal         string // e.g. HUP; empty means no reload support
	StopTimeout          int    // seconds before SIGKILL
	// Dirs are directories the service needs beyond StateDir, created
	// owned as declared.
	Dirs   []Dir
	Limits Limits // resource limits; the zero value sets none
	// StartCheckSeconds is how long the maintainer scripts watch the
	// service after a start or restart before they call it healthy; 0
	// skips the check.
	StartCheckSeconds int
	// HealthCommand, when set, is argv whose exit status 0 says the
	// running service is healthy; its first word is an absolute path.
	HealthCommand []string
}

// Dir is one directory a service needs, created before it starts.
type Dir struct {
	Path         string // absolute and clean
	Owner, Group string // the service's user and group, or root
	Mode         uint32 // permission bits
	// Purge deletes it with its contents on purge; otherwise only when
	// it is empty.
	Purge bool
}

// Directory kinds: where systemd manages a directory of its own
// (StateDirectory= and the like), by the tree it lies in.
const (
	DirState   = "state"
	DirCache   = "cache"
	DirLogs    = "logs"
	DirRuntime = "runtime"
)

// dirRoots are the trees of the directory kinds.
var dirRoots = []struct{ kind, root string }{
	{DirState, "/var/lib/"}, {DirCache, "/var/cache/"}, {DirLogs, "/var/log/"}, {DirRuntime, "/run/"},
}

// Kind returns the directory's kind and its path below the kind's tree
// (/var/lib/NAME/textfile: state, NAME/textfile), or "" for a directory
// elsewhere.
func (d Dir) Kind() (kind, rel string) {
	for _, r := range dirRoots {
		if rel, ok := strings.CutPrefix(d.Path, r.root); ok && rel != "" {
			return r.kind, rel
		}
	}
	return "", ""
}

// Volatile reports whether the directory is on a tmpfs cleared at boot
// (/run), so it must be created at every start, not only on install.
func (d Dir) Volatile() bool {
	kind, _ := d.Kind()
	return kind == DirRuntime
}

// EnvKeys returns the environment variable names in a stable order, so
// rendered files are reproducible.
func (s Service) EnvKeys() []string {
	keys := make([]string, 0, len(s.Environment))
	for k := range s.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// File is one rendered file of an init integration.
type File struct {
	// Target is the absolute path where the maintainer script installs the
	// file on a host running this init system.
	Target string
	Mode   uint32
	Body   []byte
}

// Shell holds POSIX sh fragments the maintainer scripts use to drive one init
// system. Each fragment runs with `set -e` off and must be safe to evaluate
// when the service is absent.
type Shell struct {
	// Running is a condition that is true when this init system is PID 1
	// and running (not merely installed).
	Running string
	// Installed is a condition that is true when this init system is the
	// one the root filesystem would boot, used where no init is running
	// (chroots, image builds) to put files in place without starting.
	Installed string
	// Enable makes the service start at boot; it must work offline.
	Enable string
	// Disable undoes Enable; it must work offline.
	Disable string
	Start   string
	Stop    string
	Restart string
	// StartCheck runs before Start and Restart in the maintainer scripts:
	// it says what the service will go without on this host and fails
	// when it must not start (a required capability is missing). Empty
	// when Start says so itself, as the OpenRC and sysvinit scripts do.
	StartCheck string
	// Status exits 0 when the service runs, asked through the init itself:
	// not while the init restarts it.
	Status string
	// PID prints the daemon's process ID as the init knows it, and fails
	// when no daemon process of the service is alive (a supervisor
	// between two respawns). The start check holds it unchanged across
	// its window, so that a crash loop the init restarts faster than
	// Status can see is caught. Empty when the init cannot tell.
	PID string
	// StatusHint is the command an admin runs to see the service's state,
	// for messages: not run by omnipack.
	StatusHint string
	// Reload asks the init to re-read its service definitions, if needed.
	Reload string
	// Log prints the last LogLines lines of the service's output where
	// this init keeps them (the journal, svlogd's current file). Empty
	// when the init keeps no log of its own: then SyslogTail applies.
	Log string
}

// LogFile is where the inits that keep no log of their own (OpenRC,
// sysvinit) write the daemon's stdout and stderr, in layout.LogDir, which
// a purge deletes.
func LogFile(name string) string { return layout.LogDir(name) + "/" + name + ".log" }

// FileLogger is implemented by the inits that write the daemon's output to
// LogFile: the packages that enable one ship Logrotate's snippet.
type FileLogger interface {
	LogsToFile() bool
}

// LogsToFile reports whether any of the renderers writes LogFile.
func LogsToFile(rs []Renderer) bool {
	for _, r := range rs {
		if l, ok := r.(FileLogger); ok && l.LogsToFile() {
			return true
		}
	}
	return false
}

// LogrotateFile is where the packages put Logrotate's snippet.
func LogrotateFile(name string) string { return "/etc/logrotate.d/" + name }

// Logrotate is the logrotate snippet for LogFile. copytruncate, because
// the daemon holds the file open and is never told to reopen it; su,
// because logrotate refuses a directory the service's user can write
// unless it rotates as that user.
func Logrotate(s Service) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Rotates %s's output, which OpenRC and sysvinit write here. Generated by omnipack.\n", s.Name)
	fmt.Fprintf(&b, "%s {\n", LogFile(s.Name))
	if !IsRoot(s) {
		fmt.Fprintf(&b, "\tsu %s %s\n", s.User, s.Group)
	}
	b.WriteString("\tweekly\n\trotate 4\n\tmaxsize 10M\n\tcompress\n\tdelaycompress\n\tmissingok\n\tnotifempty\n\tcopytruncate\n}\n")
	return []byte(b.String())
}

// HealthTimeout is how long, in seconds, a health command may run: the
// maintainer scripts and both installers stop it then (where timeout(1)
// is installed, for the shell ones).
const HealthTimeout = 10

// LogLines is how many lines of the service's log an installer shows when
// the service is not healthy.
const LogLines = 30

// SyslogTail is the fallback for Shell.Log: it prints the last LogLines
// lines naming the service from the first system log file there is, or
// from BusyBox's logread. It fails when there is no system log.
func SyslogTail(name string) string {
	n := ShQuote(name)
	return fmt.Sprintf(`for omnipack_log in /var/log/%[1]s.log /var/log/syslog /var/log/messages /var/log/daemon.log; do `+
		`if [ -f "$omnipack_log" ]; then echo "(from $omnipack_log)"; grep -F %[2]s "$omnipack_log" | tail -n %[3]d; exit 0; fi; done; `+
		`if command -v logread >/dev/null 2>&1; then logread 2>/dev/null | grep -F %[2]s | tail -n %[3]d; exit 0; fi; exit 1`,
		name, n, LogLines)
}

// Renderer renders the service model for one init system.
type Renderer interface {
	// Name is the init system's name as used in omnipack.toml.
	Name() string
	// Render returns the files this init needs for the service.
	Render(s Service) ([]File, error)
	// Shell returns the commands maintainer scripts use for the service.
	Shell(s Service) Shell
	// Precedence orders detection: lower is tested first. An init that
	// runs on top of another (OpenRC on sysvinit) must come before it.
	Precedence() int
	// Running reports whether this init system is PID 1 on this host and
	// running: the Go form of Shell.Running, which detect.sh and the
	// maintainer scripts evaluate. The tests hold the two equal.
	Running() bool
}
