package rpm_test

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/rpm"
	"github.com/omnipack/omnipack/signing"
)

// The rpm repository is checked with the clients that read it: dnf and
// zypper, each in a private root, over HTTP on loopback, with every
// signature check on. Installing (scriptlets and all) is e2e's part.

const probe = "probe"

// requireTool fails, not skips, when a client is missing: a repository
// nobody checked must not pass as checked.
func requireTool(t *testing.T, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found in PATH; install it (apt-get install %s, or .ci/prereqs)", tool, pkg)
	}
}

// testKey is an OpenPGP signing key and its armored public key.
type testKey struct {
	entity *openpgp.Entity
	pub    []byte
}

func newKey(t *testing.T, name string) testKey {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 2048, DefaultHash: crypto.SHA256}
	e, err := openpgp.NewEntity(name, "", name+"@example.com", cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Subkeys = nil
	var pub bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return testKey{entity: e, pub: pub.Bytes()}
}

// repoSigner signs repomd.xml with every key given, in one armored block
// of concatenated signature packets when there are several.
func repoSigner(keys ...testKey) packaging.RepoSigner {
	return packaging.RepoSigner{Detached: func(body []byte, armored bool) ([]byte, error) {
		var sigs bytes.Buffer
		for _, k := range keys {
			s, err := signing.DetachSign(k.entity, bytes.NewReader(body), false)
			if err != nil {
				return nil, err
			}
			sigs.Write(s)
		}
		if !armored {
			return sigs.Bytes(), nil
		}
		var out bytes.Buffer
		w, err := armor.Encode(&out, "PGP SIGNATURE", nil)
		if err != nil {
			return nil, err
		}
		w.Write(sigs.Bytes())
		w.Close()
		return out.Bytes(), nil
	}}
}

// buildProbe builds the probe rpm of version, signed by key, into dir.
func buildProbe(t *testing.T, dir, version string, key testKey) packaging.RepoPackage {
	t.Helper()
	src := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arch, _ := config.LookupArch("amd64")
	spec := &packaging.Spec{
		Name: probe, Version: config.Version{Base: version}, Release: 1, Arch: arch,
		Summary: "probe agent", Description: "probe agent for the repository tests & <friends>",
		Maintainer: "Ops <ops@example.com>", Vendor: "Example", License: "MIT", Homepage: "https://example.com/probe",
		MTime:  time.Unix(1700000000, 0).UTC(),
		Binary: write("probe", "#!/bin/sh\necho probe "+version+"\n"),
		Configs: []packaging.File{{Source: write("probe.toml", "key = 1\n"), Dest: "/etc/probe/probe.toml",
			Mode: 0o640, Owner: "root", Group: "probe"}},
		Service: initsys.Service{Name: probe, Exec: "/usr/bin/probe", User: "probe", Group: "probe",
			StateDir: "/var/lib/probe", ConfigDir: "/etc/probe", WorkingDir: "/var/lib/probe",
			Restart: initsys.RestartAlways, Profile: initsys.ProfileDefault, StopTimeout: 10},
		ScratchDir: t.TempDir(),
		StageDir:   t.TempDir(),
		Sign: &packaging.Signer{OpenPGP: func(armored bool) func(io.Reader) ([]byte, error) {
			return signing.PGPSignFn(key.entity, armored)
		}},
	}
	var err error
	spec.Inits, spec.InitFiles, err = packaging.StageInits(spec.Service, []string{"systemd"}, spec.StageDir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rpm.Format{}.Build(spec, dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return packaging.RepoPackage{Name: probe, Program: probe, Version: version + "-1", Arch: "amd64",
		Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Path: res.Path}
}

// testRepo is a repository tree served over HTTP on loopback, as omnipack
// publish lays it out: packages at their PoolPath, then the index.
type testRepo struct {
	root, channel string
	srv           *httptest.Server
	pkgs          []packaging.RepoPackage
}

func newRepo(t *testing.T, key testKey) *testRepo {
	t.Helper()
	r := &testRepo{root: t.TempDir(), channel: "stable"}
	r.srv = httptest.NewServer(http.FileServer(http.Dir(r.root)))
	t.Cleanup(r.srv.Close)
	writeFile(t, filepath.Join(r.root, "keys/pgp.pub.asc"), key.pub)
	return r
}

// add copies a built package to its PoolPath.
func (r *testRepo) add(t *testing.T, p packaging.RepoPackage) {
	t.Helper()
	data, err := os.ReadFile(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	p.Path = rpm.Format{}.PoolPath(r.channel, p)
	writeFile(t, filepath.Join(r.root, filepath.FromSlash(p.Path)), data)
	r.pkgs = append(r.pkgs, p)
}

// index writes the index of every package added, each file beside its
// final name and renamed in the order Index gives.
func (r *testRepo) index(t *testing.T, sign packaging.RepoSigner, date time.Time) []packaging.RepoFile {
	t.Helper()
	files, err := rpm.Format{}.Index(packaging.RepoIndex{Root: r.root, Channel: r.channel, Name: probe,
		Packages: r.pkgs, Date: date, Sign: sign})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		writeFile(t, filepath.Join(r.root, filepath.FromSlash(f.Path)), f.Body)
	}
	return files
}

// repoFile writes the .repo file RepoFile renders into a new directory,
// as an admin puts it into /etc/yum.repos.d or /etc/zypp/repos.d.
func (r *testRepo) repoFile(t *testing.T) string {
	t.Helper()
	body, err := rpm.RepoFile(r.srv.URL, probe, r.channel, r.srv.URL+"/keys/pgp.pub.asc")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, path.Base(rpm.RepoFilePath(probe, r.channel))), body)
	return dir
}

