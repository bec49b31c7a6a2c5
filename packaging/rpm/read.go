package rpm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/omnipack/omnipack/pkgfile"

	"github.com/cavaliergopher/cpio"
)

// rpm header tags read here (rpmtag.h).
const (
	tagFileModes         = 1030
	tagFileDigests       = 1035
	tagFileFlags         = 1037
	tagDirIndexes        = 1116
	tagBaseNames         = 1117
	tagDirNames          = 1118
	tagPayloadFormat     = 1124
	tagPayloadCompressor = 1125
	tagFileDigestAlgo    = 5011

	fileFlagGhost = 1 << 6 // %ghost: owned, but not in the payload

	digestAlgoSHA256 = 8 // PGPHASHALGO_SHA256
)

// rpm header data types.
const (
	typeInt16       = 3
	typeInt32       = 4
	typeInt64       = 5
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// Bounds on a header, so a corrupt rpm cannot make us allocate gigabytes.
// rpm itself refuses headers over 256 MiB.
const (
	maxHeaderEntries = 1 << 16
	maxHeaderData    = 256 << 20
)

// Walk reads an rpm: a 96-byte lead, the signature header (padded to 8
// bytes), the main header and a compressed cpio payload. Files come from
// the payload; the header's digests are checked against it.
func (Format) Walk(r io.Reader, fn pkgfile.WalkFunc) error {
	br := bufio.NewReader(r)
	_, hdr, _, err := readHeaders(br)
	if err != nil {
		return err
	}
	meta, err := rpmFiles(hdr)
	if err != nil {
		return err
	}
	if f := hdr.str(tagPayloadFormat); f != "" && f != "cpio" {
		return fmt.Errorf("rpm payload format %q is not cpio", f)
	}
	comp := hdr.str(tagPayloadCompressor)
	if comp == "" {
		comp = "gzip" // rpm's default when the tag is absent
	}
	zr, closeZ, err := pkgfile.Decompress(br, comp)
	if err != nil {
		return fmt.Errorf("rpm payload: %w", err)
	}
	defer closeZ()

	seen := map[string]bool{}
	cr := cpio.NewReader(zr)
	for {
		ch, err := cr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("rpm payload cpio: %w", err)
		}
		p := path.Clean("/" + strings.TrimPrefix(ch.Name, "./"))
		m, ok := meta[p]
		if !ok {
			return fmt.Errorf("rpm payload holds %s, which the header does not list", p)
		}
		seen[p] = true
		mode := ch.FileInfo().Mode()
		if mode.IsDir() {
			continue
		}
		if mode != m.mode {
			return fmt.Errorf("%s: payload mode %v, header mode %v", p, mode, m.mode)
		}
		e := pkgfile.Entry{Name: p, Mode: mode}
		switch {
		case mode.IsRegular():
			e.Size = ch.Size
			if m.sha256 != "" {
				want := m.sha256
				e.Check = func(sha256, _ string) error {
					if sha256 != want {
						return fmt.Errorf("content sha256 %s, but the rpm header records %s", sha256, want)
					}
					return nil
				}
			}
		case mode&fs.ModeSymlink != 0:
			e.Link = ch.Linkname
		}
		if err := fn(e, cr); err != nil {
			return err
		}
	}
	for p, m := range meta {
		if !seen[p] && !m.ghost && !m.mode.IsDir() {
			return fmt.Errorf("rpm header lists %s, but the payload lacks it", p)
		}
	}
	return nil
}

// headerSpan places the main header in the file: from its magic to the end
// of its data. The payload follows it.
type headerSpan struct{ Start, End int64 }

