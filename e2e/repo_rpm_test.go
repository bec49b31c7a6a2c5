package e2e

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/packaging"
	rpmformat "github.com/omnipack/omnipack/packaging/rpm"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
)

// rpmRepo is a signed rpm repository of the example agent, laid out the
// way omnipack publish lays it out (each rpm at its PoolPath, then the
// index, the entry point last) and served over HTTP on loopback, which
// the booted hosts share.
type rpmRepo struct {
	root string
	srv  *httptest.Server
	keys *pipeline.Keys
	pkgs []packaging.RepoPackage
}

const rpmChannel = "stable"

func newRPMRepo(t *testing.T, keys *pipeline.Keys, pub string) *rpmRepo {
	t.Helper()
	r := &rpmRepo{root: t.TempDir(), keys: keys}
	r.srv = httptest.NewServer(http.FileServer(http.Dir(r.root)))
	t.Cleanup(r.srv.Close)
	data, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	r.write(t, "keys/"+signing.PGPPubFile, data)
	return r
}

func (r *rpmRepo) write(t *testing.T, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(r.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".new", data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
}

// publish adds the release's amd64 rpm and indexes every rpm added so far.
func (r *rpmRepo) publish(t *testing.T, rel *release, date time.Time) {
	t.Helper()
	for _, a := range rel.m.Artifacts {
		if a.Format != "rpm" || a.Arch != "amd64" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(rel.dir, a.Name))
		if err != nil {
			t.Fatal(err)
		}
		p := packaging.RepoPackage{Name: a.Package, Program: rel.m.Name, Version: a.Version, Arch: a.Arch, Size: a.Size, SHA256: a.SHA256}
		p.Path = rpmformat.Format{}.PoolPath(rpmChannel, p)
		r.write(t, p.Path, data)
		r.pkgs = append(r.pkgs, p)
	}
	sign := packaging.RepoSigner{Detached: func(body []byte, armored bool) ([]byte, error) {
		return signing.DetachSign(r.keys.PGP, bytes.NewReader(body), armored)
	}}
	files, err := rpmformat.Format{}.Index(packaging.RepoIndex{Root: r.root, Channel: rpmChannel, Name: agent,
		Packages: r.pkgs, Date: date, Sign: sign})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		r.write(t, f.Path, f.Body)
	}
}

// repoFile is the .repo file an admin installs, served beside repodata/.
func (r *rpmRepo) repoFile(t *testing.T) string {
	t.Helper()
	body, err := rpmformat.RepoFile(r.srv.URL, agent, rpmChannel, r.srv.URL+"/keys/"+signing.PGPPubFile)
	if err != nil {
		t.Fatal(err)
	}
	rel := rpmformat.RepoFilePath(agent, rpmChannel)
	r.write(t, rel, body)
	return r.srv.URL + "/" + rel
}

// rpmClient is how one package manager adds the repository, installs and
// upgrades: the README's commands, except that dnf is given --releasever=1
// (Debian has no system-release package to read it from) and that the
// Debian host is first made to look like an rpm distribution (debianAsRPM).
type rpmClient struct {
	pkgs            []string
	add             func(repoURL, keyURL string) string
	install         string
	upgrade         string
	refuseTampering string
}

// debianAsRPM gives a Debian host what an rpm distribution has and the
// clients expect: /etc/yum.repos.d, and rpm's database in /var/lib/rpm,
// where libzypp looks, rather than Debian's ~/.rpmdb.
const debianAsRPM = "mkdir -p /etc/yum.repos.d /etc/rpm && echo '%_dbpath /var/lib/rpm' > /etc/rpm/macros"

