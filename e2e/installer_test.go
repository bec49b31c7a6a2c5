package e2e

// The real-host tier of install.sh: the documented `curl … | sh` install on
// booted containers under each init, re-runs, upgrade, removal, purge, wget
// and --offline; the attacks of FORMATS.md's table; and that the auth key
// never leaks.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/pipeline"
)

const confPath = "/etc/" + agent + "/" + agent + ".toml"

func TestInstallScript(t *testing.T) {
	host.RequireRoot(t)
	fx := newInstallFixture(t)

	cases := []struct {
		variant host.Variant
		// hide are tools moved away for the whole test: without openssl,
		// install.sh verifies with gpgv.
		hide []string
	}{
		{host.Systemd, nil},
		{host.OpenRC, nil},
		{host.SysVinit, []string{"openssl"}},
		{host.Runit, nil},
	}
	for i, tc := range cases {
		ch := fx.srv.channel(i) // channel 0 serves install.sh byte for byte as built
		t.Run("lifecycle/"+string(tc.variant), func(t *testing.T) {
			t.Parallel()
			h := host.New(t, tc.variant)
			for _, tool := range tc.hide {
				h.MustRun(t, "mv /usr/bin/"+tool+" /usr/bin/"+tool+".hidden")
			}
			installerLifecycle(t, fx, h, ch, len(tc.hide) > 0)
		})
	}
	// The rpm and tarball paths, on Debian containers that claim to be
	// another distribution: with ID=fedora the host's rpm is the package
	// manager; with ID=void there is none, so the release tarball is used.
	others := []struct {
		variant   host.Variant
		osRelease string
		format    string
	}{
		{host.Systemd, "ID=fedora\nVERSION_ID=40\n", "rpm"},
		{host.OpenRC, "ID=void\n", "tarball"},
	}
	for i, tc := range others {
		ch := fx.srv.channel(len(cases) + 2 + i)
		t.Run("format/"+tc.format+"/"+string(tc.variant), func(t *testing.T) {
			t.Parallel()
			h := host.New(t, tc.variant)
			h.MustRun(t, "rm -f /etc/os-release && printf '"+tc.osRelease+"' > /etc/os-release")
			installerOtherFormat(t, fx, h, ch, tc.format)
		})
	}
	noinit := fx.srv.channel(len(cases))
	t.Run("noinit", func(t *testing.T) {
		t.Parallel()
		installerNoInit(t, fx, host.New(t, host.NoInit), noinit)
	})
	words := fx.srv.channel(len(cases) + 2 + len(others))
	t.Run("words-and-concurrency", func(t *testing.T) {
		t.Parallel()
		installerWordsAndConcurrency(t, fx, host.New(t, host.Systemd), words)
	})
	attacks := fx.srv.channel(len(cases) + 1)
	t.Run("attacks", func(t *testing.T) {
		t.Parallel()
		installerAttacks(t, fx, host.New(t, host.Systemd), attacks)
	})
}

