package e2e

import (
	"bytes"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/archlinux"
	"github.com/omnipack/omnipack/repo"
)

// TestRepoPacman: on a booted systemd host made Arch-like (pacman,
// bash as /bin/sh, an initialised pacman keyring, /usr/share/pacman/keyrings),
// the README's pacman commands, run against a repository omnipack publish
// made and omnipack serve serves, trust the repository's key, add the
// [example] section and install the agent, which starts; after version 2 is
// published the README's pacman -Syu upgrades it and the service restarts
// on the new binary. A tampered database and a tampered package are
// refused.
func TestRepoPacman(t *testing.T) {
	host.RequireRoot(t)
	fx := newRepoFixture(t)
	blocks := fx.readmeBlocks(t, "repo-pacman", 2)
	readmeClient := packaging.RepoClient{URL: readmeRepoURL, Name: readmeRepoName, Channel: repo.DefaultChannel,
		PGPKeyring: path.Join(repo.KeysDir, readmeRepoName+".gpg")}
	if want := archlinux.PacmanSetup(readmeClient, agent); readmeShBlocks(t, "repo-pacman")[0] != want {
		t.Errorf("the README's pacman setup is not what archlinux.PacmanSetup renders:\n%s", want)
	}
	fx.mustPublish(t, "--dist", fx.rel[v1].dir)

	h := archLikeHost(t)

	out := h.MustRun(t, blocks[0]+" 2>&1")
	t.Logf("README setup:\n%s", out)
	if got := strings.TrimSpace(h.MustRun(t, "pacman -Q "+agent)); got != agent+" "+v1+"-1" {
		t.Fatalf("pacman -Q: %q, want %s %s-1", got, agent, v1)
	}
	pid1 := waitRunning(t, h)
	assertRunsAs(t, h, pid1, agent)

	fx.mustPublish(t, "--dist", fx.rel[v2].dir)
	out = h.MustRun(t, blocks[1]+" 2>&1")
	t.Logf("README upgrade:\n%s", out)
	pid2 := waitRunningNot(t, h, pid1)
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("after pacman -Syu the binary says %q, want %s %s", got, agent, v2)
	}
	assertRunsAs(t, h, pid2, agent)

	put := func(rel string, data []byte) { writeFile(t, filepath.Join(fx.repo, filepath.FromSlash(rel)), data) }
	t.Run("tampered database", func(t *testing.T) {
		db := "arch/stable/x86_64/" + readmeRepoName + ".db"
		good := fx.read(t, db)
		defer put(db, good)
		put(db, append(bytes.Clone(good), '\n'))
		out, err := h.Run(t, "pacman -Syy --noconfirm")
		if err == nil {
			t.Fatalf("pacman accepted a tampered database:\n%s", out)
		}
		if !strings.Contains(out, "signature") {
			t.Errorf("pacman refused the tampered database without naming the signature:\n%s", out)
		}
	})
	t.Run("tampered package", func(t *testing.T) {
		h.MustRun(t, "pacman -R --noconfirm "+agent+" && rm -f /var/cache/pacman/pkg/* && pacman -Syy --noconfirm")
		p2 := archlinux.Format{}.PoolPath(repo.DefaultChannel, packaging.RepoPackage{Name: agent, Version: v2 + "-1", Arch: "amd64"})
		good := fx.read(t, p2)
		defer put(p2, good)
		bad := bytes.Clone(good)
		bad[len(bad)/2] ^= 0xff
		put(p2, bad)
		out, err := h.Run(t, "pacman -S --noconfirm "+agent)
		if err == nil {
			t.Fatalf("pacman installed a tampered package:\n%s", out)
		}
		if !strings.Contains(out, "invalid or corrupted package") {
			t.Errorf("pacman refused the tampered package without saying why:\n%s", out)
		}
		if _, err := h.Run(t, "test -e /usr/bin/"+agent); err == nil {
			t.Error("the tampered package left /usr/bin/" + agent)
		}
	})
}

// archLikeHost boots a systemd host with pacman and what an Arch host has
// already: bash as /bin/sh (nfpm's .INSTALL is bash), pacman's database
// directory, an initialised keyring, and the directory pacman-key
// --populate reads, which is /usr/share/keyrings in Debian's pacman-key.
func archLikeHost(t *testing.T) *host.Host {
	t.Helper()
	// pacman-key sources makepkg's libmakepkg helpers, only a Recommends
	// of Debian's pacman-package-manager.
	h := host.New(t, host.Systemd, host.WithPackages("pacman-package-manager", "makepkg", "curl"))
	h.MustRun(t, "ln -sf bash /bin/sh && mkdir -p /var/lib/pacman /usr/share/pacman && "+
		"ln -s ../keyrings "+archlinux.KeyringDir+" && pacman-key --init")
	return h
}
