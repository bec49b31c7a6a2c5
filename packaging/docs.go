package packaging

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
)

// WriteChangelog writes a one-entry changelog in nfpm's chglog format, which
// nfpm turns into changelog.Debian.gz for deb and changelog tags for rpm.
// The entry carries the full version, release included, as both formats
// expect.
func WriteChangelog(info *nfpm.Info, spec *Spec, dir string, fullVersion string) error {
	body := fmt.Sprintf(`- semver: %q
  date: %s
  packager: %q
  deb:
    urgency: medium
    distributions: [stable]
  changes:
    - note: %q
`, fullVersion, spec.MTime.UTC().Format(time.RFC3339), spec.Maintainer,
		fmt.Sprintf("Release %s of %s, packaged by omnipack.", spec.Version.String(), spec.Name))
	p := filepath.Join(dir, "changelog.yml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		return err
	}
	info.Changelog = p
	return nil
}

// AddDoc adds a generated documentation file to the package at dest.
func AddDoc(info *nfpm.Info, spec *Spec, src, dest string) error {
	if err := os.Chtimes(src, spec.MTime, spec.MTime); err != nil {
		return err
	}
	info.Contents = append(info.Contents, &files.Content{
		Source: src, Destination: dest,
		FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o644, MTime: spec.MTime},
	})
	return nil
}