func (r *testRepo) path(rel string) string { return filepath.Join(r.root, filepath.FromSlash(rel)) }

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := p + ".new"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// flipByte changes one byte of the file at p, in the middle.
func flipByte(t *testing.T, p string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	writeFile(t, p, data)
}

// dnfClient is dnf with a private installroot, cache and repository
// directory: nothing of the machine's own dnf setup takes part.
type dnfClient struct {
	root, reposDir string
}

func newDNF(t *testing.T, reposDir string) *dnfClient {
	t.Helper()
	requireTool(t, "dnf", "dnf")
	return &dnfClient{root: t.TempDir(), reposDir: reposDir}
}

func (c *dnfClient) run(args ...string) (string, error) {
	argv := append([]string{
		"-y", "--installroot=" + c.root, "--setopt=reposdir=" + c.reposDir,
		"--setopt=cachedir=" + filepath.Join(c.root, "cache"), "--releasever=1", "--forcearch=x86_64",
		// Not --setopt=skip_if_unavailable=False: the .repo file says so,
		// or Debian's dnf would skip a repository that fails to verify,
		// exit 0, and a refused repository would pass as accepted.
	}, args...)
	out, err := exec.Command("dnf", argv...).CombinedOutput()
	return string(out), err
}

func (c *dnfClient) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(args...)
	if err != nil {
		t.Fatalf("dnf %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// available is what the repository offers: repoquery's NAME-EVR.ARCH lines.
func (c *dnfClient) available(t *testing.T) []string {
	t.Helper()
	out := c.mustRun(t, "repoquery", "-q", "--qf", "%{name}-%{epoch}:%{version}-%{release}.%{arch} %{location}", probe)
	return strings.Fields(strings.TrimSpace(out))
}

// mustRefuse runs dnf, which must fail and say why in words matching want.
func (c *dnfClient) mustRefuse(t *testing.T, want string, args ...string) {
	t.Helper()
	out, err := c.run(args...)
	if err == nil {
		t.Fatalf("dnf %s accepted what it must refuse:\n%s", strings.Join(args, " "), out)
	}
	if !regexp.MustCompile(want).MatchString(out) {
		t.Fatalf("dnf %s failed, but not with %q:\n%s", strings.Join(args, " "), want, out)
	}
	t.Logf("dnf %s refused, as it must:\n%s", strings.Join(args, " "), out)
}

var epoch = time.Unix(1700000000, 0).UTC()

func TestIndexIsDeterministicAndConsistent(t *testing.T) {
	key := newKey(t, "repo")
	r := newRepo(t, key)
	r.add(t, buildProbe(t, t.TempDir(), "1.2.3", key))
	first := r.index(t, repoSigner(key), epoch)
	again, err := rpm.Format{}.Index(packaging.RepoIndex{Root: r.root, Channel: r.channel, Name: probe,
		Packages: r.pkgs, Date: epoch, Sign: repoSigner(key)})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, f := range first {
		paths = append(paths, f.Path)
		// The signature differs (OpenPGP signatures are salted); the
		// metadata must not.
		if !strings.HasSuffix(f.Path, ".asc") && !bytes.Equal(f.Body, again[i].Body) {
			t.Errorf("%s differs between two runs over the same packages", f.Path)
		}
	}
	want := regexp.MustCompile(`^rpm/stable/repodata/[0-9a-f]{64}-primary\.xml\.gz rpm/stable/repodata/[0-9a-f]{64}-filelists\.xml\.gz ` +
		`rpm/stable/repodata/[0-9a-f]{64}-other\.xml\.gz rpm/stable/repodata/repomd\.xml\.asc rpm/stable/repodata/repomd\.xml$`)
	if got := strings.Join(paths, " "); !want.MatchString(got) {
		t.Fatalf("index files, in visibility order: %s", got)
	}
	if got := r.pkgs[0].Path; got != "rpm/stable/x86_64/probe-1.2.3-1.x86_64.rpm" {
		t.Errorf("PoolPath = %s", got)
	}

	// Each file repomd.xml names has the size and checksums it records,
	// and the signature verifies.
	var md struct {
		Data []struct {
			Type         string `xml:"type,attr"`
			Checksum     string `xml:"checksum"`
			OpenChecksum string `xml:"open-checksum"`
			Location     struct {
				Href string `xml:"href,attr"`
			} `xml:"location"`
			Size     int64 `xml:"size"`
			OpenSize int64 `xml:"open-size"`
		} `xml:"data"`
	}
	repomdXML := first[len(first)-1].Body
	if err := xml.Unmarshal(repomdXML, &md); err != nil {
		t.Fatal(err)
	}
	if err := signing.VerifyDetached(key.pub, bytes.NewReader(repomdXML), first[len(first)-2].Body); err != nil {
		t.Errorf("repomd.xml.asc: %v", err)
	}
	if len(md.Data) != 3 {
		t.Fatalf("repomd.xml names %d files", len(md.Data))
	}
	for _, d := range md.Data {
		gz, err := os.ReadFile(r.path("rpm/stable/" + d.Location.Href))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		gzSum, plainSum := sha256.Sum256(gz), sha256.Sum256(plain)
		if d.Checksum != hex.EncodeToString(gzSum[:]) || d.OpenChecksum != hex.EncodeToString(plainSum[:]) ||
			d.Size != int64(len(gz)) || d.OpenSize != int64(len(plain)) {
			t.Errorf("%s: repomd.xml's checksums or sizes do not match the file", d.Type)
		}
	}
}

func TestIndexRefusesWhatIsNotTheRelease(t *testing.T) {
	key := newKey(t, "repo")
	r := newRepo(t, key)
	r.add(t, buildProbe(t, t.TempDir(), "1.2.3", key))
	in := packaging.RepoIndex{Root: r.root, Channel: r.channel, Packages: r.pkgs, Date: epoch, Sign: repoSigner(key)}
	for name, c := range map[string]struct {
		edit func(*packaging.RepoIndex)
		want string
	}{
		"changed package": {func(in *packaging.RepoIndex) {
			in.Packages = []packaging.RepoPackage{{Path: r.pkgs[0].Path, SHA256: strings.Repeat("0", 64)}}
		},
			"the file changed after the release was verified"},
		"other version": {func(in *packaging.RepoIndex) {
			in.Packages = []packaging.RepoPackage{{Path: r.pkgs[0].Path, Version: "9-1"}}
		},
			"is version 1.2.3-1, not 9-1"},
		"outside the channel": {func(in *packaging.RepoIndex) { in.Channel = "beta" }, "is not under rpm/beta/"},
		"bad channel":         {func(in *packaging.RepoIndex) { in.Channel = "../x" }, `channel "../x"`},
		"no date":             {func(in *packaging.RepoIndex) { in.Date = time.Time{} }, "Date is not set"},
		"no signer":           {func(in *packaging.RepoIndex) { in.Sign = packaging.RepoSigner{} }, "no OpenPGP signer"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := in
			c.edit(&bad)
			if _, err := (rpm.Format{}).Index(bad); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Index: %v, want an error saying %q", err, c.want)
			}
		})
	}
}

