package rpm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/omnipack/omnipack/packaging"
)

// An rpm repository (rpm-md, what dnf, yum and zypper read) per channel:
//
//	rpm/CHANNEL/ARCH/NAME-VERSION-RELEASE.ARCH.rpm
//	rpm/CHANNEL/repodata/SHA256-primary.xml.gz   (and -filelists, -other)
//	rpm/CHANNEL/repodata/repomd.xml               names the three, by checksum
//	rpm/CHANNEL/repodata/repomd.xml.asc           its detached signature
//
// One repository holds every architecture: clients pick theirs from
// primary.xml. The metadata files are named by their checksum, so a
// client holding an older repomd.xml still finds every file it names
// while a new one is written. rpm-md has no signed expiry: a client
// refetches repomd.xml after the .repo file's metadata_expire.

// rpm header tags the repository metadata reads (rpmtag.h).
const (
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagSummary         = 1004
	tagDescription     = 1005
	tagBuildTime       = 1006
	tagBuildHost       = 1007
	tagSize            = 1009
	tagVendor          = 1011
	tagLicense         = 1014
	tagPackager        = 1015
	tagGroup           = 1016
	tagURL             = 1020
	tagArch            = 1022
	tagSourceRPM       = 1044
	tagArchiveSize     = 1046
	tagProvideName     = 1047
	tagRequireFlags    = 1048
	tagRequireName     = 1049
	tagRequireVersion  = 1050
	tagConflictFlags   = 1053
	tagConflictName    = 1054
	tagConflictVersion = 1055
	tagChangelogTime   = 1080
	tagChangelogName   = 1081
	tagChangelogText   = 1082
	tagObsoleteName    = 1090
	tagProvideFlags    = 1112
	tagProvideVersion  = 1113
	tagObsoleteFlags   = 1114
	tagObsoleteVersion = 1115
	tagLongSize        = 5009
	tagRecommendName   = 5046
	tagRecommendVer    = 5047
	tagRecommendFlags  = 5048
	tagSuggestName     = 5049
	tagSuggestVer      = 5050
	tagSuggestFlags    = 5051

	sigTagPayloadSize     = 1007 // uncompressed payload (cpio) size
	sigTagLongArchiveSize = 271

	// Dependency flags (rpmds.h): the comparison, and the bits that make
	// a requirement one the scriptlets need before the package is in.
	senseLess       = 1 << 1
	senseGreater    = 1 << 2
	senseEqual      = 1 << 3
	sensePreReq     = 1 << 6
	senseScriptPre  = 1 << 9
	senseScriptPost = 1 << 10
)

// The metadata's XML namespaces.
const (
	nsCommon    = "http://linux.duke.edu/metadata/common"
	nsRPM       = "http://linux.duke.edu/metadata/rpm"
	nsFilelists = "http://linux.duke.edu/metadata/filelists"
	nsOther     = "http://linux.duke.edu/metadata/other"
	nsRepo      = "http://linux.duke.edu/metadata/repo"
)

var channelRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// repoDir is the channel's repository, relative to the repository root:
// the directory a .repo file's baseurl names.
func repoDir(channel string) string { return "rpm/" + channel }

// PoolPath puts a package under its channel's repository, in a directory
// per rpm architecture: rpm/CHANNEL/x86_64/NAME-VERSION-RELEASE.x86_64.rpm.
func (Format) PoolPath(channel string, p packaging.RepoPackage) string {
	arch := archs[p.Arch]
	if arch == "" {
		arch = p.Arch
	}
	return fmt.Sprintf("%s/%s/%s-%s.%s.rpm", repoDir(channel), arch, p.Name, p.Version, arch)
}

// SwitchDir: repomd.xml, its .asc and the metadata files it names lie in
// the channel's repodata directory and switch together: dnf checks
// repomd.xml against repomd.xml.asc, two files no one rename replaces.
func (Format) SwitchDir(p string) string {
	if d := path.Dir(p); path.Base(d) == "repodata" {
		return d
	}
	return ""
}

