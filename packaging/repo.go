package packaging

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"regexp"
	"time"
)

// DefaultChannel is the channel omnipack publish writes to, and clients
// read, unless told another.
const DefaultChannel = "stable"

// channelRe is a channel name: one path segment of plain characters, an
// apt suite and a directory elsewhere.
var channelRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]{0,63}$`)

// CheckChannel refuses a channel name that is not one path segment of
// a-z 0-9 . + -.
func CheckChannel(channel string) error {
	if !channelRe.MatchString(channel) {
		return fmt.Errorf("channel %q: use a-z, 0-9, . + - (starting with a letter or digit), e.g. stable or beta", channel)
	}
	return nil
}

// Indexer is a format's package repository: where its packages lie in a
// repository tree and the index its package manager reads. omnipack
// publish (package repo) verifies the release, copies each package to its
// PoolPath, asks the indexer for the index files and writes them, the
// file clients fetch first last, so a publish that stops half way leaves
// the previous index whole.
type Indexer interface {
	// PoolPath is where a package goes, relative to the repository root
	// and slash-separated; it ends in the package's file name.
	PoolPath(channel string, p RepoPackage) string
	// Index returns the channel's index of in.Packages, which lie at
	// their PoolPath under in.Root, as files relative to in.Root, in the
	// order they must become visible: the entry point (InRelease,
	// repomd.xml, NAME.db, APKINDEX.tar.gz) after what it names. It
	// reads the packages and writes nothing.
	Index(in RepoIndex) ([]RepoFile, error)
}

// RepoPackage is one package of a repository.
type RepoPackage struct {
	Path    string // relative to the repository root: its PoolPath
	Name    string // the package's name as its package manager knows it
	Program string // the release's program name
	Version string // as the format spells it, release included
	Arch    string // omnipack architecture name
	Size    int64
	SHA256  string // hex
}

// RepoIndex is what an Indexer indexes.
type RepoIndex struct {
	Root     string // the repository tree on disk
	Channel  string // e.g. stable, beta: an apt suite, a path elsewhere
	Name     string // the repository's name: apt Origin, pacman db, dnf repo id
	Packages []RepoPackage
	// Date is when the index was made and ValidUntil when clients must
	// stop trusting it, where the format can say so.
	Date, ValidUntil time.Time
	Sign             RepoSigner
}

// RepoSigner signs repository metadata. While a key rotation overlaps
// (omnipack publish --next-key), two OpenPGP keys sign where the format's
// clients accept one good signature among several (apt); elsewhere only
// the current key signs.
type RepoSigner struct {
	// ClearSign returns body as an OpenPGP cleartext-signed message
	// (apt's InRelease) signed by every signing key, the current last.
	ClearSign func(body []byte) ([]byte, error)
	// Detached returns a detached OpenPGP signature of body by the
	// current key, ASCII-armored or binary (repomd.xml.asc, NAME.db.sig).
	Detached func(body []byte, armored bool) ([]byte, error)
	// DetachedAll is Detached by every signing key, the current last, in
	// one file (apt's Release.gpg).
	DetachedAll func(body []byte, armored bool) ([]byte, error)
	// APK signs the SHA-1 digest of an APKINDEX's control stream (RSA
	// PKCS#1 v1.5), as Signer.APK does for packages; APKKeyName is the
	// key's name in /etc/apk/keys.
	APK        func(io.Reader) ([]byte, error)
	APKKeyName string
}

// RepoFile is one index file.
type RepoFile struct {
	Path string // relative to the repository root, slash-separated
	Body []byte
	// Link, when set, makes Path a symbolic link to the file at Link
	// (relative to the root) instead of a file holding Body: a directory
	// that switches as a whole (RepoSwitcher), and only such a one, names
	// the packages that lie outside it this way.
	Link string
}

// RepoSwitcher is an Indexer whose clients fetch the entry point and its
// detached signature as two files (repomd.xml and repomd.xml.asc, NAME.db
// and NAME.db.sig), which no single rename replaces together. omnipack
// publish writes the index files of such a directory into a new
// directory beside it, then points the directory, a symbolic link, at the
// new one with one rename: a client sees the old index or the new one,
// never the new file beside the old signature.
type RepoSwitcher interface {
	// SwitchDir is the directory, relative to the root, whose files
	// switch together with the index file at path (one Index returned),
	// or "" for a file that is replaced on its own.
	SwitchDir(path string) string
}

// RepoSetup is an Indexer that also publishes the snippets an admin
// pastes to use the repository: apt's .sources, dnf's .repo, a pacman.conf
// section. omnipack publish writes them when it knows the repository's
// URL.
type RepoSetup interface {
	Setup(c RepoClient) ([]RepoFile, error)
}

// RepoHost is a PackageManaged format whose package manager takes the
// package from the repository omnipack publish writes: install.sh
// --method repo adds the repository to a host with it.
type RepoHost interface {
	// HostRepo is how the host's package manager uses the repository c
	// names (c.PGPKey and c.APKKey unused: the host is given the key).
	HostRepo(c RepoClient) HostRepo
}

// HostRepo is one package manager's use of a repository on a host.
type HostRepo struct {
	Manager string // the package manager
	// Keyring is the host file of the repository's binary OpenPGP keyring,
	// trusted for this repository alone.
	Keyring string
	// Source is the host file that names the repository, and SourceBody
	// its content.
	Source     string
	SourceBody []byte
	// Check fetches this repository's metadata into ScratchArg and fails
	// when it does not verify with Keyring, changing nothing on the host.
	// Refresh then fetches it for the package manager, as Check does.
	Check, Refresh Command
	// Install installs NameArg from the repository, or upgrades it to the
	// newest version there.
	Install Command
	// Version prints the installed package's version.
	Version Command
}

// RepoClient is what a setup snippet names.
type RepoClient struct {
	URL     string // where clients reach the repository root, no trailing slash
	Name    string // the repository's name, as in RepoIndex
	Channel string
	// PGPKey and PGPKeyring are the repository's OpenPGP public key,
	// armored and binary (gpg --dearmor), relative to the root: what the
	// snippets tell the client to fetch and trust.
	PGPKey, PGPKeyring string
	// PGPFingerprints are the fingerprints of the keys in PGPKey (upper-
	// case hex), for clients that must be told which keys to trust.
	PGPFingerprints []string
	APKKey          string // the apk public key, relative to the root
}

// Compress returns body through the compressor newWriter makes.
func Compress(body []byte, newWriter func(io.Writer) (io.WriteCloser, error)) ([]byte, error) {
	var b bytes.Buffer
	w, err := newWriter(&b)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Gzip compresses body with no name and no time in the gzip header, so
// the same index always has the same checksum.
func Gzip(body []byte) ([]byte, error) {
	return Compress(body, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriterLevel(w, gzip.BestCompression) })
}
