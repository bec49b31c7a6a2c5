package pipeline_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// touchAll gives every file in dir the same arbitrary mtime, so the two
// copies differ in their file times.
func touchAll(t *testing.T, dir string, when time.Time) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			os.Chtimes(p, when, when)
		}
		return err
	})
}

func buildExample(t *testing.T, dir, dist string) {
	t.Helper()
	cfg, err := config.Load(filepath.Join(dir, config.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Run(context.Background(), pipeline.Options{Config: cfg, DistDir: dist}); err != nil {
		t.Fatal(err)
	}
}

// TestReproducible builds each example twice, in two directories, at two
// times, with different file times, umask, time zone and Go build cache,
// and requires every output file to be identical byte for byte.
func TestReproducible(t *testing.T) {
	for _, example := range []string{"crashwatch", "net_probe"} {
		t.Run(example, func(t *testing.T) { reproducible(t, "../examples/"+example) })
	}
}

func reproducible(t *testing.T, example string) {
	root := t.TempDir()
	dirA := filepath.Join(root, "a", filepath.Base(example))
	dirB := filepath.Join(root, "some", "other", "place")
	for _, d := range []string{dirA, dirB} {
		if err := verifytest.CopyTree(example, d); err != nil {
			t.Fatal(err)
		}
	}
	touchAll(t, dirB, time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")

	t.Setenv("TZ", "UTC")
	distA := filepath.Join(root, "distA")
	buildExample(t, dirA, distA)

	time.Sleep(1100 * time.Millisecond) // the wall clock has moved on
	t.Setenv("TZ", "Asia/Tokyo")
	t.Setenv("GOCACHE", filepath.Join(root, "gocache-b"))
	old := syscall.Umask(0o077)
	distB := filepath.Join(root, "distB")
	buildExample(t, dirB, distB)
	syscall.Umask(old)

	a, b := readDir(t, distA), readDir(t, distB)
	if len(a) < 2 {
		t.Fatalf("first build wrote only %d files", len(a))
	}
	for name, data := range a {
		other, ok := b[name]
		switch {
		case !ok:
			t.Errorf("%s: only in the first build", name)
		case !bytes.Equal(data, other):
			t.Errorf("%s: differs between the two builds (run diffoscope on the two files to see how)", name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s: only in the second build", name)
		}
	}
	t.Logf("%d files identical", len(a))
}

// readDir returns every file below dir (the image layout's too), by path.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
