package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
)

// The signing tier checks a signed release with the tools an admin would
// use, never with omnipack's own code. These helpers build that release
// once, and a second one signed with other keys, and run the tools with a
// private HOME and GNUPGHOME.

// signPassword protects the keys of the signed fixture releases.
const signPassword = "e2e-signing-fixture-pw"

// signedRelease is a release built with keys.
type signedRelease struct {
	dir  string // dist
	keys *pipeline.Keys
	m    *manifest.Release
}

// file returns the path of the amd64 artifact of one format: deb, rpm, apk,
// archlinux, signature (the Arch .sig).
func (r *signedRelease) file(t *testing.T, format string) string {
	t.Helper()
	for _, a := range r.m.Artifacts {
		if a.Format == format && a.Arch == "amd64" {
			return filepath.Join(r.dir, a.Name)
		}
	}
	t.Fatalf("signed release has no %s artifact for amd64", format)
	return ""
}

// pub returns the path of a public key the release published in dist/keys.
func (r *signedRelease) pub(name string) string {
	return filepath.Join(r.dir, pipeline.KeysDir, name)
}

func (r *signedRelease) apkPub() string { return r.pub(r.keys.APKKeyName + ".rsa.pub") }

var (
	signedOnce              sync.Once
	signedMain, signedOther *signedRelease
	signedErr               error

	cliOnce sync.Once
	cliPath string
	cliErr  error

	cosignOnce sync.Once
	cosignPath string
	cosignErr  error

	goDirsOnce sync.Once
	goDirs     []string
)

// signedWork is a directory that lives as long as the test binary: inside
// the directory TestMain builds the unsigned releases in, which it removes
// when the tests are done.
func signedWork() (string, error) {
	if releaseV1 == nil {
		return "", errors.New("TestMain did not build the unsigned releases")
	}
	dir := filepath.Join(filepath.Dir(releaseV1.dir), "signing")
	return dir, os.MkdirAll(dir, 0o755)
}

// signedReleases builds, once, the example release signed with fresh keys
// (main) and the same release signed with other fresh keys (other), whose
// signatures the tools must refuse under main's keys.
func signedReleases(t *testing.T) (main, other *signedRelease) {
	t.Helper()
	signedOnce.Do(func() {
		var work string
		if work, signedErr = signedWork(); signedErr != nil {
			return
		}
		var wg sync.WaitGroup
		var errMain, errOther error
		wg.Add(2)
		go func() { defer wg.Done(); signedMain, errMain = buildSigned(work, "main") }()
		go func() { defer wg.Done(); signedOther, errOther = buildSigned(work, "other") }()
		wg.Wait()
		signedErr = errors.Join(errMain, errOther)
	})
	if signedErr != nil {
		t.Fatalf("building the signed example releases: %v", signedErr)
	}
	return signedMain, signedOther
}

func buildSigned(work, name string) (*signedRelease, error) {
	keyDir := filepath.Join(work, name+"-keys")
	if _, err := signing.Generate(keyDir, []byte(signPassword), false); err != nil {
		return nil, err
	}
	cfgPath, err := prepareExample(filepath.Join(work, name+"-src"))
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	owner := cfg.Project.Vendor
	if owner == "" {
		owner = cfg.Project.Name
	}
	keys, err := pipeline.LoadKeys(keyDir, owner, []byte(signPassword))
	if err != nil {
		return nil, err
	}
	dist := filepath.Join(work, name+"-dist")
	m, err := pipeline.Run(context.Background(), pipeline.Options{Config: cfg, DistDir: dist, Keys: keys, OmnipackVersion: "test"})
	if err != nil {
		return nil, err
	}
	return &signedRelease{dir: dist, keys: keys, m: m}, nil
}

