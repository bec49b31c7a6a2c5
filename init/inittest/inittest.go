// Package inittest holds what the tests of every init system share: the
// representative service and its variants, and checks with real tools
// (shellcheck, dash, busybox). Only tests import it.
package inittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
)

// Crashwatch is the representative service: an unprivileged user that keeps
// one capability, arguments and environment that need quoting in every
// format, and a reload signal.
func Crashwatch() initsys.Service {
	return initsys.Service{
		Name:        "crashwatch",
		Description: "Crash report watcher (100% local)",
		Exec:        "/usr/bin/crashwatch",
		Args: []string{
			"--config", "/etc/crashwatch/crash watch.toml",
			`--label=it's "quoted"`,
			"$HOME", `back\slash`, "%h", ";", "#not-a-comment", "",
		},
		User:  "crashwatch",
		Group: "crashwatch",
		Environment: map[string]string{
			"LOG_LEVEL": "info",
			"GREETING":  `hello "world" $USER 50% it's`,
			"EMPTY":     "",
		},
		WorkingDir:   "/var/lib/crashwatch",
		StateDir:     "/var/lib/crashwatch",
		ConfigDir:    "/etc/crashwatch",
		Restart:      initsys.RestartOnFailure,
		RestartSec:   5,
		AfterNetwork: true,
		Capabilities: []string{"CAP_SYSLOG"},
		Profile:      initsys.ProfileDefault,
		ReloadSignal: "HUP",
		StopTimeout:  20,
	}
}

// Variant is one service shape every renderer is tested with.
type Variant struct {
	Name string
	Svc  initsys.Service
}

// Variants returns the representative service and the edge cases, each in
// every profile.
func Variants() []Variant {
	var out []Variant
	for _, p := range initsys.Profiles {
		full := Crashwatch()
		full.Profile = p
		out = append(out, Variant{"crashwatch-" + p, full})

		root := Crashwatch()
		root.Name = "rootwatch"
		root.User, root.Group = "root", "root"
		root.Capabilities = nil
		root.Profile = p
		out = append(out, Variant{"root-" + p, root})

		bare := initsys.Service{Name: "bare", Exec: "/usr/sbin/bare", User: "bare", Restart: initsys.RestartNever, Profile: p}
		out = append(out, Variant{"bare-never-" + p, bare})

		always := Crashwatch()
		always.Name = "netwatch"
		always.Args = nil
		always.Restart = initsys.RestartAlways
		always.RestartSec = 0
		always.ReloadSignal = ""
		always.AfterNetwork = false
		always.Capabilities = []string{"cap_net_raw", "CAP_NET_BIND_SERVICE"}
		always.Profile = p
		out = append(out, Variant{"always-caps-" + p, always})

		required := Crashwatch()
		required.Name = "needwatch"
		required.RequiredCapabilities = []string{"CAP_SYSLOG"}
		required.Profile = p
		out = append(out, Variant{"required-caps-" + p, required})

		out = append(out, Variant{"envfile-" + p, EnvFileService(p)})

		withDirs := Crashwatch()
		withDirs.Profile = p
		withDirs.Dirs = Dirs(withDirs)
		out = append(out, Variant{"dirs-" + p, withDirs})

		out = append(out, Variant{"limits-" + p, LimitsService(p)})

		// Unsupervised, with a nice value below 0, which only root may
		// set, and limits the shell inits cannot enforce.
		bareLimits := bare
		bareLimits.Name = "barelimits"
		bareLimits.Limits = initsys.Limits{MemoryMax: 1 << 30, CPUWeight: 10000, Nice: Nice(-20)}
		out = append(out, Variant{"limits-never-" + p, bareLimits})
	}
	return out
}

// Limits are the limits LimitsService sets, each unlike the default an
// init gives a service. The nice value is below 0, which only root may
// set: an init must set it before it switches to the service user.
var Limits = initsys.Limits{OpenFiles: 4321, MemoryMax: 256 << 20, CPUWeight: 50, Nice: Nice(-5)}

// LimitsService is the representative service with every limit set.
func LimitsService(profile string) initsys.Service {
	s := Crashwatch()
	s.Name = "limitwatch"
	s.Profile = profile
	s.Limits = Limits
	return s
}

// Nice returns a pointer to n, for initsys.Limits.Nice.
func Nice(n int) *int { return &n }

