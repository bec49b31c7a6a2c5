package installer_test

// Fixtures for the installer's unit tier: throw-away keys, a small signed
// release of made-up packages served from 127.0.0.1, the rendered
// install.sh, and PATHs of stub, BusyBox and reduced tool sets.

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/scripts/installer"
	"github.com/omnipack/omnipack/signing"
)

const (
	pkgName  = "crashwatch"
	password = "installer-unit-test"
)

// fixture is built once for the package's tests.
type fixture struct {
	dir       string // holds keys, releases, scripts
	keys      *pipeline.Keys
	otherKeys *pipeline.Keys
	srv       *server
	release   string // a signed release directory
	script    string // install.sh for srv's base URL
	params    installer.Params
	// format and arch are what --detect-only says about this machine; the
	// release has a package for every format and both architectures.
	format, arch string
}

var (
	fxOnce sync.Once
	fx     *fixture
	fxErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fx != nil {
		fx.srv.Close()
		os.RemoveAll(fx.dir)
	}
	os.Exit(code)
}

// getFixture returns the shared fixture, building it on first use.
func getFixture(t *testing.T) *fixture {
	t.Helper()
	fxOnce.Do(func() { fx, fxErr = newFixture() })
	if fxErr != nil {
		t.Fatalf("fixture: %v", fxErr)
	}
	return fx
}

func newFixture() (*fixture, error) {
	dir, err := os.MkdirTemp("", "omnipack-installer-test-*")
	if err != nil {
		return nil, err
	}
	f := &fixture{dir: dir, srv: newServer()}
	var wg sync.WaitGroup
	var e1, e2 error
	wg.Add(2)
	go func() { defer wg.Done(); f.keys, e1 = genKeys(filepath.Join(dir, "keys")) }()
	go func() { defer wg.Done(); f.otherKeys, e2 = genKeys(filepath.Join(dir, "other")) }()
	wg.Wait()
	if e1 != nil || e2 != nil {
		return nil, errors.Join(e1, e2)
	}
	f.params, err = params(f.keys, f.srv.URL())
	if err != nil {
		return nil, err
	}
	data, err := installer.Render(f.params)
	if err != nil {
		return nil, err
	}
	f.script = filepath.Join(dir, "install.sh")
	if err := os.WriteFile(f.script, data, 0o644); err != nil {
		return nil, err
	}
	out, err := exec.Command("dash", f.script, "--detect-only").Output()
	if err != nil {
		return nil, err
	}
	for _, w := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(w, "package_format="); ok {
			f.format = v
		}
		if v, ok := strings.CutPrefix(w, "arch="); ok {
			f.arch = v
		}
	}
	f.release = filepath.Join(dir, "release")
	if err := makeRelease(f.release, f.keys, "1.0.0", time.Now()); err != nil {
		return nil, err
	}
	f.srv.publish(f.release)
	return f, nil
}

func genKeys(dir string) (*pipeline.Keys, error) {
	if _, err := signing.Generate(dir, []byte(password), false); err != nil {
		return nil, err
	}
	return pipeline.LoadKeys(dir, "omnipack", []byte(password))
}

// params are the crashwatch example's installer parameters with keys and
// base URL.
func params(k *pipeline.Keys, baseURL string) (installer.Params, error) {
	read := func(n string) []byte {
		b, _ := os.ReadFile(filepath.Join(k.Dir, n))
		return b
	}
	p := installer.Params{
		Name: pkgName, Version: "1.0.0", BaseURL: baseURL,
		ConfigPath: "/etc/crashwatch/crashwatch.toml", ConfigGroup: pkgName, EnvGroup: pkgName,
		Positional: []string{"auth_key", "node_id"}, Secrets: []string{"auth_key"},
		HealthSeconds: 3, ExecName: pkgName,
		ReleasePub: read(signing.ReleasePubFile), PGPPub: read(signing.PGPPubFile),
		APKKeyName: k.APKKeyName, APKPub: read(signing.APKPubFile),
		Generator: "installer tests",
	}
	svc := initsys.Service{Name: pkgName, Exec: "/usr/bin/crashwatch", User: pkgName, Group: pkgName,
		StateDir: "/var/lib/crashwatch", ConfigDir: "/etc/crashwatch", WorkingDir: "/var/lib/crashwatch",
		Restart: "always", RestartSec: 2, Profile: "default", StopTimeout: 10}
	p.Inits = installer.InitsFor(svc, inits.Names())
	p.Formats = installer.FormatsFor(pkgName, nil, k.APKKeyName)
	return p, nil
}