// readHeaders reads an rpm's lead, its signature header and its padding,
// and its main header, and leaves r at the payload.
func readHeaders(r io.Reader) (sig, hdr header, span headerSpan, err error) {
	cr := &countingReader{r: r}
	lead := make([]byte, 96)
	if _, err := io.ReadFull(cr, lead); err != nil || !bytes.Equal(lead[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, nil, span, fmt.Errorf("not an rpm: bad lead")
	}
	sigSize, sig, err := readHeader(cr)
	if err != nil {
		return nil, nil, span, fmt.Errorf("rpm signature header: %w", err)
	}
	if pad := (8 - sigSize%8) % 8; pad > 0 {
		if _, err := io.CopyN(io.Discard, cr, int64(pad)); err != nil {
			return nil, nil, span, fmt.Errorf("rpm signature header padding: %w", err)
		}
	}
	span.Start = cr.n
	if _, hdr, err = readHeader(cr); err != nil {
		return nil, nil, span, fmt.Errorf("rpm header: %w", err)
	}
	span.End = cr.n
	return sig, hdr, span, nil
}

// countingReader counts the bytes read through it, which places the
// headers in the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// rpmFile is what the header says about one file.
type rpmFile struct {
	path   string
	mode   fs.FileMode
	sha256 string // only when the header's digests are sha256
	ghost  bool
}

func rpmFiles(h header) (map[string]rpmFile, error) {
	list, err := rpmFileList(h)
	if err != nil {
		return nil, err
	}
	files := make(map[string]rpmFile, len(list))
	for _, f := range list {
		files[f.path] = f
	}
	return files, nil
}

// rpmFileList is the header's files in the header's order.
func rpmFileList(h header) ([]rpmFile, error) {
	base := h.strs(tagBaseNames)
	dirs := h.strs(tagDirNames)
	idx := h.ints(tagDirIndexes)
	modes := h.ints(tagFileModes)
	flags := h.ints(tagFileFlags)
	digests := h.strs(tagFileDigests)
	algo := h.ints(tagFileDigestAlgo)
	n := len(base)
	if len(idx) != n || len(modes) != n || (flags != nil && len(flags) != n) || (digests != nil && len(digests) != n) {
		return nil, fmt.Errorf("rpm header: file tags disagree in length")
	}
	// rpm reads the first value; rpmpack repeats it once per file.
	sha := len(algo) > 0 && algo[0] == digestAlgoSHA256
	files := make([]rpmFile, 0, n)
	for i := range base {
		if idx[i] < 0 || int(idx[i]) >= len(dirs) {
			return nil, fmt.Errorf("rpm header: bad dir index for %s", base[i])
		}
		p := path.Clean("/" + dirs[idx[i]] + base[i])
		f := rpmFile{path: p, mode: unixMode(uint32(modes[i]))}
		if flags != nil {
			f.ghost = flags[i]&fileFlagGhost != 0
		}
		if sha && digests != nil {
			f.sha256 = strings.ToLower(digests[i])
		}
		files = append(files, f)
	}
	return files, nil
}

// unixMode converts st_mode bits to an fs.FileMode, as archive/tar does.
func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch m & 0o170000 {
	case 0o040000:
		mode |= fs.ModeDir
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o140000:
		mode |= fs.ModeSocket
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		mode |= fs.ModeDevice
	}
	return mode
}

// header is a parsed rpm header: each tag's type, count and raw data.
type header map[uint32]headerEntry

type headerEntry struct {
	typ, count uint32
	data       []byte // from the entry's offset to the end of the data area
}

// readHeader reads one header structure and returns its data size.
func readHeader(r io.Reader) (uint32, header, error) {
	var intro [16]byte
	if _, err := io.ReadFull(r, intro[:]); err != nil {
		return 0, nil, err
	}
	if !bytes.Equal(intro[:4], []byte{0x8e, 0xad, 0xe8, 0x01}) {
		return 0, nil, errors.New("bad header magic")
	}
	nindex := binary.BigEndian.Uint32(intro[8:12])
	hsize := binary.BigEndian.Uint32(intro[12:16])
	if nindex > maxHeaderEntries || hsize > maxHeaderData {
		return 0, nil, fmt.Errorf("header too large (%d entries, %d bytes)", nindex, hsize)
	}
	index, err := readFull(r, 16*int64(nindex))
	if err != nil {
		return 0, nil, err
	}
	data, err := readFull(r, int64(hsize))
	if err != nil {
		return 0, nil, err
	}
	h := header{}
	for i := uint32(0); i < nindex; i++ {
		e := index[16*i : 16*i+16]
		tag := binary.BigEndian.Uint32(e[0:4])
		off := binary.BigEndian.Uint32(e[8:12])
		if off > hsize {
			return 0, nil, fmt.Errorf("tag %d: offset %d past the data", tag, off)
		}
		h[tag] = headerEntry{typ: binary.BigEndian.Uint32(e[4:8]), count: binary.BigEndian.Uint32(e[12:16]), data: data[off:]}
	}
	return hsize, h, nil
}

// readFull reads exactly n bytes. The buffer grows as bytes arrive, so a
// header that claims more than the file holds costs what the file holds.
func readFull(r io.Reader, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, n))
	if err == nil && int64(len(b)) < n {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

// strs returns a string or string-array tag, nil if absent or malformed.
func (h header) strs(tag uint32) []string {
	e, ok := h[tag]
	if !ok || (e.typ != typeString && e.typ != typeStringArray && e.typ != typeI18NString) {
		return nil
	}
	out := make([]string, 0, min(e.count, 1<<16))
	rest := e.data
	for range e.count {
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return nil
		}
		out = append(out, string(rest[:end]))
		rest = rest[end+1:]
	}
	return out
}

func (h header) str(tag uint32) string {
	if s := h.strs(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

// ints returns an integer tag of any width, nil if absent or malformed.
func (h header) ints(tag uint32) []int64 {
	e, ok := h[tag]
	if !ok {
		return nil
	}
	width := map[uint32]uint32{typeInt16: 2, typeInt32: 4, typeInt64: 8}[e.typ]
	if width == 0 || uint64(e.count)*uint64(width) > uint64(len(e.data)) {
		return nil
	}
	out := make([]int64, e.count)
	for i := range out {
		b := e.data[uint32(i)*width:]
		switch width {
		case 2:
			out[i] = int64(binary.BigEndian.Uint16(b))
		case 4:
			out[i] = int64(binary.BigEndian.Uint32(b))
		case 8:
			out[i] = int64(binary.BigEndian.Uint64(b))
		}
	}
	return out
}
