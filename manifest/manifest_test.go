package manifest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRoundTripAndChecks(t *testing.T) {
	r := &Release{Schema: SchemaVersion, Name: "a", Version: "1.0.0", Release: 1, Artifacts: []Artifact{
		{Name: "b.rpm", Format: "rpm"}, {Name: "a.deb", Format: "deb"},
	}}
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Index(string(data), "a.deb") > strings.Index(string(data), "b.rpm") {
		t.Error("artifacts are not sorted by name")
	}
	path := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(path, data, 0o644)
	got, err := Read(path)
	if err != nil || got.Name != "a" || len(got.Artifacts) != 2 {
		t.Fatalf("Read: %+v, %v", got, err)
	}
	os.WriteFile(path, []byte(strings.Replace(string(data), `"schema": 1`, `"schema": 99`, 1)), 0o644)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "schema 99") {
		t.Errorf("an unknown schema was accepted: %v", err)
	}
	os.WriteFile(path, []byte(strings.Replace(string(data), `"name": "a"`, `"name": "a", "extra": 1`, 1)), 0o644)
	if _, err := Read(path); err == nil {
		t.Error("an unknown field was accepted")
	}
}

func TestNextReleaseVersion(t *testing.T) {
	now := time.Unix(1700000000, 0)
	if got := NextReleaseVersion(0, now); got != 1700000000 {
		t.Errorf("first version %d", got)
	}
	if got := NextReleaseVersion(1700000005, now); got != 1700000006 {
		t.Errorf("a clock behind the previous signing must still increase: %d", got)
	}
}

func TestSHA256SUMSIsCheckedBySha256sum(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.deb"), []byte("package"), 0o644)
	_, sum, _ := Digest(filepath.Join(dir, "a.deb"))
	r := &Release{Artifacts: []Artifact{{Name: "a.deb", SHA256: sum}}}
	os.WriteFile(filepath.Join(dir, SumsFileName), r.SHA256SUMS(), 0o644)
	if out, err := sha256sumCheck(dir).CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "a.deb"), []byte("tampered"), 0o644)
	if err := sha256sumCheck(dir).Run(); err == nil {
		t.Error("sha256sum -c accepted a tampered file")
	}
}

func sha256sumCheck(dir string) *exec.Cmd {
	c := exec.Command("sha256sum", "-c", SumsFileName)
	c.Dir = dir
	return c
}

// TestEnvironmentFilePath: Parse accepts the paths the formats use and
// refuses any other environment file path, naming the artifact.
func TestEnvironmentFilePath(t *testing.T) {
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{"/etc/default/crashwatch", true},
		{"/etc/sysconfig/crashwatch", true},
		{"/etc/conf.d/my_agent.2", true},
		{"/etc/My:Agent/environment", true},
		{"", true}, // none shipped
		{"/etc", false},
		{"/etc/", false},
		{"etc/default/x", false},
		{"/var/lib/x", false},
		{"/etcetera/x", false},
		{"/etc/default/../shadow", false},
		{"/etc/./default/x", false},
		{"/etc/default/x/", false},
		{"/etc//default/x", false},
		{"/etc/default/a b", false},
		{"/etc/default/x;rm", false},
		{"/etc/default/$x", false},
		{"/etc/default/x\n", false},
		{"/etc/" + strings.Repeat("a", 300), false},
	} {
		r := &Release{Schema: SchemaVersion, Name: "a", Version: "1.0.0", Release: 1, Artifacts: []Artifact{
			{Name: "a_1.0.0-1_amd64.deb", Format: "deb", EnvironmentFile: c.path},
		}}
		data, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(data)
		switch {
		case c.ok && err != nil:
			t.Errorf("%q refused: %v", c.path, err)
		case c.ok && got.Artifacts[0].EnvironmentFile != c.path:
			t.Errorf("%q read back as %q", c.path, got.Artifacts[0].EnvironmentFile)
		case !c.ok && err == nil:
			t.Errorf("%q accepted", c.path)
		case !c.ok && !strings.Contains(err.Error(), "a_1.0.0-1_amd64.deb"):
			t.Errorf("%q: the error does not name the artifact: %v", c.path, err)
		}
	}
	// Written only where there is one, so older readers' strictness holds.
	r := &Release{Schema: SchemaVersion, Artifacts: []Artifact{{Name: "a.deb"}}}
	if data, _ := r.Marshal(); strings.Contains(string(data), "environment_file") {
		t.Errorf("an artifact without one has an environment_file field:\n%s", data)
	}
}

// TestHealthCommand: the health command is written as it is (&& and >
// unescaped, for install.sh's parser) and read back; one the installers
// could not run as it is is refused.
func TestHealthCommand(t *testing.T) {
	argv := []string{"/bin/sh", "-c", "curl -fsS http://127.0.0.1:9120/healthz && test -s /run/x > /dev/null"}
	r := &Release{Schema: SchemaVersion, Name: "a", Version: "1.0.0", Release: 1, HealthCommand: argv}
	data, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `healthz && test -s /run/x > /dev/null"`) {
		t.Errorf("the command is escaped:\n%s", data)
	}
	got, err := Parse(data)
	if err != nil || !slices.Equal(got.HealthCommand, argv) {
		t.Errorf("read back as %q, %v", got.HealthCommand, err)
	}
	for _, bad := range [][]string{{"sh", "-c", "true"}, {"/usr/bin/../bin/x"}, {"/x", ""}, {"/x", `a"b`}, {"/x", `a\b`}, {"/x", "a\nb"}, {"/x", "é"}} {
		r.HealthCommand = bad
		data, _ := r.Marshal()
		if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "health_command") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestCheckImage: an image layout names its repository and index digest;
// a bad one, or one on another format, is refused when parsed.
func TestCheckImage(t *testing.T) {
	good := Artifact{Name: "a.oci.tar", Format: FormatOCI, ImageRepository: "ghcr.io/vendor/agent", ImageIndex: "sha256:" + strings.Repeat("ab", 32)}
	if err := CheckImage(good); err != nil {
		t.Errorf("good: %v", err)
	}
	if err := CheckImage(Artifact{Name: "a.deb", Format: "deb"}); err != nil {
		t.Errorf("no image: %v", err)
	}
	for name, edit := range map[string]func(*Artifact){
		"on a deb":          func(a *Artifact) { a.Format = "deb" },
		"short digest":      func(a *Artifact) { a.ImageIndex = "sha256:abc" },
		"upper-case digest": func(a *Artifact) { a.ImageIndex = "sha256:" + strings.Repeat("AB", 32) },
		"no digest":         func(a *Artifact) { a.ImageIndex = "" },
		"upper-case repo":   func(a *Artifact) { a.ImageRepository = "ghcr.io/Vendor/agent" },
		"repo with a tag":   func(a *Artifact) { a.ImageRepository = "ghcr.io/vendor/agent:1.0" },
		"no repo":           func(a *Artifact) { a.ImageRepository = "" },
	} {
		a := good
		edit(&a)
		if err := CheckImage(a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := CheckImage(Artifact{Format: FormatOCI, ImageRepository: "127.0.0.1:5000/vendor/agent", ImageIndex: good.ImageIndex}); err != nil {
		t.Errorf("a registry with a port: %v", err)
	}
}
