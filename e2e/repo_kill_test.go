package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/internal/atomicfile"
	"github.com/omnipack/omnipack/packaging/apk/apktest"
	"github.com/omnipack/omnipack/repo"
	"github.com/omnipack/omnipack/signing"
)

// TestRepoPublishKilled kills omnipack publish with SIGKILL after each file
// it puts into the repository while it adds version 2 to a repository that
// publishes version 1: after each package copy, after the state, after
// every index file of every format, the entry points included. After every
// kill apt, dnf, pacman and go-apk, each set up fresh on this machine in a
// root of its own with every signature check on, must accept the
// repository and resolve (and download or install) version 1, or version
// 2 once that format's entry point was renamed into place. Then a publish
// that is not killed must complete on the tree the killed one left (its
// lock and temporary files) and every client must see version 2.
//
// rpm's repomd.xml and its repomd.xml.asc, and a pacman database and its
// NAME.db.sig, are pairs no rename of one file switches together, so
// those two formats switch a directory link (packaging.RepoSwitcher): the
// write that moves dnf or pacman to version 2 is that link's rename, and
// no kill point may leave either client refusing the repository.
func TestRepoPublishKilled(t *testing.T) {
	host.RequireRoot(t)
	fx := newRepoFixture(t)
	fx.mustPublish(t, "--dist", fx.rel[v1].dir)
	c := newRepoClients(t, fx)
	c.expect(t, "after publishing "+v1, nil)

	snapshot := filepath.Join(t.TempDir(), "snapshot")
	copyTree(t, fx.repo, snapshot)
	writes, err := fx.publishKilledAt(t, 0, fx.rel[v2].dir)
	if err != nil {
		t.Fatalf("publish %s, reporting its writes: %v", v2, err)
	}
	t.Logf("publish %s writes, in order:\n%s", v2, strings.Join(writes, "\n"))
	entries := map[string]int{} // client: the write that switches it to v2
	for client, entry := range c.entryPoints {
		i := indexOf(writes, entry)
		if i < 0 {
			t.Fatalf("publish %s did not write %s, %s's entry point", v2, entry, client)
		}
		entries[client] = i + 1
	}
	for n := 1; n <= len(writes); n++ {
		t.Run(fmt.Sprintf("killed after %d %s", n, writes[n-1]), func(t *testing.T) {
			restoreTree(t, snapshot, fx.repo)
			got, err := fx.publishKilledAt(t, n, fx.rel[v2].dir)
			if !killed(err) {
				t.Fatalf("publish with %s=%d was not killed: %v", repo.KillAfterWritesEnv, n, err)
			}
			if len(got) != n || got[n-1] != writes[n-1] {
				t.Fatalf("killed after %v, want after write %d %s", got, n, writes[n-1])
			}
			v2At := map[string]string{}
			for client, at := range entries {
				if n >= at {
					v2At[client] = v2
				}
			}
			c.expect(t, fmt.Sprintf("killed after write %d", n), v2At)
			out := fx.mustPublish(t, "--dist", fx.rel[v2].dir)
			t.Logf("publish %s again:\n%s", v2, out)
			assertNoTemps(t, fx.repo)
			all := map[string]string{}
			for client := range entries {
				all[client] = v2
			}
			c.expect(t, "after publishing "+v2+" again", all)
		})
	}
}

// assertNoTemps: no temporary file of a publish is left in the tree.
func assertNoTemps(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(d.Name()) {
			t.Errorf("a publish left its temporary file %s", p)
		}
		return nil
	})
}

// writeRe is the line a publish reports each write with under
// repo.KillAfterWritesEnv.
var writeRe = regexp.MustCompile(`^omnipack: write ([0-9]+) (.*)$`)

