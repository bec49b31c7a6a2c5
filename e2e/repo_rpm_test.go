package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/e2e/host"
)

// rpmClient is how one package manager adds the repository, installs and
// upgrades: the README's blocks for it (setup, then upgrade), and the
// command that must refuse a tampered repository.
type rpmClient struct {
	pkgs            []string
	setup, upgrade  int    // indexes of the README's repo-rpm blocks
	refuseTampering string // the command that fetches the metadata again
	// refuseUntrusted is what the client says of a repository signed by a
	// key it does not trust.
	refuseUntrusted string
}

// debianAsRPM gives a Debian host what an rpm distribution has and the
// clients expect: /etc/yum.repos.d; rpm's database in /var/lib/rpm, where
// libzypp looks, rather than Debian's ~/.rpmdb; and the release version
// dnf reads from the system-release package, which Debian lacks.
const debianAsRPM = "mkdir -p /etc/yum.repos.d /etc/rpm /etc/dnf/vars && echo '%_dbpath /var/lib/rpm' > /etc/rpm/macros && echo 1 > /etc/dnf/vars/releasever"

var rpmClients = map[string]rpmClient{
	"dnf": {
		pkgs: []string{"dnf", "curl"}, setup: 0, upgrade: 1,
		// One changed byte in repomd.xml: dnf must not read on (the .repo
		// file sets skip_if_unavailable=False).
		refuseTampering: "dnf -y --refresh makecache",
		refuseUntrusted: "repomd.xml GPG signature verification error: Bad GPG signature",
	},
	"zypper": {
		pkgs: []string{"zypper", "curl"}, setup: 2, upgrade: 3,
		refuseTampering: "zypper --non-interactive refresh --force",
		refuseUntrusted: "is signed with an unknown key",
	},
}

// TestRPMRepository: on booted Debian 12 systemd hosts, dnf and zypper,
// each against a repository of its own that omnipack publish made and
// omnipack serve serves, run the README's commands: they add the signed
// repository from its published .repo file and key, install the agent
// (its scriptlets run, the service starts), upgrade it once 1.1.0 is
// published (the service restarts on the new binary), and refuse the
// repository once repomd.xml is changed.
func TestRPMRepository(t *testing.T) {
	host.RequireRoot(t)
	shared := newRepoFixture(t)
	for name, c := range rpmClients {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fx := shared.another(t)
			blocks := fx.readmeBlocks(t, "repo-rpm", 4)
			fx.mustPublish(t, "--dist", fx.rel[v1].dir)
			h := host.New(t, host.Systemd, host.WithPackages(c.pkgs...))

			h.MustRun(t, debianAsRPM)
			out := h.MustRun(t, blocks[c.setup]+" 2>&1")
			t.Logf("%s README setup:\n%s", name, out)
			pid1 := waitRunning(t, h)
			if got := strings.TrimSpace(h.MustRun(t, "rpm -q "+agent)); got != agent+"-"+v1+"-1.x86_64" {
				t.Fatalf("after %s install rpm knows %q", name, got)
			}
			assertRunsAs(t, h, pid1, agent)

			fx.mustPublish(t, "--dist", fx.rel[v2].dir)
			out = h.MustRun(t, blocks[c.upgrade]+" 2>&1")
			t.Logf("%s README upgrade:\n%s", name, out)
			if got := strings.TrimSpace(h.MustRun(t, "rpm -q "+agent)); got != agent+"-"+v2+"-1.x86_64" {
				t.Fatalf("after %s upgrade rpm knows %q", name, got)
			}
			pid2 := waitRunningNot(t, h, pid1)
			if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
				t.Errorf("installed binary says %q, want %s %s", got, agent, v2)
			}
			assertRunsAs(t, h, pid2, agent)

			repomd := "rpm/stable/repodata/repomd.xml"
			data := fx.read(t, repomd)
			data[len(data)/2] ^= 1
			writeFile(t, filepath.Join(fx.repo, repomd), data)
			out, err := h.Run(t, c.refuseTampering+" 2>&1")
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
