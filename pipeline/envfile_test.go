package pipeline_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/release"
)

// TestManifestNamesEnvironmentFile builds every format with [service]
// environment_file = true: release.json names each package's environment
// file, the path its format keeps it at, and the package holds that file,
// as each format's own tool lists it. Other artifacts name none, and
// without environment_file no artifact does.
func TestManifestNamesEnvironmentFile(t *testing.T) {
	for _, tool := range []string{"dpkg-deb", "rpm", "pacman", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed", tool)
		}
	}
	list := map[string][]string{
		"deb":       {"dpkg-deb", "--contents"},
		"rpm":       {"rpm", "-qlp"},
		"archlinux": {"pacman", "-Qlpq"},
		// apk: concatenated gzip tar streams.
		"apk":     {"tar", "-tzif"},
		"tarball": {"tar", "-tzf"},
	}
	for _, on := range []bool{true, false} {
		rel := buildProbe(t, on)
		packages := 0
		for _, a := range rel.Artifacts {
			if !release.IsPackage(a.Format) {
				if a.EnvironmentFile != "" {
					t.Errorf("%s (%s) names an environment file", a.Name, a.Format)
				}
				continue
			}
			packages++
			format, _ := formats.Lookup(a.Format)
			want := ""
			if on {
				want = format.Rule().EnvironmentFile("probe")
			}
			if a.EnvironmentFile != want {
				t.Errorf("%s: environment_file %q, want %q", a.Name, a.EnvironmentFile, want)
			}
			if !on {
				continue
			}
			argv := append(list[a.Format], filepath.Join(rel.dir, a.Name))
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
			}
			if !holds(string(out), want) {
				t.Errorf("%s does not hold %s; %s lists:\n%s", a.Name, want, argv[0], out)
			}
		}
		if packages != len(release.PackageFormats()) {
			t.Errorf("%d packages, want one of each format", packages)
		}
	}
}

// holds reports whether a package listing names path (dpkg-deb shows
// ./etc/…, tar etc/…, rpm and pacman /etc/…).
func holds(listing, path string) bool {
	for _, l := range strings.Split(listing, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		name := f[len(f)-1]
		if strings.TrimPrefix(strings.TrimPrefix(name, "."), "/") == strings.TrimPrefix(path, "/") {
			return true
		}
	}
	return false
}

type builtRelease struct {
	*manifest.Release
	dir string
}

// buildProbe builds a small prebuilt project of every format for amd64,
// with or without [service] environment_file.
func buildProbe(t *testing.T, environmentFile bool) builtRelease {
	t.Helper()
	dir := t.TempDir()
	cfg := `[project]
name = "probe"
version = "1.0.0"
maintainer = "Ops <ops@example.com>"
license = "MIT"

[binary.prebuilt]
amd64 = "bin/probe"

[service]
environment_file = ` + map[bool]string{true: "true", false: "false"}[environmentFile] + `

[service.environment]
LOG_LEVEL = "info"

[targets]
formats = ["deb", "rpm", "apk", "archlinux", "tarball"]
archs = ["amd64"]
`
	for name, body := range map[string]string{"bin/probe": "#!/bin/sh\n", "omnipack.toml": cfg} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c, err := config.Load(filepath.Join(dir, "omnipack.toml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dist := filepath.Join(dir, "dist")
	rel, err := pipeline.Run(context.Background(), pipeline.Options{Config: c, DistDir: dist})
	if err != nil {
		t.Fatal(err)
	}
	// What was written is what the installers read.
	read, err := manifest.Read(filepath.Join(dist, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Artifacts) != len(rel.Artifacts) {
		t.Fatalf("release.json lists %d artifacts, the build %d", len(read.Artifacts), len(rel.Artifacts))
	}
	return builtRelease{read, dist}
}
