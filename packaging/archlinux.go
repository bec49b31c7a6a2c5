package packaging

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/arch" // registers the archlinux packager with nfpm

	"github.com/omnipack/omnipack/config"
)

// pacman's pkgver may not contain "-" or ":"; VCS snapshots are spelled
// BASE.rN.gHASH, the convention of Arch's VCS package guidelines. pacman
// sorts a trailing letter segment below the release, so "~rc1" becomes "rc1".
var (
	archNameRe    = regexp.MustCompile(`^[a-z0-9@_+][a-z0-9@._+-]*$`)
	archVersionRe = regexp.MustCompile(`^[A-Za-z0-9._+]+$`)
	archArchs     = map[string]string{
		"amd64": "x86_64", "arm64": "aarch64", "armv7": "armv7h", "386": "i686",
		"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
	}
)

func archVersion(v config.Version) string {
	s := strings.Replace(v.Base, "~", "", 1)
	if v.Commits > 0 {
		s += fmt.Sprintf(".r%d.g%s", v.Commits, v.Hash)
	}
	return s
}

func init() {
	register(Format{
		Name: "archlinux",
		Rule: config.FormatRule{
			CheckName: checkNameByPattern(archNameRe, "Arch names use a-z 0-9 @ . _ + - and cannot start with - or ."),
			CheckVersion: checkByPattern(archVersion, archVersionRe,
				"Arch pkgver uses only letters, digits, . _ + (no - or :)", versionFix),
		},
		Arch:     func(a config.Arch) string { return archArchs[a.Name] },
		Version:  archVersion,
		Detached: true, // pacman checks PKG.sig beside the package
		FullVersion: func(v config.Version, release int) string {
			return fmt.Sprintf("%s-%d", archVersion(v), release)
		},
		Configure: func(info *nfpm.Info, spec *Spec, scratch string) error {
			info.ArchLinux.Arch = archArchs[spec.Arch.Name]
			info.ArchLinux.Packager = spec.Maintainer
			return applyScripts(info, spec, "archlinux", scratch)
		},
	})
}
