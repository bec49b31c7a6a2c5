package upstart

import (
	"fmt"
	"os/exec"
	"strings"

	initsys "github.com/omnipack/omnipack/init"
)

// Init renders a job for Upstart 1.10 or later (Ubuntu 14.04), the first
// with the "reload signal" stanza.
//
// Limitations: the setuid stanza applies to every process of the job,
// pre-start included, so for a non-root user the job cannot create StateDir
// (the package must); Upstart cannot grant capabilities to a non-root user
// or set a bounding set or no_new_privs, so profiles only set the umask and
// declared capabilities are lost for non-root users; there is no restart
// delay, so RestartSec becomes a post-stop sleep, which also delays a
// deliberate stop. Limits: "limit nofile" and "nice" apply; the memory
// maximum and CPU weight are not enforced.
type Init struct{}

func (Init) Name() string    { return "upstart" }
func (Init) Precedence() int { return 30 }

// Running: initctl answers, and names itself upstart.
func (Init) Running() bool {
	if _, err := exec.LookPath("initctl"); err != nil {
		return false
	}
	out, _ := exec.Command("initctl", "version").Output()
	return strings.Contains(string(out), "upstart")
}

func (Init) Render(s initsys.Service) ([]initsys.File, error) {
	s, err := initsys.Prepare(s)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	b.WriteString(initsys.Header(s))
	if len(s.Capabilities) > 0 && !initsys.IsRoot(s) {
		line("# Upstart cannot keep %s for user %s; the daemon runs without.", strings.Join(s.Capabilities, " "), s.User)
	}
	line("description %s", upstartQuote(s.Description))
	line("")
	if s.AfterNetwork {
		// ifupdown emits static-network-up once every "auto" interface is up.
		line("start on (runlevel [2345] and static-network-up)")
	} else {
		line("start on runlevel [2345]")
	}
	line("stop on runlevel [!2345]")
	line("")
	if s.Restart != initsys.RestartNever {
		line("respawn")
		// systemd's default start rate limit: 5 starts in 10 seconds.
		line("respawn limit 5 10")
		if s.Restart == initsys.RestartOnFailure {
			// The exits systemd counts as clean for Restart=on-failure.
			line("normal exit 0 TERM INT HUP PIPE")
		}
	}
	line("kill timeout %d", s.StopTimeout)
	if s.ReloadSignal != "" {
		line("reload signal SIG%s", s.ReloadSignal)
	}
	if !initsys.IsRoot(s) {
		line("setuid %s", s.User)
		line("setgid %s", s.Group)
	}
	if u := initsys.ProfilePrivileges(s.Profile).Umask; u != "" {
		line("umask %s", u)
	}
	if s.Limits.OpenFiles > 0 {
		line("limit nofile %d %d", s.Limits.OpenFiles, s.Limits.OpenFiles)
	}
	if v := s.Limits.NiceValue(); v != "" {
		line("nice %s", v)
	}
	// Upstart 1.13's cgroup stanza would hold the job until the cgmanager
	// daemon runs, which hosts rarely do; older Upstarts reject it.
	if n := initsys.LimitsNotEnforced(s.Limits, "Upstart"); n != "" {
		line("# %s.", n)
	}
	line("chdir %s", upstartQuote(s.WorkingDir))
	for _, k := range s.EnvKeys() {
		line("env %s", upstartQuote(k+"="+s.Environment[k]))
	}
	line("console log")
	makeState := s.StateDir != "" && initsys.IsRoot(s)
	var preStart []string // a pre-start script, run by sh -e
	if makeState {
		preStart = append(preStart, "install -d -m 0750 "+initsys.ShQuote(s.StateDir))
	}
	if initsys.IsRoot(s) {
		// As for StateDir: for another user pre-start runs as that user,
		// and the package's scripts create the directories instead.
		preStart = append(preStart, initsys.InstallDirs(s)...)
	}
	switch {
	case len(s.RequiredCapabilities) > 0 && !initsys.IsRoot(s):
		// Running it without them would be running it crippled.
		preStart = append(preStart,
			fmt.Sprintf(`echo "%s: error: %s required, but Upstart cannot grant capabilities to user %s; not starting" >&2`,
				s.Name, strings.Join(s.RequiredCapabilities, ", "), s.User),
			"exit 1")
	case initsys.IsRoot(s):
		// root keeps what the bounding set holds: say what it lacks.
		preStart = append(preStart, initsys.CapsCheckBody(s, initsys.StderrEmit(s.Name))...)
	}
	switch {
	case len(preStart) == 0:
	case len(preStart) == 1 && makeState:
		line("")
		line("pre-start exec install -d -m 0750 %s", upstartQuote(s.StateDir))
	default:
		line("")
		line("pre-start script")
		for _, l := range preStart {
			line("\t%s", l)
		}
		line("end script")
	}
	if s.Restart != initsys.RestartNever && s.RestartSec > 0 {
		line("")
		line("# Upstart has no restart delay; sleeping after each stop stands in.")
		line("post-stop exec sleep %d", s.RestartSec)
	}
	line("")
	if s.EnvironmentFile != "" || s.ExpandsArgs() {
		// A script, run by sh -e, reads the environment file and splits
		// $NAME at blanks without globbing, as systemd does.
		line("script")
		if load := initsys.EnvFileLoad(s); load != "" {
			line("\t%s", load)
		}
		line("\tset -f")
		line("\texec %s %s", initsys.ShQuote(s.Exec), initsys.ShArgs(s))
		line("end script")
	} else {
		words := []string{upstartQuote(s.Exec)}
		for _, a := range s.Args {
			words = append(words, upstartQuote(a))
		}
		line("exec %s", strings.Join(words, " "))
	}
	return []initsys.File{{Target: "/etc/init/" + s.Name + ".conf", Mode: 0o644, Body: []byte(b.String())}}, nil
}

