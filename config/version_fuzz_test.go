package config

import (
	"regexp"
	"strconv"
	"testing"
)

var shortHashRe = regexp.MustCompile(`^[0-9a-f]+$`)

// FuzzParseDescribe feeds arbitrary text to the git describe parser. What
// it accepts must be a version with a base, the hash exactly when there
// are commits, and describing that version again must parse back to it.
func FuzzParseDescribe(f *testing.F) {
	for _, s := range []string{"v1.2.3-0-gabc1234", "v1.2.3-5-gabc1234", "1.0.0~rc1-12-g0011223", "abc1234", "v-1-g0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseDescribe(s)
		if err != nil {
			if v != (Version{}) {
				t.Fatalf("error %v with version %+v", err, v)
			}
			return
		}
		if v.Base == "" || v.Commits < 0 || (v.Commits > 0) != (v.Hash != "") || (v.Hash != "" && !shortHashRe.MatchString(v.Hash)) {
			t.Fatalf("parseDescribe(%q) = %+v", s, v)
		}
		hash := v.Hash
		if hash == "" {
			hash = "0"
		}
		again := "v" + v.Base + "-" + strconv.Itoa(v.Commits) + "-g" + hash
		if back, err := parseDescribe(again); err != nil || back != v {
			t.Fatalf("parseDescribe(%q) = %+v, but its own describe %q gives %+v, %v", s, v, again, back, err)
		}
		if v.Commits > 0 && v.String() != v.Base+"+git"+strconv.Itoa(v.Commits)+".g"+v.Hash {
			t.Fatalf("String() = %q for %+v", v.String(), v)
		}
	})
}
