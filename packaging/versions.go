package packaging

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/omnipack/omnipack/config"
)

// SplitPre splits a configured version at its pre-release. A configured
// version may carry a pre-release after "~" (1.2.3~rc1), the
// one spelling deb and rpm both sort below the release. Formats that spell
// pre-releases differently translate it.
func SplitPre(base string) (release, pre string) {
	release, pre, _ = strings.Cut(base, "~")
	return release, pre
}

// CheckByPattern returns a FormatRule.CheckVersion that spells the version
// for the format and matches it against re.
func CheckByPattern(spell func(config.Version) string, re *regexp.Regexp, rule, fix string) func(string) (string, string) {
	return func(v string) (string, string) {
		s := spell(config.Version{Base: v})
		if re.MatchString(s) {
			return "", ""
		}
		if s != v {
			return fmt.Sprintf("spelled %q, it breaks the rule: %s", s, rule), fix
		}
		return "it breaks the rule: " + rule, fix
	}
}

// CheckNameByPattern returns a FormatRule.CheckName that matches the name
// against re.
func CheckNameByPattern(re *regexp.Regexp, rule string) func(string) string {
	return func(name string) string {
		if re.MatchString(name) {
			return ""
		}
		return rule
	}
}

// VersionFix is the fix every format suggests for a version it refuses.
const VersionFix = `use dotted numbers such as "1.2.3", with an optional pre-release "~rc1"`

// MapName spells a program name as a package name of a format that allows
// only the characters in allowed (besides ASCII letters and digits), and
// with lower, only lower case: every other character becomes "-".
func MapName(program, allowed string, lower bool) string {
	if lower {
		program = strings.ToLower(program)
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune(allowed, r):
			return r
		case r >= 'A' && r <= 'Z' && !lower:
			return r
		}
		return '-'
	}, program)
}
