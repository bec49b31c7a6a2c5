package installer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/install"
	"github.com/omnipack/omnipack/install/installtest"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/release"
	"github.com/omnipack/omnipack/signing"
)

// TestDryRunsAgree holds install.sh and omnipack install to one plan: for
// every os-release fixture, each release kind (every package format; the
// tarball alone) and each state of the tree (nothing installed; an older
// release installed; this release installed), both dry runs on the same
// tree must choose the same artifact, action, package manager and init,
// print the same package-manager commands and name the same environment
// file for --set env.NAME, or both refuse.
func TestDryRunsAgree(t *testing.T) {
	need(t, "dash", "openssl")
	f := getFixture(t)
	unpacked := formats.Unpacked().Name()
	kinds := map[string][]string{"packages": release.PackageFormats(), "tarball": {unpacked}}
	releases := map[string]string{}
	for kind, fs := range kinds {
		releases[kind] = filepath.Join(t.TempDir(), kind)
		if err := makeFormatRelease(t, releases[kind], f.keys, fs, true); err != nil {
			t.Fatal(err)
		}
	}
	pub := filepath.Join(f.keys.Dir, signing.ReleasePubFile)
	rel, err := manifest.Read(filepath.Join(releases["packages"], manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// Stubs stand in for every tool that changes a host: a dry run that
	// ran one would fail, and show it in the log.
	stubLog := filepath.Join(t.TempDir(), "stub.log")
	path := stubDir(t, stubLog, mutating) + string(os.PathListSeparator) + os.Getenv("PATH")

	fixtures, err := filepath.Glob("../../detector/testdata/os-release/*")
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, fx := range fixtures {
		if filepath.Base(fx) == "EXPECTED.tsv" {
			continue
		}
		osRelease, err := os.ReadFile(fx)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{"packages", "tarball"} {
			for _, state := range []string{"fresh", "older", "current"} {
				name := fmt.Sprintf("%s/%s/%s", filepath.Base(fx), kind, state)
				t.Run(name, func(t *testing.T) {
					root := installtest.Tree(t, string(osRelease))
					installed(t, root, state, rel.ReleaseVersion)
					sh := run(t, shell{"dash", []string{"dash"}}, f.script, path, nil,
						"--dry-run", "--root", root, "--offline", releases[kind], "--set", "env.TOKEN=t0k", "--set", "env.LOG_LEVEL=debug")
					goOut, goErr := goDryRun(releases[kind], pub, root, dryRunEnvSets...)
					shLines, goLines := planLines(sh.out()), planLines(goOut)
					switch {
					case goErr != nil && sh.code != 0:
						if len(shLines) > 0 {
							t.Errorf("both refuse, but install.sh printed a plan:\n%s", sh.out())
						}
						return
					case goErr != nil:
						t.Fatalf("omnipack install refuses (%v); install.sh plans:\n%s", goErr, sh.out())
					case sh.code != 0:
						t.Fatalf("install.sh refuses (exit %d); omnipack install plans:\n%s\n--- install.sh:\n%s", sh.code, goOut, sh.out())
					}
					if len(goLines) == 0 {
						t.Fatalf("omnipack install --dry-run printed no plan lines:\n%s", goOut)
					}
					if !slices.Equal(shLines, goLines) {
						t.Errorf("the dry runs differ\n--- install.sh:\n%s\n--- omnipack install:\n%s\n--- install.sh output:\n%s",
							strings.Join(shLines, "\n"), strings.Join(goLines, "\n"), sh.out())
					}
					t.Logf("both plan:\n%s", strings.Join(goLines, "\n"))
					compared++
				})
			}
		}
	}
	// A release whose packages ship no environment file: both refuse
	// --set env.NAME, with exit status 2.
	t.Run("no environment file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "noenv")
		if err := makeFormatRelease(t, dir, f.keys, release.PackageFormats(), false); err != nil {
			t.Fatal(err)
		}
		root := installtest.Tree(t, "ID=debian\nVERSION_ID=12\n")
		sh := run(t, shell{"dash", []string{"dash"}}, f.script, path, nil, "--dry-run", "--root", root, "--offline", dir, "--set", "env.TOKEN=t0k")
		_, goErr := goDryRun(dir, pub, root, dryRunEnvSets...)
		if sh.code != 2 || !strings.Contains(sh.out(), "ships no environment file") || !errors.Is(goErr, install.ErrNoEnvironmentFile) {
			t.Errorf("install.sh exit %d, omnipack install %v:\n%s", sh.code, goErr, sh.out())
		}
	})
	if calls := changingCalls(t, stubLog); calls != "" {
		t.Errorf("a dry run called a tool that changes the host:\n%s", calls)
	}
	// Most fixtures must plan, not refuse, or the test proves little.
	if compared < 30 {
		t.Errorf("only %d plans compared", compared)
	}
}

// installed puts the state into the tree as an install would have left it:
// nothing; an older release (its binary and record); this release.
func installed(t *testing.T, root, state string, current int64) {
	t.Helper()
	rv := map[string]int64{"older": current - 100, "current": current}[state]
	if rv == 0 {
		return
	}
	r := install.Record{ReleaseVersion: rv, Version: "0.9.0", Release: 1}
	for p, body := range map[string][]byte{
		layout.Bin(pkgName):           []byte("#!/bin/sh\n"),
		layout.ReleaseRecord(pkgName): r.Marshal(),
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// dryRunEnvSets are the --set env.NAME values both dry runs get.
var dryRunEnvSets = []install.Setting{{Key: "env.TOKEN", Value: "t0k"}, {Key: "env.LOG_LEVEL", Value: "debug"}}

// goDryRun is omnipack install --dry-run --root root --key pub src with
// the --set values sets.
func goDryRun(src, pub, root string, sets ...install.Setting) (string, error) {
	var out bytes.Buffer
	_, err := install.Run(context.Background(), install.Options{Source: src, Key: release.KeySpec{Path: pub}, Root: root,
		DryRun: true, Out: &out, Log: &out, AllowNonRoot: true, Plan: install.PlanOptions{Sets: sets}})
	return out.String(), err
}

// planLines returns the "plan: ..." lines of a dry run's output.
func planLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "plan: ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// makeFormatRelease writes a signed release of the given formats for amd64
// and arm64: the tarball real (install.sh unpacks and checks it), the
// packages random bytes (a dry run only checks their digests); with
// envFile, each names its format's environment file.
func makeFormatRelease(t *testing.T, dir string, k *pipeline.Keys, fs []string, envFile bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	const version = "1.0.0"
	rel := &manifest.Release{Schema: manifest.SchemaVersion, Name: pkgName, Version: version, Release: 1,
		SourceDateEpoch: 1700000000, Inits: inits.Names()}
	for _, archName := range []string{"amd64", "arm64"} {
		arch, _ := config.LookupArch(archName)
		for _, name := range fs {
			format, _ := formats.Lookup(name)
			file := format.FileName(pkgName, config.Version{Base: version}, 1, arch)
			body := make([]byte, 3000)
			rand.Read(body)
			if name == formats.Unpacked().Name() {
				body = installtest.Tarball(t, pkgName, version, installtest.DefaultConfig)
			}
			p := filepath.Join(dir, file)
			if err := os.WriteFile(p, body, 0o644); err != nil {
				return err
			}
			size, sum, err := manifest.Digest(p)
			if err != nil {
				return err
			}
			a := manifest.Artifact{Name: file, Format: name, Arch: archName, OS: "linux",
				Version: format.FullVersion(config.Version{Base: version}, 1), Size: size, SHA256: sum}
			if envFile {
				a.EnvironmentFile = format.Rule().EnvironmentFile(pkgName)
			}
			rel.Artifacts = append(rel.Artifacts, a)
		}
	}
	return pipeline.SignRelease(dir, rel, k, 0, time.Now(), 24*time.Hour)
}
