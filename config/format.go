package config

import "sort"

// FormatRule is what the config validator needs to know about one package
// format. Each packager registers its rule, so the config package never
// lists formats itself.
type FormatRule struct {
	Name string
	// CheckName returns why a package name is invalid for the format, or "".
	CheckName func(name string) string
	// CheckVersion returns why a version is invalid for the format, with a
	// suggested fix, or "". It sees the version as written in the config.
	CheckVersion func(version string) (problem, fix string)
	// PackageName maps a program name to the package name the format's
	// policy allows (deb: lower case, no "_"), for a package that names
	// none of its own.
	PackageName func(program string) string
	// NameRule says what PackageName changes, for the note that explains
	// the mapping ("deb package names have no _ and no upper case").
	NameRule string
	// EnvironmentFile is where the format's packages keep a program's
	// per-host settings file, by the distributions' custom: deb
	// /etc/default/NAME, rpm /etc/sysconfig/NAME.
	EnvironmentFile func(program string) string
}

var formatRules = map[string]FormatRule{}

// RegisterFormat makes a package format known to the validator.
func RegisterFormat(r FormatRule) { formatRules[r.Name] = r }

// FormatNames returns every registered format, sorted.
func FormatNames() []string {
	names := make([]string, 0, len(formatRules))
	for n := range formatRules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