// installerLifecycle: dry run; curl install of v1 with --set; a re-run that
// changes nothing; an edit, then v2 published and a re-run that upgrades and
// keeps the edit; --uninstall; --uninstall --purge; then the same install
// and purge with wget (curl hidden, the key as an argument) and from an
// --offline copy (the key in the environment).
func installerLifecycle(t *testing.T, fx *installFixture, h *host.Host, ch *channel, gpgv bool) {
	v := h.Variant()
	const secret = "S3cr3t-auth-KEY-for-e2e"
	ch.publish(fx, fx.v1.dir)
	verifiedBy := "verified with openssl"
	if gpgv {
		verifiedBy = "verified with gpgv"
	}

	// Dry run: the host, the package, every command; nothing changes.
	out, err := h.Run(t, installCmd("curl", ch, "--dry-run --set auth_key="+secret))
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	t.Logf("dry run on %s:\n%s", v, out)
	assertDryRunsAgree(t, fx, h, ch, out, "--set auth_key="+secret)
	for _, want := range []string{"dry run: nothing on this host is changed", "host: debian 12", "init " + initName(v),
		verifiedBy, "package: " + debName(t, fx.v1), "would run: env DEBIAN_FRONTEND=noninteractive apt-get install",
		"would set: auth_key=<secret>", "would wait until healthy", "nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}
	assertSecretHidden(t, h, secret, out, "dry run")
	assertPristine(t, h, "dry run")

	// 1. Install v1 with curl.
	out = mustInstall(t, h, installCmd("curl", ch, "--set auth_key="+secret))
	t.Logf("install:\n%s", out)
	for _, want := range []string{verifiedBy, "size and sha256 match the signed manifest", "set auth_key=<secret> in " + confPath,
		"healthy: " + agent + " runs under " + initName(v)} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q", want)
		}
	}
	pid1 := waitRunning(t, h)
	assertRunsAs(t, h, pid1, agent)
	assertConfig(t, h, secret)
	assertSecretHidden(t, h, secret, out, "install")
	before := hostState(t, h)
	confBefore := h.MustRun(t, "stat -c '%Y %i' "+confPath)

	// 2. The same again: nothing changes.
	out = mustInstall(t, h, installCmd("curl", ch, "--set auth_key="+secret))
	if !strings.Contains(out, "already installed") || !strings.Contains(out, "nothing to do") {
		t.Errorf("second run does not say it has nothing to do:\n%s", out)
	}
	if strings.Contains(out, "apt-get") || strings.Contains(out, "restart") {
		t.Errorf("second run installed or restarted something:\n%s", out)
	}
	if after := hostState(t, h); after != before {
		t.Errorf("second run changed the host:\n--- before\n%s--- after\n%s", before, after)
	}
	if got := h.MustRun(t, "stat -c '%Y %i' "+confPath); got != confBefore {
		t.Errorf("second run rewrote %s", confPath)
	}

	// 3. The admin edits the config; v2 is published; a re-run upgrades.
	h.MustRun(t, "echo 'node_id = \"edited-by-admin\"' >> "+confPath)
	ch.publish(fx, fx.v2.dir)
	out = mustInstall(t, h, installCmd("curl", ch, "--set auth_key="+secret))
	t.Logf("upgrade:\n%s", out)
	if !strings.Contains(out, "upgrading "+agent+" to "+v2) {
		t.Errorf("re-run after publishing %s does not upgrade:\n%s", v2, out)
	}
	pid2 := waitRunningNot(t, h, pid1)
	assertRunsAs(t, h, pid2, agent)
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("after the upgrade the binary says %q", got)
	}
	conf := h.MustRun(t, "cat "+confPath)
	if !strings.Contains(conf, "edited-by-admin") || !strings.Contains(conf, `auth_key = "`+secret+`"`) {
		t.Errorf("the upgrade lost the edited config:\n%s", conf)
	}
	if !strings.Contains(h.MustRun(t, "cat "+confPath+".dpkg-dist"), v2ConfigTag) {
		t.Errorf("the upgrade did not deliver the new default as .dpkg-dist")
	}
	if rec := h.MustRun(t, "cat /var/lib/omnipack/"+agent+".release"); !strings.Contains(rec, "version="+v2) ||
		!strings.Contains(rec, fmt.Sprintf("release_version=%d", fx.v2.m.ReleaseVersion)) {
		t.Errorf("record after the upgrade:\n%s", rec)
	}
	assertSecretHidden(t, h, secret, out, "upgrade")

	// 4. --uninstall removes the package and keeps the config.
	out = mustInstall(t, h, installCmd("curl", ch, "--uninstall"))
	t.Logf("uninstall:\n%s", out)
	if st := strings.TrimSpace(h.MustRun(t, "dpkg-query -W -f='${Status}' "+agent)); st != "deinstall ok config-files" {
		t.Errorf("after --uninstall dpkg says %q", st)
	}
	if _, err := h.Run(t, initStatus[v]); err == nil {
		t.Errorf("service still running after --uninstall")
	}
	for _, f := range append(serviceFiles[v], "/usr/bin/"+agent) {
		if _, err := h.Run(t, "test -e "+f); err == nil {
			t.Errorf("%s left after --uninstall", f)
		}
	}
	if !strings.Contains(h.MustRun(t, "cat "+confPath), "edited-by-admin") {
		t.Errorf("--uninstall did not keep the config")
	}

	// 5. --uninstall --purge removes config, state, user and group.
	out = mustInstall(t, h, installCmd("curl", ch, "--uninstall --purge"))
	t.Logf("purge:\n%s", out)
	assertPristine(t, h, "--uninstall --purge")

	// 6. wget, curl hidden; the key as a positional argument.
	const secret2 = "wget-positional-Secret-2"
	h.MustRun(t, "mv /usr/bin/curl /usr/bin/curl.hidden")
	out = mustInstall(t, h, installCmd("wget", ch, secret2+" node-from-arg"))
	t.Logf("wget install:\n%s", out)
	if !strings.Contains(out, "wget -q") || !strings.Contains(out, "healthy: ") {
		t.Errorf("wget install did not download with wget or is not healthy:\n%s", out)
	}
	waitRunning(t, h)
	assertConfig(t, h, secret2)
	if !strings.Contains(h.MustRun(t, "cat "+confPath), `node_id = "node-from-arg"`) {
		t.Errorf("the second positional argument did not set node_id")
	}
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("wget install: binary says %q", got)
	}
	assertSecretHidden(t, h, secret2, out, "wget install")
	out = mustInstall(t, h, installCmd("wget", ch, "--uninstall --purge"))
	assertPristine(t, h, "wget --uninstall --purge")
	h.MustRun(t, "mv /usr/bin/curl.hidden /usr/bin/curl")

	// 7. --offline from a copy of v1's release; nothing is served; the key
	// in the environment.
	const secret3 = "offline-env-Secret-3"
	copyDist(t, h, fx.v1, "/var/tmp/bundle")
	ch.publish(fx, "")
	ch.takeRequests()
	out = mustInstall(t, h, "CRASHWATCH_AUTH_KEY="+secret3+" sh /var/tmp/bundle/install.sh --offline /var/tmp/bundle")
	t.Logf("offline install:\n%s", out)
	if reqs := ch.takeRequests(); len(reqs) > 0 {
		t.Errorf("--offline fetched from the network: %v", reqs)
	}
	if !strings.Contains(out, "healthy: ") {
		t.Errorf("offline install not healthy:\n%s", out)
	}
	waitRunning(t, h)
	assertConfig(t, h, secret3)
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v1 {
		t.Errorf("offline install: binary says %q", got)
	}
	assertSecretHidden(t, h, secret3, out, "offline install")
	out = mustInstall(t, h, "sh /var/tmp/bundle/install.sh --uninstall --purge --yes")
	assertPristine(t, h, "offline --uninstall --purge")
}

