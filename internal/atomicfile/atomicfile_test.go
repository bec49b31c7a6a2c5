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

// TestSymlink: Symlink replaces a link with one pointing elsewhere and
// leaves no temporary link; a directory in the way is an error, and the
// directory stays.
func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "current")
	for _, target := range []string{"a", "b"} {
		if err := Symlink(OS{}, target, link); err != nil {
			t.Fatalf("Symlink %s: %v", target, err)
		}
		if got, err := os.Readlink(link); err != nil || got != target {
			t.Errorf("after Symlink %s the link reads %q, %v", target, got, err)
		}
	}
	if err := Symlink(OS{}, "b", filepath.Join(dir, "a")); err == nil {
		t.Error("Symlink replaced a directory")
	}
	if st, err := os.Lstat(filepath.Join(dir, "a")); err != nil || !st.IsDir() {
		t.Errorf("the directory Symlink refused to replace is gone: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if IsTemp(e.Name()) {
			t.Errorf("Symlink left %s", e.Name())
		}
	}
}