// publishKilledAt publishes dist with repo.KillAfterWritesEnv=n and
// returns the files it wrote, relative to the repository, in order.
func (fx *repoFixture) publishKilledAt(t *testing.T, n int, dist string) ([]string, error) {
	t.Helper()
	cmd := exec.Command(fx.cli, "publish", "--repo", fx.repo, "--keys", fx.keyDir, "--name", readmeRepoName, "--url", fx.url, "--dist", dist)
	cmd.Env = append(os.Environ(), signing.PasswordEnv+"="+keyPassword, repo.KillAfterWritesEnv+"="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	var writes []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := writeRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		rel, rerr := filepath.Rel(fx.repo, m[2])
		if rerr != nil || m[1] != strconv.Itoa(len(writes)+1) {
			t.Fatalf("publish reported %q", sc.Text())
		}
		writes = append(writes, filepath.ToSlash(rel))
	}
	if err != nil && !killed(err) {
		t.Logf("publish:\n%s", out)
	}
	return writes, err
}

func killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, dst, err, out)
	}
}

// restoreTree makes dst the copy of src, in place: omnipack serve keeps
// serving it.
func restoreTree(t *testing.T, src, dst string) {
	t.Helper()
	entries, err := os.ReadDir(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dst, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	copyTree(t, src, dst)
}

// repoClients are apt, dnf, pacman and go-apk, each set up on this machine
// for the fixture's repository with the keys it published with version 1,
// each check in a fresh root of its own.
type repoClients struct {
	fx          *repoFixture
	work        string
	keys        string // the public keys as a client fetched them once
	gnupg       string // pacman's keyring
	entryPoints map[string]string
}

const (
	clientApt    = "apt"
	clientDNF    = "dnf"
	clientPacman = "pacman"
	clientAPK    = "go-apk"
)

func newRepoClients(t *testing.T, fx *repoFixture) *repoClients {
	t.Helper()
	for tool, pkg := range map[string]string{"apt-get": "apt", "dnf": "dnf", "pacman": "pacman-package-manager", "pacman-key": "pacman-package-manager", "gpg": "gnupg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found; install it (apt-get install %s)", tool, pkg)
		}
	}
	c := &repoClients{fx: fx, work: t.TempDir(), entryPoints: map[string]string{
		clientApt:    "dists/stable/InRelease",
		clientDNF:    "rpm/stable/repodata",
		clientPacman: "arch/stable/x86_64",
		clientAPK:    "apk/stable/x86_64/APKINDEX.tar.gz",
	}}
	c.keys = filepath.Join(c.work, "keys")
	copyTree(t, filepath.Join(fx.repo, repo.KeysDir), c.keys)
	c.gnupg = filepath.Join(c.work, "pacman-gnupg")
	asc := filepath.Join(c.keys, readmeRepoName+".asc")
	run(t, "", "pacman-key", "--gpgdir", c.gnupg, "--init")
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", c.gnupg, "--kill", "all").Run() })
	run(t, "", "pacman-key", "--gpgdir", c.gnupg, "--add", asc)
	fpr := regexp.MustCompile(`(?m)^fpr:+([0-9A-F]{40}):`).FindStringSubmatch(run(t, "", "gpg", "--show-keys", "--with-colons", asc))
	if fpr == nil {
		t.Fatalf("no fingerprint in %s", asc)
	}
	run(t, "", "pacman-key", "--gpgdir", c.gnupg, "--lsign-key", fpr[1])
	return c
}

// expect checks every client against the repository as it is: each must
// accept it and find the version want names for it, v1 where it names
// none.
func (c *repoClients) expect(t *testing.T, when string, want map[string]string) {
	t.Helper()
	for _, client := range []string{clientApt, clientDNF, clientPacman, clientAPK} {
		v := want[client]
		if v == "" {
			v = v1
		}
		got, out, err := c.check(t, client, query{})
		switch {
		case err != nil:
			t.Errorf("%s: %s refused the repository: %v\n%s", when, client, err, out)
		case got != v:
			t.Errorf("%s: %s found %s %s, want %s\n%s", when, client, agent, got, v, out)
		}
	}
}

