package install

import (
	"strings"
	"testing"
)

func TestRecord(t *testing.T) {
	r := Record{ReleaseVersion: 1700000000, Version: "1.2.3~rc1", Release: 2, Format: "deb", PackageManager: "apt",
		Artifact: "agent_1.2.3~rc1-2_amd64.deb", SHA256: strings.Repeat("0f", 32)}
	want := "release_version=1700000000\nversion=1.2.3~rc1\nrelease=2\nformat=deb\npackage_manager=apt\n" +
		"artifact=agent_1.2.3~rc1-2_amd64.deb\nsha256=" + strings.Repeat("0f", 32) + "\n"
	if string(r.Marshal()) != want {
		t.Errorf("%q", r.Marshal())
	}
	got, err := ParseRecord(r.Marshal())
	if err != nil || *got != r {
		t.Errorf("%+v %v", got, err)
	}
	// The minimum, and a record with a key this reader does not know.
	got, err = ParseRecord([]byte("release_version=42\nversion=1.0\n"))
	if err != nil || got.ReleaseVersion != 42 || got.Version != "1.0" || got.Format != "" {
		t.Errorf("%+v %v", got, err)
	}
	got, err = ParseRecord([]byte("release_version=42\nversion=1.0\nrelease=1\nformat=tarball\npackage_manager=none\nartifact=a.tar.gz\nsha256=" + strings.Repeat("a", 64) + "\nfuture_key=x\n"))
	if err != nil || got.ReleaseVersion != 42 || got.Version != "1.0" || got.Format != "tarball" || got.Release != 1 {
		t.Errorf("install.sh form: %+v %v", got, err)
	}
	for _, bad := range []string{"", "42\n1.0\n", "release_version=-1\nversion=1.0\n", "release_version=42\nversion=\n",
		"release_version=42\nversion=1.0 ; rm\n", "version=1.0\n", "release_version=x\nversion=1.0\n",
		"release_version=42\nrelease_version=41\nversion=1.0\n"} {
		if _, err := ParseRecord([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
