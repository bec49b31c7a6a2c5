package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/e2e/host"
)

// The host files install.sh --method repo writes for the example.
const (
	repoKeyring = "/etc/apt/keyrings/" + agent + ".gpg"
	repoSource  = "/etc/apt/sources.list.d/" + agent + ".sources"
)

// TestInstallScriptRepo runs the README's --method repo commands with the
// signed release's install.sh on booted Debian 12 hosts, under systemd and
// under sysvinit with OpenRC, against a repository omnipack publish made
// and omnipack serve serves on loopback, install.sh beside it. The host
// has no other apt source.
//   - A repository whose InRelease was tampered with is refused by apt, and
//     install.sh leaves the host as it was: no package, key or source.
//   - install.sh adds the key and source, and apt installs and starts the
//     agent with the config install.sh was given.
//   - Version 2 published, apt-get upgrade delivers it and restarts it.
//   - A swapped package is refused by apt when install.sh is run again, and
//     the host keeps its installed version; whole again, install.sh
//     upgrades to version 3.
//   - --uninstall --purge removes the agent, the source and the key.
func TestInstallScriptRepo(t *testing.T) {
	host.RequireRoot(t)
	base := newRepoFixture(t)
	for _, v := range []host.Variant{host.Systemd, host.OpenRC} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			installerRepo(t, base.another(t), host.New(t, v))
		})
	}
}

func installerRepo(t *testing.T, fx *repoFixture, h *host.Host) {
	const secret = "S3cr3t-repo-KEY-for-e2e"
	lines := readmeRepoInstall(t, fx, secret)
	install, upgrade, purge := lines[0], lines[1], lines[2]
	h.MustRun(t, "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*")
	script, err := os.ReadFile(filepath.Join(fx.rel[v1].dir, "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(fx.repo, "install.sh"), script)

	fx.mustPublish(t, "--dist", fx.rel[v1].dir)
	assertTamperedInReleaseRefused(t, fx, h, install, "install.sh", "BADSIG", "apt refused the repository at "+fx.url, "the host is as it was")

	out := mustInstall(t, h, install)
	t.Logf("install.sh --method repo:\n%s", out)
	for _, want := range []string{"wrote " + repoKeyring, "wrote " + repoSource, "set auth_key=<secret>",
		"healthy: " + agent + " runs under " + initName(h.Variant()), "installed from " + fx.url} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q", want)
		}
	}
	assertSecretHidden(t, h, secret, out, "repo install")
	pid := waitRunning(t, h)
	assertAptVersion(t, h, v1+"-1")
	assertConfig(t, h, secret)
	source := h.MustRun(t, "cat "+repoSource)
	for _, want := range []string{"URIs: " + fx.url + "\n", "Suites: stable\n", "Signed-By: " + repoKeyring + "\n"} {
		if !strings.Contains(source, want) {
			t.Errorf("%s lacks %q:\n%s", repoSource, want, source)
		}
	}
	if rec := h.MustRun(t, "cat /var/lib/omnipack/"+agent+".release"); !strings.Contains(rec, "method=repo\n") {
		t.Errorf("the record does not say the agent came from the repository:\n%s", rec)
	}

	// Upgrades arrive with the host's own apt-get upgrade.
	fx.mustPublish(t, "--dist", fx.rel[v2].dir)
	out = h.MustRun(t, upgrade)
	t.Logf("apt-get upgrade:\n%s", out)
	pid = waitRunningNot(t, h, pid)
	assertAptVersion(t, h, v2+"-1")
	assertConfig(t, h, secret)

	// A package swapped on the server is refused by apt; the host keeps
	// version 2, with its repository files as they were.
	fx.mustPublish(t, "--dist", fx.rel[v3].dir)
	deb := filepath.Join(fx.repo, "pool/stable/main/c", agent, agent+"_"+v3+"-1_amd64.deb")
	good, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 1
	writeFile(t, deb, bad)
	before := hostState(t, h) + h.MustRun(t, "md5sum "+repoKeyring+" "+repoSource)
	out, err = h.Run(t, install)
	t.Logf("install.sh --method repo, package swapped (%v):\n%s", err, out)
	if err == nil {
		t.Errorf("install.sh installed a swapped package")
	}
	if !strings.Contains(out, "Hash Sum mismatch") || !strings.Contains(out, "apt could not upgrade "+agent+" from the repository") {
		t.Errorf("the refusal does not say apt found a Hash Sum mismatch")
	}
	if after := hostState(t, h) + h.MustRun(t, "md5sum "+repoKeyring+" "+repoSource); after != before {
		t.Errorf("the refused upgrade changed the host:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	writeFile(t, deb, good)
	out = mustInstall(t, h, strings.Replace(install, " --set auth_key="+secret, "", 1))
	t.Logf("install.sh --method repo, again:\n%s", out)
	if !strings.Contains(out, "upgrading "+agent+" from it with apt") {
		t.Errorf("the rerun does not say it upgrades")
	}
	waitRunningNot(t, h, pid)
	assertAptVersion(t, h, v3+"-1")
	assertConfig(t, h, secret)

	out = mustInstall(t, h, purge)
	t.Logf("install.sh --uninstall --purge:\n%s", out)
	assertPristine(t, h, "--uninstall --purge")
	assertNoRepoFiles(t, h, "--uninstall --purge")
}

// assertTamperedInReleaseRefused runs install, an installer's --method
// repo command, with the published InRelease tampered with so that its
// signature no longer verifies: who must fail saying each of wants and
// leave the host with no package, key or source. The InRelease is whole
// again afterwards.
func assertTamperedInReleaseRefused(t *testing.T, fx *repoFixture, h *host.Host, install, who string, wants ...string) {
	t.Helper()
	inRelease := filepath.Join(fx.repo, "dists/stable/InRelease")
	signed, err := os.ReadFile(inRelease)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, inRelease, bytes.Replace(signed, []byte("Suite: stable"), []byte("Suite: stablE"), 1))
	defer writeFile(t, inRelease, signed)
	out, err := h.Run(t, install)
	t.Logf("%s --method repo, InRelease tampered with (%v):\n%s", who, err, out)
	if err == nil {
		t.Errorf("%s accepted a repository whose InRelease was tampered with", who)
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the refusal does not say %q", want)
		}
	}
	assertPristine(t, h, "tampered InRelease")
	assertNoRepoFiles(t, h, "tampered InRelease")
}