// omnipackCLI builds the omnipack command once, static, so that it runs
// in the containers too.
func omnipackCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		var work string
		if work, cliErr = signedWork(); cliErr != nil {
			return
		}
		cliPath = filepath.Join(work, "omnipack")
		cmd := exec.Command("go", "build", "-o", cliPath, "./cmd/omnipack")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("go build ./cmd/omnipack: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// The cosign binary the tests use, and how CI makes it (.ci/prereqs).
const (
	cosignCache   = "/var/cache/omnipack-tools"
	cosignModule  = "github.com/sigstore/cosign/v3/cmd/cosign@v3.1.2"
	cosignTimeout = 30 * time.Minute
)

// cosignBinary returns the cached cosign, building it first if it is not
// there. Building takes minutes; a lock file keeps parallel test runs from
// building it twice, and the binary is renamed into place only when whole.
func cosignBinary(t *testing.T) string {
	t.Helper()
	cosignOnce.Do(func() { cosignPath, cosignErr = ensureCosign() })
	if cosignErr != nil {
		t.Fatalf("cosign: %v (fix: run .ci/prereqs as root, or: GOFLAGS= GOBIN=%s go install %s)", cosignErr, cosignCache, cosignModule)
	}
	return cosignPath
}

func ensureCosign() (string, error) {
	bin := filepath.Join(cosignCache, "cosign")
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(cosignCache, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cosignCache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if isExecutable(bin) { // another run built it while this one waited
		return bin, nil
	}
	tmp, err := os.MkdirTemp(cosignCache, ".build-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	ctx, cancel := context.WithTimeout(context.Background(), cosignTimeout)
	defer cancel()
	fmt.Fprintf(os.Stderr, "e2e: building %s into %s (a few minutes, once)\n", cosignModule, cosignCache)
	cmd := exec.CommandContext(ctx, goBin, "install", cosignModule)
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOBIN="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %v\n%s", cosignModule, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "cosign"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// toolEnv is the environment every verifying tool runs in: HOME and
// GNUPGHOME in a temp dir of the test, so that nothing reads or writes
// root's ~/.gnupg, ~/.rpmmacros or ~/.sigstore, and no key password.
func toolEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	gnupg := filepath.Join(home, ".gnupg")
	if err := os.Mkdir(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "HOME", "GNUPGHOME", "TMPDIR", signing.PasswordEnv:
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "GNUPGHOME="+gnupg, "TMPDIR="+home)
	return append(env, goDirEnv()...)
}

// goDirEnv pins Go's cache and module directories, which default to places
// under HOME: omnipack build runs go build, which must find them without
// downloading or rebuilding everything.
func goDirEnv() []string {
	goDirsOnce.Do(func() {
		for _, name := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
			if out, err := exec.Command("go", "env", name).Output(); err == nil {
				if v := strings.TrimSpace(string(out)); v != "" {
					goDirs = append(goDirs, name+"="+v)
				}
			}
		}
	})
	return goDirs
}

// tools runs the independent tools of one test.
type tools struct {
	t   *testing.T
	env []string
}

func newTools(t *testing.T, names ...string) *tools {
	t.Helper()
	for _, n := range names {
		requireTool(t, n)
	}
	return &tools{t: t, env: toolEnv(t)}
}

// run runs a tool and returns its combined output.
func (x *tools) run(name string, args ...string) (string, error) {
	x.t.Helper()
	return x.runIn("", name, args...)
}

func (x *tools) runIn(dir, name string, args ...string) (string, error) {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = x.env, dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ok runs a tool that must succeed and returns its output.
func (x *tools) ok(name string, args ...string) string {
	x.t.Helper()
	out, err := x.run(name, args...)
	if err != nil {
		x.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// fails runs a tool that must fail, saying want (if not empty) in its output.
func (x *tools) fails(want, name string, args ...string) {
	x.t.Helper()
	out, err := x.run(name, args...)
	if err == nil {
		x.t.Errorf("%s %s succeeded, want a failure:\n%s", name, strings.Join(args, " "), out)
		return
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		x.t.Errorf("%s did not run: %v", name, err)
		return
	}
	if want != "" && !strings.Contains(out, want) {
		x.t.Errorf("%s %s failed (%v) without saying %q:\n%s", name, strings.Join(args, " "), err, want, out)
	}
}

// keyring turns an armored OpenPGP public key into the binary keyring gpgv
// reads. gpg does nothing else in this tier.
func (x *tools) keyring(armored string) string {
	x.t.Helper()
	out := filepath.Join(x.t.TempDir(), "keyring.gpg")
	x.ok("sh", "-c", `gpg --batch --dearmor < "$1" > "$2"`, "sh", armored, out)
	return out
}

// writeTemp writes data into a new file in a temp dir of the test.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// flipped copies src into a temp dir of the test, under the same name, with
// the byte at off inverted (off < 0 counts from the end), and returns the
// copy's path.
func flipped(t *testing.T, src string, off int64) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, filepath.Base(src), flip(t, data, off))
}

// flip returns a copy of data with the byte at off inverted.
func flip(t *testing.T, data []byte, off int64) []byte {
	t.Helper()
	if off < 0 {
		off += int64(len(data))
	}
	if off < 0 || off >= int64(len(data)) {
		t.Fatalf("flip: offset %d outside %d bytes", off, len(data))
	}
	out := bytes.Clone(data)
	out[off] ^= 0xff
	return out
}

// apkParts is an apk split at the exact byte offsets where its gzip
// streams end.
type apkParts struct {
	sig, control, data []byte
	controlOff         int64 // where the control stream starts
	dataOff            int64 // where the data stream starts
}

// splitAPK splits an apk into its three gzip streams. A bytes.Reader is an
// io.ByteReader, so gzip reads no further than the end of each stream.
func splitAPK(t *testing.T, data []byte) apkParts {
	t.Helper()
	r := bytes.NewReader(data)
	var offs []int64
	for r.Len() > 0 {
		offs = append(offs, int64(len(data)-r.Len()))
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("apk: gzip stream %d at byte %d: %v", len(offs)-1, offs[len(offs)-1], err)
		}
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatalf("apk: gzip stream %d: %v", len(offs)-1, err)
		}
	}
	if len(offs) != 3 {
		t.Fatalf("signed apk has %d gzip streams, want 3 (signature, control, data)", len(offs))
	}
	return apkParts{
		sig:        data[:offs[1]],
		control:    data[offs[1]:offs[2]],
		data:       data[offs[2]:],
		controlOff: offs[1],
		dataOff:    offs[2],
	}
}

// tarEntries reads the entries of a gzip-compressed tar stream. apk's
// signature and control streams have no end-of-archive marker, so an
// unexpected EOF after the last entry is fine.
func tarEntries(t *testing.T, stream []byte) map[string][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	entries := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return entries
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("tar %s: %v", hdr.Name, err)
		}
		entries[hdr.Name] = body
	}
}

