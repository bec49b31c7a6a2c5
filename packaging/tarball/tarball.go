// Package tarball is omnipack's release tarball, for hosts with no package
// manager omnipack builds for (Void, Gentoo, ...): a deterministic tar.gz of
// the packages' files with paths relative to /, the argument-free
// maintainer scripts apk uses and a file list. No package manager installs
// it: install.sh and omnipack install unpack it themselves.
package tarball

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/scripts"
)

// Name is the format's name in omnipack.toml and release.json.
const Name = "tarball"

var (
	nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	// Versions may also carry the "~" pre-release every format accepts.
	versionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)
)

// Format is the release tarball format.
type Format struct{}

func (Format) Name() string { return Name }

// Stages: the tarball has no signature of its own (the signed release.json
// protects it by sha256) and no package manager.
func (Format) Stages() []packaging.Stage {
	return []packaging.Stage{packaging.StageRead, packaging.StagePURL, packaging.StageUnpack}
}

func (f Format) Rule() config.FormatRule {
	return config.FormatRule{
		CheckName:       packaging.CheckNameByPattern(nameRe, "use letters, digits and . _ + -"),
		CheckVersion:    packaging.CheckByPattern(f.Version, versionRe, "letters, digits and . _ + ~ only", packaging.VersionFix),
		PackageName:     func(program string) string { return packaging.MapName(program, "._+-", false) },
		NameRule:        "release tarball names have no :, which becomes -",
		EnvironmentFile: func(program string) string { return layout.ConfigDir(program) + "/environment" },
	}
}

func (Format) Arch(a config.Arch) string       { return a.Name }
func (Format) Version(v config.Version) string { return v.String() }

func (f Format) FullVersion(v config.Version, release int) string {
	return fmt.Sprintf("%s-%d", f.Version(v), release)
}

func (f Format) FileName(name string, v config.Version, release int, a config.Arch) string {
	return fmt.Sprintf("%s_%s_linux_%s.tar.gz", name, f.FullVersion(v, release), f.Arch(a))
}

// PackageURLType: no package manager of its own, so pkg:generic.
func (Format) PackageURLType() (string, bool) { return "generic", false }

func (f Format) Build(spec *packaging.Spec, dir string) (packaging.Result, error) {
	out, err := writeTarball(spec, dir)
	if err != nil {
		return packaging.Result{}, err
	}
	return packaging.Result{Path: out, Format: Name, Arch: spec.Arch.Name, Version: f.FullVersion(spec.Version, spec.Release)}, nil
}

type tarballEntry struct {
	dest string // absolute
	mode os.FileMode
	src  string // file on the build host; empty when body is set
	body []byte
}

// writeTarball writes NAME_VERSION-RELEASE_linux_ARCH.tar.gz: entries sorted,
// uid/gid 0 without names, mtime from the build, gzip without name or time.
func writeTarball(spec *packaging.Spec, dir string) (string, error) {
	set, err := scripts.APK(packaging.ScriptsInput(spec))
	if err != nil {
		return "", err
	}
	entries := []tarballEntry{{dest: layout.Bin(spec.Name), mode: 0o755, src: spec.Binary}}
	for _, c := range slices.Concat(spec.Configs, spec.SystemConfigs, spec.Files) {
		entries = append(entries, tarballEntry{dest: c.Dest, mode: c.Mode, src: c.Source})
	}
	for _, r := range spec.Inits {
		for _, f := range spec.InitFiles[r.Name()] {
			staged := layout.Staged(spec.Name, r.Name(), f.Target)
			entries = append(entries, tarballEntry{dest: staged, mode: os.FileMode(f.Mode), src: filepath.Join(spec.StageDir, staged)})
		}
	}
	for name, body := range map[string]string{"preinstall": set.PreInstall, "postinstall": set.PostInstall, "preremove": set.PreRemove, "postremove": set.PostRemove} {
		if body != "" {
			entries = append(entries, tarballEntry{dest: path.Join(layout.TarballScriptsDir(spec.Name), name), mode: 0o755, body: []byte(body)})
		}
	}
	var list []string
	for _, e := range entries {
		list = append(list, e.dest)
	}
	list = append(list, layout.TarballFileList(spec.Name))
	sort.Strings(list)
	entries = append(entries, tarballEntry{dest: layout.TarballFileList(spec.Name), mode: 0o644, body: []byte(strings.Join(list, "\n") + "\n")})
	sort.Slice(entries, func(i, j int) bool { return entries[i].dest < entries[j].dest })

	out := filepath.Join(dir, Format{}.FileName(spec.Package(Name).Name, spec.Version, spec.Release, spec.Arch))
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(zw)
	dirs := map[string]bool{}
	for _, e := range entries {
		if err := writeTarEntry(tw, e, spec, dirs); err != nil {
			return "", fmt.Errorf("tarball %s: %w", e.dest, err)
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return out, f.Close()
}

// writeTarEntry writes the entry's parent directories (once) and the entry.
func writeTarEntry(tw *tar.Writer, e tarballEntry, spec *packaging.Spec, dirs map[string]bool) error {
	rel := strings.TrimPrefix(e.dest, "/")
	var parents []string
	for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
		parents = append(parents, d)
		dirs[d] = true
	}
	for i := len(parents) - 1; i >= 0; i-- {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: parents[i] + "/", Mode: 0o755,
			ModTime: spec.MTime, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	body := e.body
	if e.src != "" {
		var err error
		if body, err = os.ReadFile(e.src); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: int64(e.mode.Perm()),
		Size: int64(len(body)), ModTime: spec.MTime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := io.Copy(tw, strings.NewReader(string(body)))
	return err
}
