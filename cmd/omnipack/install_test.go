package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/install/installtest"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestInstallDryRun(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	root := installtest.Tree(t, "ID=fedora\nVERSION_ID=41\n")
	before := installtest.Snapshot(t, root)
	code, out, errOut := runCmd(t, "install", "--dry-run", "--key", d.Key.PubPath, "--root", root,
		"--set", "auth_key=VERY-SECRET-1", "--set", "node_id=web-9", d.Dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"verified release.json", "package_manager=dnf package_format=rpm", "artifact: agent-1.0.0-1.x86_64.rpm",
		"run: dnf install -y", "auth_key=<set> node_id=<set>", "dry run: nothing was changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "VERY-SECRET") || strings.Contains(out+errOut, "web-9") {
		t.Errorf("a --set value was printed:\n%s%s", out, errOut)
	}
	if after := installtest.Snapshot(t, root); len(after) != len(before) {
		t.Errorf("dry run changed the root")
	}

	// --json: the report on stdout, the plan inside it.
	code, out, errOut = runCmd(t, "install", "--json", "--dry-run", "--key", d.Key.PubPath, "--root", root, "--set", "auth_key=VERY-SECRET-1", d.Dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var rep struct {
		OK     bool `json:"ok"`
		DryRun bool `json:"dry_run"`
		Plan   struct {
			Action   string `json:"action"`
			Artifact struct {
				Format string `json:"format"`
			} `json:"artifact"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !rep.OK || !rep.DryRun || rep.Plan.Action != "install" || rep.Plan.Artifact.Format != "rpm" {
		t.Errorf("%+v", rep)
	}
	if strings.Contains(out+errOut, "VERY-SECRET") {
		t.Error("secret in JSON output")
	}
}

func TestInstallInputErrors(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	t.Setenv("AGENT_KEY_FOR_TEST", "from-env-secret")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"install", d.Dir}, exitInput, "--key"},
		{[]string{"install"}, exitInput, "pass SRC"},
		{[]string{"install", "--key", d.Key.PubPath, "--purge", d.Dir}, exitInput, "--purge goes with --uninstall"},
		{[]string{"install", "--key", d.Key.PubPath, "--set", "auth_key=a\nb-hidden", d.Dir}, exitInput, "newline"},
		{[]string{"install", "--key", d.Key.PubPath, "--set", "just-a-secret-hidden", d.Dir}, exitInput, "key=value"},
		{[]string{"install", "--key", d.Key.PubPath, "--set-env", "auth_key=NO_SUCH_VAR_X", d.Dir}, exitInput, "NO_SUCH_VAR_X is not set"},
		{[]string{"install", "--key", d.Key.PubPath, "--set", "env.9LIVES=hidden", d.Dir}, exitInput, "environment variable name"},
		{[]string{"install", "--key", d.Key.PubPath, "--set", "env.A=a\tb-hidden", d.Dir}, exitInput, "control character"},
		// This release's packages ship no environment file.
		{[]string{"install", "--key", d.Key.PubPath, "--dry-run", "--root", installtest.Tree(t, "ID=debian\n"), "--set", "env.LOG_LEVEL=hidden", d.Dir},
			exitInput, "deb package ships no environment file"},
		{[]string{"install", "--key", d.Key.PubPath, "--health-seconds", "0", d.Dir}, exitInput, "health-seconds"},
		{[]string{"install", "--key", d.Key.PubPath, "http://example.com/dist"}, exitFailure, "--insecure-http"},
		{[]string{"install", "--key", d.Key.PubPath, "--version", "9.9.9", "--dry-run", d.Dir}, exitFailure, "pinned version 9.9.9"},
		{[]string{"install", "--key", installtest.NewKey(t).PubPath, "--dry-run", d.Dir}, exitFailure, "does not verify"},
	} {
		code, out, errOut := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d (want %d), stderr lacks %q:\n%s%s", c.args, code, c.code, c.want, out, errOut)
		}
		if strings.Contains(out+errOut, "hidden") {
			t.Errorf("%v: a --set value was printed:\n%s%s", c.args, out, errOut)
		}
	}
	// --set-env takes the value from the environment; it never shows.
	root := installtest.Tree(t, "ID=debian\nVERSION_ID=12\n")
	code, out, errOut := runCmd(t, "install", "--dry-run", "--key", d.Key.PubPath, "--root", root, "--set-env", "auth_key=AGENT_KEY_FOR_TEST", d.Dir)
	if code != exitOK || !strings.Contains(out, "auth_key=<set>") || strings.Contains(out+errOut, "from-env-secret") {
		t.Errorf("--set-env: exit %d\n%s%s", code, out, errOut)
	}
	// So does --set-env env.NAME=VAR, into the environment file.
	withEnv := installtest.Make(t, d.Key, installtest.Options{EnvironmentFile: true})
	code, out, errOut = runCmd(t, "install", "--dry-run", "--key", d.Key.PubPath, "--root", root, "--set-env", "env.TOKEN=AGENT_KEY_FOR_TEST", withEnv.Dir)
	if code != exitOK || !strings.Contains(out, "plan: set-env /etc/default/agent TOKEN\n") || strings.Contains(out+errOut, "from-env-secret") {
		t.Errorf("--set-env env.TOKEN: exit %d\n%s%s", code, out, errOut)
	}
	// --key-from-release warns loudly.
	code, out, errOut = runCmd(t, "install", "--dry-run", "--key-from-release", "--root", root, d.Dir)
	if code != exitOK || !strings.Contains(out, "WARNING: the release key was taken from the release itself") {
		t.Errorf("--key-from-release: exit %d\n%s%s", code, out, errOut)
	}
}

func TestBundleCommand(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	out := filepath.Join(t.TempDir(), "offline")
	code, stdout, stderr := runCmd(t, "bundle", "--dist", d.Dir, "--out", out, "--format", "deb,tarball", "--arch", "amd64")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "2 packages") || !strings.Contains(stdout, d.Artifact(t, "deb").Name) {
		t.Errorf("output:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, d.Artifact(t, "tarball").Name)); err != nil {
		t.Error(err)
	}
	// The bundle installs (dry run) like the dist.
	root := installtest.Tree(t, "ID=gentoo\n")
	code, stdout, stderr = runCmd(t, "install", "--dry-run", "--key", d.Key.PubPath, "--root", root, out)
	if code != exitOK || !strings.Contains(stdout, "artifact: "+d.Artifact(t, "tarball").Name) {
		t.Errorf("install from the bundle: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr = runCmd(t, "bundle", "--dist", d.Dir, "--out", out)
	if code != exitInput || !strings.Contains(stderr, "exists") {
		t.Errorf("existing out: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = runCmd(t, "bundle", "--dist", d.Dir)
	if code != exitInput || !strings.Contains(stderr, "--out") {
		t.Errorf("no --out: exit %d %s", code, stderr)
	}

	// A tampered dist: exit 1, no bundle.
	p := filepath.Join(d.Dir, d.Artifact(t, "deb").Name)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, append([]byte("X"), b[1:]...), 0o644)
	out2 := filepath.Join(t.TempDir(), "offline")
	code, stdout, stderr = runCmd(t, "bundle", "--json", "--dist", d.Dir, "--out", out2)
	if code != exitFailure || !strings.Contains(stdout, `"ok": false`) || !strings.Contains(stdout, "altered") {
		t.Errorf("tampered: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Error("a bundle of a tampered dist was written")
	}
}
