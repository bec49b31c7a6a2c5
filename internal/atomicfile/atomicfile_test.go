package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestIsTemp: the temporary files Write makes are recognised, other names
// are not.
func TestIsTemp(t *testing.T) {
	dir := t.TempDir()
	tmp, err := writeTemp(OS{}, File{Path: filepath.Join(dir, "InRelease"), Data: []byte("x"), Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tmp)
	if !IsTemp(filepath.Base(tmp)) {
		t.Errorf("IsTemp(%q) = false for a file writeTemp made", filepath.Base(tmp))
	}
	for _, name := range []string{"InRelease", ".InRelease", "InRelease.tmp-0123456789ab", ".x.tmp-0123456789", ".x.tmp-0123456789abcd", ".x.tmp-0123456789AB"} {
		if IsTemp(name) {
			t.Errorf("IsTemp(%q) = true", name)
		}
	}
}