// packages are the made-up artifacts of a test release: every format for
// amd64 and arm64, named as omnipack names them.
func packages(version string) []manifest.Artifact {
	var out []manifest.Artifact
	for _, a := range []struct{ arch, deb, rpm, apk, pac string }{
		{"amd64", "amd64", "x86_64", "x86_64", "x86_64"},
		{"arm64", "arm64", "aarch64", "aarch64", "aarch64"},
	} {
		out = append(out,
			manifest.Artifact{Name: pkgName + "_" + version + "-1_" + a.deb + ".deb", Format: "deb", Arch: a.arch, Version: version + "-1"},
			manifest.Artifact{Name: pkgName + "-" + version + "-1." + a.rpm + ".rpm", Format: "rpm", Arch: a.arch, Version: version + "-1"},
			manifest.Artifact{Name: pkgName + "_" + version + "-r1_" + a.apk + ".apk", Format: "apk", Arch: a.arch, Version: version + "-r1"},
			manifest.Artifact{Name: pkgName + "-" + version + "-1-" + a.pac + ".pkg.tar.zst", Format: "archlinux", Arch: a.arch, Version: version + "-1"},
			manifest.Artifact{Name: pkgName + "_" + version + "-1_linux_" + a.arch + ".tar.gz", Format: "tarball", Arch: a.arch, Version: version + "-1"},
		)
	}
	// Each package names its environment file, as a build with [service]
	// environment_file = true does.
	for i := range out {
		f, _ := formats.Lookup(out[i].Format)
		out[i].EnvironmentFile = f.Rule().EnvironmentFile(pkgName)
	}
	// Like the provenance: no architecture.
	out = append(out, manifest.Artifact{Name: "provenance.intoto.jsonl", Format: "provenance", Version: version})
	return out
}