// pacmanKeyring makes a pacman keyring (a gpgdir) holding the armored
// public keys, with only fpr locally signed, so trusted. The gpg-agent
// pacman-key starts in it is stopped when the test ends.
func (x *tools) pacmanKeyring(fpr string, armored ...string) string {
	x.t.Helper()
	requireTool(x.t, "pacman-key")
	requireTool(x.t, "gpgconf")
	g := filepath.Join(x.t.TempDir(), "pacman-gnupg")
	x.t.Cleanup(func() { exec.Command("gpgconf", "--homedir", g, "--kill", "all").Run() })
	x.ok("pacman-key", "--gpgdir", g, "--init")
	for _, a := range armored {
		x.ok("pacman-key", "--gpgdir", g, "--add", a)
	}
	x.ok("pacman-key", "--gpgdir", g, "--lsign-key", fpr)
	return g
}

// pacmanInstall installs pkg (and the PKG.sig beside it, if any) into a
// fresh directory root with SigLevel = Required. --noscriptlet: Debian's
// pacman runs .INSTALL with /bin/sh in the root, which a bare directory
// root lacks (and nfpm writes bash syntax); this tests signatures, not
// scripts, which the lifecycle tier covers.
func (x *tools) pacmanInstall(gpgdir, pkg string) (root, out string, err error) {
	x.t.Helper()
	requireTool(x.t, "pacman")
	work := x.t.TempDir()
	root = filepath.Join(work, "root")
	if err := os.MkdirAll(filepath.Join(root, "var/lib/pacman"), 0o755); err != nil {
		x.t.Fatal(err)
	}
	conf := filepath.Join(work, "pacman.conf")
	if err := os.WriteFile(conf, []byte("[options]\nSigLevel = Required\nLocalFileSigLevel = Required\n"), 0o644); err != nil {
		x.t.Fatal(err)
	}
	out, err = x.run("pacman", "-U", "--noconfirm", "--noscriptlet",
		"--config", conf, "--gpgdir", gpgdir,
		"--root", root, "--dbpath", filepath.Join(root, "var/lib/pacman"),
		"--cachedir", filepath.Join(work, "cache"), "--logfile", filepath.Join(work, "pacman.log"),
		pkg)
	return root, out, err
}
