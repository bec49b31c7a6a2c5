package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/packaging/formats"
)

// What omnipack init reads from the source it is pointed at: the program's
// name from go.mod, the version from git or a VERSION file.

// goModule finds the go.mod of the module holding dir and returns its
// module path and root directory; ok is false outside a module.
func goModule(dir string) (modPath, root string, ok bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", false
	}
	for d := abs; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			if p := moduleLine(data); p != "" {
				return p, d, true
			}
			return "", "", false
		}
		if filepath.Dir(d) == d {
			return "", "", false
		}
	}
}

// moduleLine returns the path of go.mod's module directive, bare or
// quoted, or "" when there is none.
func moduleLine(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || !strings.ContainsAny(rest[:1], " \t\"`") {
			continue
		}
		rest = strings.TrimSpace(rest)
		if i := strings.Index(rest, "//"); i >= 0 {
			rest = strings.TrimSpace(rest[:i])
		}
		if p, err := strconv.Unquote(rest); err == nil {
			rest = p
		}
		return rest
	}
	return ""
}

// goProgramName is the name `go build` and `go install` give the program
// in dir: the last element of its import path, skipping a major version
// suffix (example.com/tool/v2 is "tool"), as cmd/go's DefaultExecName.
func goProgramName(dir string) (string, bool) {
	modPath, root, ok := goModule(dir)
	if !ok {
		return "", false
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	importPath := modPath
	if rel, err := filepath.Rel(root, abs); err == nil && rel != "." {
		importPath += "/" + filepath.ToSlash(rel)
	}
	elem := path.Base(importPath)
	if elem != importPath && isMajorVersion(elem) {
		elem = path.Base(path.Dir(importPath))
	}
	return elem, true
}

// isMajorVersion reports whether s is a module major version suffix, v2 or
// later.
func isMajorVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' || (s[1] == '1' && len(s) == 2) {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var nameRe = regexp.MustCompile(`[^A-Za-z0-9_.:-]+`)

// projectName turns a program name into one omnipack takes for the program,
// its service and its user, and says why it had to change, or returns the
// program name unchanged. Each format maps it to its own package name.
func projectName(program string) (name, why string) {
	err := layout.CheckName(program)
	if err == nil {
		return program, ""
	}
	name = nameRe.ReplaceAllString(program, "-")
	for strings.Contains(name, "..") {
		name = strings.ReplaceAll(name, "..", ".")
	}
	if len(name) > layout.MaxName {
		name = name[:layout.MaxName]
	}
	return strings.TrimLeft(strings.TrimRight(name, "-.:"), "-.:"), "omnipack refuses it as a program name: " + err.Error()
}

// wrapComment breaks text into lines of at most width bytes.
func wrapComment(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// sourceVersion is what init writes as project.version, with the comment
// lines that say where it came from.
type sourceVersion struct {
	Value string // "git", or an explicit version
	Now   string // what it gives today
	Notes []string
}

// A version we can write between TOML quotes and that looks like one; the
// format rules in validate judge the rest.
var plainVersionRe = regexp.MustCompile(`^[0-9][0-9A-Za-z.+~_-]{0,127}$`)

// detectVersion picks project.version for a source in srcDir, with the
// config written into configDir: "git" when srcDir is a tagged git checkout
// that configDir belongs to, else the tag's version, a VERSION file's, or
// 0.1.0.
func detectVersion(srcDir, configDir string) sourceVersion {
	top := gitTopLevel(srcDir)
	sameCheckout := top != "" && top == gitTopLevel(configDir)
	if v, err := config.DescribeGit(srcDir); err == nil && plainVersionRe.MatchString(v.Base) {
		tag := "v" + v.Base
		if sameCheckout {
			sv := sourceVersion{Value: "git", Now: v.String(), Notes: []string{
				`"git": the version is derived at build time from "git describe --tags" of`,
				fmt.Sprintf(`the commit being built (tag %s gives %s; 5 commits later,`, tag, v.Base),
				fmt.Sprintf(`%s+git5.gHASH). A release's version is then a function of its`, v.Base),
				`commit: rebuilding a commit reproduces it, and no two commits share one,`,
				`while a number written here would go stale on the next commit.`,
				fmt.Sprintf(`It gives %s now.`, v.String()),
			}}
			return withTagCheck(sv, tag, v.Base)
		}
		sv := sourceVersion{Value: v.Base, Now: v.Base, Notes: []string{
			fmt.Sprintf(`From tag %s of %s. version = "git" would run git describe`, tag, top),
			`in this file's directory, which is not that checkout, so the version is`,
			`written out: raise it with each release.`,
		}}
		return withTagCheck(sv, tag, v.Base)
	}
	var notes []string
	if sameCheckout {
		notes = append(notes, `No tag like v1.2.3 yet: after "git tag v1.0.0", version = "git" derives`,
			`the version from git describe of the commit being built.`)
	}
	if v, file, ok := versionFile(srcDir); ok {
		if rel, err := filepath.Rel(configDir, file); err == nil {
			file = filepath.ToSlash(rel)
		}
		return sourceVersion{Value: v, Now: v, Notes: append([]string{"From " + file + "."}, notes...)}
	}
	if len(notes) == 0 {
		notes = []string{`An explicit version, or "git" to derive it from "git describe" (tag v1.2.3).`}
	}
	return sourceVersion{Value: "0.1.0", Now: "0.1.0", Notes: append(notes, `Pre-releases use "~": "1.3.0~rc1".`)}
}

// withTagCheck adds a warning when the tag's version is one a format
// refuses, which validate cannot see for "git" and build would refuse.
func withTagCheck(sv sourceVersion, tag, base string) sourceVersion {
	for _, f := range formats.All() {
		if why, fix := f.Rule().CheckVersion(base); why != "" {
			sv.Notes = append(sv.Notes, fmt.Sprintf("Warning: %s gives %s, which %s refuses: %s; %s.", tag, base, f.Name(), why, fix))
		}
	}
	return sv
}

// versionFile reads a VERSION file in dir or, inside a Go module, at the
// module root. A leading "v" is dropped.
func versionFile(dir string) (version, file string, ok bool) {
	dirs := []string{dir}
	if _, root, ok := goModule(dir); ok {
		dirs = append(dirs, root)
	}
	for _, d := range dirs {
		p := filepath.Join(d, "VERSION")
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		first, _, _ := strings.Cut(string(data), "\n")
		v := strings.TrimSpace(first)
		if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
			v = v[1:]
		}
		if plainVersionRe.MatchString(v) {
			return v, p, true
		}
	}
	return "", "", false
}

// gitTopLevel is the root of the git checkout holding dir, or "".
func gitTopLevel(dir string) string {
	cmd := exec.Command("git", "rev-parse", "--show-toplevel")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	top := strings.TrimSpace(string(out))
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	return top
}
