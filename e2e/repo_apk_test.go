package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/packaging/apk"
	"github.com/omnipack/omnipack/packaging/apk/apktest"
	"github.com/omnipack/omnipack/repo"
)

// readmeAPKKeyName stands in the README's apk block for the key's name.
const readmeAPKKeyName = "KEYNAME"

// TestRepoAPK: go-apk, the tests' apk client (Debian has no apk-tools),
// is given only what the README's apk block names for a repository that
// omnipack publish made and omnipack serve serves: the key its wget
// fetches and the line its echo adds to /etc/apk/repositories. It
// installs the agent into a root directory (binary, config, OpenRC
// files), and after version 2 is published a new install takes that.
func TestRepoAPK(t *testing.T) {
	fx := newRepoFixture(t)
	keyName := fx.rel[v1].m.Keys.APKKeyName
	readme := readmeShBlocks(t, "repo-apk")
	if len(readme) != 1 {
		t.Fatalf("the README's apk section has %d sh blocks, want 1", len(readme))
	}
	keyURL := func(url string) func(string) string {
		return func(k string) string { return url + "/" + repo.KeysDir + "/" + k + ".rsa.pub" }
	}
	if want := apk.APKSetup(agent, readmeRepoURL, repo.DefaultChannel, []string{readmeAPKKeyName}, keyURL(readmeRepoURL)); readme[0] != want {
		t.Errorf("the README's apk block is not what apk.APKSetup renders:\n%s", want)
	}
	block := strings.ReplaceAll(strings.ReplaceAll(readme[0], readmeRepoURL, fx.url), readmeAPKKeyName, keyName)
	var keys []string
	var repoLine string
	for _, line := range strings.Split(block, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "wget" && f[1] == "-qO" && f[2] == apk.KeyPath(keyName):
			keys = append(keys, f[3])
		case len(f) == 4 && f[0] == "echo" && f[2] == ">>" && f[3] == "/etc/apk/repositories":
			repoLine = f[1]
		}
	}
	if len(keys) != 1 || repoLine == "" {
		t.Fatalf("the README's apk block names keys %v and repository %q:\n%s", keys, repoLine, block)
	}

	install := func(t *testing.T, version string) {
		t.Helper()
		root := t.TempDir()
		out, err := exec.Command(apktest.Client(t), "-root", root, "-arch", "x86_64", "-key", strings.Join(keys, ","),
			"-repo", repoLine, "-world", agent).CombinedOutput()
		if err != nil {
			t.Fatalf("go-apk install: %v\n%s", err, out)
		}
		initDir := layout.InitStage(agent, "openrc")
		for _, f := range []string{"/usr/bin/" + agent, "/etc/" + agent + "/" + agent + ".toml", initDir + "/etc/init.d/" + agent} {
			if _, err := os.Stat(filepath.Join(root, f)); err != nil {
				t.Errorf("go-apk's root lacks %s: %v", f, err)
			}
		}
		db, err := os.ReadFile(filepath.Join(root, "lib/apk/db/installed"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(db), "P:"+agent+"\nV:"+version+"\n") {
			t.Errorf("apk's installed database does not record %s %s:\n%s", agent, version, db)
		}
	}

	fx.mustPublish(t, "--dist", fx.rel[v1].dir)
	// The published list file is the line the README's block adds.
	resp, err := http.Get(fx.url + "/" + apk.ListPath(readmeRepoName, repo.DefaultChannel))
	if err != nil {
		t.Fatal(err)
	}
	list, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(list) != repoLine+"\n" {
		t.Errorf("served %s: %s %q, want %q", apk.ListPath(readmeRepoName, repo.DefaultChannel), resp.Status, list, repoLine+"\n")
	}
	install(t, v1+"-r1")

	fx.mustPublish(t, "--dist", fx.rel[v2].dir)
	install(t, v2+"-r1")
}
