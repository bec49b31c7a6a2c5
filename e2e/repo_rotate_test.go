package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
)

// TestRepoRotateApt rotates the repository's OpenPGP key as the README's
// "Key rotation" steps say, with apt on a booted Debian 12 host set up by
// the README's apt blocks: a client that trusts only the old key accepts
// the repository while the next key is announced (InRelease carries both
// signatures); a client set up then trusts both keys and keeps upgrading
// after the switch; the old keyring alone is refused after the switch
// with apt's NO_PUBKEY; --retire-keys leaves only the new key.
func TestRepoRotateApt(t *testing.T) {
	host.RequireRoot(t)
	rx := newRotateFixture(t)
	fx, oldKeys, nextKeys, nextDir, strayDir := rx.fx, rx.oldKeys, rx.nextKeys, rx.nextDir, rx.strayDir
	oldFP, nextFP := signing.PGPFingerprint(oldKeys.PGP), signing.PGPFingerprint(nextKeys.PGP)
	blocks := fx.readmeBlocks(t, "repo-apt", 2)
	setup, upgrade := blocks[0], blocks[1]

	fx.mustPublish(t, "--dist", fx.rel[v1].dir)
	h := host.New(t, host.Systemd)
	h.MustRun(t, "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*")
	h.MustRun(t, setup)
	pid := waitRunning(t, h)
	// The keyring of a client set up before the announcement: the old key.
	h.MustRun(t, "cp /etc/apt/keyrings/"+readmeRepoName+".gpg /root/old-only.gpg")

	// Announce: v2 still signed by the old key, InRelease by both.
	out := fx.mustPublish(t, "--dist", fx.rel[v2].dir, "--next-key", nextDir)
	t.Logf("publish %s --next-key:\n%s", v2, out)
	assertKeyring(t, fx, oldFP, nextFP)
	for _, fp := range []string{oldFP, nextFP} {
		if !strings.Contains(string(fx.read(t, "setup/pacman/stable/"+readmeRepoName+"-trusted")), fp+":4:") {
			t.Errorf("pacman's %s-trusted lacks %s during the overlap", readmeRepoName, fp)
		}
	}
	assertSignedBy(t, fx, "dists/stable/InRelease", oldKeys, nextKeys)
	t.Run("old-key client accepts the overlap", func(t *testing.T) {
		out := h.MustRun(t, upgrade)
		t.Logf("README upgrade with the old keyring:\n%s", out)
		pid = waitRunningNot(t, h, pid)
		assertAptVersion(t, h, v2+"-1")
	})
	// A refresh without --next-key keeps announcing the key the
	// repository recorded.
	fx.mustPublish(t, "--refresh")
	assertKeyring(t, fx, oldFP, nextFP)

	// A client set up now: the README's setup fetches the keyring with both.
	h.MustRun(t, setup)
	stray := *fx
	stray.keyDir = strayDir
	if out, err := stray.publish(t, "--refresh"); err == nil || !strings.Contains(out, "which its clients do not trust yet") {
		t.Errorf("publish with keys never announced: %v\n%s", err, out)
	}

	// Switch: publishing with the announced key directory.
	next := *fx
	next.keyDir = nextDir
	out = next.mustPublish(t, "--dist", fx.rel[v3].dir)
	t.Logf("publish %s --keys NEXT:\n%s", v3, out)
	if !strings.Contains(out, "switched to OpenPGP key "+nextFP) {
		t.Errorf("the switching publish does not say it switched:\n%s", out)
	}
	assertKeyring(t, fx, nextFP, oldFP)
	assertSignedBy(t, fx, "dists/stable/InRelease", nextKeys)
	t.Run("overlap client upgrades after the switch", func(t *testing.T) {
		out := h.MustRun(t, upgrade)
		t.Logf("README upgrade after the switch:\n%s", out)
		waitRunningNot(t, h, pid)
		assertAptVersion(t, h, v3+"-1")
	})
	t.Run("old-key client refused after the switch", func(t *testing.T) {
		h.MustRun(t, "cp /root/old-only.gpg /etc/apt/keyrings/"+readmeRepoName+".gpg && rm -rf /var/lib/apt/lists/*")
		out, err := h.Run(t, "apt-get update")
		t.Logf("apt-get update with the old keyring (%v):\n%s", err, out)
		// apt names the signer by its long key ID, the fingerprint's tail.
		if missing := "NO_PUBKEY " + nextFP[len(nextFP)-16:]; err == nil || !strings.Contains(out, missing) || !strings.Contains(out, "is not signed") {
			t.Errorf("apt-get update with only the old key after the switch: %v, want %s and \"is not signed\":\n%s", err, missing, out)
		}
	})

	next.mustPublish(t, "--refresh", "--retire-keys")
	assertKeyring(t, fx, nextFP)
}

