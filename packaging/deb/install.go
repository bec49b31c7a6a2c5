package deb

import "github.com/omnipack/omnipack/packaging"

func (Format) Managers() []string { return []string{"apt", "dpkg"} }

// Command: conffiles the admin changed are kept (--force-confold), others
// take the new default (--force-confdef), and nothing asks. apt reads the
// local file as root: the installers keep it in a private directory its
// sandbox user could not read.
func (Format) Command(pm string, op packaging.Op) (packaging.Command, bool) {
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	switch pm {
	case "apt":
		install := []string{"apt-get", "install", "-y", "-o", "Dpkg::Options::=--force-confdef",
			"-o", "Dpkg::Options::=--force-confold", "-o", "APT::Sandbox::User=root"}
		switch op {
		case packaging.OpInstall, packaging.OpUpgrade:
			return packaging.Command{Env: env, Argv: append(install, packaging.FileArg)}, true
		case packaging.OpDowngrade:
			return packaging.Command{Env: env, Argv: append(install, "--allow-downgrades", packaging.FileArg)}, true
		case packaging.OpReinstall:
			return packaging.Command{Env: env, Argv: append(install, "--reinstall", packaging.FileArg)}, true
		case packaging.OpRemove:
			return packaging.Command{Env: env, Argv: []string{"apt-get", "remove", "-y", packaging.NameArg}}, true
		case packaging.OpPurge:
			return packaging.Command{Env: env, Argv: []string{"apt-get", "purge", "-y", packaging.NameArg}}, true
		}
	case "dpkg":
		switch op {
		case packaging.OpInstall, packaging.OpUpgrade, packaging.OpDowngrade, packaging.OpReinstall:
			return packaging.Command{Env: env, Argv: []string{"dpkg", "--force-confdef", "--force-confold", "-i", packaging.FileArg}}, true
		case packaging.OpRemove:
			return packaging.Command{Env: env, Argv: []string{"dpkg", "-r", packaging.NameArg}}, true
		case packaging.OpPurge:
			return packaging.Command{Env: env, Argv: []string{"dpkg", "-P", packaging.NameArg}}, true
		}
	}
	return packaging.Command{}, false
}

// Installed asks dpkg for the package's state: "installed", not merely
// "config-files" (removed, its config kept).
func (Format) Installed() packaging.Query {
	return packaging.Query{Argv: []string{"dpkg-query", "-W", "-f=${db:Status-Status}", packaging.NameArg}, Want: "installed"}
}

// Known: dpkg knows the package, even if only its config is left.
func (Format) Known() packaging.Query {
	return packaging.Query{Argv: []string{"dpkg-query", "-W", packaging.NameArg}}
}

// VerifyCommand: none of its package managers checks a local file's
// signature with a key directory of its own.
func (Format) VerifyCommand() (packaging.Command, bool) { return packaging.Command{}, false }

// TrustedKey: apt checks repositories, not local files; there is no key
// to trust for a local install.
func (Format) TrustedKey(string) *packaging.KeyFile { return nil }
