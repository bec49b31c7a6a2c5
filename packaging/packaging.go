// Package packaging turns a Spec into native packages through nfpm. Each
// format lives in its own file and registers a Format, so adding a format
// means adding one file.
package packaging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/layout"
)

// Spec is everything one package needs, independent of its format.
type Spec struct {
	Name        string
	Version     config.Version
	Release     int
	Arch        config.Arch
	Summary     string
	Description string
	Maintainer  string
	Vendor      string
	License     string
	Homepage    string
	MTime       time.Time // from SOURCE_DATE_EPOCH or the commit time

	Binary  string // path of the daemon binary on the build host
	Service initsys.Service
	// Inits holds the renderers of the enabled init systems, in detection
	// order, and InitFiles their rendered files by init name.
	Inits     []initsys.Renderer
	InitFiles map[string][]initsys.File
	// StageDir is a directory on the build host holding each rendered init
	// file at layout.Staged(name, init, target), relative to StageDir.
	StageDir string
	// ScratchDir holds per-package generated inputs: maintainer scripts,
	// changelog and copyright files.
	ScratchDir string

	Configs []File // installed under /etc/NAME, preserved across upgrades
	Files   []File // extra files

	// Sign, when set, makes every package carry its format's native
	// signature.
	Sign *Signer
}

// Signer holds the signing functions packages need. They are plain
// functions so that packaging does not depend on how keys are held.
type Signer struct {
	// OpenPGP returns a function making a detached OpenPGP signature,
	// ASCII-armored or binary.
	OpenPGP func(armored bool) func(io.Reader) ([]byte, error)
	// APK signs the SHA-1 digest of an apk's control stream (RSA PKCS#1 v1.5).
	APK func(io.Reader) ([]byte, error)
	// APKKeyName names the key as apk-tools finds it: /etc/apk/keys/NAME.rsa.pub.
	APKKeyName string
}

// File is a file from the build host placed in the package.
type File struct {
	Source string // path on the build host
	Dest   string // absolute path on the target host
	Mode   os.FileMode
	Owner  string
	Group  string
}

// Format is one package format.
type Format struct {
	Name string
	Rule config.FormatRule
	// Arch spells an omnipack architecture the way the format does.
	Arch func(a config.Arch) string
	// Version spells a version the way the format does, without release.
	Version func(v config.Version) string
	// FullVersion is the version string the package manager reports,
	// including the release.
	FullVersion func(v config.Version, release int) string
	// Detached is true for formats signed by a separate PKG.sig file
	// rather than inside the package.
	Detached bool
	// Configure sets format-specific fields, including the maintainer
	// scripts, on an nfpm.Info that already holds the common fields.
	// scratch is an empty directory of this package's own for generated
	// input files.
	Configure func(info *nfpm.Info, spec *Spec, scratch string) error
	// Write, when set, writes the package itself instead of nfpm, for
	// formats nfpm does not know. It returns the package's path.
	Write func(spec *Spec, dir string) (string, error)
}

var formats = map[string]Format{}

func register(f Format) {
	f.Rule.Name = f.Name
	formats[f.Name] = f
	config.RegisterFormat(f.Rule)
}

// Lookup returns a registered format.
func Lookup(name string) (Format, bool) {
	f, ok := formats[name]
	return f, ok
}

// Names lists every registered format, sorted.
func Names() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Result describes a package that was written.
type Result struct {
	Path    string // where it was written
	SigPath string // the detached signature, for formats signed that way
	Format  string
	Arch    string // omnipack architecture name
	Version string // as the format spells it, with release
}