// installerOtherFormat: install (the tarball with --no-start, then a re-run
// that starts it), a re-run that changes nothing, an upgrade that keeps the
// edited config and puts the new default beside it, --uninstall and
// --uninstall --purge, for the rpm or the tarball.
func installerOtherFormat(t *testing.T, fx *installFixture, h *host.Host, ch *channel, format string) {
	v := h.Variant()
	const secret = "other-format-Secret"
	ch.publish(fx, fx.v1.dir)
	pkg := filepath.Base(fx.v1.artifact(t, format))
	pm := map[string]string{"rpm": "package manager rpm (rpm)", "tarball": "package manager none (tarball)"}[format]

	out, err := h.Run(t, installCmd("curl", ch, "--dry-run --set auth_key="+secret))
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	t.Logf("dry run, %s on %s:\n%s", format, v, out)
	assertDryRunsAgree(t, fx, h, ch, out, "--set auth_key="+secret)
	for _, want := range []string{pm, "package: " + pkg, "would wait until healthy"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}
	assertSecretHidden(t, h, secret, out, "dry run")

	if format == "tarball" {
		out = mustInstall(t, h, installCmd("curl", ch, "--no-start --set auth_key="+secret))
		t.Logf("install --no-start:\n%s", out)
		if !strings.Contains(out, "left the service stopped (--no-start)") {
			t.Errorf("--no-start install does not say it left the service stopped:\n%s", out)
		}
		if _, err := h.Run(t, initStatus[v]); err == nil {
			t.Errorf("--no-start: the service runs")
		}
		out = mustInstall(t, h, installCmd("curl", ch, "--set auth_key="+secret))
		if !strings.Contains(out, "not running; starting it") || !strings.Contains(out, "healthy: ") {
			t.Errorf("re-run after --no-start did not start the service:\n%s", out)
		}
	} else {
		out = mustInstall(t, h, installCmd("curl", ch, "--set auth_key="+secret))
		t.Logf("install:\n%s", out)
		if !strings.Contains(out, "+ rpm -U ") || !strings.Contains(out, "healthy: ") {
			t.Errorf("rpm install:\n%s", out)
		}
	}
	pid1 := waitRunning(t, h)
	assertRunsAs(t, h, pid1, agent)
	assertConfig(t, h, secret)
	assertSecretHidden(t, h, secret, out, format+" install")

	before := h.MustRun(t, "md5sum "+confPath+" /usr/bin/"+agent+" /var/lib/omnipack/"+agent+".release; pgrep -x "+agent)
	out = mustInstall(t, h, installCmd("curl", ch, "--set auth_key="+secret))
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("second run:\n%s", out)
	}
	if after := h.MustRun(t, "md5sum "+confPath+" /usr/bin/"+agent+" /var/lib/omnipack/"+agent+".release; pgrep -x "+agent); after != before {
		t.Errorf("second run changed the host:\n%s\n%s", before, after)
	}

	h.MustRun(t, "echo 'node_id = \"edited-by-admin\"' >> "+confPath)
	ch.publish(fx, fx.v2.dir)
	out = mustInstall(t, h, installCmd("curl", ch, ""))
	t.Logf("upgrade:\n%s", out)
	waitRunningNot(t, h, pid1)
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("after the upgrade the binary says %q", got)
	}
	if conf := h.MustRun(t, "cat "+confPath); !strings.Contains(conf, "edited-by-admin") || !strings.Contains(conf, secret) {
		t.Errorf("the upgrade lost the edited config:\n%s", conf)
	}
	newConf := map[string]string{"rpm": ".rpmnew", "tarball": ".new"}[format]
	if !strings.Contains(h.MustRun(t, "cat "+confPath+newConf), v2ConfigTag) {
		t.Errorf("the upgrade did not deliver the new default as %s", newConf)
	}

	out = mustInstall(t, h, installCmd("curl", ch, "--uninstall"))
	t.Logf("uninstall:\n%s", out)
	if _, err := h.Run(t, initStatus[v]); err == nil {
		t.Errorf("service still running after --uninstall")
	}
	gone := append(serviceFiles[v], "/usr/bin/"+agent)
	if format == "tarball" {
		// The installer deletes the tarball's files and its directories
		// under /usr/lib; rpm leaves directories it does not own.
		gone = append(gone, "/usr/lib/"+agent)
	}
	for _, f := range gone {
		if _, err := h.Run(t, "test -e "+f); err == nil {
			t.Errorf("%s left after --uninstall", f)
		}
	}
	kept := map[string]string{"rpm": confPath + ".rpmsave", "tarball": confPath}[format]
	if !strings.Contains(h.MustRun(t, "cat "+kept), "edited-by-admin") {
		t.Errorf("--uninstall did not keep the edited config as %s", kept)
	}
	out = mustInstall(t, h, installCmd("curl", ch, "--uninstall --purge"))
	t.Logf("purge:\n%s", out)
	assertPristine(t, h, format+" --uninstall --purge")
	if out, err := h.Run(t, "rpm -q "+agent); err == nil {
		t.Errorf("rpm still knows the package: %s", out)
	}
}

