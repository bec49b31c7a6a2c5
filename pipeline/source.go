package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/manifest"
)

// SourceArchiveName is the release's source archive in dist/.
func SourceArchiveName(name, version string) string { return name + "_" + version + ".src.tar.gz" }

// writeSourceArchive writes the release's source archive of commit into
// dir: the whole repository's tree at that commit, below NAME-VERSION/,
// as git archive makes it (entries dated the commit time, owned by root,
// the commit id in a pax header), gzip'd with no name or time, so the
// same commit always gives the same bytes. It holds what was committed: a
// dirty build's changes are not in it, which the provenance records
// (dirty).
func writeSourceArchive(ctx context.Context, cfg *config.Config, commit, version, dir string) (*manifest.Artifact, error) {
	top, err := gitOutput(ctx, cfg.Dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	// dir is the build's staging directory, renamed into place whole.
	p := filepath.Join(dir, SourceArchiveName(cfg.Project.Name, version))
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	zw, err := gzip.NewWriterLevel(out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// The settings that change git archive's output are fixed: the same
	// commit gives the same archive on every machine.
	cmd := exec.CommandContext(ctx, "git", "-c", "core.autocrlf=false", "-c", "tar.umask=0022", "archive", "--format=tar",
		"--prefix="+cfg.Project.Name+"-"+version+"/", commit)
	cmd.Dir = top
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = zw, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("source archive: git archive %s: %v: %s", commit, err, strings.TrimSpace(stderr.String()))
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	a, err := artifact(p, manifest.FormatSource, "", version)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// gitOutput runs git in dir and returns its trimmed output.
func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
