package e2e

// Helpers for installer_test.go: signed releases of the example agent, a
// loopback HTTP server that publishes them, crafted (attacking) releases,
// and checks on a host's state.

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
)

const keyPassword = "e2e-installer-only"

// installFixture is what every installer test shares: two signed releases
// (v1 signed an hour before v2, so v2's release_version is higher), the
// keys, another key set, and the server that publishes them.
type installFixture struct {
	work       string
	keys       *pipeline.Keys
	otherKeys  *pipeline.Keys
	srv        *releaseServer
	v1, v2     *release
	installSh  []byte // dist/install.sh as built, for channel 0
	defaultURL string // the base_url built into installSh
}

// newInstallFixture builds the fixture; the caller removes work when done.
func newInstallFixture(t *testing.T) *installFixture {
	t.Helper()
	work, err := os.MkdirTemp("", "omnipack-e2e-installer-*")
	if err != nil {
		t.Fatal(err)
	}
	fx := &installFixture{work: work}
	t.Cleanup(func() { os.RemoveAll(work) })
	fx.srv = newReleaseServer()
	t.Cleanup(fx.srv.Close)
	fx.defaultURL = fx.srv.URL() + "/c/0"

	var wg sync.WaitGroup
	var errKeys, errOther error
	wg.Add(2)
	go func() { defer wg.Done(); fx.keys, errKeys = makeKeys(filepath.Join(work, "keys")) }()
	go func() { defer wg.Done(); fx.otherKeys, errOther = makeKeys(filepath.Join(work, "other-keys")) }()
	wg.Wait()
	if errKeys != nil || errOther != nil {
		t.Fatalf("keys: %v %v", errKeys, errOther)
	}
	now := time.Now()
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if fx.v1, err = buildSignedRelease(work, v1, "", fx.defaultURL, fx.keys, now.Add(-time.Hour)); err != nil {
		t.Fatalf("building signed %s: %v", v1, err)
	}
	if fx.v2, err = buildSignedRelease(work, v2, v2ConfigTag+"\n", fx.defaultURL, fx.keys, now); err != nil {
		t.Fatalf("building signed %s: %v", v2, err)
	}
	if fx.installSh, err = os.ReadFile(filepath.Join(fx.v1.dir, "install.sh")); err != nil {
		t.Fatalf("the signed build wrote no install.sh: %v", err)
	}
	if fx.v1.m.ReleaseVersion >= fx.v2.m.ReleaseVersion {
		t.Fatalf("release versions do not increase: %d, %d", fx.v1.m.ReleaseVersion, fx.v2.m.ReleaseVersion)
	}
	return fx
}

func makeKeys(dir string) (*pipeline.Keys, error) {
	if _, err := signing.Generate(dir, []byte(keyPassword), false); err != nil {
		return nil, err
	}
	return pipeline.LoadKeys(dir, "omnipack", []byte(keyPassword))
}

// buildSignedRelease builds the example like buildRelease, signed with keys
// at now, with [installer] base_url set and a short health check.
func buildSignedRelease(work, version, configSuffix, baseURL string, keys *pipeline.Keys, now time.Time) (*release, error) {
	return buildExampleRelease(work, version, configSuffix, func(text string) string {
		return replaceLine(text, "base_url = ", fmt.Sprintf("base_url = %q\nhealth_seconds = 3", baseURL))
	}, pipeline.Options{Keys: keys, Now: func() time.Time { return now }})
}

// replaceLine replaces the line starting with prefix.
func replaceLine(text, prefix, repl string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = repl
		}
	}
	return strings.Join(lines, "\n")
}

// releaseServer publishes release directories on 127.0.0.1, one channel
// per test: /c/N/FILE is FILE of channel N's directory.
type releaseServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	channels []*channel
}

// channel is one published location, switched between releases by its
// test. install.sh is served from installSh when set.
type channel struct {
	id  int
	URL string

	mu        sync.Mutex
	dir       string
	installSh []byte
	override  map[string]http.HandlerFunc
	requests  []string
}