// installerNoInit: a container without a running init: the install
// succeeds, says that nothing was started, and starts nothing.
func installerNoInit(t *testing.T, fx *installFixture, h *host.Host, ch *channel) {
	const secret = "noinit-Secret"
	ch.publish(fx, fx.v1.dir)
	out, err := h.Run(t, installCmd("curl", ch, "--dry-run --set auth_key="+secret))
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	t.Logf("dry run on noinit:\n%s", out)
	assertDryRunsAgree(t, fx, h, ch, out, "--set auth_key="+secret)
	if !strings.Contains(out, "init none") || !strings.Contains(out, "nothing would be started") {
		t.Errorf("dry run does not say that nothing would start:\n%s", out)
	}
	assertSecretHidden(t, h, secret, out, "noinit dry run")
	assertPristine(t, h, "noinit dry run")

	out = mustInstall(t, h, installCmd("curl", ch, "--set auth_key="+secret))
	t.Logf("noinit install:\n%s", out)
	if !strings.Contains(out, "no init system is running here") || !strings.Contains(out, "nothing was started") {
		t.Errorf("install does not say that nothing was started:\n%s", out)
	}
	if pids, err := h.Run(t, "pgrep -x "+agent); err == nil {
		t.Errorf("agent started without an init: %s", pids)
	}
	assertConfig(t, h, secret)
	assertSecretHidden(t, h, secret, out, "noinit install")
	out = mustInstall(t, h, installCmd("curl", ch, "--uninstall --purge"))
	assertPristine(t, h, "noinit --uninstall --purge")
}

