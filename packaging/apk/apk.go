// Package apk is omnipack's apk format (apk-tools v2): built with nfpm,
// read, signed in its first gzip stream and installed with apk add.
package apk

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/apk" // registers the apk packager with nfpm

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/scripts"
)

// Name is the format's name in omnipack.toml and release.json.
const Name = "apk"

// apk-tools' version grammar: numbers, an optional letter, then suffixes.
// A git-derived version becomes a _git suffix; apk has no place for the
// hash, so release.json keeps it.
var (
	nameRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]*$`)
	versionRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*$`)
	archs     = map[string]string{
		"amd64": "x86_64", "arm64": "aarch64", "armv7": "armv7", "386": "x86",
		"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
	}
)

// Format is the apk format.
type Format struct{}

func (Format) Name() string { return Name }

func (Format) Stages() []packaging.Stage {
	return []packaging.Stage{packaging.StageRead, packaging.StageVerify, packaging.StagePURL, packaging.StageInstall, packaging.StageRepo}
}

func (f Format) Rule() config.FormatRule {
	return config.FormatRule{
		CheckName: packaging.CheckNameByPattern(nameRe, "apk names use a-z 0-9 . _ + - and start with a letter or digit"),
		CheckVersion: packaging.CheckByPattern(f.Version, versionRe,
			"apk versions are dotted numbers with an optional letter and _alpha/_beta/_pre/_rc/_p suffixes", packaging.VersionFix),
		PackageName:     func(program string) string { return packaging.MapName(program, "._+-", true) },
		NameRule:        "apk package names have no upper case and no :, which becomes -",
		EnvironmentFile: func(program string) string { return "/etc/conf.d/" + program },
	}
}

func (Format) Arch(a config.Arch) string { return archs[a.Name] }

func (Format) Version(v config.Version) string {
	release, pre := packaging.SplitPre(v.Base)
	s := release
	if pre != "" {
		s += "_" + pre
	}
	if v.Commits > 0 {
		s += fmt.Sprintf("_git%d", v.Commits)
	}
	return s
}

func (f Format) FullVersion(v config.Version, release int) string {
	return fmt.Sprintf("%s-r%d", f.Version(v), release)
}

func (f Format) FileName(name string, v config.Version, release int, a config.Arch) string {
	return fmt.Sprintf("%s_%s_%s.apk", name, f.FullVersion(v, release), f.Arch(a))
}

// PackageURLType: pkg:apk, names lowercased.
func (Format) PackageURLType() (string, bool) { return "apk", true }

func (f Format) Build(spec *packaging.Spec, dir string) (packaging.Result, error) {
	info, scratch, err := packaging.NFPMInfo(f, spec)
	if err != nil {
		return packaging.Result{}, err
	}
	info.APK.Arch = archs[spec.Arch.Name]
	// apk has no conflicts field; a dependency on "!name" is its spelling,
	// and nfpm writes none for Conflicts.
	for _, c := range info.Conflicts {
		info.Depends = append(info.Depends, "!"+c)
	}
	// .PKGINFO is one "key = value" per line; nfpm would write the
	// description's further lines as continuation lines apk cannot read.
	info.Description = strings.Join(strings.Fields(info.Description), " ")
	if spec.Sign != nil {
		info.APK.Signature.SignFn = spec.Sign.APK
		info.APK.Signature.KeyName = spec.Sign.APKKeyName
	}
	if err := applyScripts(info, spec, scratch); err != nil {
		return packaging.Result{}, err
	}
	return packaging.WriteNFPM(f, spec, info, "apk", dir)
}

// applyScripts adds apk's .pre-upgrade and .post-upgrade to the scripts
// every format has.
func applyScripts(info *nfpm.Info, spec *packaging.Spec, scratch string) error {
	set, err := scripts.APK(packaging.ScriptsInput(spec))
	if err != nil {
		return err
	}
	if err := packaging.ApplyScripts(info, spec, set, scratch); err != nil {
		return err
	}
	if info.APK.Scripts.PreUpgrade, err = packaging.WriteScript(spec, scratch, "apk-preupgrade", set.PreUpgrade); err != nil {
		return err
	}
	info.APK.Scripts.PostUpgrade, err = packaging.WriteScript(spec, scratch, "apk-postupgrade", set.PostUpgrade)
	return err
}
