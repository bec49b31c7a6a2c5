package archlinux

import "github.com/omnipack/omnipack/packaging"

func (Format) Managers() []string { return []string{"pacman"} }

// Command: pacman -U installs the given file's version, older or the same
// one again included. It checks a detached .sig only where one lies beside
// the file; the installers have checked the file against the signed
// release manifest.
func (Format) Command(pm string, op packaging.Op) (packaging.Command, bool) {
	if pm != "pacman" {
		return packaging.Command{}, false
	}
	switch op {
	case packaging.OpInstall, packaging.OpUpgrade, packaging.OpDowngrade, packaging.OpReinstall:
		return packaging.Command{Argv: []string{"pacman", "-U", "--noconfirm", packaging.FileArg}}, true
	case packaging.OpRemove, packaging.OpPurge:
		return packaging.Command{Argv: []string{"pacman", "-R", "--noconfirm", packaging.NameArg}}, true
	}
	return packaging.Command{}, false
}

func (Format) Installed() packaging.Query {
	return packaging.Query{Argv: []string{"pacman", "-Q", packaging.NameArg}}
}

// Known: pacman has no removed-but-configured state.
func (f Format) Known() packaging.Query { return f.Installed() }

// VerifyCommand: none of its package managers checks a local file's
// signature with a key directory of its own.
func (Format) VerifyCommand() (packaging.Command, bool) { return packaging.Command{}, false }

// TrustedKey: pacman's keyring is the host's (pacman-key); a local file
// without a .sig beside it is not checked against it.
func (Format) TrustedKey(string) *packaging.KeyFile { return nil }
