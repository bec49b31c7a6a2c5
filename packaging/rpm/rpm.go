// Package rpm is omnipack's rpm format: built with nfpm, read, signed in
// its signature header and installed with dnf, yum, tdnf, zypper or rpm.
package rpm

import (
	"fmt"
	"regexp"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager with nfpm

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/scripts"
)

// Name is the format's name in omnipack.toml and release.json.
const Name = "rpm"

// BuildHost is recorded in every rpm instead of the build machine's name,
// so rpms are reproducible.
const BuildHost = "omnipack"

var (
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9_+][A-Za-z0-9._+-]*$`)
	versionRe = regexp.MustCompile(`^[A-Za-z0-9._+~^]+$`)
	archs     = map[string]string{
		"amd64": "x86_64", "arm64": "aarch64", "armv7": "armv7hl", "386": "i686",
		"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
	}
)

// Format is the rpm format.
type Format struct{}

func (Format) Name() string { return Name }

func (Format) Stages() []packaging.Stage {
	return []packaging.Stage{packaging.StageRead, packaging.StageVerify, packaging.StagePURL, packaging.StageInstall, packaging.StageRepo}
}

func (f Format) Rule() config.FormatRule {
	return config.FormatRule{
		CheckName: packaging.CheckNameByPattern(nameRe, "rpm names use A-Z a-z 0-9 . _ + - and cannot start with - or ."),
		CheckVersion: packaging.CheckByPattern(f.Version, versionRe,
			"rpm versions use only A-Z a-z 0-9 . _ + ~ ^ (no -)", packaging.VersionFix),
		PackageName:     func(program string) string { return packaging.MapName(program, "._+-", false) },
		NameRule:        "rpm package names have no :, which becomes -",
		EnvironmentFile: func(program string) string { return "/etc/sysconfig/" + program },
	}
}

func (Format) Arch(a config.Arch) string       { return archs[a.Name] }
func (Format) Version(v config.Version) string { return v.String() }

func (f Format) FullVersion(v config.Version, release int) string {
	return fmt.Sprintf("%s-%d", f.Version(v), release)
}

func (f Format) FileName(name string, v config.Version, release int, a config.Arch) string {
	return fmt.Sprintf("%s-%s.%s.rpm", name, f.FullVersion(v, release), f.Arch(a))
}

// PackageURLType: pkg:rpm, whose names keep their case.
func (Format) PackageURLType() (string, bool) { return "rpm", false }

func (f Format) Build(spec *packaging.Spec, dir string) (packaging.Result, error) {
	info, scratch, err := packaging.NFPMInfo(f, spec)
	if err != nil {
		return packaging.Result{}, err
	}
	if err := f.configure(info, spec, scratch); err != nil {
		return packaging.Result{}, err
	}
	return packaging.WriteNFPM(f, spec, info, "rpm", dir)
}

func (f Format) configure(info *nfpm.Info, spec *packaging.Spec, scratch string) error {
	info.RPM.Arch = archs[spec.Arch.Name]
	info.RPM.BuildHost = BuildHost
	info.RPM.Summary = spec.Summary
	info.RPM.Group = "System Environment/Daemons"
	info.RPM.Packager = spec.Maintainer
	info.RPM.Compression = "gzip"
	if spec.Sign != nil {
		info.RPM.Signature.SignFn = spec.Sign.OpenPGP(false)
	}
	if err := packaging.WriteChangelog(info, spec, scratch, f.FullVersion(spec.Version, spec.Release)); err != nil {
		return err
	}
	set, err := scripts.RPM(packaging.ScriptsInput(spec))
	if err != nil {
		return err
	}
	return packaging.ApplyScripts(info, spec, set, scratch)
}
