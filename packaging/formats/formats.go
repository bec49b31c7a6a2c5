// Package formats is the one registry of omnipack's artifact formats.
// Every other stage asks it for a format instead of switching on a
// format's name: adding a format is one package below packaging/ plus one
// line here.
package formats

import (
	"fmt"
	"slices"
	"sort"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/apk"
	"github.com/omnipack/omnipack/packaging/archlinux"
	"github.com/omnipack/omnipack/packaging/deb"
	"github.com/omnipack/omnipack/packaging/rpm"
	"github.com/omnipack/omnipack/packaging/tarball"
	"github.com/omnipack/omnipack/pkgfile"
)

// registry holds every format by name.
var registry = register(deb.Format{}, rpm.Format{}, apk.Format{}, archlinux.Format{}, tarball.Format{})

// register checks that each format implements the interface of every
// stage it declares, and no stage it does not, and tells config about it.
func register(fs ...packaging.Format) map[string]packaging.Format {
	m := map[string]packaging.Format{}
	for _, f := range fs {
		if _, dup := m[f.Name()]; dup {
			panic(fmt.Sprintf("formats: %q registered twice", f.Name()))
		}
		for _, s := range packaging.AllStages {
			declared := slices.Contains(f.Stages(), s)
			if declared && !packaging.Implements(f, s) {
				panic(fmt.Sprintf("formats: %s declares stage %s but does not implement it", f.Name(), s))
			}
			if !declared && s != packaging.StageUnpack && packaging.Implements(f, s) {
				panic(fmt.Sprintf("formats: %s implements stage %s but does not declare it", f.Name(), s))
			}
		}
		m[f.Name()] = f
		rule := f.Rule()
		rule.Name = f.Name()
		config.RegisterFormat(rule)
	}
	return m
}

// Lookup returns the format of that name.
func Lookup(name string) (packaging.Format, bool) {
	f, ok := registry[name]
	return f, ok
}

// Names lists every format, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// All returns every format, sorted by name.
func All() []packaging.Format {
	var out []packaging.Format
	for _, n := range Names() {
		out = append(out, registry[n])
	}
	return out
}

// With returns the formats that have stage s, sorted by name.
func With(s packaging.Stage) []packaging.Format {
	var out []packaging.Format
	for _, f := range All() {
		if Has(f, s) {
			out = append(out, f)
		}
	}
	return out
}

// Has reports whether f takes part in stage s.
func Has(f packaging.Format, s packaging.Stage) bool { return slices.Contains(f.Stages(), s) }

// Is reports whether name is a format that has stage s.
func Is(name string, s packaging.Stage) bool {
	f, ok := registry[name]
	return ok && Has(f, s)
}

// Unpacked returns the format omnipack's installers install themselves,
// for hosts no package manager of ours serves.
func Unpacked() packaging.Format {
	for _, f := range All() {
		if Has(f, packaging.StageUnpack) {
			return f
		}
	}
	panic("formats: no format for hosts without a package manager")
}

// ForManager returns the format package manager pm installs.
func ForManager(pm string) (packaging.Format, bool) {
	for _, f := range With(packaging.StageInstall) {
		if slices.Contains(f.(packaging.PackageManaged).Managers(), pm) {
			return f, true
		}
	}
	return nil, false
}

// Build writes one package of the named format into dir.
func Build(spec *packaging.Spec, format, dir string) (packaging.Result, error) {
	f, ok := registry[format]
	if !ok {
		return packaging.Result{}, fmt.Errorf("unknown package format %q (know %v)", format, Names())
	}
	res, err := f.Build(spec, dir)
	if err != nil {
		return packaging.Result{}, fmt.Errorf("%s %s: %w", format, spec.Arch.Name, err)
	}
	return res, nil
}

// walker returns the named format's reader.
func walker(format string) (pkgfile.Walker, error) {
	f, ok := registry[format]
	if !ok {
		return nil, fmt.Errorf("pkgfile: unknown package format %q (know %v)", format, Names())
	}
	r, ok := f.(packaging.Reader)
	if !ok {
		return nil, fmt.Errorf("pkgfile: format %s has no file list to read", format)
	}
	return r.Walk, nil
}

// Files returns every file of the package at pkgPath, of the named format,
// sorted by path (pkgfile.List).
func Files(pkgPath, format string) ([]pkgfile.File, error) {
	w, err := walker(format)
	if err != nil {
		return nil, err
	}
	return pkgfile.List(pkgPath, w)
}

// ReadFile returns one regular file of the package (pkgfile.ReadFile).
func ReadFile(pkgPath, format, member string) ([]byte, error) {
	w, err := walker(format)
	if err != nil {
		return nil, err
	}
	return pkgfile.ReadFile(pkgPath, w, member)
}

// PackageName is the package name format gives the program by default,
// its rule's mapping (config.FormatRule.PackageName): what a manifest or
// record that names no package falls back to.
func PackageName(format, program string) string {
	f, ok := registry[format]
	if !ok {
		return program
	}
	if r := f.Rule(); r.PackageName != nil {
		return r.PackageName(program)
	}
	return program
}