// Index writes the channel's rpm-md metadata for in.Packages, read from
// each rpm's headers: the three checksum-named metadata files, then
// repomd.xml.asc, then repomd.xml, which clients fetch first. Packages
// are listed in the order given; the output depends only on the packages
// and in.Date.
func (Format) Index(in packaging.RepoIndex) ([]packaging.RepoFile, error) {
	if !channelRe.MatchString(in.Channel) {
		return nil, fmt.Errorf("rpm repository: channel %q: use letters, digits, . _ - (for example stable)", in.Channel)
	}
	if in.Date.IsZero() {
		return nil, errors.New("rpm repository: RepoIndex.Date is not set: repomd.xml's revision and timestamps come from it")
	}
	if in.Sign.Detached == nil {
		return nil, errors.New("rpm repository: no OpenPGP signer: repomd.xml.asc needs RepoSigner.Detached")
	}
	base := repoDir(in.Channel)
	var primary, filelists, other bytes.Buffer
	for _, b := range []*bytes.Buffer{&primary, &filelists, &other} {
		b.WriteString(xml.Header)
	}
	n := len(in.Packages)
	fmt.Fprintf(&primary, "<metadata xmlns=%q xmlns:rpm=%q packages=\"%d\">\n", nsCommon, nsRPM, n)
	fmt.Fprintf(&filelists, "<filelists xmlns=%q packages=\"%d\">\n", nsFilelists, n)
	fmt.Fprintf(&other, "<otherdata xmlns=%q packages=\"%d\">\n", nsOther, n)
	for _, p := range in.Packages {
		rel, ok := strings.CutPrefix(p.Path, base+"/")
		if !ok {
			return nil, fmt.Errorf("rpm repository: package %s is not under %s/, where the %s channel's repository is (place it at PoolPath)", p.Path, base, in.Channel)
		}
		m, err := readRepoPackage(filepath.Join(in.Root, filepath.FromSlash(p.Path)), p)
		if err != nil {
			return nil, err
		}
		m.location = rel
		for _, enc := range []struct {
			w *bytes.Buffer
			v any
		}{{&primary, m.primary()}, {&filelists, m.filelists()}, {&other, m.other()}} {
			if err := encodeXML(enc.w, enc.v); err != nil {
				return nil, fmt.Errorf("rpm repository: %s: %w", p.Path, err)
			}
		}
	}
	primary.WriteString("</metadata>\n")
	filelists.WriteString("</filelists>\n")
	other.WriteString("</otherdata>\n")

	stamp := in.Date.Unix()
	md := repomd{Xmlns: nsRepo, XmlnsRPM: nsRPM, Revision: strconv.FormatInt(stamp, 10)}
	var files []packaging.RepoFile
	for _, d := range []struct {
		typ  string
		body []byte
	}{{"primary", primary.Bytes()}, {"filelists", filelists.Bytes()}, {"other", other.Bytes()}} {
		gz, err := packaging.Gzip(d.body)
		if err != nil {
			return nil, err
		}
		sum := sha256Of(gz)
		loc := fmt.Sprintf("repodata/%s-%s.xml.gz", sum, d.typ)
		md.Data = append(md.Data, repomdData{
			Type:         d.typ,
			Checksum:     repoChecksum{Type: "sha256", Value: sum},
			OpenChecksum: repoChecksum{Type: "sha256", Value: sha256Of(d.body)},
			Location:     href{Href: loc},
			Timestamp:    stamp,
			Size:         int64(len(gz)),
			OpenSize:     int64(len(d.body)),
		})
		files = append(files, packaging.RepoFile{Path: base + "/" + loc, Body: gz})
	}
	var repomdXML bytes.Buffer
	repomdXML.WriteString(xml.Header)
	if err := encodeXML(&repomdXML, md); err != nil {
		return nil, fmt.Errorf("rpm repository: repomd.xml: %w", err)
	}
	asc, err := in.Sign.Detached(repomdXML.Bytes(), true)
	if err != nil {
		return nil, fmt.Errorf("rpm repository: signing %s/repodata/repomd.xml: %w", base, err)
	}
	return append(files,
		packaging.RepoFile{Path: base + "/repodata/repomd.xml.asc", Body: asc},
		packaging.RepoFile{Path: base + "/repodata/repomd.xml", Body: repomdXML.Bytes()},
	), nil
}

