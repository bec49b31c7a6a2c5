package deb

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goreleaser/nfpm/v2"

	"github.com/omnipack/omnipack/packaging"
)

// writeCopyright adds a machine-readable Debian copyright file. The license
// text itself is on every Debian host under /usr/share/common-licenses for
// the common licenses; the file points there.
func writeCopyright(info *nfpm.Info, spec *packaging.Spec, dir string) error {
	holder := spec.Vendor
	if holder == "" {
		holder = spec.Maintainer
	}
	var b strings.Builder
	b.WriteString("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
	fmt.Fprintf(&b, "Upstream-Name: %s\nUpstream-Contact: %s\n", spec.Name, spec.Maintainer)
	if spec.Homepage != "" {
		fmt.Fprintf(&b, "Source: %s\n", spec.Homepage)
	}
	fmt.Fprintf(&b, "\nFiles: *\nCopyright: %d %s\nLicense: %s\n", spec.MTime.UTC().Year(), holder, spec.License)
	fmt.Fprintf(&b, " The full text of the license is shipped by %s; on Debian systems the common\n"+
		" licenses are in /usr/share/common-licenses/.\n", holder)
	p := filepath.Join(dir, "copyright")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return packaging.AddDoc(info, spec, p, "/usr/share/doc/"+info.Name+"/copyright")
}

// lintianOverrides are the lintian tags that omnipack's design triggers on
// purpose; the README gives each reason.
var lintianOverrides = []string{
	// Go binaries are built with CGO_ENABLED=0 so one binary runs on glibc
	// and musl hosts alike.
	"statically-linked-binary [usr/bin/%[1]s]",
	// The init script is installed by postinst, and only on sysvinit
	// hosts, so postrm disables a script the package does not ship.
	"postrm-contains-additional-updaterc.d-calls etc/init.d/%[1]s [postrm]",
	// lintian's pattern for runit directories is unanchored and matches
	// the staged copy under usr/lib/NAME/init/runit/etc/sv/, whose run
	// script is executable.
	"directory-in-etc-sv-directory-without-executable-run-script [usr/lib/%[1]s/init/runit/etc/sv/%[1]s/]",
}

// signedLintianOverrides are added to a signed deb's overrides: its
// _gpgorigin member is the debsigs-style origin signature (dpkg-sig's
// "origin" role) that debsig-verify checks and dpkg skips, as deb(5)
// allows members whose names start with "_"; lintian's deb-format check
// knows only dpkg's own members, a false positive other signed debs
// override too.
var signedLintianOverrides = []string{
	"misplaced-extra-member-in-deb _gpgorigin (unexpected _member at position 3)",
}

// writeLintianOverrides ships the overrides where lintian looks for them.
func writeLintianOverrides(info *nfpm.Info, spec *packaging.Spec, dir string) error {
	var b strings.Builder
	overrides := lintianOverrides
	if spec.Sign != nil {
		overrides = append(slices.Clip(overrides), signedLintianOverrides...)
	}
	for _, o := range overrides {
		fmt.Fprintf(&b, "%s: %s\n", info.Name, strings.ReplaceAll(o, "%[1]s", spec.Name))
	}
	p := filepath.Join(dir, "lintian-overrides")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return packaging.AddDoc(info, spec, p, "/usr/share/lintian/overrides/"+info.Name)
}
