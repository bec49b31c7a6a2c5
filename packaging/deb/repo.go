package deb

import (
	"archive/tar"
	"bytes"
	"crypto/md5" //nolint:gosec // apt's Release and Packages list MD5Sum beside SHA256; SHA256 is what apt checks
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ulikunitz/xz"

	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/pkgfile"
)

// Component is the one apt component omnipack publishes.
const Component = "main"

// PoolPath keeps each channel's packages apart, in Debian's pool layout:
// pool/CHANNEL/main/c/crashwatch/crashwatch_1.0.0-1_amd64.deb.
func (Format) PoolPath(channel string, p packaging.RepoPackage) string {
	return path.Join("pool", channel, Component, p.Name[:1], p.Name,
		fmt.Sprintf("%s_%s_%s.deb", p.Name, p.Version, debArch(p.Arch)))
}

// debArch spells an omnipack architecture as Debian does.
func debArch(a string) string {
	if d, ok := archs[a]; ok {
		return d
	}
	return a
}

// Index writes the suite dists/CHANNEL: a Packages file per architecture
// (plain, gzip and xz) with by-hash copies, Release, Release.gpg and
// InRelease last. With Acquire-By-Hash a client that read the previous
// InRelease still finds the Packages files it names while a publish
// replaces them.
func (Format) Index(in packaging.RepoIndex) ([]packaging.RepoFile, error) {
	if in.Sign.ClearSign == nil || in.Sign.DetachedAll == nil {
		return nil, errors.New("deb repository: no OpenPGP key to sign the Release file with")
	}
	byArch := map[string][]stanza{}
	for _, p := range in.Packages {
		s, err := packageStanza(in.Root, p)
		if err != nil {
			return nil, err
		}
		a := debArch(p.Arch)
		byArch[a] = append(byArch[a], s)
	}
	archNames := slices.Sorted(func(yield func(string) bool) {
		for a := range byArch {
			if !yield(a) {
				return
			}
		}
	})
	dist := path.Join("dists", in.Channel)
	var files, indexes []packaging.RepoFile
	for _, a := range archNames {
		body := packagesFile(byArch[a])
		dir := path.Join(Component, "binary-"+a)
		variants, err := compressed(body)
		if err != nil {
			return nil, err
		}
		for _, v := range variants {
			f := packaging.RepoFile{Path: path.Join(dir, "Packages"+v.suffix), Body: v.body}
			indexes = append(indexes, f)
			sum := sha256.Sum256(v.body)
			files = append(files, packaging.RepoFile{Path: path.Join(dist, dir, "by-hash", "SHA256", hex.EncodeToString(sum[:])), Body: v.body})
		}
	}
	for _, f := range indexes {
		files = append(files, packaging.RepoFile{Path: path.Join(dist, f.Path), Body: f.Body})
	}
	release := releaseFile(in, archNames, indexes)
	// apt accepts one good signature among several: during a key
	// rotation both keys sign, so clients trusting either accept.
	gpg, err := in.Sign.DetachedAll(release, true)
	if err != nil {
		return nil, fmt.Errorf("sign %s/Release: %w", dist, err)
	}
	inRelease, err := in.Sign.ClearSign(release)
	if err != nil {
		return nil, fmt.Errorf("sign %s/InRelease: %w", dist, err)
	}
	return append(files,
		packaging.RepoFile{Path: path.Join(dist, "Release"), Body: release},
		packaging.RepoFile{Path: path.Join(dist, "Release.gpg"), Body: gpg},
		packaging.RepoFile{Path: path.Join(dist, "InRelease"), Body: inRelease},
	), nil
}

// stanza is one package's paragraph of a Packages file.
type stanza struct {
	name, version, arch string
	text                []byte
}

