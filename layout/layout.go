// Package layout fixes where a package built by omnipack puts things on the
// host. The init renderers, the maintainer scripts, the packagers and the
// installer all read these paths from here, so they cannot drift apart.
package layout

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Bin is where the daemon binary is installed.
func Bin(name string) string { return "/usr/bin/" + name }

// ConfigDir holds the service's config files; they survive upgrades.
func ConfigDir(name string) string { return "/etc/" + name }

// StateDir is the service's writable state directory.
func StateDir(name string) string { return "/var/lib/" + name }

// LogDir is where an init without a journal of its own keeps the
// service's output (runit's svlogd). Like StateDir it is the service's
// alone: a purge deletes it with its contents.
func LogDir(name string) string { return "/var/log/" + name }

// InitStage is where a package carries one init system's files before the
// maintainer script installs them for the running init.
func InitStage(name, initName string) string {
	return InitStageRoot(name) + "/" + initName
}

// Staged is where a package carries the file the maintainer script will
// install at target for initName. The full target path is kept under the
// stage directory so that files with one base name (runit's run scripts)
// cannot collide.
func Staged(name, initName, target string) string {
	return path.Join(InitStage(name, initName), target)
}

// InitRecord is where the maintainer script records which init it
// integrated with and which files it installed, so that remove deletes
// exactly those.
func InitRecord(name string) string { return RecordDir + "/" + name + ".init" }

// RecordDir holds what the maintainer scripts and the installers record
// about installed releases: NAME.init, NAME.accounts, NAME.release.
const RecordDir = "/var/lib/omnipack"

// Accounts is where the maintainer scripts list the user and group the
// package created, so that a purge deletes only those.
func Accounts(name string) string { return RecordDir + "/" + name + ".accounts" }

// PurgeList is the maintainer scripts' list of what a package created
// outside its state and config directories, one "KIND PATH" a line in
// creation order: "tree PATH" (a directory purge deletes with its
// contents), "empty PATH" (a directory purge deletes when empty: a
// declared one, or a parent created for one) and "file PATH" (the
// environment file, which purge deletes with the copies package managers
// keep of it: PATH.rpmsave and the like). Every purge (the package's own,
// install.sh's, omnipack install's) deletes them, last created first.
func PurgeList(name string) string { return RecordDir + "/" + name + ".purge" }

// PurgeListKinds are the kinds of PurgeList lines.
const (
	PurgeTree  = "tree"
	PurgeEmpty = "empty"
	PurgeFile  = "file"
)

// KeptCopies are the suffixes of the copies package managers keep of a
// config file (an edited one on removal, a new default on upgrade).
var KeptCopies = []string{".rpmsave", ".rpmnew", ".rpmorig", ".pacsave", ".pacnew", ".apk-new", ".dpkg-old", ".dpkg-dist", ".dpkg-new"}

// ReleaseRecord is where the installers (install.sh, omnipack install)
// record the installed release: its release_version guards against
// rollback.
func ReleaseRecord(name string) string { return RecordDir + "/" + name + ".release" }

// PackageLib is the package's own directory under /usr/lib: the init
// stage, and a release tarball's scripts and file list.
func PackageLib(name string) string { return "/usr/lib/" + name }

// InitStageRoot is the parent of every init's stage (InitStage).
func InitStageRoot(name string) string { return PackageLib(name) + "/init" }

// TarballScriptsDir is where the release tarball carries its maintainer
// scripts, and TarballFileList the list of the files it installs, for
// uninstalling.
func TarballScriptsDir(name string) string { return PackageLib(name) + "/scripts" }
func TarballFileList(name string) string   { return PackageLib(name) + "/files" }

// MaxName is the longest project name: the name becomes the default
// system user and group, and useradd takes at most 32 characters.
const MaxName = 32

// InstallLock is the lock file install.sh and omnipack install hold while
// they change the host, so that only one runs at a time. It is in /run, a
// tmpfs: nothing of it outlives a boot, and a refused or removed install
// leaves nothing behind in the host's own directories.
func InstallLock(name string) string { return "/run/omnipack/" + name + ".lock" }

// programNameRe is what a program's name may hold: what a Unix program
// name and a systemd unit name both allow, without a leading dot or dash.
// Package names are the formats' own business (config's PackageFor).
var programNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]*$`)

// CheckName refuses a program name that is not safe as a file name, a
// unit name and a shell word, or longer than MaxName.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("the name is empty")
	case len(name) > MaxName:
		return fmt.Errorf("%q is %d characters long; at most %d", name, len(name), MaxName)
	case !programNameRe.MatchString(name) || strings.Contains(name, ".."):
		return fmt.Errorf("%q: use letters, digits and _ . : - only, starting with a letter, digit or _, with no \"..\"", name)
	}
	return nil
}
