package packaging

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"

	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/scripts"
)

// NFPMInfo builds nfpm's description of the package with the fields every
// nfpm-built format shares, and makes scratch, an empty directory of this
// package's own for generated input files. Every content entry gets an
// explicit mode, owner and mtime: nfpm would otherwise read them from the
// build host, and the output would not be reproducible.
func NFPMInfo(f Format, spec *Spec) (info *nfpm.Info, scratch string, err error) {
	fileInfo := func(mode os.FileMode, owner, group string) *files.ContentFileInfo {
		if owner == "" {
			owner = "root"
		}
		if group == "" {
			group = "root"
		}
		return &files.ContentFileInfo{Owner: owner, Group: group, Mode: mode, MTime: spec.MTime}
	}
	contents := files.Contents{{
		Source:      spec.Binary,
		Destination: layout.Bin(spec.Name),
		FileInfo:    fileInfo(0o755, "", ""),
	}}
	for _, c := range slices.Concat(spec.Configs, spec.SystemConfigs) {
		contents = append(contents, &files.Content{
			Source:      c.Source,
			Destination: c.Dest,
			Type:        files.TypeConfigNoReplace,
			FileInfo:    fileInfo(c.Mode, c.Owner, c.Group),
		})
	}
	for _, c := range spec.Files {
		contents = append(contents, &files.Content{
			Source:      c.Source,
			Destination: c.Dest,
			FileInfo:    fileInfo(c.Mode, c.Owner, c.Group),
		})
	}
	for _, r := range spec.Inits {
		for _, file := range spec.InitFiles[r.Name()] {
			staged := layout.Staged(spec.Name, r.Name(), file.Target)
			contents = append(contents, &files.Content{
				Source:      filepath.Join(spec.StageDir, staged),
				Destination: staged,
				FileInfo:    fileInfo(os.FileMode(file.Mode), "", ""),
			})
		}
	}
	pkg := spec.Package(f.Name())
	info = &nfpm.Info{
		Name:          pkg.Name,
		Arch:          spec.Arch.GOARCH,
		Platform:      "linux",
		Version:       f.Version(spec.Version),
		VersionSchema: "none",
		Release:       fmt.Sprint(spec.Release),
		Section:       "admin",
		Priority:      "optional",
		Maintainer:    spec.Maintainer,
		Description:   description(spec),
		Vendor:        spec.Vendor,
		Homepage:      spec.Homepage,
		License:       spec.License,
		MTime:         spec.MTime,
		Overridables: nfpm.Overridables{
			Contents:  contents,
			Umask:     0o022,
			Replaces:  pkg.Replaces,
			Conflicts: pkg.Conflicts,
			Provides:  pkg.Provides,
		},
	}
	scratch, err = os.MkdirTemp(spec.ScratchDir, f.Name()+"-"+spec.Arch.Name+"-*")
	if err != nil {
		return nil, "", err
	}
	return info, scratch, nil
}

// WriteNFPM writes the package info describes with nfpm's packager of that
// name into dir, under nfpm's conventional file name.
func WriteNFPM(f Format, spec *Spec, info *nfpm.Info, packager, dir string) (Result, error) {
	pkgr, err := nfpm.Get(packager)
	if err != nil {
		return Result{}, err
	}
	if err := nfpm.PrepareForPackager(info, packager); err != nil {
		return Result{}, err
	}
	name := f.FileName(spec.Package(f.Name()).Name, spec.Version, spec.Release, spec.Arch)
	if conv := pkgr.ConventionalFileName(info); conv != name {
		return Result{}, fmt.Errorf("%s names the package %s, nfpm %s", f.Name(), name, conv)
	}
	out := filepath.Join(dir, name)
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return Result{}, err
	}
	if err := pkgr.Package(info, w); err != nil {
		w.Close()
		return Result{}, err
	}
	if err := w.Close(); err != nil {
		return Result{}, err
	}
	return Result{Path: out, Format: f.Name(), Arch: spec.Arch.Name, Version: f.FullVersion(spec.Version, spec.Release)}, nil
}

// DetachSign writes PKG.sig, a binary OpenPGP signature of the package.
func DetachSign(pkg string, s *Signer) (string, error) {
	f, err := os.Open(pkg)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sig, err := s.OpenPGP(false)(f)
	if err != nil {
		return "", err
	}
	return pkg + ".sig", os.WriteFile(pkg+".sig", sig, 0o644)
}

// ScriptsInput is what the maintainer script generator needs of spec.
func ScriptsInput(spec *Spec) scripts.Input {
	in := scripts.Input{Service: spec.Service, Inits: spec.Inits, Files: spec.InitFiles}
	for _, c := range spec.Configs {
		in.ConfigFiles = append(in.ConfigFiles, c.Dest)
	}
	return in
}

// ApplyScripts writes the scripts of set that nfpm takes for every format
// into dir and points info at them; a format's own slots (apk's and Arch's
// upgrade scripts) it sets with WriteScript.
func ApplyScripts(info *nfpm.Info, spec *Spec, set scripts.Set, dir string) error {
	for _, s := range []struct {
		dst  *string
		name string
		body string
	}{
		{&info.Scripts.PreInstall, "preinstall", set.PreInstall},
		{&info.Scripts.PostInstall, "postinstall", set.PostInstall},
		{&info.Scripts.PreRemove, "preremove", set.PreRemove},
		{&info.Scripts.PostRemove, "postremove", set.PostRemove},
	} {
		p, err := WriteScript(spec, dir, s.name, s.body)
		if err != nil {
			return err
		}
		*s.dst = p
	}
	return nil
}

// WriteScript writes one maintainer script into dir and returns its path,
// "" for an empty body: nfpm takes file paths, not contents.
func WriteScript(spec *Spec, dir, name, body string) (string, error) {
	if body == "" {
		return "", nil
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		return "", err
	}
	// nfpm's apk writer copies the script file's mtime and mode into
	// the package; pin both so the output is reproducible.
	if err := os.Chmod(p, 0o755); err != nil {
		return "", err
	}
	return p, os.Chtimes(p, spec.MTime, spec.MTime)
}

// description joins summary and body the way deb and rpm expect: the first
// line is the synopsis.
func description(spec *Spec) string {
	if spec.Description == "" || spec.Description == spec.Summary {
		return spec.Summary
	}
	return spec.Summary + "\n" + spec.Description
}