// packageStanza is the deb's control file plus where the package lies and
// its digests, which must match what the repository recorded for it.
func packageStanza(root string, p packaging.RepoPackage) (stanza, error) {
	file := filepath.Join(root, filepath.FromSlash(p.Path))
	data, err := os.ReadFile(file)
	if err != nil {
		return stanza{}, err
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); (p.SHA256 != "" && got != p.SHA256) || (p.Size != 0 && int64(len(data)) != p.Size) {
		return stanza{}, fmt.Errorf("%s: %d bytes, sha256 %s; the repository recorded %d bytes, sha256 %s (was the pool changed by hand?)",
			file, len(data), got, p.Size, p.SHA256)
	}
	control, err := readControl(bytes.NewReader(data))
	if err != nil {
		return stanza{}, fmt.Errorf("%s: %w", file, err)
	}
	fields, err := parseControl(control)
	if err != nil {
		return stanza{}, fmt.Errorf("%s: control: %w", file, err)
	}
	s := stanza{name: fields.get("Package"), version: fields.get("Version"), arch: fields.get("Architecture")}
	if s.name != p.Name || s.version != p.Version {
		return stanza{}, fmt.Errorf("%s: control says %s %s, the release says %s %s", file, s.name, s.version, p.Name, p.Version)
	}
	md := md5.Sum(data) //nolint:gosec // listed, not trusted
	var b bytes.Buffer
	for _, f := range fields {
		if f.name == "Description" {
			fmt.Fprintf(&b, "Filename: %s\nSize: %d\nMD5sum: %x\nSHA256: %x\n", p.Path, len(data), md, sum)
		}
		b.WriteString(f.raw)
	}
	if fields.get("Description") == "" {
		fmt.Fprintf(&b, "Filename: %s\nSize: %d\nMD5sum: %x\nSHA256: %x\n", p.Path, len(data), md, sum)
	}
	s.text = b.Bytes()
	return s, nil
}

// packagesFile joins the stanzas, sorted, each ended by a blank line.
func packagesFile(ss []stanza) []byte {
	sort.Slice(ss, func(i, j int) bool {
		a, b := ss[i], ss[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if a.version != b.version {
			return a.version < b.version
		}
		return a.arch < b.arch
	})
	var b bytes.Buffer
	for i, s := range ss {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.Write(s.text)
	}
	return b.Bytes()
}

type variant struct {
	suffix string
	body   []byte
}

// compressed returns the Packages file plain, gzip'd and xz'd, each
// byte-for-byte reproducible: gzip without name or time, xz with fixed
// settings.
func compressed(body []byte) ([]variant, error) {
	gz, err := packaging.Gzip(body)
	if err != nil {
		return nil, err
	}
	x, err := packaging.Compress(body, func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) })
	if err != nil {
		return nil, err
	}
	return []variant{{"", body}, {".gz", gz}, {".xz", x}}, nil
}

// aptTime is the RFC 2822 form apt's Release parser reads, always in UTC.
const aptTime = "Mon, 02 Jan 2006 15:04:05 UTC"

// releaseFile is the suite's Release: what it is, until when clients may
// trust it, and the digest of every index file, relative to dists/CHANNEL.
func releaseFile(in packaging.RepoIndex, archNames []string, indexes []packaging.RepoFile) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Origin: %s\nLabel: %s\nSuite: %s\nCodename: %s\n", in.Name, in.Name, in.Channel, in.Channel)
	fmt.Fprintf(&b, "Date: %s\n", in.Date.UTC().Format(aptTime))
	if !in.ValidUntil.IsZero() {
		fmt.Fprintf(&b, "Valid-Until: %s\n", in.ValidUntil.UTC().Format(aptTime))
	}
	fmt.Fprintf(&b, "Architectures: %s\nComponents: %s\n", strings.Join(archNames, " "), Component)
	fmt.Fprintf(&b, "Description: %s %s\nAcquire-By-Hash: yes\n", in.Name, in.Channel)
	b.WriteString("MD5Sum:\n")
	for _, f := range indexes {
		fmt.Fprintf(&b, " %x %d %s\n", md5.Sum(f.Body), len(f.Body), f.Path) //nolint:gosec // listed, not trusted
	}
	b.WriteString("SHA256:\n")
	for _, f := range indexes {
		fmt.Fprintf(&b, " %x %d %s\n", sha256.Sum256(f.Body), len(f.Body), f.Path)
	}
	return b.Bytes()
}

// readControl returns the control file from a deb's control.tar.*.
func readControl(r io.Reader) ([]byte, error) {
	br := newArReader(r)
	for {
		name, body, err := br.next()
		if err == io.EOF {
			return nil, errors.New("deb has no control.tar member")
		}
		if err != nil {
			return nil, err
		}
		comp, ok := strings.CutPrefix(name, "control.tar")
		if !ok {
			continue
		}
		zr, closeZ, err := pkgfile.Decompress(body, strings.TrimPrefix(comp, "."))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer closeZ()
		tr := tar.NewReader(zr)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				return nil, fmt.Errorf("%s has no control file", name)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if path.Clean("/"+hdr.Name) == "/control" && hdr.Typeflag == tar.TypeReg {
				return io.ReadAll(io.LimitReader(tr, maxControl))
			}
		}
	}
}