func newReleaseServer() *releaseServer {
	s := &releaseServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *releaseServer) URL() string { return s.srv.URL }
func (s *releaseServer) Close()      { s.srv.Close() }

// channel returns channel id, creating the channels up to it.
func (s *releaseServer) channel(id int) *channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.channels) <= id {
		n := len(s.channels)
		s.channels = append(s.channels, &channel{id: n, URL: fmt.Sprintf("%s/c/%d", s.srv.URL, n)})
	}
	return s.channels[id]
}

func (s *releaseServer) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/c/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	idStr, name, _ := strings.Cut(rest, "/")
	id, err := strconv.Atoi(idStr)
	s.mu.Lock()
	if err != nil || id < 0 || id >= len(s.channels) {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	ch := s.channels[id]
	s.mu.Unlock()

	ch.mu.Lock()
	ch.requests = append(ch.requests, name)
	dir, script, h := ch.dir, ch.installSh, ch.override[name]
	ch.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	if name == "install.sh" && script != nil {
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(script))
		return
	}
	clean := path.Clean("/" + name)
	if dir == "" || clean != "/"+name {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(clean)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, name, time.Time{}, f)
}

// publish makes dir the channel's release, with install.sh as built for
// channel 0 but pointing at this channel, and no overrides.
func (c *channel) publish(fx *installFixture, dir string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dir = dir
	c.installSh = fx.installShFor(c)
	c.override = nil
}

// serveInstallSh replaces the channel's install.sh.
func (c *channel) serveInstallSh(data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.installSh = data
}

// handle overrides what the channel serves for one file.
func (c *channel) handle(name string, h http.HandlerFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.override == nil {
		c.override = map[string]http.HandlerFunc{}
	}
	c.override[name] = h
}

// takeRequests returns and forgets the file names requested so far.
func (c *channel) takeRequests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.requests
	c.requests = nil
	return r
}

// installShFor is dist/install.sh with its built-in base URL pointed at
// channel c: the one line `default_base_url='…'` differs, nothing else.
// For channel 0 it is the build's file byte for byte.
func (fx *installFixture) installShFor(c *channel) []byte {
	from := []byte("default_base_url='" + fx.defaultURL + "'\n")
	to := []byte("default_base_url='" + c.URL + "'\n")
	if bytes.Count(fx.installSh, from) != 1 {
		panic("install.sh does not hold its base URL exactly once")
	}
	return bytes.Replace(fx.installSh, from, to, 1)
}

// craft copies the release at src into a new directory for an attack and
// returns it with the manifest read back.
func (fx *installFixture) craft(t *testing.T, src *release, name string) (string, *manifest.Release) {
	t.Helper()
	dir := filepath.Join(fx.work, "crafted-"+name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Read(filepath.Join(dir, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// debName is the release's amd64 deb.
func debName(t *testing.T, r *release) string {
	t.Helper()
	return filepath.Base(r.artifact(t, "deb"))
}

// endless streams bytes until the client hangs up, announcing no length:
// the "endless data" attack.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	buf := bytes.Repeat([]byte{0x5a}, 64<<10)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := w.Write(buf); err != nil {
			return
		}
		if err := r.Context().Err(); err != nil {
			return
		}
	}
}

// installCmd is the documented install command, through curl or wget,
// against the channel, with args for the script.
func installCmd(fetcher string, c *channel, args string) string {
	switch fetcher {
	case "wget":
		return fmt.Sprintf("wget -qO- %s/install.sh | sh -s -- %s", c.URL, args)
	default:
		return fmt.Sprintf("curl -fsSL %s/install.sh | sh -s -- %s", c.URL, args)
	}
}

// assertPristine fails unless the host holds no trace of the agent: no
// package (in any dpkg state), config, binary, record or account.
func assertPristine(t *testing.T, h *host.Host, what string) {
	t.Helper()
	for _, check := range []struct{ cmd, says string }{
		{"dpkg -s " + agent, "the package is known to dpkg"},
		{"test -e /etc/" + agent, "/etc/" + agent + " exists"},
		{"test -e /usr/bin/" + agent, "/usr/bin/" + agent + " exists"},
		{"test -e /var/lib/" + agent, "/var/lib/" + agent + " exists"},
		{"test -e /var/lib/omnipack/" + agent + ".release", "the installer's record exists"},
		{"getent passwd " + agent, "the user exists"},
		{"getent group " + agent, "the group exists"},
		{"pgrep -x " + agent, "the agent runs"},
	} {
		if out, err := h.Run(t, check.cmd); err == nil {
			t.Errorf("%s: host changed: %s (%s):\n%s", what, check.says, check.cmd, out)
		}
	}
}

// hostState is what must not change when an attack on an installed host
// is refused.
func hostState(t *testing.T, h *host.Host) string {
	t.Helper()
	return h.MustRun(t, "dpkg-query -W -f='${Status} ${Version}\\n' "+agent+
		"; cat /var/lib/omnipack/"+agent+".release; md5sum /etc/"+agent+"/"+agent+".toml /usr/bin/"+agent+"; pgrep -x "+agent)
}

// needle writes secret into a file in the host, so that greps for it carry
// only the file's name in their own arguments.
func needle(t *testing.T, h *host.Host, secret string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "needle")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.CopyIn(t, p, "/var/tmp/needle")
	return "/var/tmp/needle"
}