// installerAttacks: each attack ends in a clear refusal, a non-zero exit and
// an unchanged host.
func installerAttacks(t *testing.T, fx *installFixture, h *host.Host, ch *channel) {
	deb1 := debName(t, fx.v1)
	deb2 := debName(t, fx.v2)
	args := "--set auth_key=attack-Secret"

	refused := func(name, cmd, says string) string {
		t.Helper()
		out, err := h.Run(t, cmd)
		if err == nil || host.ExitCode(err) == 0 {
			t.Errorf("%s: install.sh exited 0:\n%s", name, out)
		}
		if !strings.Contains(out, says) {
			t.Errorf("%s: the refusal does not say %q:\n%s", name, says, out)
		}
		t.Logf("%s: refused:\n%s", name, out)
		return out
	}
	attack := func(name, dir, says string) {
		t.Helper()
		ch.publish(fx, dir)
		refused(name, installCmd("curl", ch, args), says)
		assertPristine(t, h, name)
	}

	// Plain http to a host that is not loopback: refused before any
	// network access (the name does not even resolve).
	ch.publish(fx, fx.v1.dir)
	out := refused("plain http", installCmd("curl", ch, "--base-url http://example.invalid/crashwatch "+args),
		"refusing plain http to example.invalid")
	if strings.Contains(out, "+ curl") {
		t.Errorf("plain http: install.sh fetched something before refusing:\n%s", out)
	}
	assertPristine(t, h, "plain http")

	// A truncated install.sh runs nothing, wherever it is cut.
	ch.publish(fx, fx.v1.dir)
	script := fx.installShFor(ch)
	for _, cut := range truncations(script) {
		ch.serveInstallSh(script[:cut])
		out, err := h.Run(t, installCmd("curl", ch, args))
		if strings.Contains(out, agent+":") {
			t.Errorf("install.sh cut at %d/%d ran (exit %d):\n%s", cut, len(script), host.ExitCode(err), out)
		}
		assertPristine(t, h, fmt.Sprintf("install.sh cut at %d", cut))
	}
	t.Logf("install.sh cut at %v of %d bytes: nothing ran", truncations(script), len(script))

	// A tampered package: one byte flipped, same size.
	dir, _ := fx.craft(t, fx.v1, "tampered-package")
	flipMiddle(t, filepath.Join(dir, deb1))
	attack("tampered package", dir, "does not match the signed manifest")

	// A tampered manifest: the release number changed after signing.
	dir, _ = fx.craft(t, fx.v1, "tampered-manifest")
	edit(t, filepath.Join(dir, "release.json"), `"release": 1,`, `"release": 2,`)
	attack("tampered manifest", dir, "signature does not verify")
	// The same on a host without openssl: gpgv checks release.json.asc.
	h.MustRun(t, "mv /usr/bin/openssl /usr/bin/openssl.hidden")
	attack("tampered manifest, gpgv", dir, "OpenPGP signature does not verify")
	h.MustRun(t, "mv /usr/bin/openssl.hidden /usr/bin/openssl")

	// A manifest signed by another key.
	dir, m := fx.craft(t, fx.v1, "other-key")
	if err := pipeline.SignRelease(dir, m, fx.otherKeys, 0, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	attack("another key", dir, "signature does not verify")

	// An expired manifest, validly signed two days ago for one hour.
	dir, m = fx.craft(t, fx.v1, "expired")
	if err := pipeline.SignRelease(dir, m, fx.keys, 0, time.Now().Add(-48*time.Hour), time.Hour); err != nil {
		t.Fatal(err)
	}
	attack("expired manifest", dir, "release.json expired at")

	// A validly signed manifest whose package name climbs out.
	dir, m = fx.craft(t, fx.v1, "dotdot")
	for i := range m.Artifacts {
		if m.Artifacts[i].Name == deb1 {
			m.Artifacts[i].Name = "../" + deb1
		}
	}
	if err := pipeline.SignRelease(dir, m, fx.keys, 0, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	attack("../ in a file name", dir, "is not a plain file name")

	// Mix and match: v1's package served under v2's name.
	dir, _ = fx.craft(t, fx.v2, "mix-and-match")
	data, err := os.ReadFile(filepath.Join(fx.v1.dir, deb1))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, deb2), data)
	attack("mix and match", dir, "the signed manifest says")

	// Endless data: the package's URL streams without end.
	ch.publish(fx, fx.v1.dir)
	ch.handle(deb1, endless)
	refused("endless data", installCmd("curl", ch, args), "more than the signed size")
	assertPristine(t, h, "endless data")
	ch.publish(fx, fx.v1.dir)
	ch.handle(deb1, endless)
	refused("endless data, wget", "mv /usr/bin/curl /usr/bin/curl.hidden; "+installCmd("wget", ch, args)+"; rc=$?; mv /usr/bin/curl.hidden /usr/bin/curl; exit $rc",
		"more than the signed size")
	assertPristine(t, h, "endless data, wget")

	// Rollback: v2 installed, v1's (older, validly signed) manifest served.
	ch.publish(fx, fx.v2.dir)
	mustInstall(t, h, installCmd("curl", ch, args))
	waitRunning(t, h)
	before := hostState(t, h)
	ch.publish(fx, fx.v1.dir)
	refused("rollback", installCmd("curl", ch, args), "refusing a rollback to an older signed manifest")
	if after := hostState(t, h); after != before {
		t.Errorf("rollback: the refused run changed the host:\n--- before\n%s--- after\n%s", before, after)
	}
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("rollback: binary says %q", got)
	}
	// A dry run with --allow-downgrade would go ahead.
	out = h.MustRun(t, installCmd("curl", ch, "--dry-run --allow-downgrade"))
	if !strings.Contains(out, "would downgrade") || !strings.Contains(out, "--allow-downgrades") {
		t.Errorf("--allow-downgrade --dry-run:\n%s", out)
	}

	// Not an attack, a failure: a config value the agent rejects. The
	// service fails its health check; the installer shows the log and
	// exits non-zero.
	ch.publish(fx, fx.v2.dir)
	out = refused("unhealthy service", installCmd("curl", ch, "--set retry_interval=soon"), "last log lines")
	for _, want := range []string{"retry_interval", "check it with: systemctl status " + agent + ".service"} {
		if !strings.Contains(out, want) {
			t.Errorf("unhealthy service: the output lacks %q", want)
		}
	}

	// No temporary directory is left behind by any run.
	if left := h.MustRun(t, "find /tmp /var/tmp -maxdepth 1 -name 'tmp.*'"); strings.TrimSpace(left) != "" {
		t.Errorf("temporary directories left behind:\n%s", left)
	}

	// NixOS: no package fits; the installer says how to install instead.
	h.MustRun(t, "rm -f /etc/os-release && printf 'ID=nixos\\n' > /etc/os-release")
	refused("NixOS", installCmd("curl", ch, args), "this is NixOS")
}

