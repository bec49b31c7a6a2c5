// Package deb is omnipack's deb format: built with nfpm, read, signed in
// the _gpgorigin member and installed with apt or dpkg.
package deb

import (
	"fmt"
	"regexp"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager with nfpm

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/scripts"
)

// Name is the format's name in omnipack.toml and release.json.
const Name = "deb"

// Debian policy 5.6.1 (package names) and 5.6.12 (upstream version, which
// may not contain "-" because omnipack always appends a revision).
var (
	nameRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`)
	versionRe = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)
	archs     = map[string]string{
		"amd64": "amd64", "arm64": "arm64", "armv7": "armhf", "386": "i386",
		"ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64",
	}
)

// Format is the deb format.
type Format struct{}

func (Format) Name() string { return Name }

func (Format) Stages() []packaging.Stage {
	return []packaging.Stage{packaging.StageRead, packaging.StageVerify, packaging.StagePURL, packaging.StageInstall, packaging.StageRepo}
}

func (f Format) Rule() config.FormatRule {
	return config.FormatRule{
		CheckName: packaging.CheckNameByPattern(nameRe,
			"Debian names need at least two characters from a-z 0-9 + - ., starting with a letter or digit"),
		CheckVersion: packaging.CheckByPattern(f.Version, versionRe,
			"Debian upstream versions start with a digit and use only A-Z a-z 0-9 . + ~", packaging.VersionFix),
		PackageName:     func(program string) string { return packaging.MapName(program, ".+-", true) },
		NameRule:        "Debian package names have no upper case and no _ or :, which become -",
		EnvironmentFile: func(program string) string { return "/etc/default/" + program },
	}
}

func (Format) Arch(a config.Arch) string       { return archs[a.Name] }
func (Format) Version(v config.Version) string { return v.String() }

func (f Format) FullVersion(v config.Version, release int) string {
	return fmt.Sprintf("%s-%d", f.Version(v), release)
}

func (f Format) FileName(name string, v config.Version, release int, a config.Arch) string {
	return fmt.Sprintf("%s_%s_%s.deb", name, f.FullVersion(v, release), f.Arch(a))
}

// PackageURLType: pkg:deb, names lowercased.
func (Format) PackageURLType() (string, bool) { return "deb", true }

func (f Format) Build(spec *packaging.Spec, dir string) (packaging.Result, error) {
	info, scratch, err := packaging.NFPMInfo(f, spec)
	if err != nil {
		return packaging.Result{}, err
	}
	if err := f.configure(info, spec, scratch); err != nil {
		return packaging.Result{}, err
	}
	return packaging.WriteNFPM(f, spec, info, "deb", dir)
}

func (f Format) configure(info *nfpm.Info, spec *packaging.Spec, scratch string) error {
	info.Deb.Arch = archs[spec.Arch.Name]
	info.Deb.Compression = "gzip"
	if spec.Service.User != "root" || spec.Service.Group != "root" {
		// The preinst creates the service's accounts with useradd and
		// groupadd; passwd ships them and is not essential, so Debian
		// policy asks for a Pre-Depends.
		info.Deb.Predepends = []string{"passwd"}
	}
	if spec.Sign != nil {
		// dpkg-sig's "origin" role: a _gpgorigin member.
		info.Deb.Signature.Type = "origin"
		info.Deb.Signature.SignFn = spec.Sign.OpenPGP(true)
	}
	if err := packaging.WriteChangelog(info, spec, scratch, f.FullVersion(spec.Version, spec.Release)); err != nil {
		return err
	}
	if err := writeCopyright(info, spec, scratch); err != nil {
		return err
	}
	if err := writeLintianOverrides(info, spec, scratch); err != nil {
		return err
	}
	set, err := scripts.Deb(packaging.ScriptsInput(spec))
	if err != nil {
		return err
	}
	return packaging.ApplyScripts(info, spec, set, scratch)
}