func TestRepoFile(t *testing.T) {
	got, err := rpm.RepoFile("https://pkgs.example.com/repo/", "crashwatch", "beta",
		"https://pkgs.example.com/repo/keys/pgp.pub.asc", "https://pkgs.example.com/repo/keys/next.pub.asc")
	if err != nil {
		t.Fatal(err)
	}
	want := `[crashwatch-beta]
name=crashwatch (beta)
baseurl=https://pkgs.example.com/repo/rpm/beta
enabled=1
type=rpm-md
gpgcheck=1
repo_gpgcheck=1
pkg_gpgcheck=1
skip_if_unavailable=False
gpgkey=https://pkgs.example.com/repo/keys/pgp.pub.asc https://pkgs.example.com/repo/keys/next.pub.asc
metadata_expire=6h
autorefresh=1
`
	if string(got) != want {
		t.Errorf("RepoFile:\n%s\nwant:\n%s", got, want)
	}
	for _, bad := range [][]string{{"https://x", "a b", "stable", "k"}, {"https://x", "a", "st/able", "k"}, {"https://x", "a", "stable"}, {"https://x\n", "a", "stable", "k"}} {
		if _, err := rpm.RepoFile(bad[0], bad[1], bad[2], bad[3:]...); err == nil {
			t.Errorf("RepoFile(%q) accepted", bad)
		}
	}
}

