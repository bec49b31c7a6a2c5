package install

import (
	"strings"
	"testing"

	"github.com/omnipack/omnipack/release"
)

// FuzzParseRecord feeds arbitrary bytes to ParseRecord, the reader of the
// installed-release record that the rollback check trusts. A record it
// accepts must carry only values it validated, and Marshal must write it
// back in a form that parses to the same record.
func FuzzParseRecord(f *testing.F) {
	full := Record{ReleaseVersion: 1700000000, Version: "1.2.3~rc1", Release: 2, Format: "deb", PackageManager: "apt",
		Artifact: "agent_1.2.3~rc1-2_amd64.deb", SHA256: strings.Repeat("0f", 32)}
	f.Add(full.Marshal())
	f.Add([]byte("release_version=42\nversion=1.0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord(data)
		if (r == nil) == (err == nil) {
			t.Fatalf("ParseRecord returned %v and %v", r, err)
		}
		if err != nil {
			return
		}
		if r.ReleaseVersion < 0 || release.CheckVersion(r.Version) != nil || r.Release < 0 ||
			(r.Format != "" && !release.IsPackage(r.Format)) ||
			(r.PackageManager != "" && !release.IsIdent(r.PackageManager)) ||
			(r.Artifact != "" && release.CheckFileName(r.Artifact) != nil) ||
			(r.SHA256 != "" && release.CheckSHA256(r.SHA256) != nil) {
			t.Fatalf("ParseRecord kept an invalid value: %+v", r)
		}
		out := r.Marshal()
		back, err := ParseRecord(out)
		if err != nil {
			t.Fatalf("Marshal wrote a record ParseRecord refuses: %v\n%s", err, out)
		}
		if *back != *r {
			t.Fatalf("record does not round-trip:\n%+v\n%+v\n%s", r, back, out)
		}
	})
}