// assertNoRepoFiles: the host has neither the repository's key nor its
// source file.
func assertNoRepoFiles(t *testing.T, h *host.Host, what string) {
	t.Helper()
	for _, f := range []string{repoKeyring, repoSource} {
		if _, err := h.Run(t, "test -e "+f); err == nil {
			t.Errorf("%s: %s is on the host", what, f)
		}
	}
}

// readmeRepoInstall returns the README's three --method repo commands
// (install, upgrade, purge) for the fixture: install.sh and the repository
// at its URL, as root (no sudo), with secret as the auth key.
func readmeRepoInstall(t *testing.T, fx *repoFixture, secret string) []string {
	t.Helper()
	blocks := readmeShBlocks(t, "install-repo")
	if len(blocks) != 1 {
		t.Fatalf("the README's install-repo section has %d sh blocks, want 1", len(blocks))
	}
	r := strings.NewReplacer("https://downloads.example.com/crashwatch", fx.url, readmeRepoURL, fx.url, "sudo ", "", "auth_key=KEY", "auth_key="+secret)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(blocks[0]), "\n") {
		cmd, _, _ := strings.Cut(l, "  #")
		lines = append(lines, "set -e; "+r.Replace(strings.TrimSpace(cmd)))
	}
	if len(lines) != 3 || !strings.Contains(lines[0], "--method repo") || !strings.Contains(lines[2], "--purge") {
		t.Fatalf("the README's install-repo block is not install, upgrade, purge:\n%s", blocks[0])
	}
	return lines
}