// TestDNFReadsTheRepository: dnf, with gpgcheck and repo_gpgcheck on and
// the key from gpgkey=, accepts the signed repository, offers the
// package, then the newer version once it is indexed, and refuses a
// repomd.xml, a primary.xml or a package that was changed.
func TestDNFReadsTheRepository(t *testing.T) {
	key := newKey(t, "repo")
	r := newRepo(t, key)
	r.add(t, buildProbe(t, t.TempDir(), "1.2.3", key))
	r.index(t, repoSigner(key), epoch)
	reposDir := r.repoFile(t)

	c := newDNF(t, reposDir)
	c.mustRun(t, "makecache")
	if got := c.available(t); len(got) != 2 || got[0] != "probe-0:1.2.3-1.x86_64" {
		t.Fatalf("dnf offers %q, want probe 1.2.3-1", got)
	}

	r.add(t, buildProbe(t, t.TempDir(), "1.3.0", key))
	r.index(t, repoSigner(key), epoch.Add(time.Hour))
	// A client that has the old metadata takes the new after a refresh.
	c.mustRun(t, "makecache", "--refresh")
	got := c.available(t)
	if strings.Join(got, " ") != "probe-0:1.2.3-1.x86_64 x86_64/probe-1.2.3-1.x86_64.rpm "+
		"probe-0:1.3.0-1.x86_64 x86_64/probe-1.3.0-1.x86_64.rpm" {
		t.Fatalf("after 1.3.0 is indexed dnf offers %q", got)
	}
	// The package downloads whole: its checksum matches primary.xml's.
	dl := t.TempDir()
	c.mustRun(t, "install", "--downloadonly", "--destdir="+dl, probe)
	if _, err := os.Stat(filepath.Join(dl, "probe-1.3.0-1.x86_64.rpm")); err != nil {
		t.Fatalf("dnf download fetched no probe 1.3.0: %v", err)
	}

	t.Run("tampered repomd.xml", func(t *testing.T) {
		saved := snapshot(t, r)
		defer saved.restore(t)
		flipByte(t, r.path("rpm/stable/repodata/repomd.xml"))
		newDNF(t, reposDir).mustRefuse(t, `(?i)GPG signature verification error|Bad GPG signature`, "makecache")
	})
	t.Run("tampered primary", func(t *testing.T) {
		saved := snapshot(t, r)
		defer saved.restore(t)
		flipByte(t, r.path(dataFile(t, r, "primary")))
		newDNF(t, reposDir).mustRefuse(t, `checksum doesn't match`, "makecache")
	})
	t.Run("tampered package", func(t *testing.T) {
		saved := snapshot(t, r)
		defer saved.restore(t)
		flipByte(t, r.path(r.pkgs[1].Path))
		newDNF(t, reposDir).mustRefuse(t, `checksum doesn't match`, "install", "--downloadonly", "--destdir="+t.TempDir(), probe)
	})
}

