package manifest

import (
	"os"
	"os/exec"
	"path/filepath"
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