// repoPackage is what the metadata says of one rpm.
type repoPackage struct {
	hdr      header
	sha256   string
	size     int64
	span     headerSpan
	archive  int64
	files    []rpmFile
	location string // relative to the channel's repository
}

// readRepoPackage reads the rpm at file, which must be the package p
// describes: its size, digest, name and version.
func readRepoPackage(file string, p packaging.RepoPackage) (*repoPackage, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("rpm repository: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	// The digest sees every byte once: those the buffered header reader
	// takes, then the rest.
	sig, hdr, span, err := readHeaders(bufio.NewReader(io.TeeReader(f, h)))
	if err != nil {
		return nil, fmt.Errorf("rpm repository: %s: %w", file, err)
	}
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("rpm repository: %s: %w", file, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("rpm repository: %w", err)
	}
	m := &repoPackage{hdr: hdr, sha256: hex.EncodeToString(h.Sum(nil)), size: st.Size(), span: span}
	if p.SHA256 != "" && !strings.EqualFold(p.SHA256, m.sha256) {
		return nil, fmt.Errorf("rpm repository: %s has sha256 %s, but the release records %s: the file changed after the release was verified", file, m.sha256, p.SHA256)
	}
	if p.Size != 0 && p.Size != m.size {
		return nil, fmt.Errorf("rpm repository: %s has %d bytes, but the release records %d", file, m.size, p.Size)
	}
	if name := hdr.str(tagName); p.Name != "" && name != p.Name {
		return nil, fmt.Errorf("rpm repository: %s is the package %q, not %q", file, name, p.Name)
	}
	if v := hdr.str(tagVersion) + "-" + hdr.str(tagRelease); p.Version != "" && v != p.Version {
		return nil, fmt.Errorf("rpm repository: %s is version %s, not %s", file, v, p.Version)
	}
	m.archive = firstInt(sig.ints(sigTagLongArchiveSize), sig.ints(sigTagPayloadSize), hdr.ints(tagArchiveSize))
	if m.files, err = rpmFileList(hdr); err != nil {
		return nil, fmt.Errorf("rpm repository: %s: %w", file, err)
	}
	return m, nil
}

func firstInt(lists ...[]int64) int64 {
	for _, l := range lists {
		if len(l) > 0 {
			return l[0]
		}
	}
	return 0
}

func (m *repoPackage) version() evr {
	epoch := "0"
	if e := m.hdr.ints(tagEpoch); len(e) > 0 {
		epoch = strconv.FormatInt(e[0], 10)
	}
	return evr{Epoch: epoch, Ver: m.hdr.str(tagVersion), Rel: m.hdr.str(tagRelease)}
}

func (m *repoPackage) primary() primaryPackage {
	h := m.hdr
	build := firstInt(h.ints(tagBuildTime))
	p := primaryPackage{
		Type:        "rpm",
		Name:        h.str(tagName),
		Arch:        h.str(tagArch),
		Version:     m.version(),
		Checksum:    pkgChecksum{Type: "sha256", PkgID: "YES", Value: m.sha256},
		Summary:     h.str(tagSummary),
		Description: h.str(tagDescription),
		Packager:    h.str(tagPackager),
		URL:         h.str(tagURL),
		// The file time is the build time, not when the file was copied,
		// so indexing the same packages again gives the same bytes.
		Time:     pkgTime{File: build, Build: build},
		Size:     pkgSize{Package: m.size, Installed: firstInt(h.ints(tagLongSize), h.ints(tagSize)), Archive: m.archive},
		Location: href{Href: m.location},
		Format: pkgFormat{
			License:     h.str(tagLicense),
			Vendor:      h.str(tagVendor),
			Group:       h.str(tagGroup),
			BuildHost:   h.str(tagBuildHost),
			SourceRPM:   h.str(tagSourceRPM),
			HeaderRange: headerRange{Start: m.span.Start, End: m.span.End},
			Provides:    m.relations(tagProvideName, tagProvideFlags, tagProvideVersion, false),
			Requires:    m.relations(tagRequireName, tagRequireFlags, tagRequireVersion, true),
			Conflicts:   m.relations(tagConflictName, tagConflictFlags, tagConflictVersion, false),
			Obsoletes:   m.relations(tagObsoleteName, tagObsoleteFlags, tagObsoleteVersion, false),
			Recommends:  m.relations(tagRecommendName, tagRecommendFlags, tagRecommendVer, false),
			Suggests:    m.relations(tagSuggestName, tagSuggestFlags, tagSuggestVer, false),
		},
	}
	for _, f := range m.files {
		if primaryFile(f.path) {
			p.Format.Files = append(p.Format.Files, fileEntry(f))
		}
	}
	return p
}

// primaryFile: primary.xml lists the files a dependency most often names
// (createrepo's rule); filelists.xml lists them all.
func primaryFile(p string) bool {
	return strings.HasPrefix(p, "/etc/") || strings.Contains(p, "bin/") || p == "/usr/lib/sendmail"
}

func fileEntry(f rpmFile) pkgFile {
	e := pkgFile{Path: f.path}
	switch {
	case f.ghost:
		e.Type = "ghost"
	case f.mode.IsDir():
		e.Type = "dir"
	}
	return e
}

// relations reads one dependency kind. Requirements on rpm's own
// features (rpmlib(...)) are rpm's business, not the solver's, and are
// left out, as createrepo does; pre marks what scriptlets need.
func (m *repoPackage) relations(nameTag, flagTag, verTag uint32, requires bool) *relations {
	names := m.hdr.strs(nameTag)
	if len(names) == 0 {
		return nil
	}
	flags := m.hdr.ints(flagTag)
	vers := m.hdr.strs(verTag)
	out := &relations{}
	seen := map[entry]bool{}
	for i, name := range names {
		if requires && strings.HasPrefix(name, "rpmlib(") {
			continue
		}
		e := entry{Name: name}
		var fl int64
		if i < len(flags) {
			fl = flags[i]
		}
		if i < len(vers) && vers[i] != "" {
			e.Flags = map[int64]string{senseLess: "LT", senseGreater: "GT", senseEqual: "EQ",
				senseLess | senseEqual: "LE", senseGreater | senseEqual: "GE"}[fl&(senseLess|senseGreater|senseEqual)]
			e.Epoch, e.Ver, e.Rel = splitEVR(vers[i])
		}
		if requires && fl&(sensePreReq|senseScriptPre|senseScriptPost) != 0 {
			e.Pre = "1"
		}
		if !seen[e] {
			seen[e] = true
			out.Entries = append(out.Entries, e)
		}
	}
	if len(out.Entries) == 0 {
		return nil
	}
	return out
}

// splitEVR splits [EPOCH:]VERSION[-RELEASE].
func splitEVR(s string) (epoch, ver, rel string) {
	epoch = "0"
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if _, err := strconv.ParseUint(s[:i], 10, 32); err == nil {
			epoch, s = s[:i], s[i+1:]
		}
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		return epoch, s[:i], s[i+1:]
	}
	return epoch, s, ""
}

