package archlinux

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5" //nolint:gosec // repo-add writes %MD5SUM%; pacman checks SHA256SUM and the signature
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/pkgfile"
)

// A pacman repository, as pacman reads it:
//
//	arch/CHANNEL/pool/NAME-VER-REL-ARCH.pkg.tar.zst      the package
//	arch/CHANNEL/pool/NAME-VER-REL-ARCH.pkg.tar.zst.sig  its detached signature
//	arch/CHANNEL/ARCH/NAME.db, NAME.db.sig               what pacman -Sy fetches
//	arch/CHANNEL/ARCH/NAME.files, NAME.files.sig         what pacman -Fy fetches
//	arch/CHANNEL/ARCH/NAME-VER-REL-ARCH.pkg.tar.zst{,.sig}  links into the pool
//
// so that Server = BASE/arch/CHANNEL/$arch in pacman.conf. pacman checks
// NAME.db against NAME.db.sig, two files no one rename replaces, so
// ARCH is a symbolic link that omnipack publish points at a new
// directory holding the whole new index (SwitchDir), and the packages,
// which pacman fetches from the same directory, lie in the pool beside
// it. repo-add names the database NAME.db.tar.gz with a NAME.db symlink;
// pacman fetches only NAME.db, so the tree holds the file under that
// name.

// RepoDir is the channel's directory for one pacman architecture.
func RepoDir(channel, pacmanArch string) string {
	return path.Join("arch", channel, pacmanArch)
}

// poolDir holds the channel's packages of every architecture.
func poolDir(channel string) string { return path.Join("arch", channel, "pool") }

// PoolPath: packages lie in the channel's pool, and each package's .sig
// beside it; the index links them into their architecture's directory.
func (Format) PoolPath(channel string, p packaging.RepoPackage) string {
	return path.Join(poolDir(channel), fmt.Sprintf("%s-%s-%s.pkg.tar.zst", p.Name, p.Version, archs[p.Arch]))
}

// SwitchDir: every file Index writes lies in an architecture's directory,
// which switches as a whole.
func (Format) SwitchDir(p string) string { return path.Dir(p) }

// SigPath is where the detached signature of the package at poolPath lies:
// beside it, as pacman and repo-add expect. omnipack publish copies the
// release's PKG.sig there with the package; Index reads it.
func SigPath(poolPath string) string { return poolPath + ".sig" }

// maxPackageSig is repo-add's limit on a package signature.
const maxPackageSig = 16384

// Index writes, for each architecture, NAME.db (each package's desc) and
// NAME.files (desc and file list), gzip'd tars as repo-add makes them, a
// binary detached signature of each, and a link to every package and its
// .sig. A pacman database holds one entry per package name: the newest
// version of each is indexed, older ones stay linked for pacman -U.
// pacman databases carry no expiry, so ValidUntil is not used.
func (Format) Index(in packaging.RepoIndex) ([]packaging.RepoFile, error) {
	if in.Sign.Detached == nil {
		return nil, errors.New("pacman repository: no OpenPGP key to sign the database with (pacman's SigLevel = Required DatabaseRequired needs NAME.db.sig)")
	}
	if !nameRe.MatchString(in.Name) {
		return nil, fmt.Errorf("pacman repository name %q: use a-z 0-9 @ . _ + - (it names NAME.db and the [NAME] section)", in.Name)
	}
	byDir := map[string][]*dbEntry{}
	links := map[string][]packaging.RepoFile{}
	for _, p := range in.Packages {
		e, err := readEntry(in.Root, p)
		if err != nil {
			return nil, err
		}
		dir := RepoDir(in.Channel, archs[p.Arch])
		for _, f := range []string{p.Path, SigPath(p.Path)} {
			links[dir] = append(links[dir], packaging.RepoFile{Path: dir + "/" + path.Base(f), Link: f})
		}
		entries := byDir[dir]
		if i := slices.IndexFunc(entries, func(o *dbEntry) bool { return o.name == e.name }); i >= 0 {
			if Vercmp(e.version, entries[i].version) > 0 {
				entries[i] = e
			}
			continue
		}
		byDir[dir] = append(entries, e)
	}
	mtime := in.Date.UTC().Truncate(time.Second)
	var out []packaging.RepoFile
	for _, dir := range slices.Sorted(maps.Keys(byDir)) {
		entries := byDir[dir]
		slices.SortFunc(entries, func(a, b *dbEntry) int { return strings.Compare(a.dir(), b.dir()) })
		db, err := writeDB(entries, false, mtime)
		if err != nil {
			return nil, err
		}
		files, err := writeDB(entries, true, mtime)
		if err != nil {
			return nil, err
		}
		var sigs [2][]byte
		for i, body := range [][]byte{files, db} {
			if sigs[i], err = in.Sign.Detached(body, false); err != nil {
				return nil, fmt.Errorf("sign %s/%s database: %w", dir, in.Name, err)
			}
		}
		out = append(out, links[dir]...)
		out = append(out,
			packaging.RepoFile{Path: dir + "/" + in.Name + ".files.sig", Body: sigs[0]},
			packaging.RepoFile{Path: dir + "/" + in.Name + ".files", Body: files},
			packaging.RepoFile{Path: dir + "/" + in.Name + ".db.sig", Body: sigs[1]},
			packaging.RepoFile{Path: dir + "/" + in.Name + ".db", Body: db},
		)
	}
	return out, nil
}

// dbEntry is one package's entry in the database.
type dbEntry struct {
	name, version string
	desc          []byte
	files         []string
}

// dir is the entry's directory in the database tar: NAME-VERSION.
func (e *dbEntry) dir() string { return e.name + "-" + e.version }