// upstartQuote quotes w so that both Upstart's tokenizer (description, env,
// chdir) and /bin/sh (exec) read it back unchanged. Upstart honours
// backslash escapes even inside quotes and keeps the backslash of escapes
// it does not know, so the only escape used is \\ outside quotes, which
// both read as one backslash; a single quote is written as "'".
func upstartQuote(w string) string {
	if initsys.ShellSafe(w) {
		return w
	}
	var b strings.Builder
	quoted := false
	for _, r := range w {
		if r == '\'' || r == '\\' {
			if quoted {
				b.WriteByte('\'')
				quoted = false
			}
			if r == '\'' {
				b.WriteString(`"'"`)
			} else {
				b.WriteString(`\\`)
			}
			continue
		}
		if !quoted {
			b.WriteByte('\'')
			quoted = true
		}
		b.WriteRune(r)
	}
	if quoted {
		b.WriteByte('\'')
	}
	if b.Len() == 0 {
		return "''"
	}
	return b.String()
}

// Shell drives initctl. Upstart starts every job whose "start on" matches,
// so disabling means an override file that says "manual".
func (Init) Shell(s initsys.Service) initsys.Shell {
	n := initsys.ShQuote(s.Name)
	override := "/etc/init/" + s.Name + ".override"
	return initsys.Shell{
		Running:   `initctl version 2>/dev/null | grep -q upstart`,
		Installed: `{ [ -x /sbin/initctl ] && /sbin/initctl --version 2>/dev/null | grep -q upstart; }`,
		Enable:    "rm -f " + override,
		Disable:   "echo manual >" + override,
		Start:     "initctl start " + n,
		Stop:      "initctl stop " + n,
		// initctl restart fails on a stopped job; systemctl restart
		// starts it.
		Restart:    "{ initctl restart " + n + " 2>/dev/null || initctl start " + n + "; }",
		Status:     "initctl status " + n + " 2>/dev/null | grep -q start/running",
		PID:        initsys.AlivePID("initctl status " + n + " | sed -n 's/.*start\\/running, process \\([0-9][0-9]*\\).*/\\1/p'"),
		StatusHint: "initctl status " + n,
		Reload:     "initctl reload-configuration",
		// Upstart's "console log" writes the job's output here.
		Log: fmt.Sprintf("tail -n %d /var/log/upstart/%s.log", initsys.LogLines, s.Name),
	}
}