// rotateFixture is a served repository tree, old and next key sets and
// a stray one never announced, and releases v1 and v2 signed with the
// old keys and v3 with the next ones, each signed later than the last.
type rotateFixture struct {
	fx                *repoFixture
	oldKeys, nextKeys *pipeline.Keys
	nextDir, strayDir string
}

func newRotateFixture(t *testing.T) *rotateFixture {
	t.Helper()
	work := t.TempDir()
	fx := &repoFixture{cli: omnipackCLI(t), keyDir: filepath.Join(work, "keys"), repo: filepath.Join(work, "repo"), rel: map[string]*release{}}
	nextDir, strayDir := filepath.Join(work, "keys-next"), filepath.Join(work, "keys-stray")
	oldKeys, err := makeKeys(fx.keyDir)
	if err != nil {
		t.Fatal(err)
	}
	nextKeys, err := makeKeys(nextDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := makeKeys(strayDir); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// v1 and v2 are released with the old keys, v3 (after the switch)
	// with the new ones; each later release is signed later.
	for i, b := range []struct {
		v    string
		keys *pipeline.Keys
	}{{v1, oldKeys}, {v2, oldKeys}, {v3, nextKeys}} {
		at := now.Add(time.Duration(i-3) * time.Hour)
		r, err := buildExampleRelease(work, b.v, "", nil, pipeline.Options{Keys: b.keys, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("building signed %s: %v", b.v, err)
		}
		fx.rel[b.v] = r
	}
	if err := os.MkdirAll(fx.repo, 0o755); err != nil {
		t.Fatal(err)
	}
	fx.url = fx.serve(t)
	return &rotateFixture{fx: fx, oldKeys: oldKeys, nextKeys: nextKeys, nextDir: nextDir, strayDir: strayDir}
}

// assertKeyring checks that keys/NAME.gpg and keys/NAME.asc hold exactly
// the keys with these fingerprints, in this order.
func assertKeyring(t *testing.T, fx *repoFixture, want ...string) {
	t.Helper()
	for rel, read := range map[string]func([]byte) (openpgp.EntityList, error){
		"keys/" + readmeRepoName + ".gpg": func(b []byte) (openpgp.EntityList, error) { return openpgp.ReadKeyRing(bytes.NewReader(b)) },
		"keys/" + readmeRepoName + ".asc": func(b []byte) (openpgp.EntityList, error) { return openpgp.ReadArmoredKeyRing(bytes.NewReader(b)) },
	} {
		el, err := read(fx.read(t, rel))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		var got []string
		for _, e := range el {
			got = append(got, signing.PGPFingerprint(e))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s holds %v, want %v", rel, got, want)
		}
	}
}

// assertSignedBy checks with gpgv that each key alone verifies a
// signature of the clearsigned file (gpgv's VALIDSIG with its
// fingerprint), and that the file carries no other signature.
func assertSignedBy(t *testing.T, fx *repoFixture, rel string, keys ...*pipeline.Keys) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(fx.repo, rel)
	for _, k := range keys {
		ring := filepath.Join(dir, "ring.gpg")
		pub, err := os.ReadFile(filepath.Join(k.Dir, signing.PGPPubFile))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := signing.Dearmor(pub)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, ring, raw)
		// The exit status is not the verdict: gpgv also reports a key it
		// lacks (the other signer) as an error.
		out, _ := exec.Command("gpgv", "--status-fd", "1", "--keyring", ring, file).Output()
		fp := signing.PGPFingerprint(k.PGP)
		if !strings.Contains(string(out), "[GNUPG:] VALIDSIG "+fp+" ") {
			t.Errorf("gpgv with %s alone finds no valid signature by it in %s:\n%s", fp, rel, out)
		}
		if got, want := strings.Count(string(out), "[GNUPG:] NEWSIG"), len(keys); got != want {
			t.Errorf("%s carries %d signatures, want %d:\n%s", rel, got, want, out)
		}
	}
}