// EnvFileService is the representative service reading a per-host
// settings file, whose words expand: $FLAGS split, ${LABEL} as one word,
// "$HOME" (not declared) literal.
func EnvFileService(profile string) initsys.Service {
	s := Crashwatch()
	s.Name = "flagwatch"
	s.Exec = "/usr/bin/flag_watch"
	s.Profile = profile
	s.Args = []string{"--fixed", "$FLAGS", "${LABEL}", "$HOME", "${NOT_DECLARED}"}
	s.Environment = map[string]string{"FLAGS": "--from-unit", "LABEL": "unit label"}
	s.EnvironmentFile = "/etc/default/flagwatch"
	return s
}

// EnvFile is what a host's settings file sets for EnvFileService, and
// EnvFileArgs the arguments the daemon must then get under every init:
// $FLAGS split at blanks and not globbed, ${LABEL} one word.
const EnvFile = "# settings\nFLAGS=\"--one --two=*  --three\"\nLABEL=\"a label  with  blanks\"\n"

// EnvFileArgs are the daemon's arguments under EnvFile, and
// EnvFileDefaultArgs those without the file: the declared defaults.
var (
	EnvFileArgs        = []string{"--fixed", "--one", "--two=*", "--three", "a label  with  blanks", "$HOME", "${NOT_DECLARED}"}
	EnvFileDefaultArgs = []string{"--fixed", "--from-unit", "unit label", "$HOME", "${NOT_DECLARED}"}
)

// Dirs are directories of every kind for s: a state subdirectory and a
// runtime directory systemd can manage, a cache directory with a mode of
// its own, and a root-owned one outside systemd's trees.
func Dirs(s initsys.Service) []initsys.Dir {
	return []initsys.Dir{
		{Path: "/var/lib/" + s.Name + "/textfile", Owner: s.User, Group: s.Group, Mode: 0o750},
		{Path: "/var/cache/" + s.Name, Owner: s.User, Group: s.Group, Mode: 0o700, Purge: true},
		{Path: "/run/" + s.Name, Owner: s.User, Group: s.Group, Mode: 0o755},
		{Path: "/srv/" + s.Name + "/spool", Owner: "root", Group: s.Group, Mode: 0o770},
	}
}

// Need fails the test when a tool is missing: a check that cannot run must
// not pass quietly.
func Need(t *testing.T, tool, hint string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found in PATH; install it (%s) to run this test", tool, hint)
	}
	return p
}

// Render renders s with r and fails on error.
func Render(t *testing.T, r initsys.Renderer, s initsys.Service) []initsys.File {
	t.Helper()
	files, err := r.Render(s)
	if err != nil {
		t.Fatalf("render %s: %v", r.Name(), err)
	}
	return files
}

// File returns the rendered file with the given target.
func File(t *testing.T, files []initsys.File, target string) initsys.File {
	t.Helper()
	for _, f := range files {
		if f.Target == target {
			return f
		}
	}
	var have []string
	for _, f := range files {
		have = append(have, f.Target)
	}
	t.Fatalf("no file %s among %v", target, have)
	return initsys.File{}
}

// WriteTemp writes body to name in a fresh temp dir and returns the path.
func WriteTemp(t *testing.T, name string, body []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, body, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// Run runs a command and returns its combined output and error.
func Run(name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// Shellcheck runs shellcheck on a POSIX sh script.
func Shellcheck(t *testing.T, name string, body []byte) {
	t.Helper()
	Need(t, "shellcheck", "apt-get install shellcheck")
	p := WriteTemp(t, name, body, 0o755)
	if out, err := Run("shellcheck", "-s", "sh", "-S", "style", p); err != nil {
		t.Errorf("shellcheck %s: %v\n%s\n--- script ---\n%s", name, err, out, Numbered(body))
	}
}

// ParseSh checks that every POSIX shell on the machine parses the script.
func ParseSh(t *testing.T, name string, body []byte) {
	t.Helper()
	p := WriteTemp(t, name, body, 0o755)
	for _, sh := range [][]string{{"sh", "-n"}, {"dash", "-n"}, {"busybox", "sh", "-n"}} {
		Need(t, sh[0], "apt-get install "+sh[0])
		if out, err := Run(sh[0], append(sh[1:], p)...); err != nil {
			t.Errorf("%s %s: %v\n%s", strings.Join(sh, " "), name, err, out)
		}
	}
}

// Numbered prefixes lines with their numbers, for failure messages.
func Numbered(body []byte) string {
	var b strings.Builder
	for i, l := range strings.Split(string(body), "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

// HasLine reports whether body contains line exactly.
func HasLine(body []byte, line string) bool {
	return slices.Contains(strings.Split(string(body), "\n"), line)
}

// GlobBait creates, in each directory, a file the "--two=*" word of
// EnvFile matches, so a script that globs $FLAGS passes the wrong words.
func GlobBait(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "--two=globbed"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