// query is what a client is asked for: Name (the agent when "") in
// Channel (stable when ""), the newest or with Pin that version.
type query struct{ Name, Channel, Pin string }

func (q query) name() string {
	if q.Name == "" {
		return agent
	}
	return q.Name
}

func (q query) channel() string {
	if q.Channel == "" {
		return repo.DefaultChannel
	}
	return q.Channel
}

// check runs one client in a fresh root and returns the version of the
// package it resolves and got, with its output: the newest, or with a pin
// that version (apt and go-apk install it, dnf finds it in the metadata,
// pacman, whose database names only the newest, downloads it by name).
func (c *repoClients) check(t *testing.T, client string, q query) (version, out string, err error) {
	t.Helper()
	root, err := os.MkdirTemp(c.work, client+"-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	var log strings.Builder
	step := func(dir, name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		fmt.Fprintf(&log, "$ %s %s\n%s", name, strings.Join(args, " "), b)
		if err != nil {
			return string(b), fmt.Errorf("%s: %w", name, err)
		}
		return string(b), nil
	}
	switch client {
	case clientApt:
		version, err = c.apt(root, q, step)
	case clientDNF:
		version, err = c.dnf(root, q, step)
	case clientPacman:
		version, err = c.pacman(root, q, step)
	case clientAPK:
		version, err = c.apk(t, root, q, step)
	}
	return version, log.String(), err
}

type stepFn func(dir, name string, args ...string) (string, error)

// apt: update, the candidate, and its download (which checks its digest).
func (c *repoClients) apt(root string, q query, step stepFn) (string, error) {
	for _, d := range []string{"etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d", "etc/apt/trusted.gpg.d",
		"var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg", "dl"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", err
		}
	}
	keyring := filepath.Join(c.keys, readmeRepoName+".gpg")
	list := fmt.Sprintf("deb [signed-by=%s] %s %s main\n", keyring, c.fx.url, q.channel())
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte(list), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		return "", err
	}
	opts := []string{"-o", "Dir=" + root, "-o", "Dir::State::status=" + root + "/var/lib/dpkg/status",
		"-o", "APT::Sandbox::User=root", "-o", "APT::Architecture=amd64", "-o", "Debug::NoLocking=1"}
	// apt-get update exits 0 when a source fails; --error-on=any does not.
	if _, err := step(root, "apt-get", append(opts, "--error-on=any", "update")...); err != nil {
		return "", err
	}
	if q.Pin != "" {
		_, err := step(filepath.Join(root, "dl"), "apt-get", append(opts, "download", q.name()+"="+q.Pin+"-1")...)
		return q.Pin, err
	}
	out, err := step(root, "apt-cache", append(opts, "policy", q.name())...)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`Candidate: (\S+)`).FindStringSubmatch(out)
	if m == nil || m[1] == "(none)" {
		return "", errors.New("apt has no candidate")
	}
	if _, err := step(filepath.Join(root, "dl"), "apt-get", append(opts, "download", q.name())...); err != nil {
		return "", err
	}
	return strings.TrimSuffix(m[1], "-1"), nil
}

