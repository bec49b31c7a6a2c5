// Package packaging holds what every package format shares: the Spec a
// package is built from, the Format interface each format implements, and
// the interfaces of the stages a format may take part in (reading its file
// list, checking its native signature, its purl type, its package
// manager's commands).
//
// Each format is one package below packaging/ (deb, rpm, apk, archlinux,
// tarball) and packaging/formats is their one registry: the other stages
// ask the registry, never switch on a format's name.
package packaging

import (
	"crypto/rsa"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/pkgfile"
)

// Spec is everything one package needs, independent of its format.
type Spec struct {
	// Name is the program's: its binary, service, user and /etc
	// directory. Packages names the packages.
	Name        string
	Version     config.Version
	Release     int
	Arch        config.Arch
	Summary     string
	Description string
	Maintainer  string
	Vendor      string
	License     string
	Homepage    string
	MTime       time.Time // from SOURCE_DATE_EPOCH or the commit time

	Binary  string // path of the daemon binary on the build host
	Service initsys.Service
	// Inits holds the renderers of the enabled init systems, in detection
	// order, and InitFiles their rendered files by init name.
	Inits     []initsys.Renderer
	InitFiles map[string][]initsys.File
	// StageDir is a directory on the build host holding each rendered init
	// file at layout.Staged(name, init, target), relative to StageDir.
	StageDir string
	// ScratchDir holds per-package generated inputs: maintainer scripts,
	// changelog and copyright files.
	ScratchDir string

	Configs []File // installed under /etc/NAME, preserved across upgrades
	// SystemConfigs are config files for other programs (the logrotate
	// snippet), preserved across upgrades like Configs but root's.
	SystemConfigs []File
	Files         []File // extra files

	// Sign, when set, makes every package carry its format's native
	// signature.
	Sign *Signer

	// Packages holds, by format, the package's name and its relations to
	// other packages as that format spells them.
	Packages map[string]Relations
}

// Relations are a package's name and its relations to other packages.
type Relations struct {
	Name                          string
	Replaces, Conflicts, Provides []string
}

// Package returns the package's name and relations for format; the
// program's name where the spec gives none.
func (s *Spec) Package(format string) Relations {
	r, ok := s.Packages[format]
	if !ok || r.Name == "" {
		r.Name = s.Name
	}
	return r
}

// Signer holds the signing functions packages need. They are plain
// functions so that packaging does not depend on how keys are held.
type Signer struct {
	// OpenPGP returns a function making a detached OpenPGP signature,
	// ASCII-armored or binary.
	OpenPGP func(armored bool) func(io.Reader) ([]byte, error)
	// APK signs the SHA-1 digest of an apk's control stream (RSA PKCS#1 v1.5).
	APK func(io.Reader) ([]byte, error)
	// APKKeyName names the key as apk-tools finds it: /etc/apk/keys/NAME.rsa.pub.
	APKKeyName string
}

// File is a file from the build host placed in the package.
type File struct {
	Source string // path on the build host
	Dest   string // absolute path on the target host
	Mode   os.FileMode
	Owner  string
	Group  string
}

// Result describes a package that was written.
type Result struct {
	Path    string // where it was written
	SigPath string // the detached signature, for formats signed that way
	Format  string
	Arch    string // omnipack architecture name
	Version string // as the format spells it, with release
}

// Format is one artifact format. Every format builds; Stages says which
// other stages it takes part in, and for each of them the format
// implements that stage's interface (the registry refuses one that does
// not).
type Format interface {
	// Name is the format's name in omnipack.toml and release.json.
	Name() string
	// Rule is what config validation needs to know of the format.
	Rule() config.FormatRule
	// Arch spells an omnipack architecture the way the format does.
	Arch(a config.Arch) string
	// Version spells a version the way the format does, without release.
	Version(v config.Version) string
	// FullVersion is the version string the package manager reports,
	// release included.
	FullVersion(v config.Version, release int) string
	// FileName is the package's conventional file name.
	FileName(name string, v config.Version, release int, a config.Arch) string
	// Build writes one package of spec into dir.
	Build(spec *Spec, dir string) (Result, error)
	// Stages lists the stages besides building that the format has.
	Stages() []Stage
}

// Stage names a stage a format may take part in.
type Stage string

// The stages, each with the interface a format implements for it.
const (
	StageRead    Stage = "read"    // Reader: its file list, for SBOMs and verify
	StageVerify  Stage = "verify"  // SignatureChecker: its native signature
	StagePURL    Stage = "purl"    // PackageURLer: its purl type
	StageInstall Stage = "install" // PackageManaged: its package manager's commands
	// StageUnpack: no package manager installs it; omnipack's installers
	// unpack it themselves (layout.TarballFileList, layout.TarballScriptsDir).
	StageUnpack Stage = "unpack"
	StageRepo   Stage = "repo" // Indexer: its repository index, for omnipack publish
)

// AllStages lists every stage, in the order a release passes them.
var AllStages = []Stage{StageRead, StageVerify, StagePURL, StageInstall, StageUnpack, StageRepo}