func (m *repoPackage) filelists() filelistsPackage {
	p := filelistsPackage{PkgID: m.sha256, Name: m.hdr.str(tagName), Arch: m.hdr.str(tagArch), Version: m.version()}
	for _, f := range m.files {
		p.Files = append(p.Files, fileEntry(f))
	}
	return p
}

func (m *repoPackage) other() otherPackage {
	p := otherPackage{PkgID: m.sha256, Name: m.hdr.str(tagName), Arch: m.hdr.str(tagArch), Version: m.version()}
	times := m.hdr.ints(tagChangelogTime)
	names := m.hdr.strs(tagChangelogName)
	texts := m.hdr.strs(tagChangelogText)
	for i := range times {
		if i < len(names) && i < len(texts) {
			p.Changelogs = append(p.Changelogs, changelog{Author: names[i], Date: times[i], Text: texts[i]})
		}
	}
	return p
}

// The XML of primary.xml, filelists.xml, other.xml and repomd.xml, as
// createrepo writes them.
type (
	evr struct {
		Epoch string `xml:"epoch,attr"`
		Ver   string `xml:"ver,attr"`
		Rel   string `xml:"rel,attr"`
	}
	href struct {
		Href string `xml:"href,attr"`
	}
	primaryPackage struct {
		XMLName     xml.Name    `xml:"package"`
		Type        string      `xml:"type,attr"`
		Name        string      `xml:"name"`
		Arch        string      `xml:"arch"`
		Version     evr         `xml:"version"`
		Checksum    pkgChecksum `xml:"checksum"`
		Summary     string      `xml:"summary"`
		Description string      `xml:"description"`
		Packager    string      `xml:"packager"`
		URL         string      `xml:"url"`
		Time        pkgTime     `xml:"time"`
		Size        pkgSize     `xml:"size"`
		Location    href        `xml:"location"`
		Format      pkgFormat   `xml:"format"`
	}
	pkgChecksum struct {
		Type  string `xml:"type,attr"`
		PkgID string `xml:"pkgid,attr"`
		Value string `xml:",chardata"`
	}
	pkgTime struct {
		File  int64 `xml:"file,attr"`
		Build int64 `xml:"build,attr"`
	}
	pkgSize struct {
		Package   int64 `xml:"package,attr"`
		Installed int64 `xml:"installed,attr"`
		Archive   int64 `xml:"archive,attr"`
	}
	pkgFormat struct {
		License     string      `xml:"rpm:license"`
		Vendor      string      `xml:"rpm:vendor"`
		Group       string      `xml:"rpm:group"`
		BuildHost   string      `xml:"rpm:buildhost"`
		SourceRPM   string      `xml:"rpm:sourcerpm"`
		HeaderRange headerRange `xml:"rpm:header-range"`
		Provides    *relations  `xml:"rpm:provides"`
		Requires    *relations  `xml:"rpm:requires"`
		Conflicts   *relations  `xml:"rpm:conflicts"`
		Obsoletes   *relations  `xml:"rpm:obsoletes"`
		Recommends  *relations  `xml:"rpm:recommends"`
		Suggests    *relations  `xml:"rpm:suggests"`
		Files       []pkgFile   `xml:"file"`
	}
	headerRange struct {
		Start int64 `xml:"start,attr"`
		End   int64 `xml:"end,attr"`
	}
	relations struct {
		Entries []entry `xml:"rpm:entry"`
	}
	entry struct {
		Name  string `xml:"name,attr"`
		Flags string `xml:"flags,attr,omitempty"`
		Epoch string `xml:"epoch,attr,omitempty"`
		Ver   string `xml:"ver,attr,omitempty"`
		Rel   string `xml:"rel,attr,omitempty"`
		Pre   string `xml:"pre,attr,omitempty"`
	}
	pkgFile struct {
		Type string `xml:"type,attr,omitempty"`
		Path string `xml:",chardata"`
	}
	filelistsPackage struct {
		XMLName xml.Name  `xml:"package"`
		PkgID   string    `xml:"pkgid,attr"`
		Name    string    `xml:"name,attr"`
		Arch    string    `xml:"arch,attr"`
		Version evr       `xml:"version"`
		Files   []pkgFile `xml:"file"`
	}
	otherPackage struct {
		XMLName    xml.Name    `xml:"package"`
		PkgID      string      `xml:"pkgid,attr"`
		Name       string      `xml:"name,attr"`
		Arch       string      `xml:"arch,attr"`
		Version    evr         `xml:"version"`
		Changelogs []changelog `xml:"changelog"`
	}
	changelog struct {
		Author string `xml:"author,attr"`
		Date   int64  `xml:"date,attr"`
		Text   string `xml:",chardata"`
	}
	repomd struct {
		XMLName  xml.Name     `xml:"repomd"`
		Xmlns    string       `xml:"xmlns,attr"`
		XmlnsRPM string       `xml:"xmlns:rpm,attr"`
		Revision string       `xml:"revision"`
		Data     []repomdData `xml:"data"`
	}
	repomdData struct {
		Type         string       `xml:"type,attr"`
		Checksum     repoChecksum `xml:"checksum"`
		OpenChecksum repoChecksum `xml:"open-checksum"`
		Location     href         `xml:"location"`
		Timestamp    int64        `xml:"timestamp"`
		Size         int64        `xml:"size"`
		OpenSize     int64        `xml:"open-size"`
	}
	repoChecksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	}
)

