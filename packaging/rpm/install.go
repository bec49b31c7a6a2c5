package rpm

import "github.com/omnipack/omnipack/packaging"

// Managers: the front ends first; plain rpm where there is none.
func (Format) Managers() []string { return []string{"dnf", "yum", "tdnf", "zypper", "rpm"} }

// Command installs a local rpm through the host's front end, so its
// history and dependency solver know the package. zypper would also want
// the vendor's key in rpm's keyring: the installers have checked the file
// against the signed release manifest, so it is told not to (dnf, yum,
// tdnf and rpm do not check a local file's signature by default).
func (Format) Command(pm string, op packaging.Op) (packaging.Command, bool) {
	file, name := packaging.FileArg, packaging.NameArg
	switch pm {
	case "dnf", "yum", "tdnf":
		verb := map[packaging.Op]string{packaging.OpInstall: "install", packaging.OpUpgrade: "install",
			packaging.OpDowngrade: "downgrade", packaging.OpReinstall: "reinstall"}[op]
		switch {
		case verb != "":
			return packaging.Command{Argv: []string{pm, verb, "-y", file}}, true
		case op == packaging.OpRemove, op == packaging.OpPurge:
			return packaging.Command{Argv: []string{pm, "remove", "-y", name}}, true
		}
	case "zypper":
		install := []string{"zypper", "--non-interactive", "--no-gpg-checks", "install"}
		switch op {
		case packaging.OpInstall, packaging.OpUpgrade:
			return packaging.Command{Argv: append(install, file)}, true
		case packaging.OpDowngrade:
			return packaging.Command{Argv: append(install, "--oldpackage", file)}, true
		case packaging.OpReinstall:
			return packaging.Command{Argv: append(install, "--force", file)}, true
		case packaging.OpRemove, packaging.OpPurge:
			return packaging.Command{Argv: []string{"zypper", "--non-interactive", "remove", name}}, true
		}
	case "rpm":
		switch op {
		case packaging.OpInstall, packaging.OpUpgrade:
			return packaging.Command{Argv: []string{"rpm", "-U", file}}, true
		case packaging.OpDowngrade:
			return packaging.Command{Argv: []string{"rpm", "-U", "--oldpackage", file}}, true
		case packaging.OpReinstall:
			return packaging.Command{Argv: []string{"rpm", "-U", "--replacepkgs", file}}, true
		case packaging.OpRemove, packaging.OpPurge:
			return packaging.Command{Argv: []string{"rpm", "-e", name}}, true
		}
	}
	return packaging.Command{}, false
}

func (Format) Installed() packaging.Query {
	return packaging.Query{Argv: []string{"rpm", "-q", packaging.NameArg}}
}

// Known: rpm has no removed-but-configured state.
func (f Format) Known() packaging.Query { return f.Installed() }

// VerifyCommand: none of its package managers checks a local file's
// signature with a key directory of its own.
func (Format) VerifyCommand() (packaging.Command, bool) { return packaging.Command{}, false }

// TrustedKey: none of the rpm front ends checks a local file against a
// key by default.
func (Format) TrustedKey(string) *packaging.KeyFile { return nil }
