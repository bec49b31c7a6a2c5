package deb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/omnipack/omnipack/pkgfile"
)

// Walk reads a deb: an ar archive of debian-binary, control.tar.* and
// data.tar.* (plus nfpm's _gpgorigin signature). Only data.tar.* holds
// installed files.
func (Format) Walk(r io.Reader, fn pkgfile.WalkFunc) error {
	ar := newArReader(bufio.NewReader(r))
	for {
		name, body, err := ar.next()
		if err == io.EOF {
			return fmt.Errorf("deb has no data.tar member")
		}
		if err != nil {
			return err
		}
		if comp, ok := strings.CutPrefix(name, "data.tar"); ok {
			zr, closeZ, err := pkgfile.Decompress(body, strings.TrimPrefix(comp, "."))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			defer closeZ()
			return pkgfile.WalkTar(zr, nil, nil, fn)
		}
	}
}

// arReader reads an ar archive's members in order.
type arReader struct {
	r       io.Reader
	started bool
	pending int64 // bytes of the previous member, padding included, not yet read
}

func newArReader(r io.Reader) *arReader { return &arReader{r: r} }

func (a *arReader) next() (string, io.Reader, error) {
	if !a.started {
		magic := make([]byte, 8)
		if _, err := io.ReadFull(a.r, magic); err != nil || string(magic) != "!<arch>\n" {
			return "", nil, errors.New("not a deb: no ar header")
		}
		a.started = true
	}
	if _, err := io.CopyN(io.Discard, a.r, a.pending); err != nil {
		return "", nil, io.EOF
	}
	hdr := make([]byte, arHeaderSize)
	if _, err := io.ReadFull(a.r, hdr); err != nil {
		if err == io.ErrUnexpectedEOF {
			return "", nil, errors.New("ar: truncated member header")
		}
		return "", nil, err
	}
	name, size, err := parseArHeader(hdr)
	if err != nil {
		return "", nil, err
	}
	a.pending = size + size%2
	lr := &io.LimitedReader{R: a.r, N: size}
	return name, &countingReader{lr: lr, owner: a}, nil
}

// countingReader lets arReader skip only what the caller left unread.
type countingReader struct {
	lr    *io.LimitedReader
	owner *arReader
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.lr.Read(p)
	c.owner.pending -= int64(n)
	return n, err
}

// arHeaderSize is the size of an ar member header.
const arHeaderSize = 60

// parseArHeader returns an ar member header's name and size.
func parseArHeader(hdr []byte) (name string, size int64, err error) {
	if !bytes.Equal(hdr[58:60], []byte("`\n")) {
		return "", 0, fmt.Errorf("ar: bad member header")
	}
	// GNU ar ends names with "/"; dpkg accepts both spellings.
	name = strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
	size, err = strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
	if err != nil || size < 0 {
		return "", 0, fmt.Errorf("ar: member %s has bad size %q", name, hdr[48:58])
	}
	return name, size, nil
}
