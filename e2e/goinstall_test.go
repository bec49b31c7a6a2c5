package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// goInstallSecret is the auth key the test sets; it must never show in
// omnipack install's output.
const goInstallSecret = "e2e-SECRET-7f3a91"

// signedCopies signs copies of the example's v1 and v2 releases with
// throw-away keys, v2 with the higher release version, and returns their
// directories and the release public key.
func signedCopies(t *testing.T) (d1, d2, pub string) {
	t.Helper()
	return signedCopiesOf(t, releaseV1, releaseV2)
}

// signedCopiesOf is signedCopies for two releases of any example agent.
func signedCopiesOf(t *testing.T, r1, r2 *release) (d1, d2, pub string) {
	t.Helper()
	keyDir := filepath.Join(t.TempDir(), "keys")
	pw := []byte("e2e-goinstall-password")
	if _, err := signing.Generate(keyDir, pw, false); err != nil {
		t.Fatal(err)
	}
	keys, err := pipeline.LoadKeys(keyDir, "omnipack", pw)
	if err != nil {
		t.Fatal(err)
	}
	var previous int64
	for i, r := range []*release{r1, r2} {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("dist%d", i+1))
		if err := verifytest.CopyTree(r.dir, dir); err != nil {
			t.Fatal(err)
		}
		rel, err := manifest.Read(filepath.Join(dir, manifest.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if err := pipeline.SignRelease(dir, rel, keys, previous, time.Now(), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		previous = rel.ReleaseVersion
		if i == 0 {
			d1 = dir
		} else {
			d2 = dir
		}
	}
	return d1, d2, filepath.Join(keyDir, signing.ReleasePubFile)
}

// TestGoInstall runs `omnipack install` natively on a booted systemd host:
// install with a secret from the environment, a second run that changes
// nothing, an upgrade over loopback http that keeps the config, a refused
// rollback and a refused tampered package, an offline bundle, and
// uninstall --purge.
func TestGoInstall(t *testing.T) {
	host.RequireRoot(t)
	t.Parallel()
	bin := omnipackCLI(t)
	d1, d2, pub := signedCopies(t)
	h := host.New(t, host.Systemd)
	h.CopyIn(t, bin, "/usr/local/bin/omnipack")
	h.CopyIn(t, pub, "/var/tmp/release.pub")
	for dir, dest := range map[string]string{d1: "/var/tmp/dist1", d2: "/var/tmp/dist2"} {
		if err := verifytest.CopyTree(dir, h.Path(dest)); err != nil {
			t.Fatal(err)
		}
	}
	conf := "/etc/" + agent + "/" + agent + ".toml"
	omni := "omnipack install --key /var/tmp/release.pub "
	noSecret := func(step, out string) {
		t.Helper()
		if strings.Contains(out, goInstallSecret) {
			t.Errorf("%s: the secret appears in the output:\n%s", step, out)
		}
	}
	rv := func(dir string) int64 {
		r, err := manifest.Read(filepath.Join(dir, manifest.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return r.ReleaseVersion
	}

	// Install v1.
	out, err := h.Run(t, "AUTH="+goInstallSecret+" "+omni+"--set-env auth_key=AUTH --set node_id=e2e-node /var/tmp/dist1 2>&1")
	t.Logf("install:\n%s", out)
	noSecret("install", out)
	if err != nil {
		t.Fatalf("install failed: %v", err)
	}
	if !strings.Contains(out, "stayed up") || !strings.Contains(out, "auth_key=<set>") {
		t.Errorf("install output lacks the health check or the masked key:\n%s", out)
	}
	pid1 := waitRunning(t, h)
	if got := h.MustRun(t, "cat "+conf); !strings.Contains(got, `auth_key = "`+goInstallSecret+`"`) || !strings.Contains(got, `node_id = "e2e-node"`) {
		t.Errorf("config:\n%s", got)
	}
	if got := strings.TrimSpace(h.MustRun(t, "stat -c '%a %U %G' "+conf)); got != "640 root "+agent {
		t.Errorf("config mode/owner %q", got)
	}
	if got := h.MustRun(t, "cat /var/lib/omnipack/"+agent+".release"); !strings.HasPrefix(got, fmt.Sprintf("release_version=%d\nversion=%s\nrelease=1\nformat=deb\npackage_manager=apt\n", rv(d1), v1)) {
		t.Errorf("record %q", got)
	}

	// The same again changes nothing.
	out, err = h.Run(t, "AUTH="+goInstallSecret+" "+omni+"--set-env auth_key=AUTH --set node_id=e2e-node /var/tmp/dist1 2>&1")
	noSecret("rerun", out)
	if err != nil || !strings.Contains(out, "installed already") || !strings.Contains(out, "unchanged") || strings.Contains(out, "apt-get") {
		t.Errorf("second run: %v\n%s", err, out)
	}
	if pid := waitRunning(t, h); pid != pid1 {
		t.Errorf("second run restarted the service (%s -> %s)", pid1, pid)
	}

	// Upgrade from a loopback http server; the edited config stays.
	srv := httptest.NewServer(http.FileServer(http.Dir(d2)))
	defer srv.Close()
	out, err = h.Run(t, omni+srv.URL+" 2>&1")
	t.Logf("upgrade:\n%s", out)
	if err != nil {
		t.Fatalf("upgrade failed: %v", err)
	}
	waitRunningNot(t, h, pid1)
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("after upgrade the binary says %q", got)
	}
	if got := h.MustRun(t, "cat "+conf); !strings.Contains(got, goInstallSecret) {
		t.Errorf("upgrade lost the config:\n%s", got)
	}

	// Rollback to v1 is refused and changes nothing.
	out, err = h.Run(t, omni+"/var/tmp/dist1 2>&1")
	if err == nil || !strings.Contains(out, "rollback refused") {
		t.Errorf("rollback: %v\n%s", err, out)
	}
	// A tampered package is refused before anything is installed.
	h.MustRun(t, "cp -a /var/tmp/dist2 /var/tmp/bad && f=$(ls /var/tmp/bad/*_amd64.deb) && printf X | dd of=$f bs=1 seek=100 conv=notrunc 2>/dev/null")
	out, err = h.Run(t, omni+"--reinstall /var/tmp/bad 2>&1")
	if err == nil || !strings.Contains(out, "tampered") {
		t.Errorf("tampered package: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(h.MustRun(t, "/usr/bin/"+agent+" -version")); got != agent+" "+v2 {
		t.Errorf("after the refusals the binary says %q", got)
	}

	// Remove, then install again from an offline bundle of the deb only.
	out = h.MustRun(t, "omnipack install --uninstall --name "+agent+" 2>&1")
	t.Logf("uninstall:\n%s", out)
	if _, err := h.Run(t, "test -e /usr/bin/"+agent); err == nil {
		t.Error("uninstall left the binary")
	}
	h.MustRun(t, "test -f "+conf)
	out = h.MustRun(t, "omnipack bundle --dist /var/tmp/dist2 --out /var/tmp/offline --format deb --arch amd64 2>&1")
	t.Logf("bundle:\n%s", out)
	out, err = h.Run(t, omni+"/var/tmp/offline 2>&1")
	if err != nil {
		t.Fatalf("install from the bundle: %v\n%s", err, out)
	}
	waitRunning(t, h)

	// Purge: package, config, state, user and record go.
	out = h.MustRun(t, "omnipack install --uninstall --purge --key /var/tmp/release.pub /var/tmp/offline 2>&1")
	t.Logf("purge:\n%s", out)
	for _, check := range []string{"dpkg-query -W " + agent, "test -e /etc/" + agent, "test -e /var/lib/" + agent,
		"getent passwd " + agent, "test -e /var/lib/omnipack/" + agent + ".release", "pgrep -x " + agent} {
		if o, err := h.Run(t, check); err == nil {
			t.Errorf("after purge, %q still succeeds: %s", check, o)
		}
	}
}
