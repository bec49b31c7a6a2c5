package apk

import "github.com/omnipack/omnipack/packaging"

func (Format) Managers() []string { return []string{"apk"} }

// Command: apk add checks the package's signature against the keys in
// /etc/apk/keys, where the installers put the release's apk key first
// (TrustedKey). It installs the given file's version, older or not.
func (Format) Command(pm string, op packaging.Op) (packaging.Command, bool) {
	if pm != "apk" {
		return packaging.Command{}, false
	}
	switch op {
	case packaging.OpInstall, packaging.OpUpgrade, packaging.OpDowngrade, packaging.OpReinstall:
		return packaging.Command{Argv: []string{"apk", "add", packaging.FileArg}}, true
	case packaging.OpRemove, packaging.OpPurge:
		return packaging.Command{Argv: []string{"apk", "del", packaging.NameArg}}, true
	}
	return packaging.Command{}, false
}

func (Format) Installed() packaging.Query {
	return packaging.Query{Argv: []string{"apk", "info", "-e", packaging.NameArg}}
}

// Known: apk has no removed-but-configured state.
func (f Format) Known() packaging.Query { return f.Installed() }

// VerifyCommand: apk verify checks the package's signature against a
// directory of keys.
func (Format) VerifyCommand() (packaging.Command, bool) {
	return packaging.Command{Argv: []string{"apk", "verify", "--keys-dir", packaging.KeyDirArg, packaging.FileArg}}, true
}

// TrustedKey: apk-tools looks keys up by the name the signature carries.
func (Format) TrustedKey(apkKeyName string) *packaging.KeyFile {
	return &packaging.KeyFile{Path: "/etc/apk/keys/" + apkKeyName + ".rsa.pub", Release: "keys/" + apkKeyName + ".rsa.pub"}
}