var rpmClients = map[string]rpmClient{
	"dnf": {
		pkgs: []string{"dnf", "curl"},
		add: func(repoURL, _ string) string {
			return "curl -fsSL " + repoURL + " -o /etc/yum.repos.d/" + path.Base(repoURL)
		},
		install: "dnf -y --releasever=1 install " + agent,
		upgrade: "dnf -y --releasever=1 --refresh upgrade " + agent,
		// One changed byte in repomd.xml: dnf must not read on (the .repo
		// file sets skip_if_unavailable=False).
		refuseTampering: "dnf -y --releasever=1 --refresh makecache",
	},
	"zypper": {
		pkgs: []string{"zypper", "curl"},
		add: func(repoURL, keyURL string) string {
			return "curl -fsSL " + keyURL + " -o /var/tmp/key.asc && rpm --import /var/tmp/key.asc && zypper --non-interactive addrepo " + repoURL
		},
		install:         "zypper --non-interactive install " + agent,
		upgrade:         "zypper --non-interactive refresh && zypper --non-interactive update " + agent,
		refuseTampering: "zypper --non-interactive refresh --force",
	},
}

// TestRPMRepository: on booted Debian 12 systemd hosts, dnf and zypper add
// the signed repository from its .repo file and the published key,
// install the agent (its scriptlets run, the service starts), upgrade it
// once 1.1.0 is indexed (the service restarts on the new binary), and
// refuse the repository once repomd.xml is changed.
func TestRPMRepository(t *testing.T) {
	host.RequireRoot(t)
	work := t.TempDir()
	keys, err := makeKeys(filepath.Join(work, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	now := time.Now()
	r1, err := buildSignedRelease(work, v1, "", "https://example.invalid", keys, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := buildSignedRelease(work, v2, v2ConfigTag+"\n", "https://example.invalid", keys, now)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(r1.dir, pipeline.KeysDir, signing.PGPPubFile)
	for name, c := range rpmClients {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := newRPMRepo(t, keys, pub)
			repo.publish(t, r1, now.Add(-time.Hour))
			repoURL := repo.repoFile(t)
			h := host.New(t, host.Systemd, host.WithPackages(c.pkgs...))

			h.MustRun(t, debianAsRPM)
			h.MustRun(t, c.add(repoURL, repo.srv.URL+"/keys/"+signing.PGPPubFile))
			out := h.MustRun(t, c.install+" 2>&1")
			t.Logf("%s install:\n%s", name, out)
			pid1 := waitRunning(t, h)
			if got := strings.TrimSpace(h.MustRun(t, "rpm -q "+agent)); got != agent+"-"+v1+"-1.x86_64" {
				t.Fatalf("after %s install rpm knows %q", name, got)
			}
			assertRunsAs(t, h, pid1, agent)

			repo.publish(t, r2, now)
			out = h.MustRun(t, c.upgrade+" 2>&1")
			t.Logf("%s upgrade:\n%s", name, out)
			if got := strings.TrimSpace(h.MustRun(t, "rpm -q "+agent)); got != agent+"-"+v2+"-1.x86_64" {
				t.Fatalf("after %s upgrade rpm knows %q", name, got)
			}
			pid2 := waitRunningNot(t, h, pid1)
			if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
				t.Errorf("installed binary says %q, want %s %s", got, agent, v2)
			}
			assertRunsAs(t, h, pid2, agent)

			repomd := filepath.Join(repo.root, "rpm", rpmChannel, "repodata", "repomd.xml")
			data, err := os.ReadFile(repomd)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 1
			repo.write(t, "rpm/"+rpmChannel+"/repodata/repomd.xml", data)
			out, err = h.Run(t, c.refuseTampering+" 2>&1")
			if err == nil {
				t.Fatalf("%s accepted a changed repomd.xml:\n%s", name, out)
			}
			if !strings.Contains(out, "repomd.xml") || !strings.Contains(strings.ToLower(out), "signature") {
				t.Fatalf("%s refused a changed repomd.xml, but not for its signature:\n%s", name, out)
			}
			t.Logf("%s refused the changed repomd.xml, as it must:\n%s", name, out)
		})
	}
}
