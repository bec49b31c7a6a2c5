package formats

import (
	"testing"

	"github.com/omnipack/omnipack/config"
)

// TestVersionSpelling checks how each format spells a plain, a pre-release
// and a git-derived version, and that every spelling passes the format's
// own rule.
func TestVersionSpelling(t *testing.T) {
	git := config.Version{Base: "1.2.3", Commits: 5, Hash: "abc1234"}
	pre := config.Version{Base: "1.3.0~rc1"}
	cases := []struct {
		format   string
		v        config.Version
		want     string
		wantFull string
		release  int
	}{
		{"deb", config.Version{Base: "1.2.3"}, "1.2.3", "1.2.3-1", 1},
		{"deb", git, "1.2.3+git5.gabc1234", "1.2.3+git5.gabc1234-2", 2},
		{"deb", pre, "1.3.0~rc1", "1.3.0~rc1-1", 1},
		{"rpm", git, "1.2.3+git5.gabc1234", "1.2.3+git5.gabc1234-1", 1},
		{"rpm", pre, "1.3.0~rc1", "1.3.0~rc1-1", 1},
		{"apk", git, "1.2.3_git5", "1.2.3_git5-r1", 1},
		{"apk", pre, "1.3.0_rc1", "1.3.0_rc1-r1", 1},
		{"archlinux", git, "1.2.3.r5.gabc1234", "1.2.3.r5.gabc1234-1", 1},
		{"archlinux", pre, "1.3.0rc1", "1.3.0rc1-1", 1},
	}
	for _, tc := range cases {
		f, ok := Lookup(tc.format)
		if !ok {
			t.Fatalf("format %s not registered", tc.format)
		}
		if got := f.Version(tc.v); got != tc.want {
			t.Errorf("%s %+v: spelled %q, want %q", tc.format, tc.v, got, tc.want)
		}
		if got := f.FullVersion(tc.v, tc.release); got != tc.wantFull {
			t.Errorf("%s %+v: full %q, want %q", tc.format, tc.v, got, tc.wantFull)
		}
		if why, _ := f.Rule().CheckVersion(tc.v.Base); why != "" {
			t.Errorf("%s rejects its own input %q: %s", tc.format, tc.v.Base, why)
		}
	}
}

// TestVersionsSortAsPackageManagersDo asks dpkg and rpm themselves that a
// pre-release sorts below its release and a git snapshot above its tag.
func TestVersionsSortAsPackageManagersDo(t *testing.T) {
	deb, _ := Lookup("deb")
	rpm, _ := Lookup("rpm")
	rel := config.Version{Base: "1.3.0"}
	pre := config.Version{Base: "1.3.0~rc1"}
	snap := config.Version{Base: "1.3.0", Commits: 2, Hash: "0123abc"}
	if !dpkgLess(t, deb.FullVersion(pre, 1), deb.FullVersion(rel, 1)) || !dpkgLess(t, deb.FullVersion(rel, 1), deb.FullVersion(snap, 1)) {
		t.Error("dpkg does not order pre-release < release < git snapshot")
	}
	if rpmCompare(t, rpm.Version(pre), rpm.Version(rel)) != -1 || rpmCompare(t, rpm.Version(rel), rpm.Version(snap)) != -1 {
		t.Error("rpm does not order pre-release < release < git snapshot")
	}
}
