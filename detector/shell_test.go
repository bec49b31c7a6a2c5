package detector

// Helpers that run scripts/installer/detect.sh under each POSIX shell, so
// every test can hold the shell's answers equal to Detect's.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/scripts/installer"
)

// need fails the test when a tool is missing: a check that cannot run must
// not pass quietly.
func need(t testing.TB, tool, hint string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found in PATH; install it (%s) to run this test", tool, hint)
	}
	return p
}

// shell is one way to run detect.sh.
type shell struct {
	name string
	argv []string // the shell command; the script and its arguments follow
	path string   // PATH for the script; empty keeps the test's
}

// shells returns dash, BusyBox ash and bash. BusyBox runs with a PATH of
// BusyBox applets only, as on Alpine, so detect.sh is also tested against
// BusyBox's readlink, od, dd, grep and sed; withHostPath keeps the
// machine's PATH instead (the host test needs dpkg and systemd-detect-virt
// in every shell).
func shells(t testing.TB, withHostPath bool) []shell {
	t.Helper()
	need(t, "dash", "apt-get install dash")
	need(t, "bash", "apt-get install bash")
	bb := need(t, "busybox", "apt-get install busybox")
	list := []shell{
		{name: "dash", argv: []string{"dash"}},
		{name: "busybox", argv: []string{"busybox", "sh"}},
		{name: "bash", argv: []string{"bash"}},
	}
	if withHostPath {
		return list
	}
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	dir := t.TempDir()
	for _, applet := range strings.Fields(string(out)) {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	list[1].path = dir
	return list
}

// scripts writes detect.sh and detect-only.sh, as embedded, to a temp dir
// and returns their paths.
func scripts(t testing.TB) (detectSh, detectOnly string) {
	t.Helper()
	dir := t.TempDir()
	detectSh = filepath.Join(dir, "detect.sh")
	detectOnly = filepath.Join(dir, "detect-only.sh")
	if err := os.WriteFile(detectSh, []byte(installer.DetectSh), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(detectOnly, []byte(installer.DetectOnlySh), 0o755); err != nil {
		t.Fatal(err)
	}
	return detectSh, detectOnly
}

// runShell runs script with args under sh and returns stdout, stderr and the
// exit code.
func runShell(t *testing.T, sh shell, script string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	argv := append(append(append([]string{}, sh.argv...), script), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if sh.path != "" {
		cmd.Env = append(os.Environ(), "PATH="+sh.path)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %s: %v", sh.name, script, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// detectOnly runs detect-only.sh under sh and returns what it printed. It
// must succeed and print nothing on stderr.
func detectOnly(t *testing.T, sh shell, script string, args ...string) string {
	t.Helper()
	out, errOut, code := runShell(t, sh, script, args...)
	if code != 0 || errOut != "" {
		t.Fatalf("%s detect-only.sh %s: exit %d\nstderr:\n%s\nstdout:\n%s", sh.name, strings.Join(args, " "), code, errOut, out)
	}
	return out
}

// agree runs Detect and detect-only.sh (every shell) on root and fails
// unless all print the same facts. It returns Detect's.
func agree(t *testing.T, root string, shs []shell, script string) Facts {
	t.Helper()
	f, err := Detect(root)
	if err != nil {
		t.Fatalf("Detect(%s): %v", root, err)
	}
	for _, sh := range shs {
		if got := detectOnly(t, sh, script, "--root", root); got != f.Text() {
			t.Errorf("%s and Go disagree on %s:\n--- %s\n%s--- Go\n%s", sh.name, root, sh.name, got, f.Text())
		}
	}
	return f
}

// lines parses key=value output, splitting the package line in two.
func lines(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(line, "package_format=") {
			pf, pm, _ := strings.Cut(line, " ")
			m["package_format"] = strings.TrimPrefix(pf, "package_format=")
			m["package_manager"] = strings.TrimPrefix(pm, "package_manager=")
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		m[k] = v
	}
	return m
}

// writeTree creates files under root: a value starting with "->" makes a
// symlink to the rest, "dir" a directory, anything else a file with that
// body, executable when its path is under a bin or sbin directory.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		body := files[name]
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(body, "->"):
			err = os.Symlink(strings.TrimPrefix(body, "->"), p)
		case body == "dir":
			err = os.MkdirAll(p, 0o755)
		default:
			mode := os.FileMode(0o644)
			if strings.Contains("/"+name, "bin/") {
				mode = 0o755
			}
			err = os.WriteFile(p, []byte(body), mode)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
