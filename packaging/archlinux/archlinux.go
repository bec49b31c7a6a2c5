// Package archlinux is omnipack's Arch Linux (pacman) format: built with
// nfpm, read, signed by a detached PKG.sig beside the package and
// installed with pacman.
package archlinux

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/arch" // registers the archlinux packager with nfpm

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/scripts"
)

// Name is the format's name in omnipack.toml and release.json.
const Name = "archlinux"

// pacman's pkgver may not contain "-" or ":"; VCS snapshots are spelled
// BASE.rN.gHASH, the convention of Arch's VCS package guidelines. pacman
// sorts a trailing letter segment below the release, so "~rc1" becomes "rc1".
var (
	nameRe    = regexp.MustCompile(`^[a-z0-9@_+][a-z0-9@._+-]*$`)
	versionRe = regexp.MustCompile(`^[A-Za-z0-9._+]+$`)
	archs     = map[string]string{
		"amd64": "x86_64", "arm64": "aarch64", "armv7": "armv7h", "386": "i686",
		"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
	}
)

// Format is the Arch Linux format.
type Format struct{}

func (Format) Name() string { return Name }

func (Format) Stages() []packaging.Stage {
	return []packaging.Stage{packaging.StageRead, packaging.StageVerify, packaging.StagePURL, packaging.StageInstall, packaging.StageRepo}
}

func (f Format) Rule() config.FormatRule {
	return config.FormatRule{
		CheckName: packaging.CheckNameByPattern(nameRe, "Arch names use a-z 0-9 @ . _ + - and cannot start with - or ."),
		CheckVersion: packaging.CheckByPattern(f.Version, versionRe,
			"Arch pkgver uses only letters, digits, . _ + (no - or :)", packaging.VersionFix),
		PackageName:     func(program string) string { return packaging.MapName(program, "@._+-", true) },
		NameRule:        "Arch package names have no upper case and no :, which becomes -",
		EnvironmentFile: func(program string) string { return "/etc/conf.d/" + program },
	}
}

func (Format) Arch(a config.Arch) string { return archs[a.Name] }

func (Format) Version(v config.Version) string {
	s := strings.Replace(v.Base, "~", "", 1)
	if v.Commits > 0 {
		s += fmt.Sprintf(".r%d.g%s", v.Commits, v.Hash)
	}
	return s
}

func (f Format) FullVersion(v config.Version, release int) string {
	return fmt.Sprintf("%s-%d", f.Version(v), release)
}

func (f Format) FileName(name string, v config.Version, release int, a config.Arch) string {
	return fmt.Sprintf("%s-%s-%s.pkg.tar.zst", name, f.FullVersion(v, release), f.Arch(a))
}

// PackageURLType: pacman packages are pkg:alpm, names lowercased.
func (Format) PackageURLType() (string, bool) { return "alpm", true }

func (f Format) Build(spec *packaging.Spec, dir string) (packaging.Result, error) {
	info, scratch, err := packaging.NFPMInfo(f, spec)
	if err != nil {
		return packaging.Result{}, err
	}
	info.ArchLinux.Arch = archs[spec.Arch.Name]
	info.ArchLinux.Packager = spec.Maintainer
	if err := applyScripts(info, spec, scratch); err != nil {
		return packaging.Result{}, err
	}
	res, err := packaging.WriteNFPM(f, spec, info, "archlinux", dir)
	if err != nil || spec.Sign == nil {
		return res, err
	}
	// pacman checks PKG.sig beside the package.
	if res.SigPath, err = packaging.DetachSign(res.Path, spec.Sign); err != nil {
		return packaging.Result{}, fmt.Errorf("sign: %w", err)
	}
	return res, nil
}

// applyScripts adds pre_upgrade and post_upgrade to the scripts every
// format has.
func applyScripts(info *nfpm.Info, spec *packaging.Spec, scratch string) error {
	set, err := scripts.Arch(packaging.ScriptsInput(spec))
	if err != nil {
		return err
	}
	if err := packaging.ApplyScripts(info, spec, set, scratch); err != nil {
		return err
	}
	if info.ArchLinux.Scripts.PreUpgrade, err = packaging.WriteScript(spec, scratch, "arch-preupgrade", set.PreUpgrade); err != nil {
		return err
	}
	info.ArchLinux.Scripts.PostUpgrade, err = packaging.WriteScript(spec, scratch, "arch-postupgrade", set.PostUpgrade)
	return err
}
