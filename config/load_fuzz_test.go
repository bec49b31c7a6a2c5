package config_test

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/release"

	// Validation needs the format rules the format registry registers.
	"github.com/omnipack/omnipack/packaging/formats"
)

// fuzzProject is a config that loads, with the files it names; the fuzzer
// starts from it and from the example agent's config.
const fuzzProject = `[project]
name = "probe"
version = "1.0.0"
maintainer = "Ops <ops@example.com>"
license = "MIT"

[binary.prebuilt]
amd64 = "bin/probe"

[service]
args = ["-v"]

[[config]]
source = "probe.toml"

[[files]]
source = "README"
dest = "/usr/share/doc/probe/README"

[targets]
archs = ["amd64"]
`

// writeFuzzProject makes a project directory holding the files fuzzProject
// refers to, so that a config the fuzzer leaves intact can load.
func writeFuzzProject(f *testing.F) string {
	dir := f.TempDir()
	for name, body := range map[string]string{"bin/probe": "#!/bin/sh\n", "probe.toml": "key = 1\n", "README": "probe\n"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		f.Fatal(err)
	}
	return dir
}

// FuzzLoad feeds arbitrary bytes to Load as omnipack.toml. Bad input must
// come back as Problems that name the file; a config that loads must be
// one the rest of omnipack can build and the installer will accept.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(fuzzProject))
	if example, err := os.ReadFile("../examples/crashwatch/omnipack.toml"); err == nil {
		f.Add(example)
	}
	dir := writeFuzzProject(f)
	cfgPath := filepath.Join(dir, config.DefaultFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(cfgPath)
		if err != nil {
			checkProblems(t, cfgPath, cfg, err)
			return
		}
		if cfg == nil {
			t.Fatal("Load returned neither a config nor an error")
		}
		checkLoaded(t, cfg)
	})
}

func checkProblems(t *testing.T, cfgPath string, cfg *config.Config, err error) {
	if cfg != nil {
		t.Fatalf("Load returned a config together with the error %v", err)
	}
	var ps config.Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("bad input gave %T %v, not Problems", err, err)
	}
	for _, p := range ps {
		if p.File != cfgPath || p.Msg == "" || p.Line < 0 {
			t.Errorf("problem without file, message or a sane line: %+v", p)
		}
	}
}

// checkLoaded holds a loaded config to what later steps rely on without
// checking again: the names, versions and files that end up in packages,
// release.json and the installer's checks.
func checkLoaded(t *testing.T, cfg *config.Config) {
	p := cfg.Project
	if p.Name == "" || p.Version == "" || p.Release < 1 || len(cfg.Targets.Formats) == 0 || len(cfg.Targets.Archs) == 0 {
		t.Fatalf("loaded config lacks a required field: %+v %+v", p, cfg.Targets)
	}
	// The installer refuses a release whose name it would not put in a path.
	if err := release.CheckName(p.Name); err != nil {
		t.Errorf("config accepts project name %q, but the installer refuses it: %v", p.Name, err)
	}
	if p.Version == "git" {
		return // resolved by git describe at build time
	}
	// The name is checked above; this release isolates the version.
	v := config.Version{Base: p.Version}
	rel := manifest.Release{Schema: manifest.SchemaVersion, Name: "probe", Version: v.String(), ReleaseVersion: 1,
		Expires: new(time.Unix(1700000000, 0))}
	for _, name := range cfg.Targets.Formats {
		format, ok := formats.Lookup(name)
		if !ok {
			t.Fatalf("config accepts unknown format %q", name)
		}
		rel.Artifacts = append(rel.Artifacts, manifest.Artifact{
			Name: "probe." + name, Format: name, Arch: "amd64", OS: "linux",
			Version: format.FullVersion(v, p.Release), Size: 1, SHA256: strings.Repeat("0", 64),
		})
	}
	if err := release.CheckRelease(&rel); err != nil {
		t.Errorf("config accepts version %q, but the installer refuses the release: %v", p.Version, err)
	}
	for _, c := range cfg.Configs {
		if dest := cfg.ConfigDest(c); path.Clean(dest) != dest || !strings.HasPrefix(dest, "/etc/"+p.Name+"/") {
			t.Errorf("config file %q is installed outside /etc/%s/", c.Dest, p.Name)
		}
	}
	// Every limit that loads reaches the service model, within what every
	// init can apply.
	l, set := cfg.ServiceModel("deb").Limits, cfg.Service.Limits
	if (set.OpenFiles != nil) != (l.OpenFiles > 0) || (set.MemoryMax != nil) != (l.MemoryMax > 0) ||
		(set.CPUWeight != nil) != (l.CPUWeight > 0) || (set.Nice != nil) != (l.Nice != nil) {
		t.Errorf("[service.limits] %+v gives the service model the limits %+v", set, l)
	}
	svc := initsys.Service{Name: "probe", Exec: "/usr/bin/probe", Limits: l}
	if _, err := initsys.Prepare(svc); err != nil {
		t.Errorf("config accepts limits the inits refuse: %v", err)
	}
}
