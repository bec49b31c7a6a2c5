package config

import (
	"reflect"
	"testing"
)

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"license", "license", 0},
		{"licence", "license", 1}, {"servce", "service", 1}, {"licnese", "license", 1},
		{"kitten", "sitting", 3}, {"on_failure", "on-failure", 1}, {"ab", "ba", 1},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"name", "version", "release", "summary", "description", "maintainer", "vendor", "license", "homepage"}
	for _, c := range []struct {
		got, want string // want "": no suggestion
	}{
		{"licence", "license"}, {"Version", "version"}, {"mantainer", "maintainer"}, {"homepgae", "homepage"},
		{"colour", ""}, {"x", ""}, {"nme", "name"},
	} {
		got, ok := suggest(c.got, keys)
		if c.want == "" && ok {
			t.Errorf("suggest(%q) = %q, want no suggestion", c.got, got)
		}
		if c.want != "" && (!ok || got != c.want) {
			t.Errorf("suggest(%q) = %q, %v; want %q", c.got, got, ok, c.want)
		}
	}
	// Two candidates equally close: no guess.
	if got, ok := suggest("arm", []string{"armv7", "arm64"}); ok {
		t.Errorf("suggest(arm) between armv7 and arm64 guessed %q", got)
	}
}

func TestArchAliasesNameKnownArchs(t *testing.T) {
	for alias, name := range archAliases {
		if _, ok := LookupArch(name); !ok {
			t.Errorf("alias %s maps to unknown architecture %s", alias, name)
		}
	}
	for _, alias := range []string{"x86_64", "aarch64", "i686", "i386", "armhf", "armv7l"} {
		if got, ok := suggestValue(alias, archNames(), archAliases); !ok || got != map[string]string{
			"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "i386": "386", "armhf": "armv7", "armv7l": "armv7"}[alias] {
			t.Errorf("suggestValue(%s) = %q, %v", alias, got, ok)
		}
	}
}

func TestUnknownKeyFix(t *testing.T) {
	for _, c := range []struct {
		key  []string
		want string
	}{
		{[]string{"project", "licence"}, `did you mean "license"?`},
		{[]string{"servce"}, `did you mean "service"?`},
		{[]string{"config", "sourc"}, `did you mean "source"?`},
		{[]string{"project", "archs"}, "move it to [targets]"},
		{[]string{"service", "colour"}, "remove it or check its spelling against `omnipack init` output"},
		{[]string{"installer", "bse_url"}, `did you mean "base_url"?`},
	} {
		if got := unknownKeyFix(c.key); got != c.want {
			t.Errorf("unknownKeyFix(%v) = %q, want %q", c.key, got, c.want)
		}
	}
}

func TestTableKeysFollowTomlTags(t *testing.T) {
	got, ok := tableKeys(reflect.TypeFor[Config](), nil)
	want := []string{"project", "package", "binary", "service", "config", "files", "dirs", "targets", "oci", "signing", "installer"}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("top-level keys %v, want %v", got, want)
	}
	if _, ok := tableKeys(reflect.TypeFor[Config](), []string{"service", "environment"}); ok {
		t.Error("service.environment has free keys, but tableKeys listed some")
	}
}

func TestLdflagsProblem(t *testing.T) {
	if msg, fix, ok := LdflagsProblem("-X main.version={{.Version}} -X main.commit={{.Commit}} -X m.s={{.ShortCommit}} -X m.d={{.Date}} -X m.b={{.Branch}}"); !ok {
		t.Errorf("every variable used: %s (%s)", msg, fix)
	}
	msg, fix, ok := LdflagsProblem("-X main.commit={{.Comit}}")
	if ok || msg != "unknown variable {{.Comit}}" || fix != "did you mean {{.Commit}}? Use the variables {{.Version}}, {{.Commit}}, {{.ShortCommit}}, {{.Date}}, {{.Branch}}" {
		t.Errorf("typo: %q, %q, %v", msg, fix, ok)
	}
	if msg, _, ok := LdflagsProblem("-X main.v={{.Version"); ok || msg == "" {
		t.Errorf("unclosed action accepted: %q", msg)
	}
}
