package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// TestGoInstallRepo runs omnipack install --method repo on a booted
// Debian 12 systemd host with no other apt source, against a repository
// omnipack publish made and omnipack serve serves on loopback, the signed
// release (whose OpenPGP key the repository is signed with) copied in:
//   - a repository whose InRelease was tampered with is refused by apt,
//     and the host is left as it was: no package, key or source;
//   - whole, the key and source are added, apt installs and starts the
//     agent, and the record says it came from the repository;
//   - version 2 published, the host's own apt-get upgrade delivers it;
//   - --uninstall --purge removes the agent, the source and the key.
func TestGoInstallRepo(t *testing.T) {
	host.RequireRoot(t)
	t.Parallel()
	const secret = "S3cr3t-go-repo-KEY-for-e2e"
	fx := newRepoFixture(t)
	h := host.New(t, host.Systemd)
	h.CopyIn(t, omnipackCLI(t), "/usr/local/bin/omnipack")
	h.CopyIn(t, filepath.Join(fx.keyDir, signing.ReleasePubFile), "/var/tmp/release.pub")
	if err := verifytest.CopyTree(fx.rel[v1].dir, h.Path("/var/tmp/dist1")); err != nil {
		t.Fatal(err)
	}
	h.MustRun(t, "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*")
	install := "AUTH=" + secret + " omnipack install --method repo --repo-url " + fx.url +
		" --key /var/tmp/release.pub --set-env auth_key=AUTH /var/tmp/dist1 2>&1"

	fx.mustPublish(t, "--dist", fx.rel[v1].dir)
	assertTamperedInReleaseRefused(t, fx, h, install, "omnipack install", "BADSIG", "apt refused the repository",
		"removed "+repoKeyring+" again", "removed "+repoSource+" again")

	out := mustInstall(t, h, install)
	t.Logf("omnipack install --method repo:\n%s", out)
	for _, want := range []string{"wrote " + repoKeyring, "wrote " + repoSource, "auth_key=<set>", "is installed from the repository", "stayed up"} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q", want)
		}
	}
	assertSecretHidden(t, h, secret, out, "omnipack install --method repo")
	pid := waitRunning(t, h)
	assertAptVersion(t, h, v1+"-1")
	assertConfig(t, h, secret)
	if source := h.MustRun(t, "cat "+repoSource); !strings.Contains(source, "URIs: "+fx.url+"\n") || !strings.Contains(source, "Signed-By: "+repoKeyring+"\n") {
		t.Errorf("%s:\n%s", repoSource, source)
	}
	if rec := h.MustRun(t, "cat /var/lib/omnipack/"+agent+".release"); !strings.Contains(rec, "method=repo\n") || !strings.Contains(rec, "version="+v1+"\n") {
		t.Errorf("the record does not say %s %s came from the repository:\n%s", agent, v1, rec)
	}

	// Upgrades arrive with the host's own apt-get upgrade.
	fx.mustPublish(t, "--dist", fx.rel[v2].dir)
	out = h.MustRun(t, "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y 2>&1")
	t.Logf("apt-get upgrade:\n%s", out)
	waitRunningNot(t, h, pid)
	assertAptVersion(t, h, v2+"-1")
	assertConfig(t, h, secret)

	out = mustInstall(t, h, "omnipack install --uninstall --purge --name "+agent+" 2>&1")
	t.Logf("omnipack install --uninstall --purge:\n%s", out)
	assertPristine(t, h, "--uninstall --purge")
	assertNoRepoFiles(t, h, "--uninstall --purge")
}
