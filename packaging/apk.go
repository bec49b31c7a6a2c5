package packaging

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/apk" // registers the apk packager with nfpm

	"github.com/omnipack/omnipack/config"
)

// apk-tools' version grammar: numbers, an optional letter, then suffixes.
// A git-derived version becomes a _git suffix; apk has no place for the
// hash, so release.json keeps it.
var (
	apkNameRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]*$`)
	apkVersionRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*$`)
	apkArchs     = map[string]string{
		"amd64": "x86_64", "arm64": "aarch64", "armv7": "armv7", "386": "x86",
		"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
	}
)

func apkVersion(v config.Version) string {
	release, pre := splitPre(v.Base)
	s := release
	if pre != "" {
		s += "_" + pre
	}
	if v.Commits > 0 {
		s += fmt.Sprintf("_git%d", v.Commits)
	}
	return s
}

func init() {
	register(Format{
		Name: "apk",
		Rule: config.FormatRule{
			CheckName: checkNameByPattern(apkNameRe, "apk names use a-z 0-9 . _ + - and start with a letter or digit"),
			CheckVersion: checkByPattern(apkVersion, apkVersionRe,
				"apk versions are dotted numbers with an optional letter and _alpha/_beta/_pre/_rc/_p suffixes", versionFix),
		},
		Arch:    func(a config.Arch) string { return apkArchs[a.Name] },
		Version: apkVersion,
		FullVersion: func(v config.Version, release int) string {
			return fmt.Sprintf("%s-r%d", apkVersion(v), release)
		},
		Configure: func(info *nfpm.Info, spec *Spec, scratch string) error {
			info.APK.Arch = apkArchs[spec.Arch.Name]
			// .PKGINFO is one "key = value" per line; nfpm would write the
			// description's further lines as continuation lines apk cannot read.
			info.Description = strings.Join(strings.Fields(info.Description), " ")
			if spec.Sign != nil {
				info.APK.Signature.SignFn = spec.Sign.APK
				info.APK.Signature.KeyName = spec.Sign.APKKeyName
			}
			return applyScripts(info, spec, "apk", scratch)
		},
	})
}
