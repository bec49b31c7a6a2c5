package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/repo"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// The README's apt setup names the repository example and serves it at
// readmeRepoURL; the test serves it elsewhere and changes only that URL.
const (
	readmeRepoURL  = "https://packages.example.com"
	readmeRepoName = "example"
	v3             = "1.2.0"
)

// repoFixture is a repository tree served by omnipack serve on loopback,
// and three releases of the example signed with one key set.
type repoFixture struct {
	cli, keyDir, repo, url string
	rel                    map[string]*release // by version
}

func newRepoFixture(t *testing.T) *repoFixture {
	t.Helper()
	work := t.TempDir()
	fx := &repoFixture{cli: omnipackCLI(t), keyDir: filepath.Join(work, "keys"), repo: filepath.Join(work, "repo"), rel: map[string]*release{}}
	keys, err := makeKeys(fx.keyDir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, v := range []string{v1, v2, v3} {
		// Each later release is signed later, so its release version is higher.
		at := now.Add(time.Duration(i-3) * time.Hour)
		r, err := buildExampleRelease(work, v, "", nil, pipeline.Options{Keys: keys, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("building signed %s: %v", v, err)
		}
		fx.rel[v] = r
	}
	if err := os.MkdirAll(fx.repo, 0o755); err != nil {
		t.Fatal(err)
	}
	fx.url = fx.serve(t)
	return fx
}

// another is a fixture with the same releases and keys and a repository
// tree of its own, served apart: for tests that break their repository
// while another test uses its own.
func (fx *repoFixture) another(t *testing.T) *repoFixture {
	t.Helper()
	c := *fx
	c.repo = filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(c.repo, 0o755); err != nil {
		t.Fatal(err)
	}
	c.url = c.serve(t)
	return &c
}

// readmeBlocks returns the ```sh blocks between the README's NAME
// markers, want of them, each with the served repository's URL in place
// of the README's and set -e first.
func (fx *repoFixture) readmeBlocks(t *testing.T, name string, want int) []string {
	t.Helper()
	blocks := readmeShBlocks(t, name)
	if len(blocks) != want {
		t.Fatalf("the README's %s section has %d sh blocks, want %d", name, len(blocks), want)
	}
	for i, b := range blocks {
		blocks[i] = "set -e\n" + strings.ReplaceAll(b, readmeRepoURL, fx.url)
	}
	return blocks
}

// serve runs omnipack serve on the repository and returns its URL once
// the command says it listens.
func (fx *repoFixture) serve(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(fx.cli, "serve", fx.repo, "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("omnipack serve printed no URL: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`at (http://127\.0\.0\.1:[0-9]+)/\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("omnipack serve printed %q, want its URL", line)
	}
	return m[1]
}

// publish runs omnipack publish with the fixture's keys and the
// README's repository name.
func (fx *repoFixture) publish(t *testing.T, args ...string) (string, error) {
	t.Helper()
	args = append([]string{"publish", "--repo", fx.repo, "--keys", fx.keyDir, "--name", readmeRepoName, "--url", fx.url}, args...)
	cmd := exec.Command(fx.cli, args...)
	cmd.Env = append(os.Environ(), signing.PasswordEnv+"="+keyPassword)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (fx *repoFixture) mustPublish(t *testing.T, args ...string) string {
	t.Helper()
	out, err := fx.publish(t, args...)
	if err != nil {
		t.Fatalf("omnipack publish %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (fx *repoFixture) read(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fx.repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRepoApt publishes the signed example into an apt repository with
// omnipack publish, serves it with omnipack serve, and on a booted Debian
// 12 host sets it up with the README's commands: apt installs and starts
// the agent, upgrades it when version 2 is published, and refuses the
// repository when InRelease is tampered with, a Packages file is swapped
// or Valid-Until has passed. --refresh renews Valid-Until without
// changing a package, and --keep 2 after a third version leaves the two
// newest, from which apt installs the newest.
func TestRepoApt(t *testing.T) {
	host.RequireRoot(t)
	fx := newRepoFixture(t)
	blocks := fx.readmeBlocks(t, "repo-apt", 2)
	setup, upgrade := blocks[0], blocks[1]

	t.Run("publish refuses", func(t *testing.T) { repoPublishRefuses(t, fx) })

	out := fx.mustPublish(t, "--dist", fx.rel[v1].dir)
	t.Logf("publish %s:\n%s", v1, out)
	h := host.New(t, host.Systemd)
	// The test's one change: the host fetches nothing but this
	// repository, not Debian's archive too.
	h.MustRun(t, "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*")
	out = h.MustRun(t, setup)
	t.Logf("README setup:\n%s", out)
	pid := waitRunning(t, h)
	assertAptVersion(t, h, v1+"-1")
	if got := h.MustRun(t, "cat /etc/apt/sources.list.d/"+readmeRepoName+".sources"); !strings.Contains(got, "Signed-By: /etc/apt/keyrings/"+readmeRepoName+".gpg") {
		t.Errorf("the setup's .sources does not pin the key with Signed-By:\n%s", got)
	}

	fx.mustPublish(t, "--dist", fx.rel[v2].dir)
	out = h.MustRun(t, upgrade)
	t.Logf("README upgrade:\n%s", out)
	pid = waitRunningNot(t, h, pid)
	assertAptVersion(t, h, v2+"-1")

	aptRefusals(t, fx, h)

	t.Run("refresh", func(t *testing.T) {
		packages := "dists/stable/main/binary-amd64/Packages.xz"
		before, beforePkgs := validUntil(t, fx), fx.read(t, packages)
		out := fx.mustPublish(t, "--refresh", "--valid-for", "240h")
		t.Logf("refresh:\n%s", out)
		after := validUntil(t, fx)
		if !after.After(before.Add(48 * time.Hour)) {
			t.Errorf("--refresh --valid-for 240h moved Valid-Until from %s to %s", before, after)
		}
		if !bytes.Equal(beforePkgs, fx.read(t, packages)) {
			t.Errorf("--refresh changed %s", packages)
		}
		if strings.Contains(out, "added") {
			t.Errorf("--refresh added a package:\n%s", out)
		}
		h.MustRun(t, "apt-get update")
	})

	t.Run("keep 2", func(t *testing.T) {
		out := fx.mustPublish(t, "--dist", fx.rel[v3].dir, "--keep", "2")
		t.Logf("publish %s --keep 2:\n%s", v3, out)
		if !strings.Contains(out, "pruned  pool/stable/main/c/crashwatch/crashwatch_"+v1+"-1_amd64.deb") {
			t.Errorf("publish --keep 2 did not say it pruned %s", v1)
		}
		debs, _ := filepath.Glob(filepath.Join(fx.repo, "pool/stable/main/c/crashwatch/*.deb"))
		var names []string
		for _, d := range debs {
			names = append(names, filepath.Base(d))
		}
		sort.Strings(names)
		if want := []string{"crashwatch_" + v2 + "-1_amd64.deb", "crashwatch_" + v3 + "-1_amd64.deb"}; strings.Join(names, " ") != strings.Join(want, " ") {
			t.Errorf("the pool holds %v, want %v", names, want)
		}
		pk := string(fx.read(t, "dists/stable/main/binary-amd64/Packages"))
		if versions := regexp.MustCompile(`(?m)^Version: (.*)$`).FindAllStringSubmatch(pk, -1); len(versions) != 2 ||
			versions[0][1] != v2+"-1" || versions[1][1] != v3+"-1" {
			t.Errorf("Packages lists %v, want %s-1 and %s-1:\n%s", versions, v2, v3, pk)
		}
		madison := h.MustRun(t, "apt-get update >/dev/null && apt-cache madison crashwatch")
		if strings.Contains(madison, v1+"-1") || !strings.Contains(madison, v2+"-1") || !strings.Contains(madison, v3+"-1") {
			t.Errorf("apt-cache madison after --keep 2:\n%s", madison)
		}
		h.MustRun(t, "apt-get install -y crashwatch")
		waitRunningNot(t, h, pid)
		assertAptVersion(t, h, v3+"-1")
	})
}

func assertAptVersion(t *testing.T, h *host.Host, want string) {
	t.Helper()
	if got := strings.TrimSpace(h.MustRun(t, "dpkg-query -W -f='${Version} ${db:Status-Status}' "+agent)); got != want+" installed" {
		t.Errorf("dpkg says %s is %q, want %q", agent, got, want+" installed")
	}
}

// validUntil reads the published Valid-Until.
func validUntil(t *testing.T, fx *repoFixture) time.Time {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Valid-Until: (.*)$`).FindSubmatch(fx.read(t, "dists/stable/Release"))
	if m == nil {
		t.Fatal("Release has no Valid-Until")
	}
	v, err := time.Parse("Mon, 02 Jan 2006 15:04:05 MST", string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// aptRefusals breaks the served repository three ways; each time apt on
// the host must refuse it with its own message, and accept it again once
// the repository is whole.
func aptRefusals(t *testing.T, fx *repoFixture, h *host.Host) {
	suite := "dists/stable/"
	binary := suite + "main/binary-amd64/"
	// refused makes apt forget what it fetched (it would not fetch an
	// unchanged Packages file again), breaks the repository, and expects
	// apt-get update to fail saying one of want; restore then makes it
	// whole.
	refused := func(t *testing.T, breakIt func(t *testing.T), restore func(t *testing.T), want ...string) string {
		t.Helper()
		h.MustRun(t, "rm -rf /var/lib/apt/lists/*")
		breakIt(t)
		out, err := h.Run(t, "apt-get update")
		t.Logf("apt-get update on the broken repository (%v):\n%s", err, out)
		if err == nil {
			t.Errorf("apt-get update accepts the broken repository:\n%s", out)
		} else if !slices.ContainsFunc(want, func(w string) bool { return strings.Contains(out, w) }) {
			t.Errorf("apt-get update failed (%v) without saying any of %q:\n%s", err, want, out)
		}
		restore(t)
		// apt keeps the refused download in lists/partial and would
		// resume it: the restored file can have the same size and, within
		// a second, the same Last-Modified.
		h.MustRun(t, "rm -rf /var/lib/apt/lists/*")
		if out, err := h.Run(t, "apt-get update"); err != nil {
			t.Fatalf("apt-get update on the restored repository: %v\n%s", err, out)
		}
		return out
	}
	// saved keeps the named files, to put them back.
	saved := func(t *testing.T, rels ...string) func(t *testing.T) {
		keep := map[string][]byte{}
		for _, r := range rels {
			keep[r] = fx.read(t, r)
		}
		return func(t *testing.T) {
			for r, data := range keep {
				writeFile(t, filepath.Join(fx.repo, r), data)
			}
		}
	}

	t.Run("tampered InRelease", func(t *testing.T) {
		restore := saved(t, suite+"InRelease")
		refused(t, func(t *testing.T) {
			data := fx.read(t, suite+"InRelease")
			writeFile(t, filepath.Join(fx.repo, suite, "InRelease"), bytes.Replace(data, []byte("Suite: stable"), []byte("Suite: stablE"), 1))
		}, restore, "The following signatures were invalid: BADSIG")
	})

	t.Run("swapped Packages", func(t *testing.T) {
		byHash, _ := filepath.Glob(filepath.Join(fx.repo, binary, "by-hash/SHA256/*"))
		rels := []string{binary + "Packages", binary + "Packages.gz", binary + "Packages.xz"}
		for _, p := range byHash {
			rels = append(rels, strings.TrimPrefix(p, fx.repo+"/"))
		}
		restore := saved(t, rels...)
		fetched := fx.url + "/" + binary + "by-hash/SHA256/" + hashOf(t, fx, binary+"Packages.xz")
		out := refused(t, func(t *testing.T) {
			// Another Packages file, as an attacker would serve: the same
			// package at a version of theirs, compressed as each name says.
			plain := bytes.ReplaceAll(fx.read(t, binary+"Packages"), []byte("Version: "+v2+"-1"), []byte("Version: 9.9.9-1"))
			variants := map[string][]byte{"": plain, ".gz": gzipped(t, plain), ".xz": xzed(t, plain)}
			for _, r := range rels {
				data := fx.read(t, r)
				kind := ""
				switch {
				case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
					kind = ".gz"
				case bytes.HasPrefix(data, []byte{0xfd, '7', 'z', 'X', 'Z'}):
					kind = ".xz"
				}
				writeFile(t, filepath.Join(fx.repo, r), variants[kind])
			}
			// apt checks the size first, then the digest; the attacker's
			// compressed file may or may not be the same size.
		}, restore, "File has unexpected size", "Hash Sum mismatch")
		if !strings.Contains(out, "E: Failed to fetch "+fetched) {
			t.Errorf("apt-get update did not refuse %s, the Packages.xz InRelease names by hash:\n%s", fetched, out)
		}
	})

	t.Run("Valid-Until passed", func(t *testing.T) {
		// A refresh dated two days ago, valid for one: the clock inside
		// the container cannot be moved, the metadata's dates can.
		past := time.Now().Add(-48 * time.Hour)
		refused(t, func(t *testing.T) {
			if _, err := repo.Publish(context.Background(), repo.Options{
				Repo: fx.repo, KeyDir: fx.keyDir, Password: []byte(keyPassword), Refresh: true,
				ValidFor: 24 * time.Hour, Now: func() time.Time { return past },
			}); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T) { fx.mustPublish(t, "--refresh") }, "is expired (invalid since")
	})
}

// hashOf is the hex sha256 of a file of the repository.
func hashOf(t *testing.T, fx *repoFixture, rel string) string {
	t.Helper()
	return fmt.Sprintf("%x", sha256.Sum256(fx.read(t, rel)))
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func xzed(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	xw, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(data)
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// repoPublishRefuses: publish refuses a tampered and an expired release,
// and serve an address other hosts reach; the repository is left as it
// was.
func repoPublishRefuses(t *testing.T, fx *repoFixture) {
	copyOf := func(t *testing.T, r *release) string {
		dir := filepath.Join(t.TempDir(), "dist")
		if err := verifytest.CopyTree(r.dir, dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	before := treeDigest(t, fx.repo)

	tampered := copyOf(t, fx.rel[v1])
	deb := filepath.Join(tampered, filepath.Base(fx.rel[v1].artifact(t, "deb")))
	data, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, deb, flip(t, data, int64(len(data)/2)))
	out, err := fx.publish(t, "--dist", tampered)
	if err == nil || !strings.Contains(out, "verification failed: artifact "+filepath.Base(deb)) || !strings.Contains(out, "nothing was published") {
		t.Errorf("publish of a release with a flipped deb byte: %v\n%s", err, out)
	}

	expired := copyOf(t, fx.rel[v1])
	keys, err := pipeline.LoadKeys(fx.keyDir, "omnipack", []byte(keyPassword))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := manifest.Read(filepath.Join(expired, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.SignRelease(expired, rel, keys, rel.ReleaseVersion, time.Now().Add(-2*time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	out, err = fx.publish(t, "--dist", expired)
	if err == nil || !strings.Contains(out, "release.json expired at") || !strings.Contains(out, "run omnipack resign on it first") {
		t.Errorf("publish of an expired release: %v\n%s", err, out)
	}

	cmd := exec.Command(fx.cli, "serve", fx.repo, "--addr", "0.0.0.0:0")
	out2, err := cmd.CombinedOutput()
	if host.ExitCode(err) != 2 || !strings.Contains(string(out2), "not a loopback address") {
		t.Errorf("serve --addr 0.0.0.0:0 without --public: %v\n%s", err, out2)
	}
	if after := treeDigest(t, fx.repo); after != before {
		t.Errorf("a refused publish changed the repository")
	}
}

// treeDigest hashes every path and file of a tree but the lock.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || filepath.Base(p) == repo.LockFile {
			return err
		}
		data, err := os.ReadFile(p)
		fmt.Fprintf(h, "%s %x\n", p, sha256.Sum256(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