func encodeXML(w *bytes.Buffer, v any) error {
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.WriteByte('\n')
	return nil
}

func sha256Of(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// RepoFilePath is where a channel's .repo file goes in the repository
// tree, beside the other package managers' setup files; `dnf
// config-manager --add-repo URL` and `zypper addrepo URL` take its URL.
func RepoFilePath(name, channel string) string {
	return path.Join("setup", "rpm", channel, name+".repo")
}

// Setup writes the channel's .repo file (RepoFilePath), trusting the
// repository's armored OpenPGP key.
func (Format) Setup(c packaging.RepoClient) ([]packaging.RepoFile, error) {
	body, err := RepoFile(c.URL, c.Name, c.Channel, c.URL+"/"+c.PGPKey)
	if err != nil {
		return nil, err
	}
	return []packaging.RepoFile{{Path: RepoFilePath(c.Name, c.Channel), Body: body}}, nil
}

var repoNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// RepoFile renders the .repo file that adds a channel of the repository
// to dnf (/etc/yum.repos.d/) and zypper (/etc/zypp/repos.d/): baseURL is
// where the repository tree is served (the directory holding rpm/), name
// the repository's name, and keyURLs the OpenPGP public keys that sign it
// (two while a key rotation overlaps). Both package managers then check
// repomd.xml's signature and every package's.
func RepoFile(baseURL, name, channel string, keyURLs ...string) ([]byte, error) {
	if !repoNameRe.MatchString(name) {
		return nil, fmt.Errorf(".repo file: repository name %q: use letters, digits, . _ -", name)
	}
	if !channelRe.MatchString(channel) {
		return nil, fmt.Errorf(".repo file: channel %q: use letters, digits, . _ -", channel)
	}
	if len(keyURLs) == 0 {
		return nil, errors.New(".repo file: no key URL: gpgkey= must name the key that signs the repository")
	}
	for _, u := range append([]string{baseURL}, keyURLs...) {
		if u == "" || strings.ContainsAny(u, " \t\r\n") {
			return nil, fmt.Errorf(".repo file: URL %q is empty or holds white space", u)
		}
	}
	id := name + "-" + channel
	var b bytes.Buffer
	fmt.Fprintf(&b, "[%s]\n", id)
	fmt.Fprintf(&b, "name=%s (%s)\n", name, channel)
	fmt.Fprintf(&b, "baseurl=%s/%s\n", strings.TrimSuffix(baseURL, "/"), repoDir(channel))
	b.WriteString("enabled=1\n")
	b.WriteString("type=rpm-md\n")
	// gpgcheck checks each package's signature; repo_gpgcheck checks
	// repomd.xml.asc, which pins the checksums of everything else.
	// zypper takes gpgcheck=1 to mean one of the two, and checks a
	// package's own signature only with pkg_gpgcheck=1.
	b.WriteString("gpgcheck=1\n")
	b.WriteString("repo_gpgcheck=1\n")
	b.WriteString("pkg_gpgcheck=1\n")
	// A repository that fails to verify is an error, not skipped in
	// silence (Debian's dnf and older ones skip by default).
	b.WriteString("skip_if_unavailable=False\n")
	fmt.Fprintf(&b, "gpgkey=%s\n", strings.Join(keyURLs, " "))
	// rpm-md carries no expiry of its own: this is how often dnf fetches
	// repomd.xml again (its default is 48 hours).
	b.WriteString("metadata_expire=6h\n")
	// zypper's own switch for fetching it again before zypper up.
	b.WriteString("autorefresh=1\n")
	return b.Bytes(), nil
}

var _ packaging.RepoSetup = Format{}
