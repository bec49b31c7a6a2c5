package packaging

import (
	"fmt"
	"regexp"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager with nfpm

	"github.com/omnipack/omnipack/config"
)

// Debian policy 5.6.1 (package names) and 5.6.12 (upstream version, which
// may not contain "-" because omnipack always appends a revision).
var (
	debNameRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`)
	debVersionRe = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)
	debArchs     = map[string]string{
		"amd64": "amd64", "arm64": "arm64", "armv7": "armhf", "386": "i386",
		"ppc64le": "ppc64el", "s390x": "s390x", "riscv64": "riscv64",
	}
)

func debVersion(v config.Version) string { return v.String() }

func init() {
	register(Format{
		Name: "deb",
		Rule: config.FormatRule{
			CheckName: checkNameByPattern(debNameRe,
				"Debian names need at least two characters from a-z 0-9 + - ., starting with a letter or digit"),
			CheckVersion: checkByPattern(debVersion, debVersionRe,
				"Debian upstream versions start with a digit and use only A-Z a-z 0-9 . + ~", versionFix),
		},
		Arch:    func(a config.Arch) string { return debArchs[a.Name] },
		Version: debVersion,
		FullVersion: func(v config.Version, release int) string {
			return fmt.Sprintf("%s-%d", debVersion(v), release)
		},
		Configure: func(info *nfpm.Info, spec *Spec, scratch string) error {
			info.Deb.Arch = debArchs[spec.Arch.Name]
			info.Deb.Compression = "gzip"
			if spec.Sign != nil {
				// dpkg-sig's "origin" role: a _gpgorigin member.
				info.Deb.Signature.Type = "origin"
				info.Deb.Signature.SignFn = spec.Sign.OpenPGP(true)
			}
			if err := writeChangelog(info, spec, scratch, fmt.Sprintf("%s-%d", debVersion(spec.Version), spec.Release)); err != nil {
				return err
			}
			if err := writeCopyright(info, spec, scratch); err != nil {
				return err
			}
			if err := writeLintianOverrides(info, spec, scratch); err != nil {
				return err
			}
			return applyScripts(info, spec, "deb", scratch)
		},
	})
}
