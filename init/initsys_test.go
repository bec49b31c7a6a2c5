package initsys

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// crashwatch is the representative service: an unprivileged user that keeps
// one capability, arguments and environment that need quoting in every
// format, and a reload signal.
func crashwatch() Service {
	return Service{
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
		Restart:      RestartOnFailure,
		RestartSec:   5,
		AfterNetwork: true,
		Capabilities: []string{"CAP_SYSLOG"},
		Profile:      ProfileDefault,
		ReloadSignal: "HUP",
		StopTimeout:  20,
	}
}

// variant is one service shape every renderer is tested with.
type variant struct {
	name string
	svc  Service
}

// variants returns the representative service and the edge cases, each in
// every profile.
func variants() []variant {
	var out []variant
	for _, p := range Profiles {
		full := crashwatch()
		full.Profile = p
		out = append(out, variant{"crashwatch-" + p, full})

		root := crashwatch()
		root.Name = "rootwatch"
		root.User, root.Group = "root", "root"
		root.Capabilities = nil
		root.Profile = p
		out = append(out, variant{"root-" + p, root})

		bare := Service{Name: "bare", Exec: "/usr/sbin/bare", User: "bare", Restart: RestartNever, Profile: p}
		out = append(out, variant{"bare-never-" + p, bare})

		always := crashwatch()
		always.Name = "netwatch"
		always.Args = nil
		always.Restart = RestartAlways
		always.RestartSec = 0
		always.ReloadSignal = ""
		always.AfterNetwork = false
		always.Capabilities = []string{"cap_net_raw", "CAP_NET_BIND_SERVICE"}
		always.Profile = p
		out = append(out, variant{"always-caps-" + p, always})
	}
	return out
}

// need fails the test when a tool is missing: a check that cannot run must
// not pass quietly.
func need(t *testing.T, tool, hint string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found in PATH; install it (%s) to run this test", tool, hint)
	}
	return p
}

// render renders s with the named renderer and fails on error.
func render(t *testing.T, initName string, s Service) []File {
	t.Helper()
	r, ok := Lookup(initName)
	if !ok {
		t.Fatalf("renderer %q not registered", initName)
	}
	files, err := r.Render(s)
	if err != nil {
		t.Fatalf("render %s: %v", initName, err)
	}
	return files
}

// file returns the rendered file with the given target.
func file(t *testing.T, files []File, target string) File {
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
	return File{}
}

// writeTemp writes body to name in a fresh temp dir and returns the path.
func writeTemp(t *testing.T, name string, body []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, body, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs a command and returns its combined output and error.
func run(name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// shellcheck runs shellcheck on a POSIX sh script.
func shellcheck(t *testing.T, name string, body []byte) {
	t.Helper()
	need(t, "shellcheck", "apt-get install shellcheck")
	p := writeTemp(t, name, body, 0o755)
	if out, err := run("shellcheck", "-s", "sh", "-S", "style", p); err != nil {
		t.Errorf("shellcheck %s: %v\n%s\n--- script ---\n%s", name, err, out, numbered(body))
	}
}

// parseSh checks that every POSIX shell on the machine parses the script.
func parseSh(t *testing.T, name string, body []byte) {
	t.Helper()
	p := writeTemp(t, name, body, 0o755)
	for _, sh := range [][]string{{"sh", "-n"}, {"dash", "-n"}, {"busybox", "sh", "-n"}} {
		need(t, sh[0], "apt-get install "+sh[0])
		if out, err := run(sh[0], append(sh[1:], p)...); err != nil {
			t.Errorf("%s %s: %v\n%s", strings.Join(sh, " "), name, err, out)
		}
	}
}

// numbered prefixes lines with their numbers, for failure messages.
func numbered(body []byte) string {
	var b strings.Builder
	for i, l := range strings.Split(string(body), "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

// hasLine reports whether body contains line exactly.
func hasLine(body []byte, line string) bool {
	return slices.Contains(strings.Split(string(body), "\n"), line)
}

func TestRegistryOrder(t *testing.T) {
	want := []string{"systemd", "openrc", "upstart", "runit", "sysvinit"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestRenderDeterministic(t *testing.T) {
	for _, r := range All() {
		for _, v := range variants() {
			a, err := r.Render(v.svc)
			if err != nil {
				t.Fatalf("%s %s: %v", r.Name(), v.name, err)
			}
			for range 5 {
				b, _ := r.Render(v.svc)
				if len(a) != len(b) {
					t.Fatalf("%s %s: file count differs between renders", r.Name(), v.name)
				}
				for i := range a {
					if a[i].Target != b[i].Target || a[i].Mode != b[i].Mode || !bytes.Equal(a[i].Body, b[i].Body) {
						t.Fatalf("%s %s: %s differs between renders", r.Name(), v.name, a[i].Target)
					}
				}
			}
			for _, f := range a {
				if !filepath.IsAbs(f.Target) {
					t.Errorf("%s %s: target %q is not absolute", r.Name(), v.name, f.Target)
				}
			}
		}
	}
}

func TestRenderRejects(t *testing.T) {
	bad := map[string]func(*Service){
		"name":     func(s *Service) { s.Name = "Bad Name" },
		"exec":     func(s *Service) { s.Exec = "crashwatch" },
		"newline":  func(s *Service) { s.Args = []string{"a\nb"} },
		"env name": func(s *Service) { s.Environment = map[string]string{"A-B": "x"} },
		"user":     func(s *Service) { s.User = "x;rm" },
		"profile":  func(s *Service) { s.Profile = "paranoid" },
		"restart":  func(s *Service) { s.Restart = "sometimes" },
		"signal":   func(s *Service) { s.ReloadSignal = "KILL" },
		"cap":      func(s *Service) { s.Capabilities = []string{"CAP_sys-admin"} },
	}
	for what, mutate := range bad {
		s := crashwatch()
		mutate(&s)
		for _, r := range All() {
			if _, err := r.Render(s); err == nil {
				t.Errorf("%s accepted a bad %s", r.Name(), what)
			}
		}
	}
}