// truncations are the cut points for the truncated-download attack: inside
// the header's key, in the middle of a function, right after a complete
// function, and every byte of the last line.
func truncations(script []byte) []int {
	cuts := []int{1, 100}
	if i := bytes.Index(script, []byte("-----BEGIN PUBLIC KEY-----")); i > 0 {
		cuts = append(cuts, i+40)
	}
	if i := bytes.Index(script, []byte("\ninstall_main() {")); i > 0 {
		cuts = append(cuts, i+1, i+200)
	}
	cuts = append(cuts, len(script)/2)
	// Every cut inside the last line; without only its newline the
	// script is complete.
	last := bytes.LastIndex(script[:len(script)-1], []byte("\n")) + 1
	for c := last; c < len(script)-1; c++ {
		cuts = append(cuts, c)
	}
	return cuts
}

func flipMiddle(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	writeFile(t, path, data)
}

func edit(t *testing.T, path, from, to string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(from)) {
		t.Fatalf("%s holds no %q", path, from)
	}
	writeFile(t, path, bytes.Replace(data, []byte(from), []byte(to), 1))
}

// mustInstall runs an installer command that must succeed.
func mustInstall(t *testing.T, h *host.Host, cmd string) string {
	t.Helper()
	out, err := h.Run(t, cmd)
	if err != nil {
		diag, _ := h.Run(t, "ps -ef; cat /var/lib/omnipack/"+agent+".init 2>&1")
		t.Fatalf("on %s: %s: %v\n%s\n%s", h.Variant(), cmd, err, out, diag)
	}
	assertLockReleased(t, h)
	return out
}