// maxControl bounds a control file; real ones are a few KiB.
const maxControl = 1 << 20

// field is one field of a control paragraph, raw holding its lines as
// written, continuation lines and final newline included.
type field struct {
	name, raw string
}

type fieldList []field

func (fs fieldList) get(name string) string {
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			v := strings.TrimPrefix(f.raw, f.name+":")
			first, _, _ := strings.Cut(v, "\n")
			return strings.TrimSpace(first)
		}
	}
	return ""
}

// parseControl splits a control file's one paragraph into its fields.
func parseControl(data []byte) (fieldList, error) {
	var fs fieldList
	text := strings.TrimRight(string(data), "\n") + "\n"
	for _, line := range strings.SplitAfter(text, "\n") {
		switch {
		case line == "":
		case strings.TrimSpace(line) == "":
			return nil, errors.New("more than one paragraph")
		case line[0] == ' ' || line[0] == '\t':
			if len(fs) == 0 {
				return nil, errors.New("starts with a continuation line")
			}
			fs[len(fs)-1].raw += line
		default:
			name, _, ok := strings.Cut(line, ":")
			if !ok || name == "" {
				return nil, fmt.Errorf("line %q is not a field", strings.TrimSpace(line))
			}
			fs = append(fs, field{name: name, raw: line})
		}
	}
	for _, want := range []string{"Package", "Version", "Architecture"} {
		if fs.get(want) == "" {
			return nil, fmt.Errorf("no %s field", want)
		}
	}
	return fs, nil
}

// Keyring is where the README's setup puts the repository's binary key
// on an apt client, which the .sources file's Signed-By names: under
// /etc/apt/keyrings, as Debian asks of third-party repositories.
func Keyring(name string) string { return "/etc/apt/keyrings/" + name + ".gpg" }

// Setup writes setup/apt/CHANNEL/NAME.sources, a deb822 source that
// trusts the repository's key for this repository alone (Signed-By).
func (Format) Setup(c packaging.RepoClient) ([]packaging.RepoFile, error) {
	return []packaging.RepoFile{{Path: path.Join("setup", "apt", c.Channel, c.Name+".sources"), Body: sources(c)}}, nil
}

// sources is the deb822 source of c's channel, trusting Keyring alone.
func sources(c packaging.RepoClient) []byte {
	return fmt.Appendf(nil, "Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\n",
		c.URL, c.Channel, Component, Keyring(c.Name))
}

// HostRepo: apt trusts the keyring for this source alone (Signed-By), and
// Check and Refresh update only this source, so that another broken
// source on the host neither fails the install nor is touched by it; with
// APT::Update::Error-Mode=any a signature or hash apt refuses fails the
// update instead of leaving a warning and the old lists. Check keeps its
// lists in the scratch directory (as root: the sandbox user cannot enter
// it) and writes no package cache, so a refused repository leaves nothing
// behind, not even the partial download apt would resume next time.
func (Format) HostRepo(c packaging.RepoClient) packaging.HostRepo {
	source := "/etc/apt/sources.list.d/" + c.Name + ".sources"
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	update := []string{"apt-get", "update", "-o", "Dir::Etc::sourcelist=" + source, "-o", "Dir::Etc::sourceparts=-",
		"-o", "APT::Update::Error-Mode=any"}
	return packaging.HostRepo{
		Manager: "apt", Keyring: Keyring(c.Name), Source: source, SourceBody: sources(c),
		Check: packaging.Command{Env: env, Argv: append(slices.Clone(update), "-o", "Dir::State::Lists="+packaging.ScratchArg,
			"-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=", "-o", "APT::Sandbox::User=root")},
		Refresh: packaging.Command{Env: env, Argv: append(update, "-o", "APT::Get::List-Cleanup=0")},
		Install: packaging.Command{Env: env, Argv: []string{"apt-get", "install", "-y",
			"-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", packaging.NameArg}},
		Version: packaging.Command{Argv: []string{"dpkg-query", "-W", "-f=${Version}", packaging.NameArg}},
	}
}
