package config

import (
	"reflect"
	"regexp"
	"strings"
	"text/template"
)

// LdflagsVars are the variables [binary] ldflags may use, written
// {{.Name}}. Every value comes from the build's input (the resolved version
// and the source commit, which the provenance records too), never from the
// machine or the clock, so two builds of one commit link identical bytes.
type LdflagsVars struct {
	// Version is the resolved version as release.json records it.
	Version string
	// Commit is the full hash of the source commit; empty outside git.
	Commit string
	// ShortCommit is Commit's first 7 hex digits: a fixed length, unlike
	// git's ambiguity-dependent abbreviation, so every clone builds alike.
	ShortCommit string
	// Date is the build's source date in RFC 3339 UTC: SOURCE_DATE_EPOCH
	// when set, else the source commit's committer date.
	Date string
	// Branch is the checked-out branch; empty outside git and on a detached
	// HEAD, as in most CI checkouts of a tag.
	Branch string
}

// LdflagsVarNames lists the ldflags variables, as they are written.
func LdflagsVarNames() []string {
	t := reflect.TypeFor[LdflagsVars]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = "{{." + t.Field(i).Name + "}}"
	}
	return names
}

// ExpandLdflags expands the ldflags template. An unknown variable is an
// error rather than an empty string, so a typo cannot link an empty value.
func ExpandLdflags(tmpl string, vars LdflagsVars) (string, error) {
	t, err := template.New("ldflags").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, vars); err != nil {
		return "", err
	}
	return b.String(), nil
}

var unknownFieldRe = regexp.MustCompile(`can't evaluate field (\w+)`)

// LdflagsProblem explains why tmpl cannot be expanded, with its fix, or
// returns ok. The template is tried with empty values, which is what a
// build outside git gives for the commit variables.
func LdflagsProblem(tmpl string) (msg, fix string, ok bool) {
	_, err := ExpandLdflags(tmpl, LdflagsVars{})
	if err == nil {
		return "", "", true
	}
	names := LdflagsVarNames()
	fix = "use the variables " + strings.Join(names, ", ")
	if m := unknownFieldRe.FindStringSubmatch(err.Error()); m != nil {
		msg = "unknown variable {{." + m[1] + "}}"
		if s, found := suggest(m[1], fieldNames(reflect.TypeFor[LdflagsVars]())); found {
			fix = "did you mean {{." + s + "}}? U" + fix[1:]
		}
		return msg, fix, false
	}
	return "not a valid template: " + err.Error(), fix, false
}

func fieldNames(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Name
	}
	return names
}
