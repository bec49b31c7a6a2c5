package packaging

import (
	"os"
	"path/filepath"

	"github.com/goreleaser/nfpm/v2"

	"github.com/omnipack/omnipack/scripts"
)

// applyScripts generates the maintainer scripts for a format into dir and
// points nfpm at them: nfpm takes file paths, not contents.
func applyScripts(info *nfpm.Info, spec *Spec, format, dir string) error {
	in := scripts.Input{Service: spec.Service, Inits: spec.Inits, Files: spec.InitFiles}
	for _, c := range spec.Configs {
		in.ConfigFiles = append(in.ConfigFiles, c.Dest)
	}
	set, err := scripts.For(format, in)
	if err != nil {
		return err
	}
	write := func(name, body string) (string, error) {
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
	for _, s := range []struct {
		dst  *string
		name string
		body string
	}{
		{&info.Scripts.PreInstall, "preinstall", set.PreInstall},
		{&info.Scripts.PostInstall, "postinstall", set.PostInstall},
		{&info.Scripts.PreRemove, "preremove", set.PreRemove},
		{&info.Scripts.PostRemove, "postremove", set.PostRemove},
		{&info.APK.Scripts.PreUpgrade, "apk-preupgrade", apkOnly(format, set.PreUpgrade)},
		{&info.APK.Scripts.PostUpgrade, "apk-postupgrade", apkOnly(format, set.PostUpgrade)},
		{&info.ArchLinux.Scripts.PreUpgrade, "arch-preupgrade", archOnly(format, set.PreUpgrade)},
		{&info.ArchLinux.Scripts.PostUpgrade, "arch-postupgrade", archOnly(format, set.PostUpgrade)},
	} {
		p, err := write(s.name, s.body)
		if err != nil {
			return err
		}
		*s.dst = p
	}
	return nil
}

func apkOnly(format, body string) string {
	if format == "apk" {
		return body
	}
	return ""
}

func archOnly(format, body string) string {
	if format == "archlinux" {
		return body
	}
	return ""
}
