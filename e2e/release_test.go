// Package e2e is the real-host tier: it builds the example agent's release
// and installs it on booted containers, each running a different init.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// The two releases every test installs: v2 changes the version and the
// default config, so an upgrade has something to preserve and to deliver.
var (
	releaseV1, releaseV2 *release
)

const (
	agent       = "crashwatch"
	v1, v2      = "1.0.0", "1.1.0"
	v2ConfigTag = "# default changed in 1.1.0"
)

type release struct {
	dir string
	m   *manifest.Release
}

// artifact returns the path of the release's package of one format for amd64.
func (r *release) artifact(t *testing.T, format string) string {
	t.Helper()
	for _, a := range r.m.Artifacts {
		if a.Format == format && a.Arch == "amd64" {
			return filepath.Join(r.dir, a.Name)
		}
	}
	t.Fatalf("release %s has no %s package for amd64", r.m.Version, format)
	return ""
}

func TestMain(m *testing.M) {
	code, err := buildReleases(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the example releases:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildReleases(m *testing.M) (int, error) {
	work, err := os.MkdirTemp("", "omnipack-e2e-releases-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)
	os.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if releaseV1, err = buildRelease(work, v1, ""); err != nil {
		return 0, err
	}
	if releaseV2, err = buildRelease(work, v2, v2ConfigTag+"\n"); err != nil {
		return 0, err
	}
	for _, r := range []struct {
		out     **release
		version string
	}{{&probeV1, v1}, {&probeV2, v2}} {
		if *r.out, err = buildProbeRelease(work, r.version, nil); err != nil {
			return 0, err
		}
	}
	return m.Run(), nil
}

// buildRelease builds the example unsigned, as buildExampleRelease does.
func buildRelease(work, version, configSuffix string) (*release, error) {
	return buildExampleRelease(work, version, configSuffix, nil, pipeline.Options{})
}

// buildExampleRelease copies the example (amd64 only: the tests run on
// amd64), sets its version, applies edit to its omnipack.toml, appends
// configSuffix to its default config, and builds it with opts, whose Config
// and DistDir it fills in.
func buildExampleRelease(work, version, configSuffix string, edit func(string) string, opts pipeline.Options) (*release, error) {
	src := filepath.Join(work, "src-"+version)
	cfgPath, err := prepareExample(src, func(text string) string {
		text = strings.Replace(text, `version = "1.0.0"`, fmt.Sprintf("version = %q", version), 1)
		if edit != nil {
			text = edit(text)
		}
		return text
	})
	if err != nil {
		return nil, err
	}
	if configSuffix != "" {
		f, err := os.OpenFile(filepath.Join(src, "crashwatch.toml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		f.WriteString(configSuffix)
		f.Close()
	}
	if opts.Config, err = config.Load(cfgPath); err != nil {
		return nil, err
	}
	opts.DistDir = filepath.Join(work, "dist-"+version)
	m, err := pipeline.Run(context.Background(), opts)
	if err != nil {
		return nil, err
	}
	return &release{dir: opts.DistDir, m: m}, nil
}

// prepareExample copies the example agent to dst with archs = ["amd64"],
// applies edits to its omnipack.toml, and returns the config's path.
func prepareExample(dst string, edits ...func(string) string) (string, error) {
	return prepareExampleOf("../examples/crashwatch", dst, edits...)
}

// prepareExampleOf is prepareExample for the example agent in src.
func prepareExampleOf(src, dst string, edits ...func(string) string) (string, error) {
	if err := verifytest.CopyTree(src, dst); err != nil {
		return "", err
	}
	cfgPath := filepath.Join(dst, config.DefaultFile)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return "", err
	}
	const all, amd64 = `archs = ["amd64", "arm64"]`, `archs = ["amd64"]`
	if !strings.Contains(string(data), all) {
		return "", fmt.Errorf("%s no longer says %s", cfgPath, all)
	}
	text := strings.Replace(string(data), all, amd64, 1)
	for _, edit := range edits {
		text = edit(text)
	}
	return cfgPath, os.WriteFile(cfgPath, []byte(text), 0o644)
}