// dataFile is the repository-relative path of one metadata file repomd.xml names.
func dataFile(t *testing.T, r *testRepo, typ string) string {
	t.Helper()
	m, err := filepath.Glob(r.path("rpm/stable/repodata/*-" + typ + ".xml.gz"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no %s.xml.gz", typ)
	}
	repomd, err := os.ReadFile(r.path("rpm/stable/repodata/repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m {
		rel := "repodata/" + filepath.Base(p)
		if bytes.Contains(repomd, []byte(`"`+rel+`"`)) {
			return "rpm/stable/" + rel
		}
	}
	t.Fatalf("repomd.xml names none of %q", m)
	return ""
}

// repoSnapshot keeps a repository's files, to undo a tampering.
type repoSnapshot struct {
	r     *testRepo
	files map[string][]byte
}

func snapshot(t *testing.T, r *testRepo) repoSnapshot {
	t.Helper()
	s := repoSnapshot{r: r, files: map[string][]byte{}}
	err := filepath.Walk(r.root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		s.files[p] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s repoSnapshot) restore(t *testing.T) {
	t.Helper()
	for p, data := range s.files {
		writeFile(t, p, data)
	}
}

// TestDNFInstallsAndUpgrades: dnf installs the package from the
// repository, its signature checked against the key from gpgkey=, and
// upgrades it once a newer version is indexed. Scriptlets are off: the
// installroot has no /bin/sh (e2e runs them, in a booted host). A package
// the index vouches for but another key signed is refused by gpgcheck.
func TestDNFInstallsAndUpgrades(t *testing.T) {
	key, other := newKey(t, "repo"), newKey(t, "other")
	r := newRepo(t, key)
	r.add(t, buildProbe(t, t.TempDir(), "1.2.3", key))
	r.index(t, repoSigner(key), epoch)
	c := newDNF(t, r.repoFile(t))
	noScripts := "--setopt=tsflags=noscripts"
	c.mustRun(t, noScripts, "install", probe)
	if got := c.installed(t); got != "probe-1.2.3-1.x86_64" {
		t.Fatalf("after dnf install, rpm knows %q", got)
	}
	r.add(t, buildProbe(t, t.TempDir(), "1.3.0", key))
	r.index(t, repoSigner(key), epoch.Add(time.Hour))
	c.mustRun(t, noScripts, "--refresh", "upgrade")
	if got := c.installed(t); got != "probe-1.3.0-1.x86_64" {
		t.Fatalf("after dnf upgrade, rpm knows %q", got)
	}

	o := newRepo(t, key)
	o.add(t, buildProbe(t, t.TempDir(), "1.2.3", other))
	o.index(t, repoSigner(key), epoch)
	newDNF(t, o.repoFile(t)).mustRefuse(t, `(?s)Public key for probe-1\.2\.3-1\.x86_64\.rpm is not installed.*GPG check FAILED`, noScripts, "install", probe)
}

// installed is what the installroot's rpm database holds of the probe.
func (c *dnfClient) installed(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("rpm", "--root", c.root, "-q", probe).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm -q %s: %v\n%s", probe, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestDNFTwoRepositorySigners records what dnf does with a repomd.xml.asc
// carrying two signatures, as during a key rotation, when it trusts only
// one of the keys: it accepts the repository, whichever signature comes
// first. A repository signed only by keys it does not trust is refused,
// so the acceptance rests on the one signature it can check.
func TestDNFTwoRepositorySigners(t *testing.T) {
	old, next, stranger := newKey(t, "old"), newKey(t, "next"), newKey(t, "stranger")
	for _, c := range []struct {
		name    string
		signers []testKey
		accept  bool
	}{
		{"trusted first", []testKey{old, next}, true},
		{"trusted second", []testKey{next, old}, true},
		{"neither trusted", []testKey{next, stranger}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRepo(t, old) // gpgkey= serves only old
			r.add(t, buildProbe(t, t.TempDir(), "1.2.3", old))
			r.index(t, repoSigner(c.signers...), epoch)
			client := newDNF(t, r.repoFile(t))
			if !c.accept {
				client.mustRefuse(t, `repomd.xml GPG signature verification error`, "makecache")
				return
			}
			out := client.mustRun(t, "makecache")
			t.Logf("dnf makecache, repomd.xml.asc signed by %s then %s, trusting only old:\n%s",
				c.signers[0].entity.PrimaryIdentity().Name, c.signers[1].entity.PrimaryIdentity().Name, out)
			if got := client.available(t); len(got) != 2 || got[0] != "probe-0:1.2.3-1.x86_64" {
				t.Fatalf("dnf offers %q, want probe 1.2.3-1", got)
			}
		})
	}
}

// zypperClient is zypper with a private root, its rpm database holding
// only the repository key, imported explicitly.
type zypperClient struct{ root string }

func newZypper(t *testing.T, key []byte) *zypperClient {
	t.Helper()
	requireTool(t, "zypper", "zypper")
	requireTool(t, "rpm", "rpm")
	c := &zypperClient{root: t.TempDir()}
	keyFile := filepath.Join(t.TempDir(), "key.asc")
	writeFile(t, keyFile, key)
	for _, argv := range [][]string{{"rpm", "--root", c.root, "--initdb"}, {"rpm", "--root", c.root, "--import", keyFile}} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	return c
}

func (c *zypperClient) run(args ...string) (string, error) {
	out, err := exec.Command("zypper", append([]string{"--root", c.root, "--non-interactive"}, args...)...).CombinedOutput()
	return string(out), err
}

func (c *zypperClient) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(args...)
	if err != nil {
		t.Fatalf("zypper %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestZypperReadsTheRepository: zypper adds the repository from the .repo
// file, refreshes it with its signature checked against the key in its
// rpm database, downloads the newest package (checksum and signature
// checked), and refuses a repository whose key it lacks, a repomd.xml, a
// primary.xml or a package that was changed, or a package another key
// signed.
func TestZypperReadsTheRepository(t *testing.T) {
	key, other := newKey(t, "repo"), newKey(t, "other")
	r := newRepo(t, key)
	r.add(t, buildProbe(t, t.TempDir(), "1.2.3", key))
	r.add(t, buildProbe(t, t.TempDir(), "1.3.0", key))
	r.index(t, repoSigner(key), epoch)
	repoFile := filepath.Join(r.repoFile(t), path.Base(rpm.RepoFilePath(probe, r.channel)))

	c := newZypper(t, key.pub)
	t.Logf("zypper addrepo:\n%s", c.mustRun(t, "addrepo", repoFile))
	c.mustRun(t, "refresh")
	out := c.mustRun(t, "search", "-s", "--match-exact", probe)
	for _, v := range []string{"1.2.3-1", "1.3.0-1"} {
		if !regexp.MustCompile(`\|\s*` + regexp.QuoteMeta(v) + `\s*\|\s*x86_64`).MatchString(out) {
			t.Errorf("zypper search does not offer %s:\n%s", v, out)
		}
	}
	out = c.mustRun(t, "install", "--download-only", probe)
	if c.cached(t, "probe-1.3.0-1.x86_64.rpm") == 0 {
		t.Fatalf("zypper downloaded no probe 1.3.0:\n%s", out)
	}

	refuse := func(t *testing.T, c *zypperClient, want string, args ...string) {
		t.Helper()
		out, err := c.run(args...)
		if err == nil || !regexp.MustCompile(want).MatchString(out) {
			t.Fatalf("zypper %s: err=%v, want a refusal saying %q:\n%s", strings.Join(args, " "), err, want, out)
		}
		t.Logf("zypper %s refused, as it must:\n%s", strings.Join(args, " "), out)
	}
	fresh := func(t *testing.T, pub []byte) *zypperClient {
		c := newZypper(t, pub)
		c.mustRun(t, "addrepo", repoFile)
		return c
	}
	t.Run("unknown key", func(t *testing.T) {
		refuse(t, fresh(t, other.pub), `File 'repomd\.xml' from repository 'probe \(stable\)' is signed with an unknown key`, "refresh")
	})
	t.Run("tampered repomd.xml", func(t *testing.T) {
		defer snapshot(t, r).restore(t)
		flipByte(t, r.path("rpm/stable/repodata/repomd.xml"))
		refuse(t, fresh(t, key.pub), `Signature verification failed for file 'repomd.xml'`, "refresh")
	})
	t.Run("tampered primary", func(t *testing.T) {
		defer snapshot(t, r).restore(t)
		flipByte(t, r.path(dataFile(t, r, "primary")))
		refuse(t, fresh(t, key.pub), `Digest verification failed for file '[0-9a-f]{64}-primary\.xml\.gz'`, "refresh")
	})
	t.Run("tampered package", func(t *testing.T) {
		defer snapshot(t, r).restore(t)
		flipByte(t, r.path(r.pkgs[1].Path))
		// With pkg_gpgcheck on, zypper checks the signature as the package
		// arrives; which check speaks first depends on where the byte is.
		refuse(t, fresh(t, key.pub), `Digest verification failed for file 'probe-1\.3\.0-1\.x86_64\.rpm'|`+
			`probe-1\.3\.0-1\.x86_64 \(probe \(stable\)\): Signature verification failed`, "install", "--download-only", probe)
	})
	t.Run("package signed by another key", func(t *testing.T) {
		defer snapshot(t, r).restore(t)
		o := newRepo(t, key)
		o.add(t, buildProbe(t, t.TempDir(), "1.2.3", other))
		o.index(t, repoSigner(key), epoch)
		c := newZypper(t, key.pub)
		c.mustRun(t, "addrepo", filepath.Join(o.repoFile(t), path.Base(rpm.RepoFilePath(probe, o.channel))))
		refuse(t, c, `probe-1\.2\.3-1\.x86_64 \(probe \(stable\)\): Signature verification failed`, "install", probe)
	})
}

// cached counts the packages of that file name in zypper's cache.
func (c *zypperClient) cached(t *testing.T, file string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(c.root, "var/cache/zypp/packages/*/x86_64", file))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// TestZypperTwoRepositorySigners records what zypper does with a
// repomd.xml.asc carrying two signatures of which it trusts one: libzypp
// (17.x with zypper 1.14.42) goes by the last signature only, so it accepts
// the repository when the key it trusts signed last and refuses it,
// "signed with an unknown key", when that key signed first. During a key
// rotation the current key's signature must therefore come last.
func TestZypperTwoRepositorySigners(t *testing.T) {
	old, next := newKey(t, "old"), newKey(t, "next")
	for _, c := range []struct {
		name    string
		signers []testKey
		accept  bool
	}{
		{"trusted last", []testKey{next, old}, true},
		{"trusted first", []testKey{old, next}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRepo(t, old)
			r.add(t, buildProbe(t, t.TempDir(), "1.2.3", old))
			r.index(t, repoSigner(c.signers...), epoch)
			z := newZypper(t, old.pub)
			z.mustRun(t, "addrepo", filepath.Join(r.repoFile(t), path.Base(rpm.RepoFilePath(probe, r.channel))))
			out, err := z.run("refresh")
			t.Logf("zypper refresh, trusting only old: err=%v\n%s", err, out)
			if c.accept && err != nil {
				t.Fatal("zypper refused the repository")
			}
			if !c.accept && (err == nil || !strings.Contains(out, "is signed with an unknown key")) {
				t.Fatal("zypper did not refuse the repository for the unknown key")
			}
		})
	}
}