// TestRepoRotatePacman: a host set up with the README's pacman blocks
// while the next key is announced trusts both keys (pacman-key
// --populate with NAME-trusted listing both); after the switch, which
// pacman takes at once, pacman -Syu upgrades to the release signed by
// the new keys. With the new key deleted from its keyring, the host
// refuses the switched database.
func TestRepoRotatePacman(t *testing.T) {
	host.RequireRoot(t)
	rx := newRotateFixture(t)
	fx := rx.fx
	nextFP := signing.PGPFingerprint(rx.nextKeys.PGP)
	blocks := fx.readmeBlocks(t, "repo-pacman", 2)

	out := fx.mustPublish(t, "--dist", fx.rel[v1].dir, "--next-key", rx.nextDir)
	t.Logf("publish %s --next-key:\n%s", v1, out)
	h := archLikeHost(t)
	out = h.MustRun(t, blocks[0]+" 2>&1")
	t.Logf("README setup during the overlap:\n%s", out)
	pid := waitRunning(t, h)

	next := *fx
	next.keyDir = rx.nextDir
	next.mustPublish(t, "--dist", fx.rel[v3].dir)
	out = h.MustRun(t, blocks[1]+" 2>&1")
	t.Logf("README upgrade after the switch:\n%s", out)
	waitRunningNot(t, h, pid)
	if got := strings.TrimSpace(h.MustRun(t, "pacman -Q "+agent)); got != agent+" "+v3+"-1" {
		t.Errorf("pacman -Q after the switch: %q, want %s %s-1", got, agent, v3)
	}

	t.Run("new key unknown", func(t *testing.T) {
		h.MustRun(t, "pacman-key --delete "+nextFP)
		out, err := h.Run(t, "pacman -Syy --noconfirm 2>&1")
		t.Logf("pacman -Syy without the new key (%v):\n%s", err, out)
		unknown := `key "` + nextFP + `" is unknown`
		if err == nil || !strings.Contains(out, unknown) || !strings.Contains(out, "invalid or corrupted database (PGP signature)") {
			t.Errorf("pacman -Syy without the new key: %v, want %s and a refused database signature:\n%s", err, unknown, out)
		}
	})
}

// TestRepoRotateRPM: dnf and zypper hosts set up with the README's blocks
// while the next key is announced (the keyring they import, keys/NAME.asc,
// carries both keys) upgrade to the release signed by the new keys after
// the switch: repomd.xml.asc and the package are then signed by the new
// key alone.
func TestRepoRotateRPM(t *testing.T) {
	host.RequireRoot(t)
	shared := newRotateFixture(t)
	for name, c := range rpmClients {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fx := shared.fx.another(t)
			blocks := fx.readmeBlocks(t, "repo-rpm", 4)
			fx.mustPublish(t, "--dist", fx.rel[v1].dir, "--next-key", shared.nextDir)
			h := host.New(t, host.Systemd, host.WithPackages(c.pkgs...))
			h.MustRun(t, debianAsRPM)
			out := h.MustRun(t, blocks[c.setup]+" 2>&1")
			t.Logf("%s README setup during the overlap:\n%s", name, out)
			pid := waitRunning(t, h)
			// rpm names an imported key gpg-pubkey-KEYID8: both must be
			// in before the switch, not fetched at it.
			imported := h.MustRun(t, "rpm -q gpg-pubkey --qf '%{VERSION}\\n'")
			for _, k := range []*pipeline.Keys{shared.oldKeys, shared.nextKeys} {
				fp := strings.ToLower(signing.PGPFingerprint(k.PGP))
				if !strings.Contains(imported, fp[len(fp)-8:]) {
					t.Errorf("%s imported the keys %q during the overlap, not %s", name, imported, fp)
				}
			}

			next := *fx
			next.keyDir = shared.nextDir
			next.mustPublish(t, "--dist", fx.rel[v3].dir)
			out, err := h.Run(t, blocks[c.upgrade]+" 2>&1")
			t.Logf("%s README upgrade after the switch (%v):\n%s", name, err, out)
			if err != nil {
				t.Fatalf("%s upgrade after the switch failed", name)
			}
			if got := strings.TrimSpace(h.MustRun(t, "rpm -q "+agent)); got != agent+"-"+v3+"-1.x86_64" {
				t.Fatalf("after the %s upgrade across the switch rpm knows %q", name, got)
			}
			waitRunningNot(t, h, pid)

			t.Run("new key never trusted", func(t *testing.T) {
				// A host that trusts the old key alone and is given no
				// other: its .repo names a local copy of the old key, and
				// the new key is gone from rpm's database and the
				// clients' caches.
				h.CopyIn(t, filepath.Join(fx.keyDir, signing.PGPPubFile), "/etc/pki/rpm-gpg/old.asc")
				nextFP := strings.ToLower(signing.PGPFingerprint(shared.nextKeys.PGP))
				out := h.MustRun(t, "rpm -e gpg-pubkey-"+nextFP[len(nextFP)-8:]+
					" && rm -rf /var/cache/dnf /var/cache/zypp /var/lib/dnf/repos"+
					" && for f in /etc/yum.repos.d/*.repo /etc/zypp/repos.d/*.repo; do [ ! -f \"$f\" ] || sed -i 's|^gpgkey=.*|gpgkey=file:///etc/pki/rpm-gpg/old.asc|' \"$f\"; done"+
					" && rpm -q gpg-pubkey --qf '%{VERSION}\\n'")
				t.Logf("%s: rpm trusts %s", name, out)
				out, err := h.Run(t, c.refuseTampering+" 2>&1")
				t.Logf("%s without the new key (%v):\n%s", name, err, out)
				if err == nil {
					t.Errorf("%s accepts the repository signed by a key it never trusted", name)
				}
				if !strings.Contains(out, c.refuseUntrusted) {
					t.Errorf("%s's refusal does not say %q", name, c.refuseUntrusted)
				}
			})
		})
	}
}
