package packaging

import (
	"fmt"
	"regexp"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/rpm" // registers the rpm packager with nfpm

	"github.com/omnipack/omnipack/config"
)

// BuildHost is recorded in every rpm instead of the build machine's name,
// so rpms are reproducible.
const BuildHost = "omnipack"

var (
	rpmNameRe    = regexp.MustCompile(`^[A-Za-z0-9_+][A-Za-z0-9._+-]*$`)
	rpmVersionRe = regexp.MustCompile(`^[A-Za-z0-9._+~^]+$`)
	rpmArchs     = map[string]string{
		"amd64": "x86_64", "arm64": "aarch64", "armv7": "armv7hl", "386": "i686",
		"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
	}
)

func rpmVersion(v config.Version) string { return v.String() }

func init() {
	register(Format{
		Name: "rpm",
		Rule: config.FormatRule{
			CheckName: checkNameByPattern(rpmNameRe, "rpm names use A-Z a-z 0-9 . _ + - and cannot start with - or ."),
			CheckVersion: checkByPattern(rpmVersion, rpmVersionRe,
				"rpm versions use only A-Z a-z 0-9 . _ + ~ ^ (no -)", versionFix),
		},
		Arch:    func(a config.Arch) string { return rpmArchs[a.Name] },
		Version: rpmVersion,
		FullVersion: func(v config.Version, release int) string {
			return fmt.Sprintf("%s-%d", rpmVersion(v), release)
		},
		Configure: func(info *nfpm.Info, spec *Spec, scratch string) error {
			info.RPM.Arch = rpmArchs[spec.Arch.Name]
			info.RPM.BuildHost = BuildHost
			info.RPM.Summary = spec.Summary
			info.RPM.Group = "System Environment/Daemons"
			info.RPM.Packager = spec.Maintainer
			info.RPM.Compression = "gzip"
			if spec.Sign != nil {
				info.RPM.Signature.SignFn = spec.Sign.OpenPGP(false)
			}
			if err := writeChangelog(info, spec, scratch, fmt.Sprintf("%s-%d", rpmVersion(spec.Version), spec.Release)); err != nil {
				return err
			}
			return applyScripts(info, spec, "rpm", scratch)
		},
	})
}
