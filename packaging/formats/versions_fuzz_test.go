package formats

import (
	"strings"
	"testing"

	"github.com/omnipack/omnipack/config"
)

// versionSpelling is what FuzzVersionSpelling needs of one package format.
type versionSpelling struct {
	format string
	// spell returns the version as the format spells it, and the full
	// version with the release, as the package manager reports it.
	spell func(v config.Version, release int) (version, full string)
	// check is the config rule: why a configured version is invalid, or "".
	check func(version string) (problem string)
}

// versionSpellings is the one place the fuzz target touches the Format
// API, so that only it needs adapting when formats are reorganised.
func versionSpellings(t testing.TB) []versionSpelling {
	var out []versionSpelling
	for _, name := range Names() {
		f, ok := Lookup(name)
		if !ok || f.Rule().CheckVersion == nil {
			t.Fatalf("format %s lacks a version rule", name)
		}
		out = append(out, versionSpelling{
			format: name,
			spell: func(v config.Version, release int) (string, string) {
				return f.Version(v), f.FullVersion(v, release)
			},
			check: func(v string) string { problem, _ := f.Rule().CheckVersion(v); return problem },
		})
	}
	if len(out) == 0 {
		t.Fatal("no package formats registered")
	}
	return out
}

// FuzzVersionSpelling spells arbitrary versions in every format. Nothing
// may panic, and for a version the format's rule accepts: the spelling and
// the full version are non-empty, a git snapshot of it is spelled
// differently and is itself a valid version for the format (build checks
// only the tag), and the pre-release "~rc1" the rules' fix suggests is
// accepted too.
func FuzzVersionSpelling(f *testing.F) {
	f.Add("1.2.3", uint16(5), "abc1234")
	f.Add("1.3.0~rc1", uint16(0), "")
	f.Add("2.0a", uint16(1), "0")
	spellings := versionSpellings(f)
	f.Fuzz(func(t *testing.T, base string, commits uint16, hash string) {
		// Arbitrary input, including ones git describe cannot produce.
		for _, s := range spellings {
			s.spell(config.Version{Base: base, Commits: int(commits), Hash: hash}, int(commits))
			s.check(base)
		}
		hash = strings.Map(func(r rune) rune { // a git short hash
			if strings.ContainsRune("0123456789abcdef", r) {
				return r
			}
			return -1
		}, hash)
		if hash == "" {
			hash = "0"
		}
		release := config.Version{Base: base}
		snapshot := config.Version{Base: base, Commits: int(commits%1000) + 1, Hash: hash}
		for _, s := range spellings {
			if s.check(base) != "" {
				continue
			}
			v, full := s.spell(release, 1)
			if v == "" || !strings.HasPrefix(full, v) || !strings.HasSuffix(full, "1") {
				t.Errorf("%s accepts %q but spells it %q, in full %q", s.format, base, v, full)
			}
			sv, _ := s.spell(snapshot, 1)
			if sv == "" || sv == v {
				t.Errorf("%s spells snapshot %+v as %q, like the release %q", s.format, snapshot, sv, v)
			}
			if why := s.check(sv); why != "" {
				t.Errorf("%s accepts %q but refuses its own snapshot spelling %q: %s", s.format, base, sv, why)
			}
			if !strings.Contains(base, "~") {
				if why := s.check(base + "~rc1"); why != "" {
					t.Errorf("%s accepts %q but refuses the pre-release %q its rule suggests: %s", s.format, base, base+"~rc1", why)
				}
			}
		}
	})
}
