package archlinux

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/signing"
)

const (
	repoName    = "omnitest"
	keyPassword = "arch-repo-test"
)

// repoKey is an OpenPGP key made once for the tests, with its armored
// public key.
type repoKey struct {
	entity *openpgp.Entity
	pubAsc string // path
}

// newKey makes an OpenPGP key pair in a temp dir of the test.
func newKey(t *testing.T) repoKey {
	t.Helper()
	dir := t.TempDir()
	if _, err := signing.Generate(dir, []byte(keyPassword), false); err != nil {
		t.Fatal(err)
	}
	e, err := signing.LoadPGPEntity(filepath.Join(dir, signing.PGPKeyFile), []byte(keyPassword))
	if err != nil {
		t.Fatal(err)
	}
	return repoKey{entity: e, pubAsc: filepath.Join(dir, signing.PGPPubFile)}
}

func (k repoKey) signer() packaging.RepoSigner {
	return packaging.RepoSigner{Detached: func(body []byte, armored bool) ([]byte, error) {
		return signing.DetachSign(k.entity, bytes.NewReader(body), armored)
	}}
}

// buildProbe builds a signed probe package of version base with a
// binary, a config file and its service files, as omnipack build does.
func buildProbe(t *testing.T, k repoKey, base string) packaging.Result {
	t.Helper()
	src := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arch, _ := config.LookupArch("amd64")
	spec := &packaging.Spec{
		Name: "probe", Version: config.Version{Base: base}, Release: 1, Arch: arch,
		Summary: "probe agent", Description: "probe agent for repository tests", Maintainer: "Ops <ops@example.com>",
		License: "MIT", Homepage: "https://example.com/probe", MTime: time.Unix(1700000000, 0).UTC(),
		Binary:  write("probe", "#!/bin/sh\necho probe "+base+"\n"),
		Configs: []packaging.File{{Source: write("probe.toml", "key = 1\n"), Dest: "/etc/probe/probe.toml", Mode: 0o640, Owner: "root", Group: "root"}},
		Service: initsys.Service{Name: "probe", Exec: "/usr/bin/probe", User: "probe", Group: "probe",
			StateDir: "/var/lib/probe", ConfigDir: "/etc/probe", WorkingDir: "/var/lib/probe",
			Restart: initsys.RestartAlways, Profile: initsys.ProfileDefault, StopTimeout: 10},
		Packages: map[string]packaging.Relations{Name: {Name: "probe", Conflicts: []string{"probe-legacy"},
			Provides: []string{"probe-agent"}, Replaces: []string{"probe-legacy"}}},
		ScratchDir: t.TempDir(),
		StageDir:   t.TempDir(),
		Sign: &packaging.Signer{OpenPGP: func(armored bool) func(io.Reader) ([]byte, error) {
			return signing.PGPSignFn(k.entity, armored)
		}},
	}
	var err error
	if spec.Inits, spec.InitFiles, err = packaging.StageInits(spec.Service, inits.Names(), spec.StageDir); err != nil {
		t.Fatal(err)
	}
	res, err := Format{}.Build(spec, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// repo is a pacman repository tree served on loopback, published as
// omnipack publish does: packages and their .sig copied to their pool
// paths, then the index files written, NAME.db last.
type repo struct {
	t    *testing.T
	root string
	url  string
	pkgs []packaging.RepoPackage
}

func newRepo(t *testing.T, k repoKey) *repo {
	t.Helper()
	r := &repo{t: t, root: t.TempDir()}
	srv := httptest.NewServer(http.FileServer(http.Dir(r.root)))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	copyFile(t, k.pubAsc, filepath.Join(r.root, "keys", "pgp.pub.asc"))
	return r
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// add copies a built package and its .sig into the pool.
func (r *repo) add(res packaging.Result) {
	p := packaging.RepoPackage{Name: "probe", Program: "probe", Version: res.Version, Arch: res.Arch}
	p.Path = Format{}.PoolPath("stable", p)
	copyFile(r.t, res.Path, filepath.Join(r.root, p.Path))
	copyFile(r.t, res.SigPath, filepath.Join(r.root, SigPath(p.Path)))
	r.pkgs = append(r.pkgs, p)
}

// index writes the index of every package added, signed by k.
func (r *repo) index(k repoKey) []packaging.RepoFile {
	r.t.Helper()
	files, err := Format{}.Index(packaging.RepoIndex{Root: r.root, Channel: "stable", Name: repoName,
		Packages: r.pkgs, Date: time.Unix(1700000000, 0), Sign: k.signer()})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(r.root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if f.Link == "" {
			if err := os.WriteFile(p, f.Body, 0o644); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		target, err := filepath.Rel(filepath.Dir(p), filepath.Join(r.root, f.Link))
		if err != nil {
			r.t.Fatal(err)
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			r.t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			r.t.Fatal(err)
		}
	}
	return files
}

// pacman is a pacman client with its own keyring, set up from the
// snippet's commands, and its own root.
type pacman struct {
	t                         *testing.T
	conf, root, gpgdir, cache string
}

func newPacman(t *testing.T, r *repo, fingerprint string) *pacman {
	t.Helper()
	for _, tool := range []string{"pacman", "pacman-key", "curl", "gpgconf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (run .ci/prereqs)", tool)
		}
	}
	dir := t.TempDir()
	p := &pacman{t: t, conf: filepath.Join(dir, "pacman.conf"), gpgdir: filepath.Join(dir, "gnupg"), cache: filepath.Join(dir, "cache")}
	conf := "[options]\nArchitecture = x86_64\n\n" + PacmanSection(repoName, r.url, "stable")
	if err := os.WriteFile(p.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p.run(true, "pacman-key", "--gpgdir", p.gpgdir, "--init")
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", p.gpgdir, "--kill", "all").Run() })
	// The snippet's commands, each pacman-key told of the test's keyring.
	for _, line := range strings.Split(strings.TrimSpace(PacmanKeyCommands(repoName, r.url+"/keys/pgp.pub.asc", []string{fingerprint})), "\n") {
		argv := strings.Fields(line)
		if argv[0] == "pacman-key" {
			argv = append([]string{argv[0], "--gpgdir", p.gpgdir}, argv[1:]...)
		}
		p.run(true, argv[0], argv[1:]...)
	}
	p.newRoot()
	return p
}

// newRoot gives the client an empty root and package cache.
func (p *pacman) newRoot() {
	p.root = p.t.TempDir()
	p.cache = p.t.TempDir()
	if err := os.MkdirAll(filepath.Join(p.root, "var/lib/pacman"), 0o755); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pacman) run(ok bool, name string, args ...string) string {
	p.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if ok && err != nil {
		p.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	if !ok && err == nil {
		p.t.Fatalf("%s %s succeeded, want it refused:\n%s", name, strings.Join(args, " "), out)
	}
	return string(out)
}

// pacman runs pacman on the client's root; ok says whether it must
// succeed or fail.
func (p *pacman) pacman(ok bool, args ...string) string {
	p.t.Helper()
	base := []string{"--config", p.conf, "--root", p.root, "--dbpath", filepath.Join(p.root, "var/lib/pacman"),
		"--cachedir", p.cache, "--gpgdir", p.gpgdir, "--logfile", filepath.Join(p.root, "pacman.log"), "--noconfirm"}
	return p.run(ok, "pacman", append(base, args...)...)
}

func fingerprint(k repoKey) string { return signing.PGPFingerprint(k.entity) }

func TestPacmanRepository(t *testing.T) {
	k := [2]repoKey{newKey(t), newKey(t)} // the repository's and a stranger's
	v1, v2 := buildProbe(t, k[0], "1.0.0"), buildProbe(t, k[0], "1.1.0")
	r := newRepo(t, k[0])
	r.add(v1)
	files := r.index(k[0])
	var names []string
	for _, f := range files {
		names = append(names, f.Path)
	}
	want := []string{"arch/stable/x86_64/probe-1.0.0-1-x86_64.pkg.tar.zst", "arch/stable/x86_64/probe-1.0.0-1-x86_64.pkg.tar.zst.sig",
		"arch/stable/x86_64/omnitest.files.sig", "arch/stable/x86_64/omnitest.files",
		"arch/stable/x86_64/omnitest.db.sig", "arch/stable/x86_64/omnitest.db"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("index files %v, want %v (the package links, then NAME.db last)", names, want)
	}
	for _, f := range files[:2] {
		if f.Link != "arch/stable/pool/"+path.Base(f.Path) {
			t.Errorf("%s links to %q, want the package in the pool", f.Path, f.Link)
		}
	}
	for _, f := range files {
		if sw := (Format{}).SwitchDir(f.Path); sw != "arch/stable/x86_64" {
			t.Errorf("%s switches with %q, want its architecture's directory", f.Path, sw)
		}
	}
	again := r.index(k[0])
	for i := range files {
		if files[i].Path != "" && !strings.HasSuffix(files[i].Path, ".sig") && !bytes.Equal(files[i].Body, again[i].Body) {
			t.Errorf("%s differs between two indexes of the same packages", files[i].Path)
		}
	}

	p := newPacman(t, r, fingerprint(k[0]))
	p.pacman(true, "-Sy")
	info := p.pacman(true, "-Si", repoName+"/probe")
	for _, w := range []string{"Version         : 1.0.0-1", "Provides        : probe-agent", "Conflicts With  : probe-legacy",
		"Replaces        : probe-legacy", "Licenses        : MIT", "Validated By    : MD5 Sum  SHA-256 Sum  Signature",
		"Packager        : Ops <ops@example.com>", "Description     : probe agent"} {
		if !strings.Contains(info, w) {
			t.Errorf("pacman -Si lacks %q:\n%s", w, info)
		}
	}
	// The empty root has no shell, so pacman skips the scriptlets (which
	// place the service files for the host's init) with an error message
	// and installs the files; e2e/repo_pacman_test.go runs them on a
	// booted host.
	p.pacman(true, "-S", "probe")
	if q := p.pacman(true, "-Q", "probe"); strings.TrimSpace(q) != "probe 1.0.0-1" {
		t.Errorf("pacman -Q: %q, want probe 1.0.0-1", q)
	}
	for _, f := range []string{"usr/bin/probe", "etc/probe/probe.toml"} {
		if _, err := os.Stat(filepath.Join(p.root, f)); err != nil {
			t.Errorf("installed root lacks %s: %v", f, err)
		}
	}
	// The files database lists what the package installs.
	p.pacman(true, "-Fy")
	if fl := p.pacman(true, "-Fl", "probe"); !strings.Contains(fl, "probe usr/bin/probe\n") {
		t.Errorf("pacman -Fl probe lacks usr/bin/probe:\n%s", fl)
	}

	// Version 2 published: the database names only the newest, -Syu
	// upgrades to it, and version 1 stays in the tree.
	r.add(v2)
	r.index(k[0])
	p.pacman(true, "-Syu")
	if q := p.pacman(true, "-Q", "probe"); strings.TrimSpace(q) != "probe 1.1.0-1" {
		t.Errorf("after -Syu pacman -Q: %q, want probe 1.1.0-1", q)
	}
	if body, _ := os.ReadFile(filepath.Join(p.root, "usr/bin/probe")); !strings.Contains(string(body), "1.1.0") {
		t.Errorf("usr/bin/probe after the upgrade: %q", body)
	}
	if _, err := os.Stat(filepath.Join(r.root, r.pkgs[0].Path)); err != nil {
		t.Errorf("version 1 left the tree: %v", err)
	}

	t.Run("package without its .sig", func(t *testing.T) {
		bare := newRepo(t, k[0])
		bare.add(v1)
		os.Remove(filepath.Join(bare.root, SigPath(bare.pkgs[0].Path)))
		_, err := Format{}.Index(packaging.RepoIndex{Root: bare.root, Channel: "stable", Name: repoName, Packages: bare.pkgs, Sign: k[0].signer()})
		if err == nil || !strings.Contains(err.Error(), ".sig") {
			t.Fatalf("index of a package without its .sig: %v, want an error naming the .sig", err)
		}
	})
	t.Run("tampered database", func(t *testing.T) {
		db := filepath.Join(r.root, "arch/stable/x86_64/omnitest.db")
		good, _ := os.ReadFile(db)
		defer os.WriteFile(db, good, 0o644)
		if err := os.WriteFile(db, append(bytes.Clone(good), 0), 0o644); err != nil {
			t.Fatal(err)
		}
		out := p.pacman(false, "-Syy")
		if !strings.Contains(out, "signature") {
			t.Errorf("pacman refused the tampered database without naming its signature:\n%s", out)
		}
	})
	t.Run("database of another key", func(t *testing.T) {
		r.index(k[1])
		defer r.index(k[0])
		p.pacman(false, "-Syy")
	})
	t.Run("tampered package", func(t *testing.T) {
		pkg := filepath.Join(r.root, r.pkgs[1].Path)
		good, _ := os.ReadFile(pkg)
		defer os.WriteFile(pkg, good, 0o644)
		bad := bytes.Clone(good)
		bad[len(bad)/2] ^= 0xff
		if err := os.WriteFile(pkg, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		p.newRoot()
		p.pacman(true, "-Sy")
		out := p.pacman(false, "-S", "probe")
		if !strings.Contains(out, "invalid or corrupted package") {
			t.Errorf("pacman refused the tampered package without saying why:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(p.root, "usr/bin/probe")); err == nil {
			t.Error("the tampered package was installed")
		}
	})
}

// TestVercmp holds Vercmp to pacman's own vercmp.
func TestVercmp(t *testing.T) {
	if _, err := exec.LookPath("vercmp"); err != nil {
		t.Fatal("vercmp is not installed (pacman-package-manager; run .ci/prereqs)")
	}
	versions := []string{"1.0.0-1", "1.0.0-2", "1.0.1-1", "1.0.0rc1-1", "1.0.0.r5.gabc1234-1", "1.0.0.r10.gabc-1",
		"1:0.9-1", "2:1.0-1", "1.0a-1", "1.0b-1", "1.0-1", "1.0", "1.0.0", "1.00-1", "1..0-1", "1.0_1-1", "1.0+x-1",
		"0.9.9-1", "10.0-1", "9.0-1", "1.0alpha-1", "1.0.a-1", "1.0.1a-1", "a-1", "1-1", "1.2.3.r5.g1f2e3d4-3"}
	for _, a := range versions {
		for _, b := range versions {
			out, err := exec.Command("vercmp", a, b).Output()
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSpace(string(out))
			if got := Vercmp(a, b); want != map[int]string{-1: "-1", 0: "0", 1: "1"}[got] {
				t.Errorf("Vercmp(%q, %q) = %d, pacman's vercmp says %s", a, b, got, want)
			}
		}
	}
}
