package release_test

import (
	"strings"
	"testing"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/release"
)

// TestCheckName: the installers refuse a name no system user could have,
// whoever signed the manifest that carries it.
func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"crashwatch": true, strings.Repeat("a", 32): true, strings.Repeat("a", 33): false,
		strings.Repeat("a", 300): false, "../x": false, "a b": false, "": false, "node_exporter": true, "Agent": true,
	} {
		if err := release.CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q): %v", name, err)
		}
	}
}

// TestCheckArtifactEnvironmentFile: a package may name its environment
// file; any other artifact, or a path outside /etc/, is refused.
func TestCheckArtifactEnvironmentFile(t *testing.T) {
	a := manifest.Artifact{Name: "a_1.0.0-1_amd64.deb", Format: "deb", Arch: "amd64", OS: "linux", Version: "1.0.0-1",
		Size: 1, SHA256: strings.Repeat("0", 64), EnvironmentFile: "/etc/default/a"}
	if err := release.CheckArtifact(a); err != nil {
		t.Errorf("a deb's /etc/default/a: %v", err)
	}
	sig := a
	sig.Name, sig.Format = "a_1.0.0-1_amd64.deb.sig", "signature"
	if err := release.CheckArtifact(sig); err == nil || !strings.Contains(err.Error(), "has no environment file") {
		t.Errorf("a signature with an environment file: %v", err)
	}
	a.EnvironmentFile = "/root/.profile"
	if err := release.CheckArtifact(a); err == nil || !strings.Contains(err.Error(), "below /etc/") {
		t.Errorf("/root/.profile: %v", err)
	}
}