// dnf: makecache with repo_gpgcheck (skip_if_unavailable off, or a
// repository that fails to verify passes), then the newest it lists.
func (c *repoClients) dnf(root string, q query, step stepFn) (string, error) {
	repos := filepath.Join(root, "repos")
	if err := os.MkdirAll(repos, 0o755); err != nil {
		return "", err
	}
	conf := fmt.Sprintf("[%s]\nname=%s\nbaseurl=%s/rpm/%s\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://%s\nskip_if_unavailable=False\n",
		readmeRepoName, readmeRepoName, c.fx.url, q.channel(), filepath.Join(c.keys, readmeRepoName+".asc"))
	if err := os.WriteFile(filepath.Join(repos, readmeRepoName+".repo"), []byte(conf), 0o644); err != nil {
		return "", err
	}
	opts := []string{"--installroot=" + filepath.Join(root, "root"), "--setopt=reposdir=" + repos, "--setopt=cachedir=" + filepath.Join(root, "cache"),
		"--releasever=1", "--forcearch=x86_64", "--setopt=skip_if_unavailable=False", "-y"}
	if _, err := step(root, "dnf", append(opts, "makecache")...); err != nil {
		return "", err
	}
	if q.Pin != "" {
		out, err := step(root, "dnf", append(opts, "repoquery", "-q", "--qf=%{version}", q.name()+"-"+q.Pin)...)
		if err == nil && strings.TrimSpace(out) != q.Pin {
			err = fmt.Errorf("dnf lists no %s %s", q.name(), q.Pin)
		}
		return q.Pin, err
	}
	out, err := step(root, "dnf", append(opts, "repoquery", "-q", "--latest-limit=1", "--qf=%{version}", q.name())...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// pacman: -Sy with SigLevel Required DatabaseRequired, the version it
// lists, and -Sw (which checks the package's signature).
func (c *repoClients) pacman(root string, q query, step stepFn) (string, error) {
	conf := fmt.Sprintf("[options]\nArchitecture = x86_64\nSigLevel = Required DatabaseRequired\n\n[%s]\nServer = %s/arch/%s/x86_64\n", readmeRepoName, c.fx.url, q.channel())
	cfg := filepath.Join(root, "pacman.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(root, "var/lib/pacman"), 0o755); err != nil {
		return "", err
	}
	opts := []string{"--config", cfg, "--root", root, "--dbpath", filepath.Join(root, "var/lib/pacman"),
		"--cachedir", filepath.Join(root, "cache"), "--gpgdir", c.gnupg, "--logfile", filepath.Join(root, "pacman.log"), "--noconfirm"}
	if _, err := step(root, "pacman", append(opts, "-Sy")...); err != nil {
		return "", err
	}
	if q.Pin != "" {
		// -U fetches the .sig beside the URL and checks it.
		_, err := step(root, "pacman", append(opts, "-Uw", fmt.Sprintf("%s/arch/%s/x86_64/%s-%s-1-x86_64.pkg.tar.zst", c.fx.url, q.channel(), q.name(), q.Pin))...)
		return q.Pin, err
	}
	out, err := step(root, "pacman", append(opts, "-Si", q.name())...)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^Version\s*: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		return "", errors.New("pacman -Si names no version")
	}
	if _, err := step(root, "pacman", append(opts, "-Sw", q.name())...); err != nil {
		return "", err
	}
	return strings.TrimSuffix(m[1], "-1"), nil
}

// apk: go-apk installs the agent into the root, given the published key.
func (c *repoClients) apk(t *testing.T, root string, q query, step stepFn) (string, error) {
	world := q.name()
	if q.Pin != "" {
		world += "=" + q.Pin + "-r1"
	}
	keys, err := filepath.Glob(filepath.Join(c.keys, "*.rsa.pub"))
	if err != nil || len(keys) != 1 {
		return "", fmt.Errorf("published apk keys %v, want one", keys)
	}
	if _, err := step(root, apktest.Client(t), "-root", filepath.Join(root, "root"), "-arch", "x86_64", "-key", keys[0],
		"-repo", c.fx.url+"/apk/"+q.channel(), "-world", world); err != nil {
		return "", err
	}
	db, err := os.ReadFile(filepath.Join(root, "root/lib/apk/db/installed"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^P:` + regexp.QuoteMeta(q.name()) + `\nV:(\S+)`).FindSubmatch(db)
	if m == nil {
		return "", fmt.Errorf("go-apk's installed database names no %s:\n%s", q.name(), db)
	}
	return strings.TrimSuffix(string(m[1]), "-r1"), nil
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