// Build writes one package of the given format into dir.
func Build(spec *Spec, format, dir string) (Result, error) {
	f, ok := formats[format]
	if !ok {
		return Result{}, fmt.Errorf("unknown package format %q", format)
	}
	if f.Write != nil {
		out, err := f.Write(spec, dir)
		if err != nil {
			return Result{}, fmt.Errorf("%s %s: %w", format, spec.Arch.Name, err)
		}
		return Result{Path: out, Format: format, Arch: spec.Arch.Name, Version: f.FullVersion(spec.Version, spec.Release)}, nil
	}
	info, err := f.info(spec)
	if err != nil {
		return Result{}, fmt.Errorf("%s %s: %w", format, spec.Arch.Name, err)
	}
	pkgr, err := nfpm.Get(format)
	if err != nil {
		return Result{}, err
	}
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		return Result{}, fmt.Errorf("%s %s: %w", format, spec.Arch.Name, err)
	}
	out := filepath.Join(dir, pkgr.ConventionalFileName(info))
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return Result{}, err
	}
	if err := pkgr.Package(info, w); err != nil {
		w.Close()
		return Result{}, fmt.Errorf("%s %s: %w", format, spec.Arch.Name, err)
	}
	if err := w.Close(); err != nil {
		return Result{}, err
	}
	res := Result{Path: out, Format: format, Arch: spec.Arch.Name,
		Version: f.FullVersion(spec.Version, spec.Release)}
	if f.Detached && spec.Sign != nil {
		if res.SigPath, err = detachSign(out, spec.Sign); err != nil {
			return Result{}, fmt.Errorf("%s %s: sign: %w", format, spec.Arch.Name, err)
		}
	}
	return res, nil
}

// detachSign writes PKG.sig, a binary OpenPGP signature of the package.
func detachSign(pkg string, s *Signer) (string, error) {
	f, err := os.Open(pkg)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sig, err := s.OpenPGP(false)(f)
	if err != nil {
		return "", err
	}
	return pkg + ".sig", os.WriteFile(pkg+".sig", sig, 0o644)
}

// info builds the nfpm description of the package. Every content entry gets
// an explicit mode, owner and mtime: nfpm would otherwise read them from the
// build host, and the output would not be reproducible.
func (f Format) info(spec *Spec) (*nfpm.Info, error) {
	fileInfo := func(mode os.FileMode, owner, group string) *files.ContentFileInfo {
		if owner == "" {
			owner = "root"
		}
		if group == "" {
			group = "root"
		}
		return &files.ContentFileInfo{Owner: owner, Group: group, Mode: mode, MTime: spec.MTime}
	}
	contents := files.Contents{{
		Source:      spec.Binary,
		Destination: layout.Bin(spec.Name),
		FileInfo:    fileInfo(0o755, "", ""),
	}}
	for _, c := range spec.Configs {
		contents = append(contents, &files.Content{
			Source:      c.Source,
			Destination: c.Dest,
			Type:        files.TypeConfigNoReplace,
			FileInfo:    fileInfo(c.Mode, c.Owner, c.Group),
		})
	}
	for _, c := range spec.Files {
		contents = append(contents, &files.Content{
			Source:      c.Source,
			Destination: c.Dest,
			FileInfo:    fileInfo(c.Mode, c.Owner, c.Group),
		})
	}
	for _, r := range spec.Inits {
		for _, file := range spec.InitFiles[r.Name()] {
			staged := layout.Staged(spec.Name, r.Name(), file.Target)
			contents = append(contents, &files.Content{
				Source:      filepath.Join(spec.StageDir, staged),
				Destination: staged,
				FileInfo:    fileInfo(os.FileMode(file.Mode), "", ""),
			})
		}
	}
	info := &nfpm.Info{
		Name:          spec.Name,
		Arch:          spec.Arch.GOARCH,
		Platform:      "linux",
		Version:       f.Version(spec.Version),
		VersionSchema: "none",
		Release:       fmt.Sprint(spec.Release),
		Section:       "admin",
		Priority:      "optional",
		Maintainer:    spec.Maintainer,
		Description:   description(spec),
		Vendor:        spec.Vendor,
		Homepage:      spec.Homepage,
		License:       spec.License,
		MTime:         spec.MTime,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Umask:    0o022,
		},
	}
	scratch, err := os.MkdirTemp(spec.ScratchDir, f.Name+"-"+spec.Arch.Name+"-*")
	if err != nil {
		return nil, err
	}
	if err := f.Configure(info, spec, scratch); err != nil {
		return nil, err
	}
	return info, nil
}

// description joins summary and body the way deb and rpm expect: the first
// line is the synopsis.
func description(spec *Spec) string {
	if spec.Description == "" || spec.Description == spec.Summary {
		return spec.Summary
	}
	return spec.Summary + "\n" + spec.Description
}
