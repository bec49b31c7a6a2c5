package pipeline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/provenance"
	"github.com/omnipack/omnipack/signing"
)

// writeProvenance writes the signed SLSA provenance of every artifact and
// returns it as an artifact itself, so the signed manifest covers it too.
func writeProvenance(ctx context.Context, cfg *config.Config, rel *manifest.Release, src *provenance.SourceRef, opts Options,
	started, finished time.Time, dir string) (manifest.Artifact, error) {
	in := provenance.Input{
		Source:          src,
		Subjects:        rel.Subjects(""),
		ConfigPath:      cfg.Path,
		OmnipackVersion: opts.OmnipackVersion,
		SourceDateEpoch: rel.SourceDateEpoch,
		Started:         started,
		Finished:        finished,
	}
	if abs, err := filepath.Abs(cfg.Path); err == nil {
		in.ConfigPath = abs
	}
	if cfg.Binary.GoPackage != "" {
		in.GoVersion = goEnvValue(ctx, cfg, "GOVERSION")
		if mod := goEnvValue(ctx, cfg, "GOMOD"); mod != "" && mod != os.DevNull {
			sum := filepath.Join(filepath.Dir(mod), "go.sum")
			if _, err := os.Stat(sum); err == nil {
				in.GoSumPath = sum
			}
		}
	}
	st, err := provenance.New(in)
	if err != nil {
		return manifest.Artifact{}, err
	}
	payload, err := st.Marshal()
	if err != nil {
		return manifest.Artifact{}, err
	}
	env, err := signing.SignDSSE(opts.Keys.Release, provenance.PayloadType, payload)
	if err != nil {
		return manifest.Artifact{}, err
	}
	p := filepath.Join(dir, provenance.FileName)
	if err := os.WriteFile(p, append(env, '\n'), 0o644); err != nil {
		return manifest.Artifact{}, err
	}
	return artifact(p, FormatProvenance, "", rel.Version)
}

// goEnvValue asks the go command that builds the binary for one setting,
// in the Go package's directory.
func goEnvValue(ctx context.Context, cfg *config.Config, key string) string {
	cmd := exec.CommandContext(ctx, "go", "env", key)
	cmd.Dir = cfg.Resolve(cfg.Binary.GoPackage)
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