// assertSecretHidden checks that secret is in no process's arguments or
// environment on the host, in particular not the agent's, and not in out.
func assertSecretHidden(t *testing.T, h *host.Host, secret, out, what string) {
	t.Helper()
	if strings.Contains(out, secret) {
		t.Errorf("%s: the secret appears in the installer's output:\n%s", what, out)
	}
	n := needle(t, h, secret)
	if hits, err := h.Run(t, "grep -lsF -f "+n+" /proc/[0-9]*/cmdline /proc/[0-9]*/environ"); err == nil {
		t.Errorf("%s: the secret is in the arguments or environment of: %s", what, hits)
	}
	if pid, err := h.Run(t, "pgrep -x "+agent); err == nil {
		argv := h.MustRun(t, "tr '\\0' ' ' </proc/"+strings.Fields(pid)[0]+"/cmdline")
		if strings.Contains(argv, secret) {
			t.Errorf("%s: the agent's argv holds the secret: %s", what, argv)
		}
	}
}

// writeFile writes data to path, failing the test on error.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDist copies the top-level files of a release directory into the
// host at dir, for --offline.
func copyDist(t *testing.T, h *host.Host, r *release, dir string) {
	t.Helper()
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			h.CopyIn(t, filepath.Join(r.dir, e.Name()), dir+"/"+e.Name())
		}
	}
}

// assertDryRunsAgree runs omnipack install --dry-run on the host against
// the release ch serves, as install.sh's dry run shOut did, and requires
// the same plan lines: the artifact, the action, the package manager, the
// running init the host's own detection found, and every command.
func assertDryRunsAgree(t *testing.T, fx *installFixture, h *host.Host, ch *channel, shOut, args string) {
	t.Helper()
	if _, err := os.Stat(h.Path("/usr/local/bin/omnipack")); err != nil {
		h.CopyIn(t, omnipackCLI(t), "/usr/local/bin/omnipack")
		h.CopyIn(t, filepath.Join(fx.keys.Dir, signing.ReleasePubFile), "/var/tmp/release.pub")
	}
	goOut, err := h.Run(t, "omnipack install --dry-run --key /var/tmp/release.pub "+args+" "+ch.URL+" 2>&1")
	if err != nil {
		t.Fatalf("omnipack install --dry-run: %v\n%s", err, goOut)
	}
	plan := func(out string) []string {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "plan: ") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	sh, goPlan := plan(shOut), plan(goOut)
	if len(goPlan) == 0 || !slices.Equal(sh, goPlan) {
		t.Errorf("install.sh and omnipack install plan differently on %s\n--- install.sh:\n%s\n--- omnipack install:\n%s",
			h.Variant(), strings.Join(sh, "\n"), goOut)
	}
}
