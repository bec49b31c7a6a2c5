package e2e

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/archlinux"
	"github.com/omnipack/omnipack/signing"
)

// TestPacmanRepository: on a booted systemd host made Arch-like (pacman,
// bash as /bin/sh, an initialised pacman keyring), the pacman snippet
// trusts the repository's key, adds the [crashwatch] section and installs
// the agent, which starts; after version 2 is indexed pacman -Syu upgrades
// it and the service restarts on the new binary. A tampered database and
// a tampered package are refused. The repository is laid out as omnipack
// publish lays it out: each package and its .sig at PoolPath, then Index's
// files.
func TestPacmanRepository(t *testing.T) {
	host.RequireRoot(t)
	keyDir := t.TempDir()
	if _, err := signing.Generate(keyDir, []byte(signPassword), false); err != nil {
		t.Fatal(err)
	}
	pgp, err := signing.LoadPGPEntity(filepath.Join(keyDir, signing.PGPKeyFile), []byte(signPassword))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	put := func(rel string, data []byte) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := os.ReadFile(filepath.Join(keyDir, signing.PGPPubFile))
	if err != nil {
		t.Fatal(err)
	}
	put("keys/pgp.pub.asc", pub)
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	t.Cleanup(srv.Close)

	var pkgs []packaging.RepoPackage
	publish := func(r *release, version string) packaging.RepoPackage {
		t.Helper()
		data, err := os.ReadFile(r.artifact(t, "archlinux"))
		if err != nil {
			t.Fatal(err)
		}
		sig, err := signing.DetachSign(pgp, bytes.NewReader(data), false)
		if err != nil {
			t.Fatal(err)
		}
		p := packaging.RepoPackage{Name: agent, Program: agent, Version: version + "-1", Arch: "amd64"}
		p.Path = archlinux.Format{}.PoolPath("stable", p)
		put(p.Path, data)
		put(archlinux.SigPath(p.Path), sig)
		pkgs = append(pkgs, p)
		files, err := archlinux.Format{}.Index(packaging.RepoIndex{Root: root, Channel: "stable", Name: agent,
			Packages: pkgs, Date: time.Now(), Sign: packaging.RepoSigner{Detached: func(body []byte, armored bool) ([]byte, error) {
				return signing.DetachSign(pgp, bytes.NewReader(body), armored)
			}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			put(f.Path, f.Body)
		}
		return p
	}
	publish(releaseV1, v1)

	// pacman-key sources makepkg's libmakepkg helpers, only a Recommends
	// of Debian's pacman-package-manager.
	h := host.New(t, host.Systemd, host.WithPackages("pacman-package-manager", "makepkg", "curl"))
	// What an Arch host has already: bash as /bin/sh (nfpm's .INSTALL is
	// bash), pacman's database directory and an initialised keyring.
	h.MustRun(t, "ln -sf bash /bin/sh && mkdir -p /var/lib/pacman && pacman-key --init")

	// The README's snippet, verbatim.
	snippet := archlinux.PacmanSetup(agent, agent, srv.URL, "stable", srv.URL+"/keys/pgp.pub.asc", []string{signing.PGPFingerprint(pgp)})
	out := h.MustRun(t, "set -e\n"+snippet)
	t.Logf("setup:\n%s", out)
	if got := strings.TrimSpace(h.MustRun(t, "pacman -Q "+agent)); got != agent+" "+v1+"-1" {
		t.Fatalf("pacman -Q: %q, want %s %s-1", got, agent, v1)
	}
	pid1 := waitRunning(t, h)
	assertRunsAs(t, h, pid1, agent)

	p2 := publish(releaseV2, v2)
	out = h.MustRun(t, "pacman -Syu --noconfirm")
	t.Logf("pacman -Syu:\n%s", out)
	pid2 := waitRunningNot(t, h, pid1)
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("after pacman -Syu the binary says %q, want %s %s", got, agent, v2)
	}
	assertRunsAs(t, h, pid2, agent)

	t.Run("tampered database", func(t *testing.T) {
		db := filepath.Join(root, "arch/stable/x86_64", agent+".db")
		good, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		defer put("arch/stable/x86_64/"+agent+".db", good)
		put("arch/stable/x86_64/"+agent+".db", append(bytes.Clone(good), '\n'))
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
		pkg := filepath.Join(root, filepath.FromSlash(p2.Path))
		good, err := os.ReadFile(pkg)
		if err != nil {
			t.Fatal(err)
		}
		defer put(p2.Path, good)
		bad := bytes.Clone(good)
		bad[len(bad)/2] ^= 0xff
		put(p2.Path, bad)
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