// readEntry reads the package at its pool path under root, and its .sig,
// into a database entry.
func readEntry(root string, p packaging.RepoPackage) (*dbEntry, error) {
	file := filepath.Join(root, filepath.FromSlash(p.Path))
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("pacman repository: %w", err)
	}
	sigFile := filepath.Join(root, filepath.FromSlash(SigPath(p.Path)))
	sig, err := os.ReadFile(sigFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pacman repository: %s has no signature %s beside it (fix: copy the release's %s.sig there with the package)",
			p.Path, SigPath(p.Path), path.Base(p.Path))
	}
	if err != nil {
		return nil, fmt.Errorf("pacman repository: %w", err)
	}
	if len(sig) > maxPackageSig || bytes.Contains(sig, []byte("BEGIN PGP SIGNATURE")) {
		return nil, fmt.Errorf("pacman repository: %s is not a binary OpenPGP signature of at most %d bytes, as pacman needs", sigFile, maxPackageSig)
	}
	info, files, err := readPackage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("pacman repository: %s: %w", file, err)
	}
	e := &dbEntry{name: info.first("pkgname"), version: info.first("pkgver"), files: files}
	if e.name == "" || e.version == "" {
		return nil, fmt.Errorf("pacman repository: %s: .PKGINFO has no pkgname or pkgver", file)
	}
	if e.name != p.Name || e.version != p.Version {
		return nil, fmt.Errorf("pacman repository: %s holds %s %s, but the release names it %s %s", file, e.name, e.version, p.Name, p.Version)
	}
	md5sum := md5.Sum(data) //nolint:gosec // see the import
	sha := sha256.Sum256(data)
	var d bytes.Buffer
	field := func(key string, values ...string) {
		values = slices.DeleteFunc(slices.Clone(values), func(v string) bool { return v == "" })
		if len(values) == 0 {
			return
		}
		fmt.Fprintf(&d, "%%%s%%\n%s\n\n", key, strings.Join(values, "\n"))
	}
	// repo-add's fields, in its order.
	field("FILENAME", path.Base(p.Path))
	field("NAME", e.name)
	field("BASE", info.first("pkgbase"))
	field("VERSION", e.version)
	field("DESC", info.first("pkgdesc"))
	field("GROUPS", info["group"]...)
	field("CSIZE", strconv.Itoa(len(data)))
	field("ISIZE", info.first("size"))
	field("MD5SUM", hex.EncodeToString(md5sum[:]))
	field("SHA256SUM", hex.EncodeToString(sha[:]))
	field("PGPSIG", base64.StdEncoding.EncodeToString(sig))
	field("URL", info.first("url"))
	field("LICENSE", info["license"]...)
	field("ARCH", info.first("arch"))
	field("BUILDDATE", info.first("builddate"))
	field("PACKAGER", info.first("packager"))
	field("REPLACES", info["replaces"]...)
	field("CONFLICTS", info["conflict"]...)
	field("PROVIDES", info["provides"]...)
	field("DEPENDS", info["depend"]...)
	field("OPTDEPENDS", info["optdepend"]...)
	field("MAKEDEPENDS", info["makedepend"]...)
	field("CHECKDEPENDS", info["checkdepend"]...)
	e.desc = d.Bytes()
	return e, nil
}

// pkgInfo is a parsed .PKGINFO: each key's values in order.
type pkgInfo map[string][]string

func (p pkgInfo) first(key string) string {
	if v := p[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// readPackage reads .PKGINFO and the installed paths of a package, in
// pacman's files-list form: relative, directories ending in "/", sorted
// bytewise as repo-add's LC_ALL=C sort -u.
func readPackage(r io.Reader) (pkgInfo, []string, error) {
	zr, closeZ, err := pkgfile.Decompress(r, "zst")
	if err != nil {
		return nil, nil, err
	}
	defer closeZ()
	var info pkgInfo
	seen := map[string]bool{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if name == ".PKGINFO" {
			if info, err = parsePKGINFO(io.LimitReader(tr, 1<<20)); err != nil {
				return nil, nil, fmt.Errorf(".PKGINFO: %w", err)
			}
			continue
		}
		if pkgfile.IsDotFile(name) || name == "" {
			continue
		}
		if hdr.Typeflag == tar.TypeDir && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		seen[name] = true
	}
	if info == nil {
		return nil, nil, errors.New("no .PKGINFO: not a pacman package")
	}
	return info, slices.Sorted(maps.Keys(seen)), nil
}

func parsePKGINFO(r io.Reader) (pkgInfo, error) {
	info := pkgInfo{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			return nil, fmt.Errorf("line %q is not \"key = value\"", line)
		}
		info[k] = append(info[k], strings.Join(strings.Fields(v), " "))
	}
	return info, sc.Err()
}

// writeDB writes the database as a gzip'd tar: NAME-VERSION/ and its desc,
// and with withFiles its files list. Entries are sorted, owned by root and
// stamped with mtime, and the gzip header carries no name or time, so the
// same packages give the same bytes.
func writeDB(entries []*dbEntry, withFiles bool, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	add := func(name string, body []byte, dir bool) error {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: mtime, Typeflag: tar.TypeReg,
			Uname: "root", Gname: "root"}
		if dir {
			h.Mode, h.Typeflag = 0o755, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	for _, e := range entries {
		if err := add(e.dir()+"/", nil, true); err != nil {
			return nil, err
		}
		if err := add(e.dir()+"/desc", e.desc, false); err != nil {
			return nil, err
		}
		if withFiles {
			list := "%FILES%\n" + strings.Join(e.files, "\n") + "\n"
			if err := add(e.dir()+"/files", []byte(list), false); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var _ packaging.Indexer = Format{}