// Implements reports whether f has the interface stage s needs.
func Implements(f Format, s Stage) bool {
	switch s {
	case StageRead:
		_, ok := f.(Reader)
		return ok
	case StageVerify:
		_, ok := f.(SignatureChecker)
		return ok
	case StagePURL:
		_, ok := f.(PackageURLer)
		return ok
	case StageInstall:
		_, ok := f.(PackageManaged)
		return ok
	case StageUnpack:
		return true // a marker: omnipack's installers do the work
	case StageRepo:
		_, ok := f.(Indexer)
		return ok
	}
	return false
}

// Reader reads the files a built package installs.
type Reader interface {
	Walk(r io.Reader, fn pkgfile.WalkFunc) error
}

// VerifyKeys are the release's keys a native signature is checked with,
// each nil when the release names none or its key file failed its check.
type VerifyKeys struct {
	PGP     openpgp.EntityList
	APK     *rsa.PublicKey
	APKName string // as in /etc/apk/keys/APKName.rsa.pub
	// Now is the time key expiry and revocation are judged at.
	Now time.Time
}

// ErrNoKey is returned by a SignatureChecker when the key it needs is
// missing from VerifyKeys: that failure was reported with the key.
var ErrNoKey = errors.New("the key this signature needs is not available")

// SignatureChecker checks a package's native signature, as its package
// manager would.
type SignatureChecker interface {
	// Detached is true for a format signed by a separate PKG.sig file
	// beside the package rather than inside it.
	Detached() bool
	// CheckSignature verifies the package at pkg (for a Detached format,
	// with the signature file at sig) and says what it checked.
	CheckSignature(pkg, sig string, k VerifyKeys) (detail string, err error)
}

// PackageURLer names a format's purl type (purl-spec PURL-TYPES).
type PackageURLer interface {
	// PackageURLType returns the purl type and whether the spec has the
	// type's names lowercased.
	PackageURLType() (typ string, lowerName bool)
}

// PackageManaged is a format that package managers install. Its commands
// are data, so that the Go installer and install.sh run the same words.
type PackageManaged interface {
	// Managers lists the package managers that install the format.
	Managers() []string
	// Command is how pm does op, with FileArg and NameArg standing for the
	// package file and the package name; false when pm cannot.
	Command(pm string, op Op) (Command, bool)
	// Installed is the query that succeeds when the package is installed;
	// Known also when only its config is left (a removed deb).
	Installed() Query
	Known() Query
	// TrustedKey names the release key the package manager must trust
	// before it installs the package, or nil.
	TrustedKey(apkKeyName string) *KeyFile
	// VerifyCommand checks a local package file's native signature with
	// the keys in the directory KeyDirArg, the way the package manager
	// does, where it has such a command: install.sh's last resort on a host
	// with neither openssl nor gpgv.
	VerifyCommand() (Command, bool)
}

// Op is what a package-manager command does.
type Op string

// The operations.
const (
	OpInstall   Op = "install"   // a package that is not installed
	OpUpgrade   Op = "upgrade"   // to a newer version
	OpDowngrade Op = "downgrade" // to an older version
	OpReinstall Op = "reinstall" // the same version again
	OpRemove    Op = "remove"    // keeping the config
	OpPurge     Op = "purge"     // and its config, where the manager can
)

// Ops lists every operation.
var Ops = []Op{OpInstall, OpUpgrade, OpDowngrade, OpReinstall, OpRemove, OpPurge}

// Words standing for values in a Command's or Query's Argv.
const (
	FileArg   = "{file}"   // the local package file
	NameArg   = "{name}"   // the package name
	KeyDirArg = "{keydir}" // a directory of the keys TrustedKey names
	// In a RepoClient that install.sh renders for any repository: the
	// repository's URL and channel, given on the host.
	URLArg     = "{url}"
	ChannelArg = "{channel}"
	// ScratchArg is an empty private directory the command may fill.
	ScratchArg = "{scratch}"
)

// Command is a package-manager command: Env is added to the environment
// (env(1) form), Argv is run as is after FileArg and NameArg are replaced.
type Command struct {
	Env  []string
	Argv []string
}

// Query is a command that answers a question by its exit status, or, when
// Want is set, by printing exactly Want.
type Query struct {
	Argv []string
	Want string
}

// Shell renders the query as a POSIX sh condition about the package name,
// as install.sh runs it.
func (q Query) Shell(name string) string {
	words := make([]string, len(q.Argv))
	for i, a := range q.Argv {
		if a == NameArg {
			a = name
		}
		words[i] = initsys.ShQuote(a)
	}
	cmd := strings.Join(words, " ")
	if q.Want == "" {
		return cmd + " >/dev/null 2>&1"
	}
	return `[ "$(` + cmd + ` 2>/dev/null)" = ` + initsys.ShQuote(q.Want) + " ]"
}

// KeyFile is a public key a package manager reads from a file.
type KeyFile struct {
	// Path is where the host's package manager looks for it.
	Path string
	// Release is the key's file in the release: keys/NAME.
	Release string
}
