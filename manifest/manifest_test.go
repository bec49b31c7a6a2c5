package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