// makeRelease writes random package files and a manifest signed at now.
func makeRelease(dir string, k *pipeline.Keys, version string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rel := &manifest.Release{Schema: manifest.SchemaVersion, Name: pkgName, Version: version, Release: 1,
		SourceDateEpoch: 1700000000, Inits: inits.Names()}
	for _, a := range packages(version) {
		data := make([]byte, 2000+len(a.Name)*37)
		rand.Read(data)
		p := filepath.Join(dir, a.Name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		a.OS = "linux"
		a.Size, a.SHA256, _ = manifest.Digest(p)
		rel.Artifacts = append(rel.Artifacts, a)
	}
	return pipeline.SignRelease(dir, rel, k, 0, now, 24*time.Hour)
}

// copyRelease copies a release directory (files only) for crafting.
func copyRelease(t *testing.T, src string) (string, *manifest.Release) {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			data, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := manifest.Read(filepath.Join(dst, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return dst, m
}

// chosen is the artifact install.sh must pick on this machine.
func (f *fixture) chosen(t *testing.T, version string) string {
	t.Helper()
	for _, a := range packages(version) {
		if a.Format == f.format && a.Arch == f.arch {
			return a.Name
		}
	}
	t.Fatalf("this machine (%s/%s) has no package in the test release", f.format, f.arch)
	return ""
}

// server serves one directory on 127.0.0.1, or overrides per file; it
// counts requests.
type server struct {
	srv      *httptest.Server
	mu       sync.Mutex
	dir      string
	override map[string]http.HandlerFunc
	requests int
}

func newServer() *server {
	s := &server{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *server) URL() string { return s.srv.URL }
func (s *server) Close()      { s.srv.Close() }

func (s *server) publish(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dir, s.override = dir, nil
}

func (s *server) handle(name string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.override == nil {
		s.override = map[string]http.HandlerFunc{}
	}
	s.override[name] = h
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	dir := s.dir
	name := strings.TrimPrefix(r.URL.Path, "/")
	h := s.override[name]
	s.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	if path.Clean("/"+name) != "/"+name {
		http.NotFound(w, r)
		return
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// need fails the test when a tool is missing: a check that cannot run must
// not pass quietly.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found in PATH; install it (.ci/prereqs) to run this test", tool)
		}
	}
}

// mutating are the tools that change a host. In the unit tier they are
// stubs that only record being called, so a broken --dry-run cannot touch
// the machine the tests run on, and the log shows it.
var mutating = []string{
	"apt-get", "apt", "dpkg", "dnf", "yum", "tdnf", "zypper", "rpm", "apk", "pacman",
	"systemctl", "rc-service", "rc-update", "service", "sv", "initctl", "update-rc.d",
	"useradd", "userdel", "groupadd", "groupdel", "adduser", "deluser", "addgroup", "delgroup",
	"chown",
}

// stubDir writes a stub for each name that appends "NAME ARGS" to log and
// fails, and returns the directory.
func stubDir(t *testing.T, log string, names []string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		body := "#!/bin/sh\necho \"" + n + " $*\" >>'" + log + "'\nexit 1\n"
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readOnly are the calls of stubbed tools that only ask: detection asks
// the package tool for the architecture and initctl whether upstart runs;
// the installer asks the package manager whether the package is installed.
var readOnly = []string{"dpkg --print-architecture", "initctl version", "rpm --eval %_arch", "apk --print-arch",
	"pacman-conf Architecture", "rpm -q " + pkgName, "apk info -e " + pkgName, "pacman -Q " + pkgName}

// changingCalls returns the logged stub calls that are not read-only.
func changingCalls(t *testing.T, log string) string {
	t.Helper()
	data, _ := os.ReadFile(log)
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l != "" && !slices.Contains(readOnly, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// busyboxDir is a directory of BusyBox applets, plus links to extra host
// tools (for example openssl), as on a minimal Alpine host.
func busyboxDir(t *testing.T, extra ...string) string {
	t.Helper()
	need(t, "busybox")
	bb, _ := exec.LookPath("busybox")
	out, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, applet := range strings.Fields(string(out)) {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range extra {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s not found", tool)
		}
		os.Remove(filepath.Join(dir, tool))
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// hostDirWithout links every tool of the machine's PATH except the named
// ones into a directory: a host without openssl, say.
func hostDirWithout(t *testing.T, without ...string) string {
	t.Helper()
	dir := t.TempDir()
	skip := map[string]bool{}
	for _, w := range without {
		skip[w] = true
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if skip[e.Name()] {
				continue
			}
			dst := filepath.Join(dir, e.Name())
			if _, err := os.Lstat(dst); err == nil {
				continue
			}
			os.Symlink(filepath.Join(d, e.Name()), dst)
		}
	}
	return dir
}

// shell is one way to run install.sh.
type shell struct {
	name string
	argv []string
}

func shells(t *testing.T) []shell {
	t.Helper()
	need(t, "dash", "bash", "busybox")
	return []shell{{"dash", []string{"dash"}}, {"bash", []string{"bash"}}, {"busybox", []string{"busybox", "sh"}}}
}

// result is one run of install.sh.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) out() string { return r.stdout + r.stderr }

// run runs script under sh with args, PATH set to path (empty: the test's),
// extra environment, in dir (empty: a temp dir).
func run(t *testing.T, sh shell, script, path string, env []string, args ...string) result {
	t.Helper()
	argv := append(append(append([]string{}, sh.argv...), script), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	if path != "" {
		cmd.Env = append(cmd.Env, "PATH="+path)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s: %v", sh.name, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// awkProgram extracts one of install-main.sh's awk programs (NAME='…').
func awkProgram(t *testing.T, name string) string {
	t.Helper()
	start := strings.Index(installer.MainSh, "\n"+name+"='\n")
	if start < 0 {
		t.Fatalf("install-main.sh has no %s", name)
	}
	body := installer.MainSh[start+len(name)+4:]
	end := strings.Index(body, "\n'\n")
	if end < 0 {
		t.Fatalf("%s is not terminated", name)
	}
	return body[:end+1]
}

// awks returns the awk implementations to test: the machine's awk (mawk on
// Debian), BusyBox awk, and gawk when installed.
func awks(t *testing.T) map[string][]string {
	t.Helper()
	need(t, "awk", "busybox")
	m := map[string][]string{"awk": {"awk"}, "busybox": {"busybox", "awk"}}
	if _, err := exec.LookPath("gawk"); err == nil {
		m["gawk"] = []string{"gawk"}
	}
	return m
}
