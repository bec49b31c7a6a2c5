package pipeline

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
)

// TestSourceArchive: the source archive holds the whole repository at the
// commit (the project may sit in a subdirectory) below NAME-VERSION/, the
// same bytes from another clone in another place, and not a change left
// uncommitted.
func TestSourceArchive(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a")
	for name, body := range map[string]string{"go.mod": "module x\n", "proj/omnipack.toml": "[project]\n", "proj/main.go": "package main\n", "tool.sh": "#!/bin/sh\n"} {
		p := filepath.Join(a, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(a, "tool.sh"), 0o755)
	runGit(t, a, "init", "-q")
	runGit(t, a, "add", ".")
	runGit(t, a, "commit", "-q", "-m", "one")
	commit := runGit(t, a, "rev-parse", "HEAD")
	b := filepath.Join(t.TempDir(), "some", "other", "b")
	runGit(t, filepath.Dir(a), "clone", "-q", a, b)
	// Left uncommitted: not in the archive.
	if err := os.WriteFile(filepath.Join(a, "go.mod"), []byte("module changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	build := func(repo string) (*manifest.Artifact, []byte) {
		t.Helper()
		cfg := &config.Config{Dir: filepath.Join(repo, "proj"), Project: config.Project{Name: "agent"}}
		dist := t.TempDir()
		art, err := writeSourceArchive(context.Background(), cfg, commit, "1.2.0", dist)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dist, art.Name))
		if err != nil {
			t.Fatal(err)
		}
		return art, data
	}
	artA, dataA := build(a)
	artB, dataB := build(b)
	if !bytes.Equal(dataA, dataB) || artA.SHA256 != artB.SHA256 {
		t.Errorf("two clones give different archives (%s, %s)", artA.SHA256, artB.SHA256)
	}
	if artA.Name != "agent_1.2.0.src.tar.gz" || artA.Format != manifest.FormatSource || artA.Version != "1.2.0" {
		t.Errorf("artifact %+v", artA)
	}

	zr, err := gzip.NewReader(bytes.NewReader(dataA))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			if h.PAXRecords["comment"] != commit {
				t.Errorf("the archive's pax header names %q, want the commit %s", h.PAXRecords["comment"], commit)
			}
			continue
		}
		names = append(names, h.Name)
		if h.Name == "agent-1.2.0/go.mod" {
			body, _ := io.ReadAll(tr)
			if string(body) != "module x\n" {
				t.Errorf("go.mod in the archive is %q, want the committed one", body)
			}
		}
		if h.Name == "agent-1.2.0/tool.sh" && h.Mode&0o111 == 0 {
			t.Errorf("tool.sh lost its execute bits: %o", h.Mode)
		}
	}
	for _, want := range []string{"agent-1.2.0/go.mod", "agent-1.2.0/proj/omnipack.toml", "agent-1.2.0/proj/main.go", "agent-1.2.0/tool.sh"} {
		if !slices.Contains(names, want) {
			t.Errorf("the archive lacks %s: %v", want, names)
		}
	}
}