// assertLockReleased: once the installer is gone, no process holds its
// lock file open, the daemon it started included; else the next installer
// waits for a lock nobody will release.
func assertLockReleased(t *testing.T, h *host.Host) {
	t.Helper()
	holders := h.MustRun(t, `for fd in /proc/[0-9]*/fd/*; do [ "$(readlink "$fd" 2>/dev/null)" != /run/omnipack/`+agent+`.lock ] || echo "${fd%/fd/*}"; done; :`)
	if holders = strings.TrimSpace(holders); holders != "" {
		ps, _ := h.Run(t, "ps -ef")
		t.Errorf("on %s: after the installer exited, these processes hold its lock file: %s\n%s", h.Variant(), strings.Fields(holders), ps)
	}
}

// assertConfig: the config holds the key, mode 0640, root:crashwatch.
func assertConfig(t *testing.T, h *host.Host, secret string) {
	t.Helper()
	if _, err := h.Run(t, "grep -qxF 'auth_key = \""+secret+"\"' "+confPath); err != nil {
		t.Errorf("%s does not hold the auth key", confPath)
	}
	if got := strings.TrimSpace(h.MustRun(t, "stat -c '%a %U %G' "+confPath)); got != "640 root "+agent {
		t.Errorf("config mode/owner = %q, want 640 root %s", got, agent)
	}
}

func initName(v host.Variant) string {
	if v == host.NoInit {
		return "none"
	}
	return string(v)
}

// installerWordsAndConcurrency: the seed's words (sh -s AUTH NODE, then
// sh -s uninstall and sh -s purge, with the --base-url of the install
// passed again) and three installers started at once on one host, which
// must all succeed and leave one consistent install.
func installerWordsAndConcurrency(t *testing.T, fx *installFixture, h *host.Host, ch *channel) {
	ch.publish(fx, fx.v1.dir)
	const secret, node = "Words-auth-KEY-e2e", "node-7"
	seed := func(words string) string {
		return fmt.Sprintf("curl -fsSL %s/install.sh | sh -s %s", ch.URL, words)
	}
	out := mustInstall(t, h, seed(secret+" "+node))
	waitRunning(t, h)
	assertConfig(t, h, secret)
	if _, err := h.Run(t, "grep -qxF 'node_id = \""+node+"\"' "+confPath); err != nil {
		t.Errorf("sh -s AUTH NODE did not set node_id:\n%s", out)
	}
	// uninstall, with the install's --base-url passed again.
	out = mustInstall(t, h, seed("uninstall --base-url "+ch.URL))
	if !strings.Contains(out, "ignoring what only installing uses: --base-url") {
		t.Errorf("uninstall does not note the ignored --base-url:\n%s", out)
	}
	if _, err := h.Run(t, "dpkg-query -W -f='${db:Status-Status}' "+agent+" | grep -qx installed"); err == nil {
		t.Errorf("sh -s uninstall left the package installed:\n%s", out)
	}
	if _, err := h.Run(t, "test -f "+confPath); err != nil {
		t.Errorf("sh -s uninstall deleted the config")
	}
	mustInstall(t, h, seed(secret))
	out = mustInstall(t, h, seed("purge"))
	assertPristine(t, h, "sh -s purge")

	// Three at once.
	var wg sync.WaitGroup
	outs := make([]string, 3)
	errs := make([]error, 3)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = h.Run(t, installCmd("curl", ch, "--set auth_key="+secret))
		}()
	}
	wg.Wait()
	waited := 0
	for i := range outs {
		if errs[i] != nil {
			t.Errorf("concurrent installer %d failed: %v\n%s", i, errs[i], outs[i])
		}
		if strings.Contains(outs[i], "another installer of "+agent+" is running") {
			waited++
		}
	}
	// Whether they overlapped is up to the scheduler; say what happened.
	t.Logf("%d of 3 installers waited for another", waited)
	waitRunning(t, h)
	assertConfig(t, h, secret)
	if got := strings.TrimSpace(h.MustRun(t, "dpkg-query -W -f='${db:Status-Status} ${Version}' "+agent)); got != "installed "+v1+"-1" {
		t.Errorf("after three installers: %q", got)
	}
	rec := h.MustRun(t, "cat /var/lib/omnipack/"+agent+".release")
	if !strings.Contains(rec, "version="+v1+"\n") {
		t.Errorf("record after three installers:\n%s", rec)
	}
}
